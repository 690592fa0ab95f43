using System.Text.RegularExpressions;
using AftDsl.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Xunit;

namespace AftDsl.Generators.Tests.Docs;

/// <summary>
/// Every C# block of README.md and docs/ compiles as a user would paste it into a project of its own: one file,
/// against AftDsl and TorchSharp, with the AftDsl generator and analyzer run, and no implicit usings (so a block
/// names what it uses). A block compiles with no error and no warning, unless it says what it demonstrates:
/// <list type="bullet">
/// <item><c>// expect AFT0102</c> (any number of IDs, on lines of their own): exactly those diagnostics, no others.</item>
/// <item><c>```csharp fragment</c> as the info string: a piece of a declaration, shown but not compiled.</item>
/// </list>
/// A block that is a whole program (top-level statements, no <c>// expect</c>) is also run: it must not throw, and
/// must print what it shows. docs/README.md tells writers the same.
/// </summary>
public sealed partial class DocsCodeBlockTests
{
    // Languages the docs may use; C# must be spelled "csharp" so that no C# block escapes this test.
    static readonly string[] KnownLanguages = ["csharp", "bash", "text", "xml"];

    static readonly Lazy<IReadOnlyDictionary<string, CodeBlock>> Blocks = new(() =>
        MarkdownDocument.UserDocs().SelectMany(d => d.CodeBlocks).ToDictionary(b => b.ToString()));

    static bool IsCompiled(CodeBlock block) =>
        block.Language == "csharp" && !block.Info.Split(' ').Contains("fragment", StringComparer.Ordinal);

    /// <summary>Each compiled block, by where it is (<c>docs/models.md:14</c>).</summary>
    public static TheoryData<string> CompiledBlocks() => [.. Blocks.Value.Values.Where(IsCompiled).Select(b => b.ToString())];

    [Theory]
    [MemberData(nameof(CompiledBlocks))]
    public void The_block_compiles_with_exactly_the_diagnostics_it_expects(string where)
    {
        var block = Blocks.Value[where];
        var expected = ExpectPattern().Matches(block.Code)
            .SelectMany(m => m.Groups[1].Value.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries))
            .Distinct().Order(StringComparer.Ordinal).ToList();

        var reported = Compile(block.Code);
        var ids = reported.Select(d => d.Id).Distinct().Order(StringComparer.Ordinal).ToList();

        Assert.True(expected.SequenceEqual(ids),
            $"{where}: expected [{string.Join(", ", expected)}], got:\n" + string.Join("\n", reported.Select(d => d.ToString())));
    }

    /// <summary>Each compiled block that is a whole program (top-level statements) and expects no diagnostic.</summary>
    public static TheoryData<string> Programs() =>
        [.. Blocks.Value.Values.Where(b => IsCompiled(b) && IsProgram(Parse(b.Code)) && !ExpectPattern().IsMatch(b.Code)).Select(b => b.ToString())];

    [Theory]
    [MemberData(nameof(Programs))]
    public void The_program_runs_as_pasted(string where)
    {
        // A program that compiles could still throw (a shape guard, a wrong dtype): run it, in this process, against
        // the same AftDsl and TorchSharp assemblies the tests load.
        var block = Blocks.Value[where];
        var compilation = ProgramCompilation(block.Code, out _);
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));
        var entry = System.Reflection.Assembly.Load(image.ToArray()).EntryPoint!;
        var console = Console.Out;
        using var output = new StringWriter();
        Console.SetOut(output);
        try
        {
            entry.Invoke(null, entry.GetParameters().Length == 0 ? null : [Array.Empty<string>()]);
        }
        finally
        {
            Console.SetOut(console);
        }
        Assert.NotEmpty(output.ToString());
    }

    [Fact]
    public void The_docs_have_C_sharp_blocks_and_every_block_names_a_known_language()
    {
        var blocks = Blocks.Value.Values.ToList();
        Assert.All(blocks, b => Assert.True(KnownLanguages.Contains(b.Language), $"{b}: info string '{b.Info}'; use one of {string.Join(", ", KnownLanguages)}"));
        // The README's two examples and the docs' declarations: a reader that finds none would pass vacuously.
        Assert.True(blocks.Count(IsCompiled) >= 5, $"only {blocks.Count(IsCompiled)} compiled C# blocks found");
    }

    [Fact]
    public void Fragments_are_not_compiled_and_everything_else_fenced_as_csharp_is()
    {
        var doc = MarkdownDocument.Parse("x.md", "```csharp\nclass A;\n```\n\n```csharp fragment\nB\n```\n\n  ```bash\n  ls\n  ```\n");
        Assert.Equal([true, false, false], doc.CodeBlocks.Select(IsCompiled));
        Assert.Equal(["csharp", "csharp", "bash"], doc.CodeBlocks.Select(b => b.Language));
        Assert.Equal("ls\n", doc.CodeBlocks[2].Code);
    }

    [Fact]
    public void A_block_that_does_not_compile_is_reported()
    {
        // The test's own check can fail: a stage without its using, and a layer with a mistake nobody expected.
        var missingUsing = Compile("using AftDsl;\n[AftSimple(Dim = 8)] public partial class M;\npublic static class U { public static object F() => torch.ones(1); }\n");
        Assert.Contains(missingUsing, d => d.Id == "CS0103");
        var unexpectedMistake = Compile("using AftDsl;\n[AftFull(maxLength: 0)] public partial class M;\n");
        Assert.Equal(["AFT0101"], unexpectedMistake.Select(d => d.Id).Distinct());
    }

    /// <summary>
    /// Errors and warnings of <paramref name="code"/> as its own project: an executable when it has top-level
    /// statements, a library otherwise; generated code and AFT analyzer diagnostics included.
    /// </summary>
    static IReadOnlyList<Diagnostic> Compile(string code)
    {
        var output = ProgramCompilation(code, out var run);
        return GeneratorHarness.EffectiveDiagnostics(run, output);
    }

    /// <summary>The block's compilation with the generated sources: an executable when it has top-level statements.</summary>
    static Compilation ProgramCompilation(string code, out GeneratorRun run)
    {
        var compilation = GeneratorHarness.Compilation(code);
        if (IsProgram(compilation.SyntaxTrees.Single()))
            compilation = compilation.WithOptions(compilation.Options.WithOutputKind(OutputKind.ConsoleApplication));
        var driver = GeneratorHarness.Driver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        run = new GeneratorRun(driver.GetRunResult(), GeneratorHarness.AnalyzerDiagnostics(output));
        return output;
    }

    static SyntaxTree Parse(string code) => Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText(code, GeneratorHarness.ParseOptions);

    static bool IsProgram(SyntaxTree tree) => tree.GetRoot().DescendantNodes().OfType<GlobalStatementSyntax>().Any();

    [GeneratedRegex(@"^\s*//\s*expect\s+([A-Z]+\d+(?:[ ,]+[A-Z]+\d+)*)\s*$", RegexOptions.Multiline)]
    private static partial Regex ExpectPattern();
}
