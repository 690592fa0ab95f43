using AftDsl;
using AftDsl.Modules;
using TorchSharp.Modules;

namespace AftLab.Models;

// Byte-level language models (the paper's Enwik8 experiment, here on the GCIDE dictionary): causal,
// 256 bytes of context, 2 blocks × 128 wide. Mixers leave Dim out: the model binds it. Every model has
// the attention baseline's parameter count: AFT-full and AFT-local spend on rank-32 biases what it spends on positions.

[AftFull(maxLength: 256, Causal = true, FactorRank = 32)] public partial class TextFullMixer;
[AftLocal(maxLength: 256, window: 4, Causal = true, FactorRank = 32)] public partial class TextLocal4Mixer;
[AftLocal(maxLength: 256, window: 8, Causal = true, FactorRank = 32)] public partial class TextLocal8Mixer;
[AftLocal(maxLength: 256, window: 32, Causal = true, FactorRank = 32)] public partial class TextLocal32Mixer;
[AftLocal(maxLength: 256, window: 128, Causal = true, FactorRank = 32)] public partial class TextLocal128Mixer;
[AftSimple(Causal = true)] public partial class TextSimpleMixer;
[MultiHeadAttention(heads: 4, Causal = true)] public partial class TextAttention;

/// <summary>Causal AFT-full byte LM: its pair-wise biases carry position, so no position embedding.</summary>
[AftModel(Causal = true)]
[TokenInput(vocab: 256, maxLength: 256)]
public partial class ByteLmFull
{
    [Embedding(dim: 128)] public partial Embedding Embed { get; }
    [Blocks(depth: 2, mixer: typeof(TextFullMixer))] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [Logits] public partial Linear Head { get; }
}

/// <summary>Causal AFT-local byte LM, window 4: at T = 128, the paper's best window-to-context ratio (32 / 1024).</summary>
[AftModel(Causal = true)]
[TokenInput(vocab: 256, maxLength: 256)]
public partial class ByteLmLocal4
{
    [Embedding(dim: 128)] public partial Embedding Embed { get; }
    [Blocks(depth: 2, mixer: typeof(TextLocal4Mixer))] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [Logits] public partial Linear Head { get; }
}

/// <summary>Causal AFT-local byte LM, window 8.</summary>
[AftModel(Causal = true)]
[TokenInput(vocab: 256, maxLength: 256)]
public partial class ByteLmLocal8
{
    [Embedding(dim: 128)] public partial Embedding Embed { get; }
    [Blocks(depth: 2, mixer: typeof(TextLocal8Mixer))] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [Logits] public partial Linear Head { get; }
}

/// <summary>Causal AFT-local byte LM, window 32 (the paper's best on Enwik8).</summary>
[AftModel(Causal = true)]
[TokenInput(vocab: 256, maxLength: 256)]
public partial class ByteLmLocal32
{
    [Embedding(dim: 128)] public partial Embedding Embed { get; }
    [Blocks(depth: 2, mixer: typeof(TextLocal32Mixer))] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [Logits] public partial Linear Head { get; }
}

/// <summary>Causal AFT-local byte LM, window 128.</summary>
[AftModel(Causal = true)]
[TokenInput(vocab: 256, maxLength: 256)]
public partial class ByteLmLocal128
{
    [Embedding(dim: 128)] public partial Embedding Embed { get; }
    [Blocks(depth: 2, mixer: typeof(TextLocal128Mixer))] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [Logits] public partial Linear Head { get; }
}

/// <summary>Causal AFT-simple byte LM: no biases, so it learns positions.</summary>
[AftModel(Causal = true)]
[TokenInput(vocab: 256, maxLength: 256)]
public partial class ByteLmSimple
{
    [Embedding(dim: 128)] public partial Embedding Embed { get; }
    [PositionEmbedding] public partial PositionEmbedding Positions { get; }
    [Blocks(depth: 2, mixer: typeof(TextSimpleMixer))] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [Logits] public partial Linear Head { get; }
}

/// <summary>The Transformer baseline: causal multi-head attention with learned positions.</summary>
[AftModel(Causal = true)]
[TokenInput(vocab: 256, maxLength: 256)]
public partial class ByteLmAttention
{
    [Embedding(dim: 128)] public partial Embedding Embed { get; }
    [PositionEmbedding] public partial PositionEmbedding Positions { get; }
    [Blocks(depth: 2, mixer: typeof(TextAttention))] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [Logits] public partial Linear Head { get; }
}
