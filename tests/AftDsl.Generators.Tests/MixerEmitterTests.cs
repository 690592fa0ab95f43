using System.Globalization;
using AftDsl.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Xunit;

namespace AftDsl.Generators.Tests;

public sealed class MixerEmitterTests
{
    const string FixedWidthCausal = """
        using AftDsl;

        namespace Samples.Text;

        [AftFull(maxLength: 1024, Dim = 64, Causal = true)]
        public partial class TextMixer;
        """;

    const string WidthAtConstruction = """
        using AftDsl;

        namespace Samples;

        [AftFull(maxLength: 256, FactorRank = 32)]
        internal sealed partial class Mixer;
        """;

    const string NestedInBlockNamespace = """
        namespace Outer.Inner
        {
            public static partial class Models
            {
                internal partial record struct Holder
                {
                    [AftDsl.AftFull(maxLength: 64, FactorRank = 8, HiddenDim = 48, Dim = 32)]
                    public partial class Mixer { }
                }
            }
        }
        """;

    const string GlobalNamespace = """
        [AftDsl.AftFull(16, Dim = 8, FactorRank = 16)]
        partial class GlobalMixer;
        """;

    const string LocalCausal = """
        using AftDsl;

        namespace Samples;

        [AftLocal(maxLength: 1024, window: 32, Dim = 256, Causal = true, FactorRank = 64)]
        public partial class LocalMixer;
        """;

    const string LocalWidthAtConstruction = """
        [AftDsl.AftLocal(maxLength: 512, window: 8, HiddenDim = 128)]
        public partial class LocalMixer;
        """;

    const string SimpleCausal = """
        using AftDsl;

        [AftSimple(Dim = 128, Causal = true)]
        public partial class SimpleMixer;
        """;

    const string SimpleWidthAtConstruction = """
        [AftDsl.AftSimple]
        public partial class SimpleMixer;
        """;

    const string ConvGridAsOnTheCard = """
        using AftDsl;

        namespace Vision;

        [AftConv(heads: 32, window: 7)]
        public partial class PatchMixer;
        """;

    const string ConvFixedGrid = """
        using AftDsl;

        namespace Vision;

        [AftConv(heads: 16, window: 11, Dim = 384, GridHeight = 14, GridWidth = 14)]
        public partial class PatchMixer;
        """;

    const string ConvCausalSequence = """
        using AftDsl;

        [AftConv(heads: 8, window: 4, Dim = 64, Layout = AftConvLayout.Sequence, Causal = true)]
        public partial class SequenceMixer;
        """;

    const string ConvRawKernel = """
        using AftDsl;

        namespace Vision;

        [AftConv(heads: 16, window: 5, Reparameterise = false)]
        public partial class RawKernelMixer;
        """;

    const string ConvWindowConnectivity = """
        using AftDsl;

        namespace Vision;

        [AftConv(heads: 16, window: 5, Dim = 256, Connectivity = AftConvConnectivity.Window)]
        public partial class WindowMixer;
        """;

    const string ConvCausalWindowRawKernel = """
        using AftDsl;

        [AftConv(heads: 8, window: 4, Dim = 64, Layout = AftConvLayout.Sequence, Causal = true, Reparameterise = false, Connectivity = AftConvConnectivity.Window)]
        public partial class WindowSequenceMixer;
        """;

    [Fact]
    public void Constants_show_their_values_in_their_docs_with_digit_separators_whatever_the_culture()
    {
        var culture = System.Globalization.CultureInfo.CurrentCulture;
        System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("de-DE");   // "66.048" there
        try
        {
            var source = GeneratorHarness.Run(SimpleCausal).Result.GeneratedTrees.Single().ToString();
            // 4 projections of 128 × 128 weights and 128 biases.
            Assert.Contains("/// <summary>Number of trainable parameters, as TorchSharp counts them: 66,048 parameters.</summary>\n" +
                "    public const long ParameterCount = 66048;", source);
            Assert.Contains("/// <summary>How errors name this layer: <c>AftSimple 'SimpleMixer'</c>.</summary>", source);
            Assert.Contains("/// <summary>True when position t sees positions ≤ t only: <c>true</c>.</summary>", source);
            // Every constant's doc fits in 120 characters a line.
            var lines = source.Split('\n');
            for (var i = 1; i < lines.Length; i++)
                if (lines[i].TrimStart().StartsWith("public const", StringComparison.Ordinal))
                    Assert.True(lines[i - 1].Length <= 120, lines[i - 1]);
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = culture;
        }
    }

