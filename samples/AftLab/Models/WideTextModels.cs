using AftDsl;
using AftDsl.Modules;
using TorchSharp.Modules;

namespace AftLab.Models;

// Byte-level language models at a width and depth that fill a GPU (12 blocks × 512, up to 4096 bytes of
// context), for training throughput against their attention baseline; they train like the small byte
// models. Position parameters are not matched: AFT-full and AFT-local carry rank-32 biases per block
// (3.1 M in all), the baseline and AFT-simple a 4096 × 512 position embedding (2.1 M).

[AftFull(maxLength: 4096, Causal = true, FactorRank = 32)] public partial class WideFullMixer;
[AftLocal(maxLength: 4096, window: 32, Causal = true, FactorRank = 32)] public partial class WideLocal32Mixer;
[AftSimple(Causal = true)] public partial class WideSimpleMixer;
[MultiHeadAttention(heads: 8, Causal = true)] public partial class WideAttention;

/// <summary>Causal AFT-full byte LM, 12 × 512.</summary>
[AftModel(Causal = true)]
[TokenInput(vocab: 256, maxLength: 4096)]
public partial class WideByteLmFull
{
    [Embedding(dim: 512)] public partial Embedding Embed { get; }
    [Blocks(depth: 12, mixer: typeof(WideFullMixer))] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [Logits] public partial Linear Head { get; }
}

/// <summary>Causal AFT-local byte LM, window 32, 12 × 512.</summary>
[AftModel(Causal = true)]
[TokenInput(vocab: 256, maxLength: 4096)]
public partial class WideByteLmLocal32
{
    [Embedding(dim: 512)] public partial Embedding Embed { get; }
    [Blocks(depth: 12, mixer: typeof(WideLocal32Mixer))] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [Logits] public partial Linear Head { get; }
}

/// <summary>Causal AFT-simple byte LM, 12 × 512, with learned positions.</summary>
[AftModel(Causal = true)]
[TokenInput(vocab: 256, maxLength: 4096)]
public partial class WideByteLmSimple
{
    [Embedding(dim: 512)] public partial Embedding Embed { get; }
    [PositionEmbedding] public partial PositionEmbedding Positions { get; }
    [Blocks(depth: 12, mixer: typeof(WideSimpleMixer))] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [Logits] public partial Linear Head { get; }
}

/// <summary>The Transformer baseline at 12 × 512: causal attention, 8 heads × 64, learned positions.</summary>
[AftModel(Causal = true)]
[TokenInput(vocab: 256, maxLength: 4096)]
public partial class WideByteLmAttention
{
    [Embedding(dim: 512)] public partial Embedding Embed { get; }
    [PositionEmbedding] public partial PositionEmbedding Positions { get; }
    [Blocks(depth: 12, mixer: typeof(WideAttention))] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [Logits] public partial Linear Head { get; }
}
