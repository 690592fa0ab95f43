using AftDsl.Generators.Model;
using static AftDsl.Generators.Emit.SourceWriter;

namespace AftDsl.Generators.Emit;

/// <summary>Writes the generated part of an <c>[AftFull]</c> class.</summary>
internal static class AftFullEmitter
{
    const string Tensor = "global::TorchSharp.torch.Tensor";
    const string Linear = "global::TorchSharp.Modules.Linear";
    const string Parameter = "global::TorchSharp.Modules.Parameter";
    const string Function = "global::TorchSharp.torch.autograd.SingleTensorFunction";
    const string Context = "global::TorchSharp.torch.autograd.AutogradContext";

    public static string Emit(AftFullSpec spec) => TargetTypeEmitter.Emit(spec.Target, writer => Class(writer, spec));

    static void Class(SourceWriter w, AftFullSpec spec)
    {
        var name = spec.Target.Name;
        var dim = spec.Dim is { } d ? Literal(d) : "Dim";
        var mode = spec.Causal ? "causal: position t sees positions ≤ t only" : "non-causal: every position sees the whole sequence";
        w.Line("/// <summary>");
        w.Line($"/// AFT-full token mixer (Zhai et al., 2021, Eq. 2), {mode}; declared as <c>{Declaration(spec)}</c>.");
        w.Line($"/// Input <c>[B, T, {dim}]</c> with 1 ≤ T ≤ {Literal(spec.MaxLength)}; output <c>[B, T, {dim}]</c>.");
        w.Line("/// </summary>");
        w.Line("/// <remarks>");
        w.Line("/// State-dict names: <c>q_proj</c>, <c>k_proj</c>, <c>v_proj</c> (Dim → HiddenDim), <c>out_proj</c> (HiddenDim → Dim),");
        w.Line("/// each with <c>.weight</c> and <c>.bias</c>; <c>pos_u</c> and <c>pos_w</c> ([MaxLength, FactorRank]), the factors of the");
        w.Line("/// position bias w = pos_u·pos_wᵀ, drawn from N(0, 0.1²).");
        w.Line("/// </remarks>");
        w.Line("[global::System.CodeDom.Compiler.GeneratedCode(\"AftDsl.Generators\", \"0.1.0\")]");
        using (w.Block($"partial class {name} : global::TorchSharp.torch.nn.Module<{Tensor}, {Tensor}>"))
        {
            Constants(w, spec, dim);
            w.Line();
            w.Line("private readonly " + Linear + " q_proj;");
            w.Line("private readonly " + Linear + " k_proj;");
            w.Line("private readonly " + Linear + " v_proj;");
            w.Line("private readonly " + Linear + " out_proj;");
            w.Line("private readonly " + Parameter + " pos_u;");
            w.Line("private readonly " + Parameter + " pos_w;");
            w.Line();
            Constructor(w, spec);
            w.Line();
            Forward(w, dim);
            w.Line();
            MixingFunction(w, spec);
        }
    }

    static void Constants(SourceWriter w, AftFullSpec spec, string dim)
    {
        w.Line($"/// <summary>How errors name this layer.</summary>");
        w.Line($"public const string LayerName = \"{spec.LayerName}\";");
        w.Line($"/// <summary>Symbolic shape that <see cref=\"forward\"/> accepts.</summary>");
        w.Line($"public const string InputShape = \"[B, T, {dim}] with 1 ≤ T ≤ {Literal(spec.MaxLength)}\";");
        w.Line($"/// <summary>Symbolic shape that <see cref=\"forward\"/> returns.</summary>");
        w.Line($"public const string OutputShape = \"[B, T, {dim}]\";");
        w.Line("/// <summary>Longest sequence length T that forward accepts.</summary>");
        w.Line($"public const long MaxLength = {Literal(spec.MaxLength)};");
        w.Line("/// <summary>Rank of the factorised position bias w = pos_u·pos_wᵀ.</summary>");
        w.Line($"public const long FactorRank = {Literal(spec.FactorRank)};");
        w.Line("/// <summary>True when position t sees positions ≤ t only.</summary>");
        w.Line($"public const bool Causal = {Literal(spec.Causal)};");
        if (spec.Dim is { } d)
        {
            var hidden = spec.HiddenDim ?? d;
            w.Line("/// <summary>Width of the input and output features.</summary>");
            w.Line($"public const long Dim = {Literal(d)};");
            w.Line("/// <summary>Width of Q, K and V.</summary>");
            w.Line($"public const long HiddenDim = {Literal(hidden)};");
            w.Line("/// <summary>Number of trainable parameters (projections with biases, and both bias factors).</summary>");
            w.Line($"public const long ParameterCount = {Literal(ParameterCount(d, hidden, spec.MaxLength, spec.FactorRank))};");
        }
        else
        {
            w.Line("/// <summary>Width of the input and output features, given to the constructor.</summary>");
            w.Line("public long Dim { get; }");
            if (spec.HiddenDim is { } hidden)
            {
                w.Line("/// <summary>Width of Q, K and V.</summary>");
                w.Line($"public const long HiddenDim = {Literal(hidden)};");
            }
            else
            {
                w.Line("/// <summary>Width of Q, K and V: the same as <see cref=\"Dim\"/>.</summary>");
                w.Line("public long HiddenDim => Dim;");
            }
        }
    }

