using AftDsl.Generators.Model;
using static AftDsl.Generators.Emit.SourceWriter;

namespace AftDsl.Generators.Emit;

/// <summary>
/// Writes the generated part of a mixer class: constants for the IDE, parameters initialised as the
/// paper prescribes, a shape-guarded forward, and the layer's own autograd function, which calls the
/// runtime kernel with the layer's constants.
/// </summary>
internal static class MixerEmitter
{
    const string Tensor = "global::TorchSharp.torch.Tensor";
    const string Linear = "global::TorchSharp.Modules.Linear";
    const string Parameter = "global::TorchSharp.Modules.Parameter";
    const string Function = "global::TorchSharp.torch.autograd.SingleTensorFunction";
    const string Context = "global::TorchSharp.torch.autograd.AutogradContext";

    /// <param name="guards">False when the project sets AftDslRuntimeGuards=false: forward then checks nothing.</param>
    public static string Emit(MixerSpec spec, bool guards = true) => TargetTypeEmitter.Emit(spec.Target, writer => Class(writer, spec, guards));

    static void Class(SourceWriter w, MixerSpec spec, bool guards)
    {
        var dim = spec.Dim is { } d ? Literal(d) : "Dim";
        w.Line("/// <summary>");
        w.Line($"/// {Summary(spec)}; declared as <c>{Declaration(spec)}</c>.");
        w.Line($"/// Input <c>{InputShape(spec, dim)}</c>; output <c>{OutputShape(spec, dim)}</c>.");
        w.Line("/// </summary>");
        w.Line("/// <remarks>");
        foreach (var line in StateDictRemarks(spec))
            w.Line("/// " + line);
        w.Line("/// </remarks>");
        w.GeneratedCodeAttribute();
        using (w.Block($"partial class {spec.Target.Identifier} : global::TorchSharp.torch.nn.Module<{Tensor}, {Tensor}>"))
        {
            Constants(w, spec, dim);
            w.Line();
            foreach (var (type, name) in Fields(spec))
                w.Line($"private readonly {type} {name};");
            w.Line();
            Constructor(w, spec);
            w.Line();
            Forward(w, spec, dim, guards);
            if (spec.Kind != MixerKind.Attention)
            {
                w.Line();
                MixingFunction(w, spec);
            }
        }
    }

    static string Summary(MixerSpec spec)
    {
        var mode = spec.Causal ? "causal: position t sees positions ≤ t only" : "non-causal: every position sees the whole input";
        return spec.Kind switch
        {
            MixerKind.Full => $"AFT-full token mixer (Zhai et al., 2021, Eq. 2), {mode}",
            MixerKind.Local => $"AFT-local token mixer (Zhai et al., 2021, Eq. 4), position biases within |t − t'| &lt; {Literal(spec.Window)}, {mode}",
            MixerKind.Simple => $"AFT-simple token mixer (Zhai et al., 2021, Eq. 5), O(T·d), {mode}",
            MixerKind.Attention => $"Multi-head attention mixer (scaled dot-product attention), {Literal(spec.Heads)} heads, {mode}; the baseline AFT is compared with",
            _ => $"AFT-conv token mixer (Zhai et al., 2021, Eq. 6), {Literal(spec.Heads)} heads, {(spec.Grid ? $"{Literal(spec.Window)}×{Literal(spec.Window)} kernel over a 2-d grid" : $"{Literal(spec.Window)}-tap kernel over a sequence")}, {mode}",
        };
    }

    static string InputShape(MixerSpec spec, string dim) => spec.Kind switch
    {
        MixerKind.Full or MixerKind.Local => $"[B, T, {dim}] with 1 ≤ T ≤ {Literal(spec.MaxLength)}",
        MixerKind.Conv when spec.Grid && spec.GridHeight > 0 => $"[B, {Literal(spec.GridHeight)}, {Literal(spec.GridWidth)}, {dim}]",
        MixerKind.Conv when spec.Grid => $"[B, H, W, {dim}] for any H, W",
        _ => $"[B, T, {dim}] for any T ≥ 1",
    };

    static string OutputShape(MixerSpec spec, string dim) => spec.Kind == MixerKind.Conv && spec.Grid
        ? spec.GridHeight > 0 ? $"[B, {Literal(spec.GridHeight)}, {Literal(spec.GridWidth)}, {dim}]" : $"[B, H, W, {dim}]"
        : $"[B, T, {dim}]";

