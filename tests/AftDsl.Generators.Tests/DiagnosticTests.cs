using AftDsl.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Xunit;

namespace AftDsl.Generators.Tests;

/// <summary>One test per diagnostic: the broken source, the expected ID, the exact span.</summary>
public sealed class DiagnosticTests
{
    static Diagnostic Single(string marked, string id)
    {
        var markup = Markup.Parse(marked);
        var (result, _) = GeneratorHarness.Run(markup.Source);
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.True(diagnostic.Location.IsInSource, "the diagnostic must point into the user's source");
        Assert.Equal(markup.Span, diagnostic.Location.SourceSpan);
        Assert.Empty(result.GeneratedTrees);
        return diagnostic;
    }

    [Fact]
    public void AFT0001_class_not_partial_is_reported_on_its_name()
    {
        var diagnostic = Single("""
            using AftDsl;
            [AftFull(maxLength: 256, Dim = 16)]
            public class [|Mixer|];
            """, "AFT0001");
        Assert.Equal("AftFull 'Mixer': 'Mixer' must be declared partial, because AftDsl generates the rest of it; add 'partial' to the declaration of 'Mixer'",
            diagnostic.GetMessage());
        var position = diagnostic.Location.GetLineSpan().StartLinePosition;
        Assert.Equal((2, 13), (position.Line, position.Character));
    }

    [Fact]
    public void AFT0001_enclosing_type_not_partial_is_reported_on_the_enclosing_name()
    {
        Single("""
            public class [|Models|]
            {
                [AftDsl.AftFull(maxLength: 256)]
                public partial class Mixer;
            }
            """, "AFT0001");
    }

    [Fact]
    public void AFT0002_generic_class_is_reported()
    {
        Single("""
            [AftDsl.AftFull(maxLength: 256)]
            public partial class [|Mixer|]<T>;
            """, "AFT0002");
    }

    [Fact]
    public void AFT0002_class_nested_in_a_generic_type_is_reported_on_the_generic()
    {
        Single("""
            public partial class [|Models|]<T>
            {
                [AftDsl.AftFull(maxLength: 256)]
                public partial class Mixer;
            }
            """, "AFT0002");
    }

    [Fact]
    public void AFT0004_base_class_is_reported_on_the_base()
    {
        Single("""
            public class Base;
            [AftDsl.AftFull(maxLength: 256)]
            public partial class Mixer : [|Base|];
            """, "AFT0004");
    }

    [Fact]
    public void AFT0005_static_class_is_reported()
    {
        Single("""
            [AftDsl.AftFull(maxLength: 256)]
            public static partial class [|Mixer|];
            """, "AFT0005");
    }

    [Theory]
    [InlineData("[AftDsl.AftFull([|maxLength: 0|])] public partial class Mixer;", "maxLength must be positive, got 0")]
    [InlineData("[AftDsl.AftFull([|maxLength: -5|], Dim = 8)] public partial class Mixer;", "maxLength must be positive, got -5")]
    [InlineData("[AftDsl.AftFull([|0|])] public partial class Mixer;", "maxLength must be positive, got 0")]
    [InlineData("[AftDsl.AftFull(Dim = 8, Causal = true, [|maxLength: 0|])] public partial class Mixer;", "maxLength must be positive, got 0")]
    [InlineData("[AftDsl.AftFull(maxLength: 256, [|Dim = 0|])] public partial class Mixer;", "Dim must be positive, got 0")]
    [InlineData("[AftDsl.AftFull(maxLength: 256, [|HiddenDim = -1|])] public partial class Mixer;", "HiddenDim must be positive, got -1")]
    [InlineData("[AftDsl.AftFull(maxLength: 256, [|FactorRank = 0|])] public partial class Mixer;", "FactorRank must be positive, got 0")]
    public void AFT0101_non_positive_size_is_reported_on_the_argument(string marked, string message)
    {
        var diagnostic = Single(marked, "AFT0101");
        Assert.StartsWith($"AftFull 'Mixer': {message}; ", diagnostic.GetMessage());
    }

    [Fact]
    public void AFT0102_written_factor_rank_above_maxLength_is_reported_on_the_rank()
    {
        var diagnostic = Single("[AftDsl.AftFull(maxLength: 64, [|FactorRank = 100|])] public partial class Mixer;", "AFT0102");
        Assert.Equal("AftFull 'Mixer': FactorRank (100) must be at most maxLength (64): w = U·Wᵀ with U, W of shape [maxLength, FactorRank] has rank at most maxLength; use a FactorRank between 1 and 64",
            diagnostic.GetMessage());
    }

    [Fact]
    public void AFT0102_default_factor_rank_above_a_short_maxLength_is_reported_on_maxLength()
    {
        var diagnostic = Single("[AftDsl.AftFull([|maxLength: 64|])] public partial class Mixer;", "AFT0102");
        Assert.Contains("FactorRank (128, the default) must be at most maxLength (64)", diagnostic.GetMessage());
    }

    [Fact]
    public void Every_diagnostic_has_a_help_link_to_the_readme()
    {
        var (result, _) = GeneratorHarness.Run("[AftDsl.AftFull(maxLength: 0)] public partial class Mixer;");
        var descriptor = Assert.Single(result.Diagnostics).Descriptor;
        Assert.EndsWith("README.md#aft0101", descriptor.HelpLinkUri);
    }

    [Fact]
    public void Pragma_warning_disable_suppresses_a_diagnostic()
    {
        var (result, output) = GeneratorHarness.Run("""
            #pragma warning disable AFT0001
            [AftDsl.AftFull(maxLength: 256)]
            public class Mixer;
            #pragma warning restore AFT0001
            """);
        Assert.Equal("AFT0001", Assert.Single(result.Diagnostics).Id);
        Assert.DoesNotContain(GeneratorHarness.EffectiveDiagnostics(result, output), d => d.Id == "AFT0001");
    }

    [Fact]
    public void Arguments_the_compiler_cannot_bind_produce_only_the_compilers_error()
    {
        var (result, output) = GeneratorHarness.Run("[AftDsl.AftFull(maxLength: \"long\")] public partial class Mixer;");
        Assert.Empty(result.Diagnostics);
        Assert.Empty(result.GeneratedTrees);
        Assert.Contains(output.GetDiagnostics(), d => d.Id == "CS1503");
    }
}
