using AftDsl.Generators.Model;
using static AftDsl.Generators.Emit.SourceWriter;

namespace AftDsl.Generators.Emit.Mixers;

/// <summary>
/// AFT-conv (Eq. 6): a depthwise kernel per head, over a sequence or a 2-d grid; reparameterised (Eq. 8) or the
/// parameter itself, with global connectivity (the paper's) or the window only. The defaults write what they always wrote.
/// </summary>
internal sealed class ConvMixer : MixerDescriptor
{
    public static readonly ConvMixer Instance = new();

    public override string Summary(MixerSpec spec, string mode)
    {
        var kernel = spec.Grid ? $"{Literal(spec.Window)}×{Literal(spec.Window)} kernel over a 2-d grid" : $"{Literal(spec.Window)}-tap kernel over a sequence";
        var options = (spec.Reparameterise ? "" : ", the kernel trained directly (no reparameterisation)")
            + (spec.WindowConnectivity ? ", each position mixing its window only" : "");
        if (spec.WindowConnectivity && !spec.Causal)
            mode = "non-causal: the window reaches both sides of a position";
        return $"AFT-conv token mixer (Zhai et al., 2021, Eq. 6), {Literal(spec.Heads)} heads, {kernel}{options}, {mode}";
    }

    public override string InputShape(MixerSpec spec, string dim) =>
        !spec.Grid ? base.InputShape(spec, dim)
        : spec.GridHeight > 0 ? $"[B, {Literal(spec.GridHeight)}, {Literal(spec.GridWidth)}, {dim}]"
        : $"[B, H, W, {dim}] for any H, W";

    public override string OutputShape(MixerSpec spec, string dim) =>
        !spec.Grid ? base.OutputShape(spec, dim)
        : spec.GridHeight > 0 ? $"[B, {Literal(spec.GridHeight)}, {Literal(spec.GridWidth)}, {dim}]"
        : $"[B, H, W, {dim}]";

    public override IEnumerable<string> StateDictRemarks(MixerSpec spec)
    {
        yield return "State-dict names: <c>q_proj</c>, <c>v_proj</c> (Dim → Dim), <c>k_proj</c> (Dim → Heads), <c>out_proj</c> (Dim → Dim),";
        // w starts at 0: AFT-simple, over the whole input or (window connectivity) over each position's window.
        var newLayer = spec.WindowConnectivity ? "AFT-simple over each position's window" : "exactly AFT-simple";
        if (spec.Reparameterise)
        {
            yield return "each with <c>.weight</c> and <c>.bias</c>; <c>pos_w</c> (the raw kernel, N(0, 1)), <c>pos_gamma</c> and <c>pos_beta</c> ([Heads], 0),";
            yield return $"reparameterised per head as w = γ·(w − mean)/(std + ε) + β, so a new layer is {newLayer}.";
        }
        else
        {
            yield return $"each with <c>.weight</c> and <c>.bias</c>; <c>pos_w</c>, the kernel w itself (0 at first, so a new layer is {newLayer}),";
            yield return "with no reparameterisation and no γ or β.";
        }
        if (spec.WindowConnectivity)
            yield return "Window connectivity: w = −∞ outside the kernel window, so each position mixes the sources inside its window only.";
    }

    public override void KindConstants(SourceWriter w, MixerSpec spec)
    {
        w.Constant("{value}: K has one channel per head, and each head's kernel is shared by its Dim / Heads channels.", "long", "Heads",
            Literal(spec.Heads), spec.Heads == 1 ? "head" : "heads");
        w.Constant(spec.Grid ? "Kernel size s = {value}: the kernel is s × s." : "Kernel size s = {value} (taps).", "long", "Window", Literal(spec.Window));
    }

    public override string CausalSummary(MixerSpec spec) => spec.Grid ? "{value}: a grid has no order of positions." : base.CausalSummary(spec);

