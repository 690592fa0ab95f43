using AftDsl.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Xunit;

namespace AftDsl.Generators.Tests;

/// <summary>One test per diagnostic: the broken source, the expected ID, the exact span.</summary>
public sealed class DiagnosticTests
{
    // One AFT diagnostic and nothing else: the generated part (full, or a skeleton when the class can take one)
    // compiles, so no compiler error joins it.
    static Diagnostic Single(string marked, string id)
    {
        var markup = Markup.Parse(marked);
        var (result, output) = GeneratorHarness.Run(markup.Source);
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.True(diagnostic.Location.IsInSource, "the diagnostic must point into the user's source");
        Assert.Equal(markup.Span, diagnostic.Location.SourceSpan);
        var others = GeneratorHarness.EffectiveDiagnostics(result, output).Where(d => d.Id != id).ToList();
        Assert.True(others.Count == 0, "besides " + id + ": " + string.Join("\n", others));
        return diagnostic;
    }

    // The AFT diagnostic on a model's class, whatever else the compiler says of it (an instance stage of a static model is CS0708).
    static Diagnostic OnModel(string marked, string id)
    {
        var markup = Markup.Parse(marked);
        var (result, _) = GeneratorHarness.Run(markup.Source);
        var diagnostic = Assert.Single(result.Diagnostics, d => d.Id == id);
        Assert.Equal(markup.Span, diagnostic.Location.SourceSpan);
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
    public void AFT0002_on_a_model_says_model()
    {
        var diagnostic = OnModel("""
            [AftDsl.AftModel, AftDsl.TokenInput(vocab: 16, maxLength: 8)]
            public partial class [|Lm|]<T> { [AftDsl.Embedding(dim: 8)] public partial TorchSharp.Modules.Embedding Embed { get; } }
            """, "AFT0002");
        Assert.Equal("AftModel 'Lm': 'Lm' is generic; a model's sizes are constants, so declare the model in a non-generic class", diagnostic.GetMessage());
    }

    [Fact]
    public void AFT0002_on_a_layer_says_layer()
    {
        var diagnostic = Single("""
            [AftDsl.AftFull(maxLength: 256)]
            public partial class [|Mixer|]<T>;
            """, "AFT0002");
        Assert.Equal("AftFull 'Mixer': 'Mixer' is generic; a layer's sizes are constants, so declare the layer in a non-generic class", diagnostic.GetMessage());
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

    [Fact]
    public void AFT0005_on_a_model_says_model()
    {
        var diagnostic = OnModel("""
            [AftDsl.AftModel, AftDsl.TokenInput(vocab: 16, maxLength: 8)]
            public static partial class [|Lm|] { [AftDsl.Embedding(dim: 8)] public partial TorchSharp.Modules.Embedding Embed { get; } }
            """, "AFT0005");
        Assert.Equal("AftModel 'Lm': 'Lm' is static, but a model is a module that is instantiated; remove 'static'", diagnostic.GetMessage());
    }

    [Theory]
    [InlineData("[AftDsl.AftFull([|maxLength: 0|])] public partial class Mixer;", "maxLength must be positive, got 0")]
    [InlineData("[AftDsl.AftFull([|maxLength: -5|], Dim = 8)] public partial class Mixer;", "maxLength must be positive, got -5")]
    [InlineData("[AftDsl.AftFull([|0|])] public partial class Mixer;", "maxLength must be positive, got 0")]
    // (C# puts constructor arguments before named properties: "Dim = 8, maxLength: 0" is CS1016, not a way to write it.)
    [InlineData("[AftDsl.AftFull([|maxLength: 0|], Causal = true, Dim = 8)] public partial class Mixer;", "maxLength must be positive, got 0")]
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
    public void AFT0003_a_second_layer_attribute_is_reported_on_itself()
    {
        var diagnostic = Single("""
            [AftDsl.AftFull(maxLength: 256)]
            [[|AftDsl.AftSimple(Dim = 8)|]]
            public partial class Mixer;
            """, "AFT0003");
        Assert.Equal("AftSimple 'Mixer': 'Mixer' is already declared as AftFull by an earlier attribute; a class is one layer or one model, so declare this one on a class of its own",
            diagnostic.GetMessage());
    }

    [Fact]
    public void AFT0003_also_across_partial_declarations_and_the_first_layer_still_generates()
    {
        var markup = Markup.Parse("""
            [AftDsl.AftLocal(maxLength: 256, window: 8)]
            public partial class Mixer;
            [[|AftDsl.AftConv(heads: 2, window: 3)|]]
            public partial class Mixer;
            """);
        var (result, _) = GeneratorHarness.Run(markup.Source);
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal(("AFT0003", markup.Span), (diagnostic.Id, diagnostic.Location.SourceSpan));
        Assert.Single(result.GeneratedTrees);
    }

    [Theory]
    [InlineData("[AftDsl.AftLocal(maxLength: 256, [|window: 0|])] public partial class Mixer;", "AftLocal 'Mixer': window must be positive, got 0")]
    [InlineData("[AftDsl.AftConv([|heads: 0|], window: 3)] public partial class Mixer;", "AftConv 'Mixer': heads must be positive, got 0")]
    [InlineData("[AftDsl.AftConv(heads: 4, [|window: -3|])] public partial class Mixer;", "AftConv 'Mixer': window must be positive, got -3")]
    [InlineData("[AftDsl.AftConv(heads: 4, window: 3, [|GridHeight = 0|], GridWidth = 5)] public partial class Mixer;", "AftConv 'Mixer': GridHeight must be positive, got 0")]
    [InlineData("[AftDsl.AftSimple([|HiddenDim = 0|])] public partial class Mixer;", "AftSimple 'Mixer': HiddenDim must be positive, got 0")]
    public void AFT0101_non_positive_sizes_of_every_layer(string marked, string message)
    {
        Assert.StartsWith(message + "; ", Single(marked, "AFT0101").GetMessage());
    }

    [Fact]
    public void AFT0103_window_above_maxLength_is_reported_on_the_window()
    {
        var diagnostic = Single("[AftDsl.AftLocal(maxLength: 256, [|window: 300|])] public partial class Mixer;", "AFT0103");
        Assert.StartsWith("AftLocal 'Mixer': window (300) must be at most maxLength (256)", diagnostic.GetMessage());
    }

    [Fact]
    public void AFT0201_heads_not_dividing_dim_lists_valid_heads_and_nearest_dims()
    {
        var diagnostic = Single("[AftDsl.AftConv([|heads: 32|], window: 7, Dim = 380)] public partial class PatchMixer;", "AFT0201");
        Assert.Equal("AftConv 'PatchMixer': heads (32) must divide dim (380): 380 / 32 = 11.875. " +
            "Valid head counts for dim 380: 1, 2, 4, 5, 10, 19, 20, 38, 76, 95, 190, 380. Nearest dims divisible by 32: 352, 384.",
            diagnostic.GetMessage());
    }

    [Fact]
    public void AFT0202_even_window_on_a_grid_is_reported_on_the_window()
    {
        var diagnostic = Single("[AftDsl.AftConv(heads: 4, [|window: 6|])] public partial class Mixer;", "AFT0202");
        Assert.Contains("use an odd window such as 5 or 7", diagnostic.GetMessage());
    }

    [Fact]
    public void An_even_window_on_a_sequence_is_fine()
    {
        var (result, _) = GeneratorHarness.Run("[AftDsl.AftConv(heads: 4, window: 6, Layout = AftDsl.AftConvLayout.Sequence, Causal = true)] public partial class Mixer;");
        Assert.Empty(result.Diagnostics);
        Assert.Single(result.GeneratedTrees);
    }

    [Fact]
    public void AFT0203_causal_grid_is_reported_on_causal()
    {
        Single("[AftDsl.AftConv(heads: 4, window: 3, [|Causal = true|])] public partial class Mixer;", "AFT0203");
    }

    [Fact]
    public void AFT0204_half_a_fixed_grid_is_reported()
    {
        var diagnostic = Single("[AftDsl.AftConv(heads: 4, window: 3, [|GridWidth = 14|])] public partial class Mixer;", "AFT0204");
        Assert.Contains("GridWidth is set but GridHeight is not", diagnostic.GetMessage());
    }

    [Fact]
    public void AFT0205_grid_size_on_a_sequence_is_reported()
    {
        Single("[AftDsl.AftConv(heads: 4, window: 3, Layout = AftDsl.AftConvLayout.Sequence, [|GridHeight = 14|], GridWidth = 14)] public partial class Mixer;", "AFT0205");
    }

    [Fact]
    public void Every_diagnostic_has_a_help_link_to_its_heading_in_the_diagnostics_doc()
    {
        var (result, _) = GeneratorHarness.Run("[AftDsl.AftFull(maxLength: 0)] public partial class Mixer;");
        var descriptor = Assert.Single(result.Diagnostics).Descriptor;
        Assert.EndsWith("docs/diagnostics.md#aft0101", descriptor.HelpLinkUri);
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
        Assert.Contains("Not generated", Assert.Single(result.GeneratedTrees).ToString());   // a skeleton: uses of Mixer still compile
        Assert.Equal(["CS1503"], output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.Id));
    }
}
