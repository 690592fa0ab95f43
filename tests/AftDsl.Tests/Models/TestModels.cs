using AftDsl.Modules;
using TorchSharp.Modules;

namespace AftDsl.Tests.Models;

// Models declared the way the samples declare them, small enough to test every edge quickly.

[AftLocal(maxLength: 32, window: 4, Causal = true, FactorRank = 8)] public partial class SmallLocalMixer;
[MultiHeadAttention(heads: 2, Causal = true)] public partial class SmallAttention;
[AftConv(heads: 2, window: 3)] public partial class SmallConvMixer;
[AftSimple] public partial class SmallSimpleMixer;

[AftModel(Causal = true)]
[TokenInput(vocab: 11, maxLength: 32)]
public partial class TinyLm
{
    [Embedding(dim: 8)] public partial Embedding Embed { get; }
    [Blocks(depth: 2, mixer: typeof(SmallLocalMixer), Ffn = 2)] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [Logits] public partial Linear Head { get; }
}

[AftModel]
[TokenInput(vocab: 11, maxLength: 32)]
public partial class TinyWideFfnLm
{
    [Embedding(dim: 8)] public partial Embedding Embed { get; }
    [Blocks(depth: 2, mixer: typeof(SmallSimpleMixer), FfnWidth = 13)] public partial BlockStack Body { get; }
    [Logits] public partial Linear Head { get; }
}

[AftModel(Causal = true)]
[TokenInput(vocab: 11, maxLength: 32)]
public partial class TinyAttentionLm
{
    [Embedding(dim: 8)] public partial Embedding Embed { get; }
    [PositionEmbedding] public partial PositionEmbedding Positions { get; }
    [Blocks(depth: 1, mixer: typeof(SmallAttention))] public partial BlockStack Body { get; }
    [Logits] public partial Linear Head { get; }
}

[AftModel]
[ImageInput(channels: 2)]
public partial class TinyConvClassifier
{
#pragma warning disable AFT0401 // free image size: the generated forward checks divisibility (tested below)
    [PatchEmbedding(patch: 2, dim: 8)] public partial PatchEmbedding Patches { get; }
#pragma warning restore AFT0401
    [Blocks(depth: 2, mixer: typeof(SmallConvMixer))] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [ClassifierHead(classes: 5)] public partial ClassifierHead Head { get; }
}

[AftModel]
[ImageInput(channels: 1, Height = 8, Width = 8)]
public partial class TinyGridSimple
{
    [PatchEmbedding(patch: 2, dim: 4)] public partial PatchEmbedding Patches { get; }
    [PositionEmbedding] public partial PositionEmbedding Positions { get; }
    [Blocks(depth: 1, mixer: typeof(SmallSimpleMixer))] public partial BlockStack Body { get; }
    [ClassifierHead(classes: 3)] public partial ClassifierHead Head { get; }
}
