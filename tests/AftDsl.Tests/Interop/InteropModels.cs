using AftDsl.Modules;
using TorchSharp.Modules;

namespace AftDsl.Tests.Interop;

// Mixers the sample models do not use, so that every branch of aftdsl_torch.py meets its C# twin: AFT-full and
// AFT-local without the causal mask, and AFT-conv over a causal sequence (conv1d, padded on the past side only).

[AftFull(maxLength: 24, FactorRank = 4)] public partial class EncoderFullMixer;
[AftLocal(maxLength: 24, window: 3, FactorRank = 4)] public partial class EncoderLocalMixer;
[AftConv(heads: 2, window: 3, Layout = AftConvLayout.Sequence, Causal = true)] public partial class CausalSequenceConvMixer;

[AftModel]
[TokenInput(vocab: 13, maxLength: 24)]
public partial class FullEncoder
{
    [Embedding(dim: 8)] public partial Embedding Embed { get; }
    [Blocks(depth: 2, mixer: typeof(EncoderFullMixer))] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [Logits] public partial Linear Head { get; }
}

[AftModel]
[TokenInput(vocab: 13, maxLength: 24)]
public partial class LocalEncoder
{
    [Embedding(dim: 8)] public partial Embedding Embed { get; }
    [Blocks(depth: 2, mixer: typeof(EncoderLocalMixer))] public partial BlockStack Body { get; }
    [Logits] public partial Linear Head { get; }
}

[AftModel(Causal = true)]
[TokenInput(vocab: 13, maxLength: 24)]
public partial class SequenceConvLm
{
    [Embedding(dim: 8)] public partial Embedding Embed { get; }
    [Blocks(depth: 2, mixer: typeof(CausalSequenceConvMixer))] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [Logits] public partial Linear Head { get; }
}

// Causal AFT-full and AFT-simple, for the test with extreme keys: their C# kernels shift keys by a running maximum, which
// a reference that shifts by a maximum over all positions would turn into NaN.

[AftFull(maxLength: 24, FactorRank = 4, Causal = true)] public partial class CausalFullMixer;
[AftSimple(Causal = true)] public partial class CausalSimpleMixer;

[AftModel(Causal = true)]
[TokenInput(vocab: 13, maxLength: 24)]
public partial class CausalFullLm
{
    [Embedding(dim: 8)] public partial Embedding Embed { get; }
    [Blocks(depth: 2, mixer: typeof(CausalFullMixer))] public partial BlockStack Body { get; }
    [Logits] public partial Linear Head { get; }
}

[AftModel(Causal = true)]
[TokenInput(vocab: 13, maxLength: 24)]
public partial class CausalSimpleLm
{
    [Embedding(dim: 8)] public partial Embedding Embed { get; }
    [Blocks(depth: 2, mixer: typeof(CausalSimpleMixer))] public partial BlockStack Body { get; }
    [Logits] public partial Linear Head { get; }
}
