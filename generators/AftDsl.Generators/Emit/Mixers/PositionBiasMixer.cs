using AftDsl.Generators.Model;
using static AftDsl.Generators.Emit.SourceWriter;

namespace AftDsl.Generators.Emit.Mixers;

/// <summary>AFT-full (Eq. 2) and AFT-local (Eq. 4): the factorised position bias w = pos_u·pos_wᵀ, T bounded by MaxLength.</summary>
internal abstract class PositionBiasMixer : MixerDescriptor
{
    public override string InputShape(MixerSpec spec, string dim) => $"[B, T, {dim}] with 1 ≤ T ≤ {Literal(spec.MaxLength)}";

    public override IEnumerable<string> StateDictRemarks(MixerSpec spec)
    {
        yield return "State-dict names: <c>q_proj</c>, <c>k_proj</c>, <c>v_proj</c> (Dim → HiddenDim), <c>out_proj</c> (HiddenDim → Dim),";
        yield return "each with <c>.weight</c> and <c>.bias</c>; <c>pos_u</c> and <c>pos_w</c> ([MaxLength, FactorRank]), the factors of the";
        yield return "position bias w = pos_u·pos_wᵀ, drawn from N(0, 0.1²).";
    }

    public override void KindConstants(SourceWriter w, MixerSpec spec)
    {
        w.Constant("Longest sequence length T that forward accepts.", "long", "MaxLength", Literal(spec.MaxLength));
        w.Constant("Rank of the factorised position bias w = pos_u·pos_wᵀ.", "long", "FactorRank", Literal(spec.FactorRank));
    }

    public override IEnumerable<(string Type, string Name)> PositionFields(MixerSpec spec) => [(Parameter, "pos_u"), (Parameter, "pos_w")];

    public override string Initialisation(MixerSpec spec) => "position-bias factors N(0, 0.1²)";

    public override string? PositionInitialisation(MixerSpec spec) =>
        "(pos_u, pos_w) = global::AftDsl.Initialization.PositionBiasInit.Factorised(MaxLength, FactorRank);";

    public override IEnumerable<string> Mix(MixerSpec spec, string projected) => [$"{Tensor} mixed = MixingFunction.apply({projected}, pos_u, pos_w);"];

    public override string Guard(MixerSpec spec) => "global::AftDsl.ShapeGuard.Sequence(input, LayerName, Dim, MaxLength, q_proj.weight!);";

    public override IEnumerable<string> DeclarationArguments(MixerSpec spec) => [$"maxLength: {Literal(spec.MaxLength)}"];

    public override IEnumerable<string> DeclarationOptions(MixerSpec spec) =>
        spec.FactorRank != AttributeNames.PositionBias.DefaultFactorRank ? [$"FactorRank = {Literal(spec.FactorRank)}"] : [];
}
