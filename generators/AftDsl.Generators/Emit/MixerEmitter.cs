using AftDsl.Generators.Emit.Mixers;
using AftDsl.Generators.Model;
using static AftDsl.Generators.Emit.SourceWriter;

namespace AftDsl.Generators.Emit;

/// <summary>
/// Writes the generated part of a mixer class: constants for the IDE, parameters initialised as the
/// paper prescribes, a shape-guarded forward, and the layer's own autograd function, which calls the
/// runtime kernel with the layer's constants. What differs between the mixer kinds comes from their
/// <see cref="MixerDescriptor"/>.
/// </summary>
internal static class MixerEmitter
{
    const string Tensor = "global::TorchSharp.torch.Tensor";
    const string Linear = "global::TorchSharp.Modules.Linear";
    const string Function = "global::TorchSharp.torch.autograd.SingleTensorFunction";
    const string Context = "global::TorchSharp.torch.autograd.AutogradContext";
    const string DecodingNamespace = "global::AftDsl.Decoding.";

    /// <param name="guards">False when the project sets AftDslRuntimeGuards=false: forward then checks nothing.</param>
    public static string Emit(MixerSpec spec, bool guards = true) => TargetTypeEmitter.Emit(spec.Target, writer => Class(writer, spec, guards));

    static void Class(SourceWriter w, MixerSpec spec, bool guards)
    {
        var dim = spec.Dim is { } d ? Literal(d) : "Dim";
        w.Line("/// <summary>");
        w.Line($"/// {Summary(spec)}; declared as <c>{Declaration(spec)}</c>.");
        w.Line($"/// Input <c>{Kind(spec).InputShape(spec, dim)}</c>; output <c>{Kind(spec).OutputShape(spec, dim)}</c>.");
        w.Line("/// </summary>");
        w.Line("/// <remarks>");
        foreach (var line in Kind(spec).StateDictRemarks(spec))
            w.Line("/// " + line);
        w.Line("/// </remarks>");
        w.GeneratedCodeAttribute();
        var decodes = spec.Decodes;
        var interfaces = decodes ? ", " + DecodingNamespace + "IDecodingMixer" : "";
        using (w.Block($"partial class {spec.Target.Identifier} : global::TorchSharp.torch.nn.Module<{Tensor}, {Tensor}>{interfaces}"))
        {
            Constants(w, spec, dim);
            w.Line();
            foreach (var (type, name) in Fields(spec))
                w.Line($"private readonly {type} {name};");
            w.Line();
            Constructor(w, spec);
            w.Line();
            Forward(w, spec, dim, guards);
            if (decodes)
            {
                w.Line();
                DecodingEmitter.Mixer(w, spec, Kind(spec), guards);
            }
            if (Kind(spec).Kernel(spec) is not null)
            {
                w.Line();
                MixingFunction(w, spec);
            }
        }
    }

    static string Summary(MixerSpec spec) =>
        Kind(spec).Summary(spec, spec.Causal ? "causal: position t sees positions ≤ t only" : "non-causal: every position sees the whole input");

    static MixerDescriptor Kind(MixerSpec spec) => MixerDescriptor.For(spec.Kind);