    static void Constructor(SourceWriter w, AftFullSpec spec)
    {
        var name = spec.Target.Name;
        w.Line("/// <summary>Creates the layer; projections use TorchSharp's default initialisation, position-bias factors N(0, 0.1²).</summary>");
        if (spec.Dim is null)
            w.Line("/// <param name=\"dim\">Width of the input and output features; must be positive.</param>");
        using (w.Block(spec.Dim is null ? $"public {name}(long dim) : base(nameof({name}))" : $"public {name}() : base(nameof({name}))"))
        {
            if (spec.Dim is null)
                w.Line("Dim = global::AftDsl.ShapeGuard.Positive(dim, nameof(dim), LayerName);");
            w.Line("q_proj = global::TorchSharp.torch.nn.Linear(Dim, HiddenDim);");
            w.Line("k_proj = global::TorchSharp.torch.nn.Linear(Dim, HiddenDim);");
            w.Line("v_proj = global::TorchSharp.torch.nn.Linear(Dim, HiddenDim);");
            w.Line("out_proj = global::TorchSharp.torch.nn.Linear(HiddenDim, Dim);");
            w.Line("(pos_u, pos_w) = global::AftDsl.Initialization.PositionBiasInit.Factorised(MaxLength, FactorRank);");
            w.Line("RegisterComponents();");
        }
    }

    static void Forward(SourceWriter w, string dim)
    {
        w.Line($"/// <summary>Mixes the sequence: <c>[B, T, {dim}]</c> → <c>[B, T, {dim}]</c>.</summary>");
        w.Line($"/// <exception cref=\"global::AftDsl.AftShapeException\">The input is not <c>[B, T, {dim}]</c> with 1 ≤ T ≤ MaxLength, or its dtype or device differs from the layer's.</exception>");
        using (w.Block($"public override {Tensor} forward({Tensor} input)"))
        {
            w.Line("global::AftDsl.ShapeGuard.Sequence(input, LayerName, Dim, MaxLength, pos_u);");
            w.Line("using var scope = global::TorchSharp.torch.NewDisposeScope();");
            w.Line("var mixed = MixingFunction.apply(q_proj.forward(input), k_proj.forward(input), v_proj.forward(input), pos_u, pos_w);");
            w.Line("return out_proj.forward(mixed).MoveToOuterDisposeScope();");
        }
    }

    static void MixingFunction(SourceWriter w, AftFullSpec spec)
    {
        w.Line($"/// <summary>This layer's AFT-full mixing as one autograd node with a hand-written backward, specialised with Causal = {Literal(spec.Causal)}; the mathematics lives in <see cref=\"global::AftDsl.Kernels.AftFullKernel\"/>.</summary>");
        using (w.Block($"private sealed class MixingFunction : {Function}<MixingFunction>"))
        {
            w.Line($"public override string Name => \"{spec.Target.Name}.MixingFunction\";");
            w.Line();
            w.Line($"public override {Tensor} forward({Context} ctx, params object[] vars) =>");
            w.Line($"    global::AftDsl.Kernels.AftFullKernel.Forward(ctx, ({Tensor})vars[0], ({Tensor})vars[1], ({Tensor})vars[2], ({Tensor})vars[3], ({Tensor})vars[4], causal: Causal);");
            w.Line();
            w.Line($"public override global::System.Collections.Generic.List<{Tensor}> backward({Context} ctx, {Tensor} grad_output) =>");
            w.Line("    global::AftDsl.Kernels.AftFullKernel.Backward(ctx, grad_output);");
        }
    }

    /// <summary>The attribute as a user would write it, with every option that differs from its default.</summary>
    static string Declaration(AftFullSpec spec)
    {
        var parts = new List<string> { $"maxLength: {Literal(spec.MaxLength)}" };
        if (spec.Dim is { } d) parts.Add($"Dim = {Literal(d)}");
        if (spec.HiddenDim is { } h) parts.Add($"HiddenDim = {Literal(h)}");
        if (spec.FactorRank != 128) parts.Add($"FactorRank = {Literal(spec.FactorRank)}");
        if (spec.Causal) parts.Add("Causal = true");
        return $"[AftFull({string.Join(", ", parts)})]";
    }

    // q, k, v: Dim·HiddenDim weights + HiddenDim biases each; out: HiddenDim·Dim + Dim; U and W: MaxLength·FactorRank each.
    static long ParameterCount(long dim, long hidden, long maxLength, long rank) =>
        3 * (dim * hidden + hidden) + hidden * dim + dim + 2 * maxLength * rank;
}