    static IEnumerable<string> StateDictRemarks(MixerSpec spec)
    {
        if (spec.Kind == MixerKind.Attention)
        {
            yield return "State-dict names: <c>q_proj</c>, <c>k_proj</c>, <c>v_proj</c>, <c>out_proj</c> (Dim → Dim), each with <c>.weight</c> and <c>.bias</c>.";
            yield return "No position parameters: a model gives positions with <c>[PositionEmbedding]</c>.";
            yield break;
        }
        if (spec.Kind == MixerKind.Conv)
        {
            yield return "State-dict names: <c>q_proj</c>, <c>v_proj</c> (Dim → Dim), <c>k_proj</c> (Dim → Heads), <c>out_proj</c> (Dim → Dim),";
            yield return "each with <c>.weight</c> and <c>.bias</c>; <c>pos_w</c> (the raw kernel, N(0, 1)), <c>pos_gamma</c> and <c>pos_beta</c> ([Heads], 0),";
            yield return "reparameterised per head as w = γ·(w − mean)/(std + ε) + β, so a new layer is exactly AFT-simple.";
            yield break;
        }
        yield return "State-dict names: <c>q_proj</c>, <c>k_proj</c>, <c>v_proj</c> (Dim → HiddenDim), <c>out_proj</c> (HiddenDim → Dim),";
        if (!spec.HasFactorisedBias)
        {
            yield return "each with <c>.weight</c> and <c>.bias</c>. AFT-simple has no position parameters.";
            yield break;
        }
        yield return "each with <c>.weight</c> and <c>.bias</c>; <c>pos_u</c> and <c>pos_w</c> ([MaxLength, FactorRank]), the factors of the";
        yield return "position bias w = pos_u·pos_wᵀ, drawn from N(0, 0.1²).";
    }

    static void Constants(SourceWriter w, MixerSpec spec, string dim)
    {
        Constant(w, "How errors name this layer.", "string", "LayerName", $"\"{spec.LayerName}\"");
        Constant(w, "Symbolic shape that <see cref=\"forward\"/> accepts.", "string", "InputShape", $"\"{InputShape(spec, dim)}\"");
        Constant(w, "Symbolic shape that <see cref=\"forward\"/> returns.", "string", "OutputShape", $"\"{OutputShape(spec, dim)}\"");
        if (spec.HasFactorisedBias)
        {
            Constant(w, "Longest sequence length T that forward accepts.", "long", "MaxLength", Literal(spec.MaxLength));
            Constant(w, "Rank of the factorised position bias w = pos_u·pos_wᵀ.", "long", "FactorRank", Literal(spec.FactorRank));
        }
        if (spec.Kind == MixerKind.Local)
            Constant(w, "The window s = {value}: position biases apply where |t − t'| &lt; s, and are 0 elsewhere.", "long", "Window", Literal(spec.Window));
        if (spec.Kind == MixerKind.Attention)
            Constant(w, "{value}, each Dim / Heads wide.", "long", "Heads", Literal(spec.Heads), spec.Heads == 1 ? "attention head" : "attention heads");
        if (spec.Kind == MixerKind.Conv)
        {
            Constant(w, "{value}: K has one channel per head, and each head's kernel is shared by its Dim / Heads channels.", "long", "Heads",
                Literal(spec.Heads), spec.Heads == 1 ? "head" : "heads");
            Constant(w, spec.Grid ? "Kernel size s = {value}: the kernel is s × s." : "Kernel size s = {value} (taps).", "long", "Window", Literal(spec.Window));
        }
        Constant(w, spec.Kind == MixerKind.Conv && spec.Grid ? "{value}: a grid has no order of positions." : "True when position t sees positions ≤ t only.", "bool", "Causal", Literal(spec.Causal));

        var hidden = spec.HasHeads ? null : spec.HiddenDim;
        if (spec.Dim is { } d)
        {
            Constant(w, "Width of the input and output features.", "long", "Dim", Literal(d));
            if (!spec.HasHeads)
                Constant(w, "Width of Q, K and V.", "long", "HiddenDim", Literal(hidden ?? d));
            Constant(w, "Number of trainable parameters, as TorchSharp counts them.", "long", "ParameterCount", Literal(ParameterCounts.Mixer(spec, d)),
                ParameterCounts.Mixer(spec, d) == 1 ? "parameter" : "parameters");
            return;
        }
        w.Line("/// <summary>Width of the input and output features, given to the constructor.</summary>");
        w.Line("public long Dim { get; }");
        if (spec.HasHeads)
            return;
        if (hidden is { } h)
            Constant(w, "Width of Q, K and V.", "long", "HiddenDim", Literal(h));
        else
        {
            w.Line("/// <summary>Width of Q, K and V: the same as <see cref=\"Dim\"/>.</summary>");
            w.Line("public long HiddenDim => Dim;");
        }
    }

