using AftDsl.Generators.Model;
using static AftDsl.Generators.Emit.SourceWriter;

namespace AftDsl.Generators.Emit;

/// <summary>
/// Writes the generated part of an <c>[AftModel]</c> class: constants (shapes, sizes, parameter counts per stage
/// and in total), the stages' backing fields under their state-dict names, the partial properties' bodies,
/// the constructor, and a forward that chains the stages behind an input guard.
/// </summary>
internal static class ModelEmitter
{
    const string Tensor = "global::TorchSharp.torch.Tensor";
    const string Nn = "global::TorchSharp.torch.nn";

    public static string Emit(ModelSpec spec, bool guards) => TargetTypeEmitter.Emit(spec.Target, writer => Class(writer, spec, guards));

    static void Class(SourceWriter w, ModelSpec spec, bool guards)
    {
        var name = spec.Target.Identifier;
        var dim = spec.Stages.Select(s => s.Dim).FirstOrDefault(d => d > 0);
        w.Line("/// <summary>");
        w.Line($"/// {(spec.Causal ? "Causal model" : "Model")} declared with AftDsl: input <c>{Escape(spec.InputShape)}</c>; output <c>{Escape(spec.OutputShape)}</c>.");
        w.Line("/// </summary>");
        w.Line("/// <remarks>");
        w.Line("/// Stages, in order, with the shape each takes and produces (state-dict prefix in parentheses):");
        w.Line("/// <list type=\"number\">");
        foreach (var stage in spec.Stages)
            w.Doc($"<item><c>{Escape(stage.Property)}</c> (<c>{Escape(stage.Field)}.</c>): <c>{Escape(stage.InputShape)}</c> → " +
                $"<c>{Escape(stage.OutputShape)}</c>; {Escape(Describe(stage))}; {Parameters(spec, stage)}.</item>");
        w.Line("/// </list>");
        w.Line("/// </remarks>");
        w.GeneratedCodeAttribute();
        var decodes = spec.Decodes;
        var interfaces = decodes ? ", global::AftDsl.Decoding.IDecodingModel" : "";
        using (w.Block($"partial class {name} : {Nn}.Module<{Tensor}, {Tensor}>{interfaces}"))
        {
            Constants(w, spec, dim);
            w.Line();
            foreach (var stage in spec.Stages)
                w.Line((stage.FieldIsProperty ? $"[global::TorchSharp.Utils.ComponentName(Name = \"{stage.Field}\")] " : "") +
                    $"private readonly {stage.PropertyType} {stage.Identifier};");
            w.Line();
            for (var i = 0; i < spec.Stages.Count; i++)
            {
                var stage = spec.Stages[i];
                if (i > 0)
                    w.Line();
                w.Summary($"Stage {i + 1} of {spec.Stages.Count}, {Escape(Describe(stage))}: <c>{Escape(stage.InputShape)}</c> → " +
                    $"<c>{Escape(stage.OutputShape)}</c>; {Parameters(spec, stage)}; state-dict prefix <c>{Escape(stage.Field)}.</c>.");
                w.Line($"{stage.Accessibility} partial {stage.PropertyType} {Identifiers.Escape(stage.Property)} {{ get => this.{stage.Identifier}; }}");
            }
            w.Line();
            w.Line("/// <summary>Creates the model; every stage initialises its parameters as its layer prescribes (deterministic under torch.manual_seed).</summary>");
            using (w.Block($"public {name}() : base(nameof({name}))"))
            {
                foreach (var stage in spec.Stages)
                    w.Line($"this.{stage.Identifier} = {Construction(stage, spec.Input)};");
                w.Line("RegisterComponents();");
            }
            w.Line();
            Forward(w, spec, guards);
            if (decodes)
            {
                w.Line();
                DecodingEmitter.Model(w, spec, guards);
            }
        }
    }

