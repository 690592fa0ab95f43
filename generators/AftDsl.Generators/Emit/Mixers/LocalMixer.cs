using AftDsl.Generators.Model;
using static AftDsl.Generators.Emit.SourceWriter;

namespace AftDsl.Generators.Emit.Mixers;

/// <summary>AFT-local (Eq. 4): the position bias within the window only.</summary>
internal sealed class LocalMixer : PositionBiasMixer
{
    public static readonly LocalMixer Instance = new();

    public override string Summary(MixerSpec spec, string mode) =>
        $"AFT-local token mixer (Zhai et al., 2021, Eq. 4), position biases within |t − t'| &lt; {Literal(spec.Window)}, {mode}";

    public override void KindConstants(SourceWriter w, MixerSpec spec)
    {
        base.KindConstants(w, spec);
        w.Constant("The window s = {value}: position biases apply where |t − t'| &lt; s, and are 0 elsewhere.", "long", "Window", Literal(spec.Window));
    }

    public override (int Tensors, string Constants)? Kernel(MixerSpec spec) => (5, "window: Window, causal: Causal");

    public override string? DecodingState(MixerSpec spec) => spec.Causal ? "AftLocalDecodingState" : null;

    public override string DecodingStateArguments => "HiddenDim, Window";

    public override string DecodingCost(MixerSpec spec) =>
        "the keys and values of the last Window − 1 positions and running sums of the older ones, O(Window·HiddenDim) per step";

    public override IEnumerable<string> StepMix(MixerSpec spec, string projected) =>
        [$"{Tensor} mixed = global::AftDsl.Decoding.AftStep.Local({projected}, pos_u, pos_w, state, active);"];

    public override IEnumerable<string> DeclarationArguments(MixerSpec spec) => [.. base.DeclarationArguments(spec), $"window: {Literal(spec.Window)}"];
}