    static void Constant(SourceWriter w, string summary, string type, string name, string value, string? unit = null) =>
        w.Constant(summary, type, name, value, unit);

    static IEnumerable<(string Type, string Name)> Fields(MixerSpec spec)
    {
        yield return (Linear, "q_proj");
        yield return (Linear, "k_proj");
        yield return (Linear, "v_proj");
        yield return (Linear, "out_proj");
        if (spec.HasFactorisedBias)
        {
            yield return (Parameter, "pos_u");
            yield return (Parameter, "pos_w");
        }
        if (spec.Kind == MixerKind.Conv)
        {
            yield return (Parameter, "pos_w");
            yield return (Parameter, "pos_gamma");
            yield return (Parameter, "pos_beta");
        }
    }

    static void Constructor(SourceWriter w, MixerSpec spec)
    {
        var name = spec.Target.Identifier;
        var initialisation = spec.Kind switch
        {
            MixerKind.Conv => "kernel γ = β = 0 (so the layer starts as AFT-simple)",
            MixerKind.Simple or MixerKind.Attention => "no position parameters",
            _ => "position-bias factors N(0, 0.1²)",
        };
        w.Line($"/// <summary>Creates the layer; projections use TorchSharp's default initialisation, {initialisation}.</summary>");
        if (spec.Dim is null)
        {
            var constraint = spec.HasHeads ? $"; must be positive and divisible by {Literal(spec.Heads)} (Heads)" : "; must be positive";
            w.Line($"/// <param name=\"dim\">Width of the input and output features{constraint}.</param>");
        }
        using (w.Block(spec.Dim is null ? $"public {name}(long dim) : base(nameof({name}))" : $"public {name}() : base(nameof({name}))"))
        {
            if (spec.Dim is null)
                w.Line(spec.HasHeads
                    ? "Dim = global::AftDsl.ShapeGuard.DivisibleByHeads(dim, Heads, LayerName);"
                    : "Dim = global::AftDsl.ShapeGuard.Positive(dim, nameof(dim), LayerName);");
            var (inner, keys) = spec.Kind switch
            {
                MixerKind.Conv => ("Dim", "Heads"),
                MixerKind.Attention => ("Dim", "Dim"),
                _ => ("HiddenDim", "HiddenDim"),
            };
            w.Line($"q_proj = global::TorchSharp.torch.nn.Linear(Dim, {inner});");
            w.Line($"k_proj = global::TorchSharp.torch.nn.Linear(Dim, {keys});");
            w.Line($"v_proj = global::TorchSharp.torch.nn.Linear(Dim, {inner});");
            w.Line($"out_proj = global::TorchSharp.torch.nn.Linear({inner}, Dim);");
            if (spec.HasFactorisedBias)
                w.Line("(pos_u, pos_w) = global::AftDsl.Initialization.PositionBiasInit.Factorised(MaxLength, FactorRank);");
            if (spec.Kind == MixerKind.Conv)
                w.Line($"(pos_w, pos_gamma, pos_beta) = global::AftDsl.Initialization.ConvBiasInit.Create(Heads, Window, grid: {Literal(spec.Grid)});");
            w.Line("RegisterComponents();");
        }
    }

    static void Forward(SourceWriter w, MixerSpec spec, string dim, bool guards)
    {
        var input = InputShape(spec, dim);
        w.Line($"/// <summary>Mixes the input: <c>{input}</c> → <c>{OutputShape(spec, dim)}</c>.</summary>");
        if (guards)
            w.Line($"/// <exception cref=\"global::AftDsl.AftShapeException\">The input is not <c>{input}</c>, or its dtype or device differs from the layer's.</exception>");
        using (w.Block($"public override {Tensor} forward({Tensor} input)"))
        {
            if (guards)
                w.Line(Guard(spec));
            // Explicit types, not var: a user type named 'var' in scope would change what var means.
            w.Line("using global::TorchSharp.DisposeScope scope = global::TorchSharp.torch.NewDisposeScope();");
            var projected = "q_proj.forward(input), k_proj.forward(input), v_proj.forward(input)";
            switch (spec.Kind)
            {
                case MixerKind.Full or MixerKind.Local:
                    w.Line($"{Tensor} mixed = MixingFunction.apply({projected}, pos_u, pos_w);");
                    break;
                case MixerKind.Simple:
                    w.Line($"{Tensor} mixed = MixingFunction.apply({projected});");
                    break;
                case MixerKind.Attention:
                    w.Line($"{Tensor} mixed = global::AftDsl.Kernels.MultiHeadAttention.Apply({projected}, Heads, Causal);");
                    break;
                default:
                    w.Line($"{Tensor} kernel = global::AftDsl.Kernels.AftConv.Reparameterise(pos_w, pos_gamma, pos_beta);");
                    w.Line($"{Tensor} mixed = MixingFunction.apply({projected}, kernel);");
                    break;
            }
            w.Line("return out_proj.forward(mixed).MoveToOuterDisposeScope();");
        }
    }

