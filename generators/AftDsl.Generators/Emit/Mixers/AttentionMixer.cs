using AftDsl.Generators.Model;
using static AftDsl.Generators.Emit.SourceWriter;

namespace AftDsl.Generators.Emit.Mixers;

/// <summary>Multi-head attention, the baseline: scaled dot-product attention through libtorch, no kernel of its own.</summary>
internal sealed class AttentionMixer : MixerDescriptor
{
    public static readonly AttentionMixer Instance = new();

    public override string Summary(MixerSpec spec, string mode) =>
        $"Multi-head attention mixer (scaled dot-product attention), {Literal(spec.Heads)} heads, {mode}; the baseline AFT is compared with";

    public override IEnumerable<string> StateDictRemarks(MixerSpec spec) =>
    [
        "State-dict names: <c>q_proj</c>, <c>k_proj</c>, <c>v_proj</c>, <c>out_proj</c> (Dim → Dim), each with <c>.weight</c> and <c>.bias</c>.",
        "No position parameters: a model gives positions with <c>[PositionEmbedding]</c>.",
    ];

    public override void KindConstants(SourceWriter w, MixerSpec spec) =>
        w.Constant("{value}, each Dim / Heads wide.", "long", "Heads", Literal(spec.Heads), spec.Heads == 1 ? "attention head" : "attention heads");

    public override (string Inner, string Keys) Projections => ("Dim", "Dim");

    public override IEnumerable<string> Mix(MixerSpec spec, string projected) =>
        [$"{Tensor} mixed = global::AftDsl.Kernels.MultiHeadAttention.Apply({projected}, Heads, Causal);"];

    public override (int Tensors, string Constants)? Kernel(MixerSpec spec) => null;

    public override string? DecodingState(MixerSpec spec) => spec.Causal ? "KeyValueCacheState" : null;

    public override string DecodingStateArguments => "Dim, Heads";

    public override string DecodingCost(MixerSpec spec) => "a KV cache, the keys and values of every position so far: O(t·Dim) at position t";

    public override IEnumerable<string> StepMix(MixerSpec spec, string projected) =>
        [$"{Tensor} mixed = global::AftDsl.Decoding.AftStep.Attention({projected}, Heads, state, active);"];

    public override IEnumerable<string> DeclarationArguments(MixerSpec spec) => [$"heads: {Literal(spec.Heads)}"];
}
