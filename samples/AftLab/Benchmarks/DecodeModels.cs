using AftDsl;
using AftDsl.Modules;
using TorchSharp.Modules;

namespace AftLab.Benchmarks;

// The byte models at 4096 bytes of context, for the decode benchmark only (never trained): the sample byte models'
// 2 blocks × 128, with position biases (or, for AFT-simple and attention, a position embedding) 4096 long.

[AftFull(maxLength: 4096, Causal = true, FactorRank = 32)] public partial class DecodeFullMixer;
[AftLocal(maxLength: 4096, window: 8, Causal = true, FactorRank = 32)] public partial class DecodeLocal8Mixer;
[AftLocal(maxLength: 4096, window: 32, Causal = true, FactorRank = 32)] public partial class DecodeLocal32Mixer;
[AftLocal(maxLength: 4096, window: 128, Causal = true, FactorRank = 32)] public partial class DecodeLocal128Mixer;
[AftSimple(Causal = true)] public partial class DecodeSimpleMixer;
[MultiHeadAttention(heads: 4, Causal = true)] public partial class DecodeAttention;

/// <summary>byte-full at 4096 bytes of context.</summary>
[AftModel(Causal = true)]
[TokenInput(vocab: 256, maxLength: 4096)]
public partial class DecodeLmFull
{
    [Embedding(dim: 128)] public partial Embedding Embed { get; }
    [Blocks(depth: 2, mixer: typeof(DecodeFullMixer))] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [Logits] public partial Linear Head { get; }
}

/// <summary>byte-local-8 at 4096 bytes of context.</summary>
[AftModel(Causal = true)]
[TokenInput(vocab: 256, maxLength: 4096)]
public partial class DecodeLmLocal8
{
    [Embedding(dim: 128)] public partial Embedding Embed { get; }
    [Blocks(depth: 2, mixer: typeof(DecodeLocal8Mixer))] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [Logits] public partial Linear Head { get; }
}

/// <summary>byte-local-32 at 4096 bytes of context.</summary>
[AftModel(Causal = true)]
[TokenInput(vocab: 256, maxLength: 4096)]
public partial class DecodeLmLocal32
{
    [Embedding(dim: 128)] public partial Embedding Embed { get; }
    [Blocks(depth: 2, mixer: typeof(DecodeLocal32Mixer))] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [Logits] public partial Linear Head { get; }
}

/// <summary>byte-local-128 at 4096 bytes of context.</summary>
[AftModel(Causal = true)]
[TokenInput(vocab: 256, maxLength: 4096)]
public partial class DecodeLmLocal128
{
    [Embedding(dim: 128)] public partial Embedding Embed { get; }
    [Blocks(depth: 2, mixer: typeof(DecodeLocal128Mixer))] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [Logits] public partial Linear Head { get; }
}

/// <summary>byte-simple at 4096 bytes of context.</summary>
[AftModel(Causal = true)]
[TokenInput(vocab: 256, maxLength: 4096)]
public partial class DecodeLmSimple
{
    [Embedding(dim: 128)] public partial Embedding Embed { get; }
    [PositionEmbedding] public partial PositionEmbedding Positions { get; }
    [Blocks(depth: 2, mixer: typeof(DecodeSimpleMixer))] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [Logits] public partial Linear Head { get; }
}

/// <summary>byte-mha at 4096 bytes of context: the KV-cache baseline.</summary>
[AftModel(Causal = true)]
[TokenInput(vocab: 256, maxLength: 4096)]
public partial class DecodeLmAttention
{
    [Embedding(dim: 128)] public partial Embedding Embed { get; }
    [PositionEmbedding] public partial PositionEmbedding Positions { get; }
    [Blocks(depth: 2, mixer: typeof(DecodeAttention))] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [Logits] public partial Linear Head { get; }
}
