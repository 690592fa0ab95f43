using AftDsl.Generators.Model;
using static AftDsl.Generators.Emit.SourceWriter;

namespace AftDsl.Generators.Emit.Mixers;

/// <summary>AFT-simple (Eq. 5): no position parameters.</summary>
internal sealed class SimpleMixer : MixerDescriptor
{
    public static readonly SimpleMixer Instance = new();

    public override string Summary(MixerSpec spec, string mode) => $"AFT-simple token mixer (Zhai et al., 2021, Eq. 5), O(T·d), {mode}";

    public override (int Tensors, string Constants)? Kernel(MixerSpec spec) => (3, "causal: Causal");

    public override string? DecodingState(MixerSpec spec) => spec.Causal ? "AftSimpleDecodingState" : null;

    public override string DecodingCost(MixerSpec spec) => "a running maximum and two running sums per channel, O(HiddenDim) memory and work per step at any position";

    public override IEnumerable<string> StepMix(MixerSpec spec, string projected) =>
        [$"{Tensor} mixed = global::AftDsl.Decoding.AftStep.Simple({projected}, state, active);"];
}