    static void Constants(SourceWriter w, ModelSpec spec, int dim)
    {
        Constant(w, "How errors name this model.", "string", "ModelName", $"\"{spec.ModelName}\"");
        Constant(w, "Symbolic shape that <see cref=\"forward\"/> accepts.", "string", "InputShape", $"\"{spec.InputShape}\"");
        Constant(w, "Symbolic shape that <see cref=\"forward\"/> returns.", "string", "OutputShape", $"\"{spec.OutputShape}\"");
        Constant(w, "True when position t sees positions ≤ t only, in every mixer.", "bool", "Causal", Literal(spec.Causal));
        if (spec.Input.Tokens)
        {
            Constant(w, "Number of distinct token ids.", "long", "Vocab", Literal(spec.Input.Vocab));
            Constant(w, "Longest input sequence T.", "long", "MaxLength", Literal(spec.Input.MaxLength));
        }
        else
            Constant(w, "Image channels.", "long", "Channels", Literal(spec.Input.Channels));
        if (dim > 0)
            Constant(w, "Width of the stream between the stages.", "long", "Dim", Literal(dim));
        foreach (var stage in spec.Stages)
            Constant(w, $"Trainable parameters of <c>{XmlText(stage.Property)}</c>.", "long", stage.Property + "ParameterCount",
                Literal(ParameterCounts.Stage(stage, spec.Input)), Parameters(ParameterCounts.Stage(stage, spec.Input)));
        var total = spec.Stages.Sum(s => ParameterCounts.Stage(s, spec.Input));
        Constant(w, "Trainable parameters of the whole model, as TorchSharp counts them.", "long", "ParameterCount", Literal(total), Parameters(total));
    }

    static string Parameters(ModelSpec spec, StageSpec stage) =>
        SourceWriter.Grouped(ParameterCounts.Stage(stage, spec.Input)) + " " + Parameters(ParameterCounts.Stage(stage, spec.Input));

    static string Parameters(long count) => count == 1 ? "parameter" : "parameters";

    static void Constant(SourceWriter w, string summary, string type, string name, string value, string? unit = null) =>
        w.Constant(summary, type, name, value, unit);

    static void Forward(SourceWriter w, ModelSpec spec, bool guards)
    {
        w.Line($"/// <summary>Runs the stages: <c>{Escape(spec.InputShape)}</c> → <c>{Escape(spec.OutputShape)}</c>.</summary>");
        if (guards)
            w.Line("/// <exception cref=\"global::AftDsl.AftShapeException\">The input does not have the shape, dtype or values the model takes.</exception>");
        using (w.Block($"public override {Tensor} forward({Tensor} input)"))
        {
            if (guards)
                w.Line(Guard(spec));
            // Explicit types, not var: a user type named 'var' in scope would change what var means.
            w.Line("using global::TorchSharp.DisposeScope scope = global::TorchSharp.torch.NewDisposeScope();");
            var first = true;
            foreach (var stage in spec.Stages)
            {
                w.Line($"{(first ? Tensor + " x" : "x")} = this.{stage.Identifier}.forward({(first ? "input" : "x")});");
                first = false;
            }
            w.Line("return x.MoveToOuterDisposeScope();");
        }
    }

    static string Guard(ModelSpec spec)
    {
        if (spec.Input.Tokens)
            return "global::AftDsl.ModelGuard.Tokens(input, ModelName, Vocab, MaxLength);";
        var patch = spec.Stages.OfType<PatchEmbeddingStage>().FirstOrDefault()?.Patch ?? 1;
        var patchCheck = spec.Deferred.FirstOrDefault(d => d.Kind == "patch");
        var positions = spec.Deferred.FirstOrDefault(d => d.Kind == "positions");
        string Side(int value) => value > 0 ? Literal(value) : "null";
        // Named arguments: a reader sees which size is unknown until run time, and which checks are deferred to it.
        var messages = (patchCheck is null ? "" : $", patchMessage: {Quote(patchCheck.Message)}")
                       + (positions is null ? "" : $", positionsMessage: {Quote(positions.Message)}");
        return $"global::AftDsl.ModelGuard.Images(input, ModelName, Channels, height: {Side(spec.Input.Height)}, width: {Side(spec.Input.Width)}, " +
               $"patch: {Literal(patch)}, positions: {(positions is null ? "null" : Literal(positions.Value))}{messages});";
    }

