using AftDsl.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Xunit;

namespace AftDsl.Generators.Tests;

/// <summary>
/// Every attribute written with only its required arguments is a valid declaration: a default never turns a
/// short or a long layer into an error (the FactorRank default follows maxLength).
/// </summary>
public sealed class DefaultsTests
{
    // Each layer kind as a stand-alone class and inside a model, and both model inputs; 'n' is the size.
    static string Declarations(int n, int width) => ModelEmitterTests.Usings + $$"""
        [AftFull(maxLength: {{n}})] public partial class Full;
        [AftLocal(maxLength: {{n}}, window: {{n}})] public partial class Local;
        [AftSimple] public partial class Simple;
        [AftConv(heads: 1, window: {{n | 1}})] public partial class Conv;
        [MultiHeadAttention(heads: 1)] public partial class Attention;

        [AftModel, TokenInput(vocab: {{n}}, maxLength: {{n}})]
        public partial class Tokens
        {
            [Embedding(dim: {{width}})] public partial Embedding Embed { get; }
            [PositionEmbedding] public partial PositionEmbedding Positions { get; }
            [Blocks(depth: 1, mixer: typeof(Full))] public partial BlockStack A { get; }
            [Blocks(depth: 1, mixer: typeof(Local))] public partial BlockStack B { get; }
            [Blocks(depth: 1, mixer: typeof(Simple))] public partial BlockStack C { get; }
            [Blocks(depth: 1, mixer: typeof(Attention))] public partial BlockStack D { get; }
            [FinalNorm] public partial LayerNorm Norm { get; }
            [Logits] public partial Linear Head { get; }
        }

        [AftModel, ImageInput(channels: 1)]
        public partial class Images
        {
            [PatchEmbedding(patch: 1, dim: {{width}})] public partial PatchEmbedding Patches { get; }
            [Blocks(depth: 1, mixer: typeof(Conv))] public partial BlockStack Body { get; }
            [ClassifierHead(classes: {{n}})] public partial ClassifierHead Head { get; }
        }
        """;

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 3)]
    [InlineData(64, 32)]
    [InlineData(127, 64)]
    [InlineData(128, 256)]
    [InlineData(65_536, 4096)]
    public void Every_attribute_with_only_its_required_arguments_builds_without_errors(int size, int width)
    {
        var (result, output) = GeneratorHarness.Run(Declarations(size, width));
        var errors = GeneratorHarness.EffectiveDiagnostics(result, output).Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, $"size {size}, width {width}:\n" + string.Join("\n", errors));
        Assert.Equal(7, result.GeneratedTrees.Length);
    }

    [Theory]
    [InlineData(64, 64)]
    [InlineData(128, 128)]
    [InlineData(1024, 128)]
    public void The_default_factor_rank_is_the_papers_128_capped_at_maxLength(int maxLength, int rank)
    {
        var (result, _) = GeneratorHarness.Run($"[AftDsl.AftFull(maxLength: {maxLength}, Dim = 8)] public partial class Mixer;");
        var source = Assert.Single(result.GeneratedTrees).ToString();
        Assert.Contains($"public const long FactorRank = {rank};", source);
        Assert.Equal(rank, new AftFullAttribute(maxLength).FactorRank);
        Assert.Equal(rank, new AftLocalAttribute(maxLength, 1).FactorRank);
    }
}
