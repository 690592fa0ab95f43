using AftDsl.Generators.Model;
using static AftDsl.Generators.Emit.SourceWriter;

namespace AftDsl.Generators.Emit.Mixers;

/// <summary>AFT-full (Eq. 2).</summary>
internal sealed class FullMixer : PositionBiasMixer
{
    public static readonly FullMixer Instance = new();

    public override string Summary(MixerSpec spec, string mode) => $"AFT-full token mixer (Zhai et al., 2021, Eq. 2), {mode}";

    public override (int Tensors, string Constants)? Kernel(MixerSpec spec) => (5, "causal: Causal");

    public override string? DecodingState(MixerSpec spec) => spec.Causal ? "AftFullDecodingState" : null;

    public override string DecodingStateArguments => "HiddenDim, MaxLength";

    public override string DecodingCost(MixerSpec spec) =>
        "the weighted keys and values of every position so far, like a KV cache: O(t·HiddenDim) at position t, " +
        "with the new row of position biases only";

    public override IEnumerable<string> StepMix(MixerSpec spec, string projected) =>
        [$"{Tensor} mixed = global::AftDsl.Decoding.AftStep.Full({projected}, pos_u, pos_w, state, active);"];
}
