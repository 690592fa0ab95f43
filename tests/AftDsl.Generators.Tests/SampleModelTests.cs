using System.Runtime.CompilerServices;
using AftDsl.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Xunit;

namespace AftDsl.Generators.Tests;

/// <summary>
/// The sample models under samples/AftLab/Models build as they are, and deliberately broken copies of
/// them fail with the expected diagnostic at the expected line and column.
/// </summary>
public sealed class SampleModelTests
{
    static string Sample(string file, [CallerFilePath] string here = "") =>
        File.ReadAllText(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", "samples", "AftLab", "Models", file));

    [Theory]
    [InlineData("TextModels.cs")]
    [InlineData("PixelModels.cs")]
    [InlineData("ImageModels.cs")]
    [InlineData("WideTextModels.cs")]
    public void Every_sample_model_builds(string file)
    {
        var (result, output) = GeneratorHarness.Run(Sample(file));
        Assert.DoesNotContain(GeneratorHarness.EffectiveDiagnostics(result, output), d => d.Severity == DiagnosticSeverity.Error);
        Assert.Contains(result.GeneratedTrees, t => t.ToString().Contains(": global::TorchSharp.torch.nn.Module<", StringComparison.Ordinal) && t.ToString().Contains("ModelName"));
    }

    // Every sample model's generated code (and its mixers'), snapshot-tested like the attributes' own cases.
    [Fact]
    public void Text_models() => Snapshot.VerifyGenerated(GeneratorHarness.Run(Sample("TextModels.cs")).Result);

    [Fact]
    public void Pixel_models() => Snapshot.VerifyGenerated(GeneratorHarness.Run(Sample("PixelModels.cs")).Result);

    [Fact]
    public void Wide_text_models() => Snapshot.VerifyGenerated(GeneratorHarness.Run(Sample("WideTextModels.cs")).Result);

    [Fact]
    public void Image_models() => Snapshot.VerifyGenerated(GeneratorHarness.Run(Sample("ImageModels.cs")).Result);

    [Theory]
    [InlineData("wrong width at an edge", "TextModels.cs",
        "[AftLocal(maxLength: 256, window: 32, Causal = true, FactorRank = 32)]", "[AftLocal(maxLength: 256, window: 32, Causal = true, FactorRank = 32, Dim = 64)]",
        "AFT0303", "mixer: typeof(TextLocal32Mixer)")]
    [InlineData("heads not dividing dim", "ImageModels.cs",
        "[AftConv(heads: 8, window: 5)]", "[AftConv(heads: 6, window: 5)]", "AFT0201", "mixer: typeof(ImageConvMixerGlobal)")]
    [InlineData("a causal leak", "TextModels.cs",
        "[AftSimple(Causal = true)]", "[AftSimple]", "AFT0305", "mixer: typeof(TextSimpleMixer)")]
    [InlineData("T above a bound", "PixelModels.cs",
        "[AftLocal(maxLength: 784, window: 128", "[AftLocal(maxLength: 512, window: 128", "AFT0304", "mixer: typeof(PixelLocalMixer)")]
    [InlineData("an even 2-d window", "ImageModels.cs",
        "[AftConv(heads: 8, window: 5)]", "[AftConv(heads: 8, window: 4)]", "AFT0202", "window: 4")]
    public void A_broken_copy_fails_with_the_expected_id_at_the_expected_line_and_column(string mistake, string file, string find, string replace, string id, string at)
    {
        var original = Sample(file);
        Assert.Contains(find, original);
        var broken = original.Replace(find, replace);
        var expected = Position(broken, at);

        var (result, _) = GeneratorHarness.Run(broken);
        var diagnostic = result.Diagnostics.FirstOrDefault(d => d.Id == id);
        Assert.True(diagnostic is not null, $"{mistake}: no {id}; got {string.Join(", ", result.Diagnostics.Select(d => d.Id))}");
        Assert.Equal(DiagnosticSeverity.Error, diagnostic!.Severity);
        var start = diagnostic.Location.GetLineSpan().StartLinePosition;
        Assert.Equal(expected, (start.Line + 1, start.Character + 1));
    }

    // 1-based line and column of the first occurrence of the text, as the compiler prints them.
    static (int Line, int Column) Position(string text, string at)
    {
        var index = text.IndexOf(at, StringComparison.Ordinal);
        Assert.True(index >= 0, $"'{at}' is not in the broken source");
        var line = text.Take(index).Count(c => c == '\n');
        var column = index - (text.LastIndexOf('\n', Math.Max(index - 1, 0)) + 1);
        return (line + 1, column + 1);
    }
}
