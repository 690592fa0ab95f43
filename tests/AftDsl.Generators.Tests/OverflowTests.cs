using System.Diagnostics;
using AftDsl.Generators.Tests.Support;
using Xunit;

namespace AftDsl.Generators.Tests;

/// <summary>Sizes near int.MaxValue: no wrapped products, no false verdicts, no slow analysis.</summary>
public sealed class OverflowTests
{
    static List<Microsoft.CodeAnalysis.Diagnostic> Aft(string source)
    {
        var (result, output) = GeneratorHarness.Run(ModelEmitterTests.Usings + source);
        Assert.All(result.Results, r => Assert.Null(r.Exception));
        var compiler = GeneratorHarness.EffectiveDiagnostics(result, output).Where(d => !d.Id.StartsWith("AFT", StringComparison.Ordinal)).ToList();
        Assert.True(compiler.Count == 0, string.Join("\n", compiler));              // a skeleton or the full part: it compiles
        return [.. result.Diagnostics];
    }

    [Fact]
    public void A_parameter_count_beyond_a_long_is_AFT0104_not_a_negative_constant()
    {
        var d = Assert.Single(Aft("[AftSimple(Dim = int.MaxValue)] public partial class Huge;"));
        Assert.Equal("AFT0104", d.Id);
        Assert.Contains("AftSimple 'Huge': the parameter count of the layer does not fit a 64-bit integer", d.GetMessage());
    }

    [Fact]
    public void A_stage_whose_count_overflows_is_AFT0104_on_the_stage()
    {
        var d = Assert.Single(Aft("""
            [AftSimple] public partial class M;
            [AftModel, TokenInput(vocab: 256, maxLength: 8)]
            public partial class Huge
            {
                [Embedding(dim: 65536)] public partial Embedding Embed { get; }
                [Blocks(depth: int.MaxValue, mixer: typeof(M))] public partial BlockStack Body { get; }
            }
            """));
        Assert.Equal("AFT0104", d.Id);
        Assert.Contains("AftModel 'Huge': the parameter count of Body does not fit", d.GetMessage());
    }

    [Theory]
    [InlineData(46_341, "2147488281")]         // 46,341² wraps to a negative int
    [InlineData(65_536, "4294967296")]         // 65,536² wraps to 0, which read as "size unknown" (AFT0402)
    public void A_huge_grid_fails_the_T_bound_check_instead_of_wrapping(int side, string positions)
    {
        var found = Aft($$"""
            [AftFull(maxLength: 4096)] public partial class M;
            [AftModel, ImageInput(channels: 1, Height = {{side}}, Width = {{side}})]
            public partial class Big
            {
                [PatchEmbedding(patch: 1, dim: 8)] public partial PatchEmbedding Patches { get; }
                [Blocks(depth: 1, mixer: typeof(M))] public partial BlockStack Body { get; }
            }
            """);
        var d = Assert.Single(found, x => x.Id == "AFT0304");
        Assert.Contains($"has {positions} positions", d.GetMessage());
        Assert.DoesNotContain(found, x => x.Id == "AFT0402");
    }

    [Fact]
    public void AFT0201_at_int_MaxValue_offers_no_negative_dim_and_is_fast()
    {
        const string source = "[AftConv(heads: 2, window: 3, Dim = int.MaxValue)] public partial class Wide;";
        Aft(source);                                                             // warm up the JIT
        var clock = Stopwatch.StartNew();
        var d = Assert.Single(Aft(source), x => x.Id == "AFT0201");
        clock.Stop();
        Assert.Contains("Valid head counts for dim 2147483647: 1, 2147483647. Nearest dims divisible by 2: 2147483646.", d.GetMessage());
        Assert.DoesNotContain("-", d.GetMessage().Split("Valid")[1]);
        // Enumerating divisors up to int.MaxValue took 12–35 s; pairs up to √n take well under a millisecond. The
        // bound covers the whole run (generator, compilation, analyzer) on a loaded machine.
        Assert.True(clock.ElapsedMilliseconds < 2000, $"{clock.ElapsedMilliseconds} ms");
    }