    [Fact]
    public void Local_causal_layer() => Snapshot.VerifyGenerated(GeneratorHarness.Run(LocalCausal).Result);

    [Fact]
    public void Local_width_bound_at_construction() => Snapshot.VerifyGenerated(GeneratorHarness.Run(LocalWidthAtConstruction).Result);

    [Fact]
    public void Simple_causal_layer() => Snapshot.VerifyGenerated(GeneratorHarness.Run(SimpleCausal).Result);

    [Fact]
    public void Simple_width_bound_at_construction() => Snapshot.VerifyGenerated(GeneratorHarness.Run(SimpleWidthAtConstruction).Result);

    [Fact]
    public void Conv_grid_as_on_the_card() => Snapshot.VerifyGenerated(GeneratorHarness.Run(ConvGridAsOnTheCard).Result);

    [Fact]
    public void Conv_fixed_grid() => Snapshot.VerifyGenerated(GeneratorHarness.Run(ConvFixedGrid).Result);

    [Fact]
    public void Conv_causal_sequence() => Snapshot.VerifyGenerated(GeneratorHarness.Run(ConvCausalSequence).Result);

    [Fact]
    public void Conv_raw_kernel() => Snapshot.VerifyGenerated(GeneratorHarness.Run(ConvRawKernel).Result);

    [Fact]
    public void Conv_window_connectivity() => Snapshot.VerifyGenerated(GeneratorHarness.Run(ConvWindowConnectivity).Result);

    [Fact]
    public void Conv_causal_window_raw_kernel() => Snapshot.VerifyGenerated(GeneratorHarness.Run(ConvCausalWindowRawKernel).Result);

    [Fact]
    public void Fixed_width_causal_layer() => Snapshot.VerifyGenerated(GeneratorHarness.Run(FixedWidthCausal).Result);

    [Fact]
    public void Width_bound_at_construction() => Snapshot.VerifyGenerated(GeneratorHarness.Run(WidthAtConstruction).Result);

    [Fact]
    public void Nested_in_partial_types_in_a_block_namespace() => Snapshot.VerifyGenerated(GeneratorHarness.Run(NestedInBlockNamespace).Result);

    [Fact]
    public void Global_namespace_and_positional_maxLength() => Snapshot.VerifyGenerated(GeneratorHarness.Run(GlobalNamespace).Result);

    [Theory]
    [InlineData(FixedWidthCausal)]
    [InlineData(WidthAtConstruction)]
    [InlineData(NestedInBlockNamespace)]
    [InlineData(GlobalNamespace)]
    [InlineData(LocalCausal)]
    [InlineData(LocalWidthAtConstruction)]
    [InlineData(SimpleCausal)]
    [InlineData(SimpleWidthAtConstruction)]
    [InlineData(ConvGridAsOnTheCard)]
    [InlineData(ConvFixedGrid)]
    [InlineData(ConvCausalSequence)]
    [InlineData(ConvRawKernel)]
    [InlineData(ConvWindowConnectivity)]
    [InlineData(ConvCausalWindowRawKernel)]
    public void Generated_code_compiles_against_torchsharp_without_warnings(string source)
    {
        var (result, output) = GeneratorHarness.Run(source);
        Assert.Single(result.GeneratedTrees);
        Assert.Empty(GeneratorHarness.EffectiveDiagnostics(result, output));
    }

    [Theory]
    [InlineData("de-DE")]
    [InlineData("ar-SA")]
    [InlineData("fa-IR")]
    public void Output_is_identical_in_every_culture(string culture)
    {
        var invariant = Generate();
        var previous = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = new CultureInfo(culture);
            Assert.Equal(invariant, Generate());
        }
        finally
        {
            CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = previous;
        }

        static string Generate() => GeneratorHarness.Run(FixedWidthCausal).Result.GeneratedTrees.Single().ToString();
    }

    [Fact]
    public void Generated_files_are_marked_auto_generated_with_nullable_enabled()
    {
        var text = GeneratorHarness.Run(FixedWidthCausal).Result.GeneratedTrees.Single().ToString();
        Assert.StartsWith("// <auto-generated/>\n", text);
        Assert.Contains("\n#nullable enable\n", text);
        Assert.DoesNotContain("\r", text);
    }
}