    static void Constants(SourceWriter w, MixerSpec spec, string dim)
    {
        w.Constant("How errors name this layer.", "string", "LayerName", $"\"{spec.LayerName}\"");
        w.Constant("Symbolic shape that <see cref=\"forward\"/> accepts.", "string", "InputShape", $"\"{Kind(spec).InputShape(spec, dim)}\"");
        w.Constant("Symbolic shape that <see cref=\"forward\"/> returns.", "string", "OutputShape", $"\"{Kind(spec).OutputShape(spec, dim)}\"");
        Kind(spec).KindConstants(w, spec);
        w.Constant(Kind(spec).CausalSummary(spec), "bool", "Causal", Literal(spec.Causal));

        var hidden = spec.HasHeads ? null : spec.HiddenDim;
        if (spec.Dim is { } d)
        {
            w.Constant("Width of the input and output features.", "long", "Dim", Literal(d));
            if (!spec.HasHeads)
                w.Constant("Width of Q, K and V.", "long", "HiddenDim", Literal(hidden ?? d));
            w.Constant("Number of trainable parameters, as TorchSharp counts them.", "long", "ParameterCount", Literal(ParameterCounts.Mixer(spec, d)),
                ParameterCounts.Mixer(spec, d) == 1 ? "parameter" : "parameters");
            return;
        }
        w.Line("/// <summary>Width of the input and output features, given to the constructor.</summary>");
        w.Line("public long Dim { get; }");
        if (spec.HasHeads)
            return;
        if (hidden is { } h)
            w.Constant("Width of Q, K and V.", "long", "HiddenDim", Literal(h));
        else
        {
            w.Line("/// <summary>Width of Q, K and V: the same as <see cref=\"Dim\"/>.</summary>");
            w.Line("public long HiddenDim => Dim;");
        }
    }

    static IEnumerable<(string Type, string Name)> Fields(MixerSpec spec) =>
        [(Linear, "q_proj"), (Linear, "k_proj"), (Linear, "v_proj"), (Linear, "out_proj"), .. Kind(spec).PositionFields(spec)];

    static void Constructor(SourceWriter w, MixerSpec spec)
    {
        var name = spec.Target.Identifier;
        w.Line($"/// <summary>Creates the layer; projections use TorchSharp's default initialisation, {Kind(spec).Initialisation(spec)}.</summary>");
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
            var (inner, keys) = Kind(spec).Projections;
            w.Line($"q_proj = global::TorchSharp.torch.nn.Linear(Dim, {inner});");
            w.Line($"k_proj = global::TorchSharp.torch.nn.Linear(Dim, {keys});");
            w.Line($"v_proj = global::TorchSharp.torch.nn.Linear(Dim, {inner});");
            w.Line($"out_proj = global::TorchSharp.torch.nn.Linear({inner}, Dim);");
            if (Kind(spec).PositionInitialisation(spec) is { } positions)
                w.Line(positions);
            w.Line("RegisterComponents();");
        }
    }

    static void Forward(SourceWriter w, MixerSpec spec, string dim, bool guards)
    {
        var input = Kind(spec).InputShape(spec, dim);
        w.Line($"/// <summary>Mixes the input: <c>{input}</c> → <c>{Kind(spec).OutputShape(spec, dim)}</c>.</summary>");
        if (guards)
            w.Line($"/// <exception cref=\"global::AftDsl.AftShapeException\">The input is not <c>{input}</c>, or its dtype or device differs from the layer's.</exception>");
        using (w.Block($"public override {Tensor} forward({Tensor} input)"))
        {
            if (guards)
                w.Line(Kind(spec).Guard(spec));
            // Explicit types, not var: a user type named 'var' in scope would change what var means.
            w.Line("using global::TorchSharp.DisposeScope scope = global::TorchSharp.torch.NewDisposeScope();");
            var projected = "q_proj.forward(input), k_proj.forward(input), v_proj.forward(input)";
            foreach (var statement in Kind(spec).Mix(spec, projected))
                w.Line(statement);
            w.Line("return out_proj.forward(mixed).MoveToOuterDisposeScope();");
        }
    }

    static void MixingFunction(SourceWriter w, MixerSpec spec)
    {
        var kernel = $"global::AftDsl.Kernels.Aft{spec.Kind}Kernel";
        var (tensors, constants) = Kind(spec).Kernel(spec)!.Value;
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
        var parts = Kind(spec).DeclarationArguments(spec).ToList();
        if (spec.Dim is { } d) parts.Add($"Dim = {Literal(d)}");
        if (spec.HiddenDim is { } h) parts.Add($"HiddenDim = {Literal(h)}");
        parts.AddRange(Kind(spec).DeclarationOptions(spec));
        if (spec.Causal) parts.Add("Causal = true");
        return $"[{spec.AttributeName}({string.Join(", ", parts)})]";
    }
}