    public override IEnumerable<(string Type, string Name)> PositionFields(MixerSpec spec) =>
        spec.Reparameterise ? [(Parameter, "pos_w"), (Parameter, "pos_gamma"), (Parameter, "pos_beta")] : [(Parameter, "pos_w")];

    public override string Initialisation(MixerSpec spec) =>
        spec.Reparameterise ? "kernel γ = β = 0 (so the layer starts as AFT-simple)" : "kernel w = 0 (so the layer starts as AFT-simple)";

    public override (string Inner, string Keys) Projections => ("Dim", "Heads");

    public override string? PositionInitialisation(MixerSpec spec) => spec.Reparameterise
        ? $"(pos_w, pos_gamma, pos_beta) = global::AftDsl.Initialization.ConvBiasInit.Create(Heads, Window, grid: {Literal(spec.Grid)});"
        : $"pos_w = global::AftDsl.Initialization.ConvBiasInit.CreateRaw(Heads, Window, grid: {Literal(spec.Grid)});";

    public override IEnumerable<string> Mix(MixerSpec spec, string projected) => spec.Reparameterise
        ? [KernelStatement, $"{Tensor} mixed = MixingFunction.apply({projected}, kernel);"]
        : [$"{Tensor} mixed = MixingFunction.apply({projected}, pos_w);"];

    const string KernelStatement = $"{Tensor} kernel = global::AftDsl.Kernels.AftConv.Reparameterise(pos_w, pos_gamma, pos_beta);";

    const string WindowConnectivity = "global::AftDsl.AftConvConnectivity.Window";

    public override string Guard(MixerSpec spec) =>
        !spec.Grid ? base.Guard(spec)
        : spec.GridHeight > 0
            ? $"global::AftDsl.ShapeGuard.Grid(input, LayerName, Dim, height: {Literal(spec.GridHeight)}, width: {Literal(spec.GridWidth)}, q_proj.weight!);"
            : "global::AftDsl.ShapeGuard.Grid(input, LayerName, Dim, height: null, width: null, q_proj.weight!);";

    public override (int Tensors, string Constants)? Kernel(MixerSpec spec) =>
        (4, spec.WindowConnectivity ? $"causal: Causal, connectivity: {WindowConnectivity}" : "causal: Causal");

    public override string? DecodingState(MixerSpec spec) => spec.Causal && !spec.Grid ? "AftLocalDecodingState" : null;

    public override string DecodingStateArguments => "Dim, Window";

    public override string DecodingCost(MixerSpec spec) => spec.WindowConnectivity
        ? "the last Window − 1 keys and values (AFT-local with the shared kernel; older positions do not count), O(Window·Dim) per step"
        : "the last Window − 1 keys and values and running sums of the older ones (AFT-local with the shared kernel), " +
          "O(Window·Dim) per step";

    public override IEnumerable<string> StepMix(MixerSpec spec, string projected)
    {
        if (spec.Reparameterise)
            yield return KernelStatement;
        var kernel = spec.Reparameterise ? "kernel" : "pos_w";
        var connectivity = spec.WindowConnectivity ? ", " + WindowConnectivity : "";
        yield return $"{Tensor} mixed = global::AftDsl.Decoding.AftStep.Conv({projected}, {kernel}, state, active{connectivity});";
    }

    public override IEnumerable<string> DeclarationArguments(MixerSpec spec) => [$"heads: {Literal(spec.Heads)}", $"window: {Literal(spec.Window)}"];

    public override IEnumerable<string> DeclarationOptions(MixerSpec spec)
    {
        if (!spec.Grid) yield return "Layout = AftConvLayout.Sequence";
        if (spec.GridHeight > 0) yield return $"GridHeight = {Literal(spec.GridHeight)}, GridWidth = {Literal(spec.GridWidth)}";
        if (!spec.Reparameterise) yield return "Reparameterise = false";
        if (spec.WindowConnectivity) yield return "Connectivity = AftConvConnectivity.Window";
    }
}
