using AftDsl;
using AftDsl.Modules;
using TorchSharp.Modules;

namespace AftLab.Models;

// Pixel models (the paper's CIFAR10 image modelling, here on Fashion-MNIST): each 28×28 image is one
// causal sequence of 784 grey levels, a 256-way softmax per pixel. Parameter counts match the
// attention baseline: AFT-full and AFT-local spend on rank-16 pair-wise biases what it spends on positions.

[AftFull(maxLength: 784, Causal = true, FactorRank = 16)] public partial class PixelFullMixer;
[AftLocal(maxLength: 784, window: 128, Causal = true, FactorRank = 16)] public partial class PixelLocalMixer;
[AftSimple(Causal = true)] public partial class PixelSimpleMixer;
[MultiHeadAttention(heads: 4, Causal = true)] public partial class PixelAttention;

/// <summary>Causal AFT-full pixel model: its pair-wise biases carry position, so no position embedding.</summary>
[AftModel(Causal = true)]
[TokenInput(vocab: 256, maxLength: 784)]
public partial class PixelFull
{
    [Embedding(dim: 64)] public partial Embedding Embed { get; }
    [Blocks(depth: 2, mixer: typeof(PixelFullMixer))] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [Logits] public partial Linear Head { get; }
}

/// <summary>Causal AFT-local pixel model, window 128: positions from its biases, as AFT-full.</summary>
[AftModel(Causal = true)]
[TokenInput(vocab: 256, maxLength: 784)]
public partial class PixelLocal
{
    [Embedding(dim: 64)] public partial Embedding Embed { get; }
    [Blocks(depth: 2, mixer: typeof(PixelLocalMixer))] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [Logits] public partial Linear Head { get; }
}

/// <summary>Causal AFT-simple pixel model.</summary>
[AftModel(Causal = true)]
[TokenInput(vocab: 256, maxLength: 784)]
public partial class PixelSimple
{
    [Embedding(dim: 64)] public partial Embedding Embed { get; }
    [PositionEmbedding] public partial PositionEmbedding Positions { get; }
    [Blocks(depth: 2, mixer: typeof(PixelSimpleMixer))] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [Logits] public partial Linear Head { get; }
}

/// <summary>The Transformer baseline: causal multi-head attention over the 784 pixels.</summary>
[AftModel(Causal = true)]
[TokenInput(vocab: 256, maxLength: 784)]
public partial class PixelAttentionModel
{
    [Embedding(dim: 64)] public partial Embedding Embed { get; }
    [PositionEmbedding] public partial PositionEmbedding Positions { get; }
    [Blocks(depth: 2, mixer: typeof(PixelAttention))] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [Logits] public partial Linear Head { get; }
}