    // Declarations at the extremes: widths, lengths, windows, heads and grids near int.MaxValue, valid and not.
    public static TheoryData<string> Extremes => new(
        "[AftConv(heads: 2, window: 3, Dim = int.MaxValue)] public partial class X;",
        "[AftConv(heads: 65521, window: 2147483645, GridHeight = 65536, GridWidth = 65536)] public partial class X;",
        "[MultiHeadAttention(heads: 46349, Dim = 2147483629)] public partial class X;",
        "[AftFull(int.MaxValue, Dim = int.MaxValue, FactorRank = int.MaxValue)] public partial class X;",
        "[AftLocal(int.MaxValue, int.MaxValue, Dim = 2147483646, HiddenDim = int.MaxValue)] public partial class X;",
        """
        [AftConv(heads: 65521, window: 7)] public partial class M;
        [AftModel, ImageInput(channels: int.MaxValue, Height = 2147483646, Width = 2147483646)]
        public partial class X
        {
            [PatchEmbedding(patch: 1, dim: 2147483629)] public partial PatchEmbedding Patches { get; }
            [PositionEmbedding] public partial PositionEmbedding Positions { get; }
            [Blocks(depth: int.MaxValue, mixer: typeof(M), Ffn = int.MaxValue)] public partial BlockStack Body { get; }
            [ClassifierHead(classes: int.MaxValue)] public partial ClassifierHead Head { get; }
        }
        """,
        """
        [AftFull(maxLength: 1)] public partial class M;
        [AftModel(Causal = true), TokenInput(vocab: int.MaxValue, maxLength: int.MaxValue)]
        public partial class X
        {
            [Embedding(dim: int.MaxValue)] public partial Embedding Embed { get; }
            [Blocks(depth: int.MaxValue, mixer: typeof(M))] public partial BlockStack Body { get; }
            [Logits] public partial Linear Head { get; }
        }
        """);

    /// <summary>
    /// The analyzer's work on one declaration (parse, check, shape inference), timed alone: under 100 ms at any
    /// size. The best of five runs, so that a busy machine's scheduling does not count, while a per-divisor
    /// enumeration up to int.MaxValue (12–35 s) still fails.
    /// </summary>
    [Theory]
    [MemberData(nameof(Extremes))]
    public void Analysing_one_declaration_at_extreme_sizes_takes_under_100_ms(string source)
    {
        var compilation = GeneratorHarness.Compilation(ModelEmitterTests.Usings + source);
        var symbol = compilation.GetTypeByMetadataName("X")!;
        var diagnostics = AftDiagnosticAnalyzer.Diagnose(symbol, CancellationToken.None).ToList();        // warms up the JIT
        var best = Enumerable.Range(0, 5).Min(run =>
        {
            var clock = Stopwatch.StartNew();
            _ = AftDiagnosticAnalyzer.Diagnose(symbol, CancellationToken.None).ToList();
            return clock.Elapsed.TotalMilliseconds;
        });
        Assert.True(best < 100, $"{best:F1} ms: {string.Join(", ", diagnostics.Select(d => d.Descriptor.Id))}");
    }

    [Fact]
    public void Divisors_are_found_in_pairs_below_the_square_root()
    {
        Assert.Equal([1, 2, 3, 4, 6, 12], Parsing.SizeChecks.Divisors(12));
        Assert.Equal([1, 7, 49], Parsing.SizeChecks.Divisors(49));
        Assert.Equal([1, int.MaxValue], Parsing.SizeChecks.Divisors(int.MaxValue));
        Assert.Equal(31, Parsing.SizeChecks.Divisors(1 << 30).Count);                  // 2⁰ … 2³⁰
    }

    [Fact]
    public void The_heads_code_fix_offers_only_representable_widths_near_int_MaxValue()
    {
        Assert.Equal([2147483646], AftDsl.CodeFixes.HeadsDivideDimCodeFix.NearestDims(2, int.MaxValue));
        Assert.Equal([1, int.MaxValue], AftDsl.CodeFixes.HeadsDivideDimCodeFix.NearestHeads(2, int.MaxValue));
    }
}