    static string Guard(MixerSpec spec) => spec.Kind switch
    {
        MixerKind.Full or MixerKind.Local => "global::AftDsl.ShapeGuard.Sequence(input, LayerName, Dim, MaxLength, q_proj.weight!);",
        MixerKind.Conv when spec.Grid && spec.GridHeight > 0 => $"global::AftDsl.ShapeGuard.Grid(input, LayerName, Dim, height: {Literal(spec.GridHeight)}, width: {Literal(spec.GridWidth)}, q_proj.weight!);",
        MixerKind.Conv when spec.Grid => "global::AftDsl.ShapeGuard.Grid(input, LayerName, Dim, height: null, width: null, q_proj.weight!);",
        _ => "global::AftDsl.ShapeGuard.Sequence(input, LayerName, Dim, q_proj.weight!);",
    };

    static void MixingFunction(SourceWriter w, MixerSpec spec)
    {
        var kernel = $"global::AftDsl.Kernels.Aft{spec.Kind}Kernel";
        var (tensors, constants) = spec.Kind switch
        {
            MixerKind.Full => (5, "causal: Causal"),
            MixerKind.Local => (5, "window: Window, causal: Causal"),
            MixerKind.Simple => (3, "causal: Causal"),
            _ => (4, "causal: Causal"),
        };
        var arguments = string.Join(", ", Enumerable.Range(0, tensors).Select(i => $"({Tensor})vars[{Literal(i)}]"));
        w.Line($"/// <summary>This layer's mixing as one autograd node with a hand-written backward, specialised with its constants; the mathematics lives in <see cref=\"{kernel}\"/>.</summary>");
        using (w.Block($"private sealed class MixingFunction : {Function}<MixingFunction>"))
        {
            w.Line($"public override string Name => \"{spec.Target.Name}.MixingFunction\";");
            w.Line();
            w.Line($"public override {Tensor} forward({Context} ctx, params object[] vars) =>");
            w.Line($"    {kernel}.Forward(ctx, {arguments}, {constants});");
            w.Line();
            w.Line($"public override global::System.Collections.Generic.List<{Tensor}> backward({Context} ctx, {Tensor} grad_output) =>");
            w.Line($"    {kernel}.Backward(ctx, grad_output);");
        }
    }

    /// <summary>The attribute as a user would write it, with every option that differs from its default.</summary>
    static string Declaration(MixerSpec spec)
    {
        var parts = new List<string>();
        switch (spec.Kind)
        {
            case MixerKind.Full:
                parts.Add($"maxLength: {Literal(spec.MaxLength)}");
                break;
            case MixerKind.Local:
                parts.Add($"maxLength: {Literal(spec.MaxLength)}");
                parts.Add($"window: {Literal(spec.Window)}");
                break;
            case MixerKind.Conv:
                parts.Add($"heads: {Literal(spec.Heads)}");
                parts.Add($"window: {Literal(spec.Window)}");
                break;
            case MixerKind.Attention:
                parts.Add($"heads: {Literal(spec.Heads)}");
                break;
        }
        if (spec.Dim is { } d) parts.Add($"Dim = {Literal(d)}");
        if (spec.HiddenDim is { } h) parts.Add($"HiddenDim = {Literal(h)}");
        if (spec.HasFactorisedBias && spec.FactorRank != 128) parts.Add($"FactorRank = {Literal(spec.FactorRank)}");
        if (spec.Kind == MixerKind.Conv && !spec.Grid) parts.Add("Layout = AftConvLayout.Sequence");
        if (spec.GridHeight > 0) parts.Add($"GridHeight = {Literal(spec.GridHeight)}, GridWidth = {Literal(spec.GridWidth)}");
        if (spec.Causal) parts.Add("Causal = true");
        return $"[{spec.AttributeName}({string.Join(", ", parts)})]";
    }
}