    static string Construction(StageSpec stage, InputSpec input) => stage switch
    {
        EmbeddingStage => $"{Nn}.Embedding({Literal(input.Vocab)}, {Literal(stage.Dim)})",
        PatchEmbeddingStage patch =>
            $"new global::AftDsl.Modules.PatchEmbedding({Literal(input.Channels)}, {Literal(patch.Patch)}, {Literal(stage.Dim)})",
        PositionEmbeddingStage positions =>
            $"new global::AftDsl.Modules.PositionEmbedding({string.Join(", ", positions.Positions.Select(p => Literal(p)))})",
        BlocksStage blocks =>
            $"new global::AftDsl.Modules.BlockStack(global::System.Linq.Enumerable.Select(global::System.Linq.Enumerable.Range(0, {Literal(blocks.Depth)}), _ => " +
            $"new global::AftDsl.Modules.PreNormBlock(new {blocks.MixerType}({(blocks.Mixer.Dim is null ? Literal(stage.Dim) : "")}), {Literal(stage.Dim)}, {FfnArgument(blocks)})), " +
            $"flattenGrid: {Literal(blocks.FlattenGrid)})",
        FinalNormStage => $"{Nn}.LayerNorm({Literal(stage.Dim)})",
        LogitsStage logits => $"{Nn}.Linear({Literal(stage.Dim)}, {Literal(logits.Classes)})",
        ClassifierHeadStage head => $"new global::AftDsl.Modules.ClassifierHead({Literal(stage.Dim)}, {Literal(head.Classes)})",
        _ => throw Unknown(stage),
    };

    // The FFN's width as PreNormBlock takes it: the multiple, or by name the width in units when FfnWidth was written.
    static string FfnArgument(BlocksStage blocks) =>
        blocks.FfnWidth > 0 ? $"ffnWidth: {Literal(blocks.FfnWidth)}" : Literal(blocks.Ffn);

    /// <summary>"1 pre-LN block", "24 pre-LN blocks": a count with its noun in the number it takes.</summary>
    static string Count(long n, string one, string? many = null) => $"{Literal(n)} {(n == 1 ? one : many ?? one + "s")}";

    static string Describe(StageSpec stage) => stage switch
    {
        EmbeddingStage => $"token embedding to width {stage.Dim}",
        PatchEmbeddingStage patch => $"{patch.Patch}×{patch.Patch} patch embedding to width {stage.Dim}",
        PositionEmbeddingStage positions => $"learned positions [{string.Join(", ", positions.Positions)}]",
        BlocksStage blocks => $"{Count(blocks.Depth, "pre-LN block")} of {blocks.MixerType.Replace("global::", "")} and a " +
            (blocks.FfnWidth > 0 ? $"{blocks.FfnWidth}-wide" : $"{blocks.Ffn}×") + " GELU FFN" +
            (blocks.FlattenGrid ? ", the grid mixed as one sequence" : ""),
        FinalNormStage => "final LayerNorm",
        LogitsStage logits => $"logits over {Count(logits.Classes, "class", "classes")} per position",
        ClassifierHeadStage head => $"global average pooling and {Count(head.Classes, "class logit")}",
        _ => throw Unknown(stage),
    };

    // The switches name every stage record; a new one must be added to each, not fall into another's branch.
    static ArgumentOutOfRangeException Unknown(StageSpec stage) =>
        new(nameof(stage), stage.GetType().Name, "a stage kind the model emitter does not know");

    static string Quote(string? text) => text is null ? "null" : "\"" + text.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    static string Escape(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
