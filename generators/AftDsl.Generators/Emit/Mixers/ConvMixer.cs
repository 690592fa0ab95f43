using AftDsl.Generators.Model;
using static AftDsl.Generators.Emit.SourceWriter;

namespace AftDsl.Generators.Emit.Mixers;

/// <summary>AFT-conv (Eq. 6): a reparameterised depthwise kernel per head, over a sequence or a 2-d grid.</summary>
internal sealed class ConvMixer : MixerDescriptor
{
    public static readonly ConvMixer Instance = new();

    public override string Summary(MixerSpec spec, string mode)
    {
        var kernel = spec.Grid ? $"{Literal(spec.Window)}×{Literal(spec.Window)} kernel over a 2-d grid" : $"{Literal(spec.Window)}-tap kernel over a sequence";
        return $"AFT-conv token mixer (Zhai et al., 2021, Eq. 6), {Literal(spec.Heads)} heads, {kernel}, {mode}";
    }

    public override string InputShape(MixerSpec spec, string dim) =>
        !spec.Grid ? base.InputShape(spec, dim)
        : spec.GridHeight > 0 ? $"[B, {Literal(spec.GridHeight)}, {Literal(spec.GridWidth)}, {dim}]"
        : $"[B, H, W, {dim}] for any H, W";

    public override string OutputShape(MixerSpec spec, string dim) =>
        !spec.Grid ? base.OutputShape(spec, dim)
        : spec.GridHeight > 0 ? $"[B, {Literal(spec.GridHeight)}, {Literal(spec.GridWidth)}, {dim}]"
        : $"[B, H, W, {dim}]";

    public override IEnumerable<string> StateDictRemarks(MixerSpec spec) =>
    [
        "State-dict names: <c>q_proj</c>, <c>v_proj</c> (Dim → Dim), <c>k_proj</c> (Dim → Heads), <c>out_proj</c> (Dim → Dim),",
        "each with <c>.weight</c> and <c>.bias</c>; <c>pos_w</c> (the raw kernel, N(0, 1)), <c>pos_gamma</c> and <c>pos_beta</c> ([Heads], 0),",
        "reparameterised per head as w = γ·(w − mean)/(std + ε) + β, so a new layer is exactly AFT-simple.",
    ];

    public override void KindConstants(SourceWriter w, MixerSpec spec)
    {
        w.Constant("{value}: K has one channel per head, and each head's kernel is shared by its Dim / Heads channels.", "long", "Heads",
            Literal(spec.Heads), spec.Heads == 1 ? "head" : "heads");
        w.Constant(spec.Grid ? "Kernel size s = {value}: the kernel is s × s." : "Kernel size s = {value} (taps).", "long", "Window", Literal(spec.Window));
    }

    public override string CausalSummary(MixerSpec spec) => spec.Grid ? "{value}: a grid has no order of positions." : base.CausalSummary(spec);

    public override IEnumerable<(string Type, string Name)> PositionFields => [(Parameter, "pos_w"), (Parameter, "pos_gamma"), (Parameter, "pos_beta")];

    public override string Initialisation => "kernel γ = β = 0 (so the layer starts as AFT-simple)";

    public override (string Inner, string Keys) Projections => ("Dim", "Heads");

    public override string? PositionInitialisation(MixerSpec spec) =>
        $"(pos_w, pos_gamma, pos_beta) = global::AftDsl.Initialization.ConvBiasInit.Create(Heads, Window, grid: {Literal(spec.Grid)});";

    public override IEnumerable<string> Mix(string projected) =>
    [
        $"{Tensor} kernel = global::AftDsl.Kernels.AftConv.Reparameterise(pos_w, pos_gamma, pos_beta);",
        $"{Tensor} mixed = MixingFunction.apply({projected}, kernel);",
    ];

    public override string Guard(MixerSpec spec) =>
        !spec.Grid ? base.Guard(spec)
        : spec.GridHeight > 0
            ? $"global::AftDsl.ShapeGuard.Grid(input, LayerName, Dim, height: {Literal(spec.GridHeight)}, width: {Literal(spec.GridWidth)}, q_proj.weight!);"
            : "global::AftDsl.ShapeGuard.Grid(input, LayerName, Dim, height: null, width: null, q_proj.weight!);";

    public override (int Tensors, string Constants)? Kernel => (4, "causal: Causal");

    public override string? DecodingState(MixerSpec spec) => spec.Causal && !spec.Grid ? "AftLocalDecodingState" : null;

    public override string DecodingStateArguments => "Dim, Window";

    public override string DecodingCost =>
        "the last Window − 1 keys and values and running sums of the older ones (AFT-local with the shared kernel), " +
        "O(Window·Dim) per step";

    public override IEnumerable<string> StepMix(string projected) =>
    [
        $"{Tensor} kernel = global::AftDsl.Kernels.AftConv.Reparameterise(pos_w, pos_gamma, pos_beta);",
        $"{Tensor} mixed = global::AftDsl.Decoding.AftStep.Conv({projected}, kernel, state, active);",
    ];

    public override IEnumerable<string> DeclarationArguments(MixerSpec spec) => [$"heads: {Literal(spec.Heads)}", $"window: {Literal(spec.Window)}"];

    public override IEnumerable<string> DeclarationOptions(MixerSpec spec)
    {
        if (!spec.Grid) yield return "Layout = AftConvLayout.Sequence";
        if (spec.GridHeight > 0) yield return $"GridHeight = {Literal(spec.GridHeight)}, GridWidth = {Literal(spec.GridWidth)}";
    }
}
