using AftDsl.Generators.Model;
using static AftDsl.Generators.Emit.SourceWriter;

namespace AftDsl.Generators.Emit.Mixers;

/// <summary>AFT-full (Eq. 2).</summary>
internal sealed class FullMixer : PositionBiasMixer
{
    public static readonly FullMixer Instance = new();

    public override string Summary(MixerSpec spec, string mode) => $"AFT-full token mixer (Zhai et al., 2021, Eq. 2), {mode}";

    public override (int Tensors, string Constants)? Kernel => (5, "causal: Causal");
}
