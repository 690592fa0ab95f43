using System.Globalization;
using AftDsl.Generators.Diagnostics;
using AftDsl.Generators.Model;
using AftDsl.Generators.Parsing;
using Microsoft.CodeAnalysis;

namespace AftDsl.Generators.Shapes;

/// <summary>
/// Compile-time shape inference over a model: B and T stay symbolic, every other size is a constant.
/// It threads the stream through the stages, checks every edge (widths, T bounds, causality, grid or
/// sequence, heads dividing the width) and reports what does not fit on the argument at fault, naming
/// the edge; what only run time can decide becomes a warning and a guard in the generated forward.
/// </summary>
internal sealed class ShapeChecker(string model, bool causal, List<DiagnosticInfo> diagnostics)
{
    enum Flow { Tokens, Images, Sequence, Grid, PositionLogits, GridLogits, ClassLogits }

    /// <summary>
    /// The stream between two stages: its kind, width, T bound and grid size (0 when free), and who made it;
    /// <see cref="WidthStage"/> and <see cref="WidthOrigin"/> name the stage argument that fixed the width, which
    /// a diagnostic about the width points at as well.
    /// </summary>
    sealed record Stream(Flow Kind, int Dim, int MaxLength, int Height, int Width, string Producer)
    {
        public string WidthStage { get; init; } = Producer;

        public Location? WidthOrigin { get; init; }

        public string Shape => Kind switch
        {
            Flow.Tokens => "[B, T] (token ids)",
            Flow.Images => $"[B, {Dim}, {Side(Height, "H")}, {Side(Width, "W")}] (images)",
            Flow.Sequence => $"[B, T, {Dim}]",
            Flow.Grid => $"[B, {Side(Height, "H")}, {Side(Width, "W")}, {Dim}]",
            Flow.PositionLogits => $"[B, T, {Dim}] (logits)",
            Flow.GridLogits => $"[B, {Side(Height, "H")}, {Side(Width, "W")}, {Dim}] (logits)",
            _ => $"[B, {Dim}] (class logits)",
        };

        static string Side(int value, string symbol) => value > 0 ? value.ToString(CultureInfo.InvariantCulture) : symbol;
    }

    /// <summary>The model's spec, or null when a stage could not be placed (its diagnostic, or its mixer's, says why).</summary>
    public ModelSpec? Check(TargetType target, InputSpec input, Location inputLocation, IReadOnlyList<ModelParser.WrittenStage> written)
    {
        var stream = input.Tokens
            ? new Stream(Flow.Tokens, 0, input.MaxLength, 0, 0, $"[TokenInput(vocab: {input.Vocab}, maxLength: {input.MaxLength})]")
            : new Stream(Flow.Images, input.Channels, 0, input.Height, input.Width, $"[ImageInput(channels: {input.Channels})]");
        var inputShape = input.Tokens
            ? $"[B, T] int64 token ids below {input.Vocab}, 1 ≤ T ≤ {input.MaxLength}"
            : stream.Shape.Replace(" (images)", " float images");
        var stages = new List<StageSpec>();
        var deferred = new List<DeferredCheck>();
        foreach (var stage in written)
        {
            var before = diagnostics.Count;
            var (next, spec) = Apply(stage, stream, input, deferred);
            if (next is null || diagnostics.Skip(before).Any(d => d.Descriptor.DefaultSeverity == DiagnosticSeverity.Error))
                break;                                            // later edges would only repeat the same mistake; warnings go on
            if (!Representable(spec!, input, stages, stage))
                break;
            stages.Add(spec! with { InputShape = stream.Shape, OutputShape = next.Shape });
            stream = next;
        }
        if (stages.Count < written.Count)
            return null;                                          // a half-built model would only add compiler errors
        return new ModelSpec(target, causal, input, stages.ToEquatableArray(), inputShape, stream.Shape, deferred.ToEquatableArray());
    }

    // AFT0104 when the stage's parameter count, or the model's running total, does not fit a long.
    bool Representable(StageSpec spec, InputSpec input, List<StageSpec> earlier, ModelParser.WrittenStage stage)
    {
        try
        {
            var total = ParameterCounts.Stage(spec, input);
            foreach (var s in earlier)
                total = checked(total + ParameterCounts.Stage(s, input));
            return true;
        }
        catch (OverflowException)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.SizeTooLarge, stage.Arguments.Location, model, stage.Property.Name));
            return false;
        }
    }

    (Stream? Next, StageSpec? Spec) Apply(ModelParser.WrittenStage stage, Stream stream, InputSpec input, List<DeferredCheck> deferred)
    {
        var name = stage.Property.Name;
        var checks = new SizeChecks(model, diagnostics);
        var a = stage.Arguments;
        var (type, access) = (stage.ExpectedType, stage.Accessibility);

        if (stream.Kind is Flow.PositionLogits or Flow.GridLogits or Flow.ClassLogits)
            return Refuse(a.Location, name, "nothing: the model already ends", stream, "remove it, or move it before the head");

        switch (stage.Attribute)
        {
            case AttributeNames.Embedding.Type:
            {
                var dim = a.Constructor<int>(AttributeNames.Embedding.Dim);
                checks.Positive(dim, AttributeNames.Embedding.Dim, "it is the model width, e.g. dim: 256");
                if (dim is null || dim.Value.Value <= 0) return (null, null);
                if (stream.Kind != Flow.Tokens)
                    return Refuse(a.Location, name, "token ids [B, T]", stream, "use [PatchEmbedding] for images, or declare [TokenInput]");
                return (stream with { Kind = Flow.Sequence, Dim = dim.Value.Value, Producer = name, WidthStage = name, WidthOrigin = dim.Value.Location },
                    new EmbeddingStage(name, type, access, dim.Value.Value));
            }
            case AttributeNames.PatchEmbedding.Type:
            {
                var patch = a.Constructor<int>(AttributeNames.PatchEmbedding.Patch);
                var dim = a.Constructor<int>(AttributeNames.PatchEmbedding.Dim);
                checks.Positive(patch, AttributeNames.PatchEmbedding.Patch, "it is the side of a square patch in pixels, e.g. patch: 4");
                checks.Positive(dim, AttributeNames.PatchEmbedding.Dim, "it is the model width, e.g. dim: 384");
                if (patch is null || dim is null || patch.Value.Value <= 0 || dim.Value.Value <= 0) return (null, null);
                if (stream.Kind != Flow.Images)
                    return Refuse(a.Location, name, "images [B, C, H, W]", stream, "declare [ImageInput(channels)], or use [Embedding] for tokens");
                var p = patch.Value.Value;
                // One diagnostic per size that does not divide: a square image is reported once, as "height and width".
                var failing = new[] { (Side: stream.Height, Label: "height"), (Side: stream.Width, Label: "width") }.Where(s => s.Side > 0 && s.Side % p != 0);
                foreach (var group in failing.GroupBy(s => s.Side))
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.PatchDoesNotDivide, patch.Value.Location, model, name,
                        string.Join(" and ", group.Select(s => s.Label)), group.Key, p, Proper(group.Key)));
                if (stream.Height == 0 || stream.Width == 0)
                {
                    var message = $"{model}: {name} cuts images into {p}×{p} patches, so the image height and width must be divisible by {p}; the input's size is only known at run time, so forward checks it";
                    deferred.Add(new DeferredCheck("AFT0401", "patch", p, message));
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.PatchCheckedAtRunTime, patch.Value.Location, message));
                }
                var grid = stream with { Kind = Flow.Grid, Dim = dim.Value.Value, Height = stream.Height / p, Width = stream.Width / p, Producer = name,
                    WidthStage = name, WidthOrigin = dim.Value.Location };
                return (grid, new PatchEmbeddingStage(name, type, access, dim.Value.Value, p));
            }
            case AttributeNames.PositionEmbedding.Type:
                if (stream.Kind == Flow.Sequence)
                    return (stream with { Producer = name },
                        new PositionEmbeddingStage(name, type, access, stream.Dim, new[] { stream.MaxLength, stream.Dim }.ToEquatableArray()));
                if (stream.Kind == Flow.Grid && stream.Height > 0 && stream.Width > 0)
                    return (stream with { Producer = name },
                        new PositionEmbeddingStage(name, type, access, stream.Dim, new[] { stream.Height, stream.Width, stream.Dim }.ToEquatableArray()));
                if (stream.Kind == Flow.Grid)
                {
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.PositionsNeedFixedGrid, a.Location, model, name, stream.Shape));
                    return (null, null);
                }
                return Refuse(a.Location, name, "a sequence [B, T, D] or a fixed grid [B, H, W, D]", stream, "place it after the embedding");
            case AttributeNames.Blocks.Type:
                return Blocks(stage, stream, deferred, checks);
            case AttributeNames.FinalNorm.Type:
                if (stream.Kind is not (Flow.Sequence or Flow.Grid))
                    return Refuse(a.Location, name, "a sequence or a grid", stream, "place it after the blocks");
                return (stream with { Producer = name }, new FinalNormStage(name, type, access, stream.Dim));
            case AttributeNames.Logits.Type:
            {
                var classes = a.Named<int>(AttributeNames.Logits.Classes);
                checks.Positive(classes, AttributeNames.Logits.Classes, "it is the number of output classes per position, e.g. Classes = 256");
                if (stream.Kind is not (Flow.Sequence or Flow.Grid))
                    return Refuse(a.Location, name, "a sequence or a grid", stream, "place it last, after the blocks");
                var count = classes?.Value ?? (input.Tokens ? input.Vocab : 0);
                if (count <= 0)
                {
                    if (classes is null) diagnostics.Add(DiagnosticInfo.Create(Descriptors.LogitsNeedClasses, a.Location, model, name));
                    return (null, null);
                }
                var logits = stream.Kind == Flow.Grid ? Flow.GridLogits : Flow.PositionLogits;
                return (stream with { Kind = logits, Dim = count, Producer = name }, new LogitsStage(name, type, access, stream.Dim, count));
            }
            case AttributeNames.ClassifierHead.Type:
            {
                var classes = a.Constructor<int>(AttributeNames.ClassifierHead.Classes);
                checks.Positive(classes, AttributeNames.ClassifierHead.Classes, "it is the number of classes, e.g. classes: 10");
                if (classes is null || classes.Value.Value <= 0) return (null, null);
                if (stream.Kind is not (Flow.Sequence or Flow.Grid))
                    return Refuse(a.Location, name, "a sequence or a grid", stream, "place it last, after the blocks");
                return (stream with { Kind = Flow.ClassLogits, Dim = classes.Value.Value, Producer = name },
                    new ClassifierHeadStage(name, type, access, stream.Dim, classes.Value.Value));
            }
            default:
                // ModelParser reads only the attributes above; a new stage attribute must get its own case here.
                throw new ArgumentOutOfRangeException(nameof(stage), stage.Attribute, "a stage attribute without shape inference");
        }
    }

    (Stream? Next, StageSpec? Spec) Blocks(ModelParser.WrittenStage stage, Stream stream, List<DeferredCheck> deferred, SizeChecks checks)
    {
        var a = stage.Arguments;
        var name = stage.Property.Name;
        var depth = a.Constructor<int>(AttributeNames.Blocks.Depth);
        var ffn = a.Named<int>(AttributeNames.Blocks.Ffn);
        var ffnWidth = a.Named<int>(AttributeNames.Blocks.FfnWidth);
        var mixerArgument = a.Constructor<INamedTypeSymbol>(AttributeNames.Blocks.Mixer);
        checks.Positive(depth, AttributeNames.Blocks.Depth, "it is the number of residual blocks, e.g. depth: 4");
        checks.Positive(ffn, AttributeNames.Blocks.Ffn, $"it is the FFN width as a multiple of the model width, e.g. Ffn = {AttributeNames.Blocks.DefaultFfn}");
        checks.Positive(ffnWidth, AttributeNames.Blocks.FfnWidth, "it is the FFN's hidden width in units, e.g. FfnWidth = 256");
        if (ffn is not null && ffnWidth is { } width)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.FfnWidthTwice, width.Location, model, name, ffn.Value.Value, width.Value));
            return (null, null);
        }
        if (mixerArgument is null && a.ConstructorText(AttributeNames.Blocks.Mixer) is { } written)
        {
            // typeof(int[]), null: not a class at all, so not a layer either.
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.NotAMixer, written.Location, model, name, written.Value));
            return (null, null);
        }
        if (depth is null || mixerArgument is null || depth.Value.Value <= 0 || ffn is { Value: <= 0 } || ffnWidth is { Value: <= 0 }) return (null, null);
        if (stream.Kind is not (Flow.Sequence or Flow.Grid))
            return Refuse(a.Location, name, "a sequence [B, T, D] or a grid [B, H, W, D]", stream, "place the blocks after an embedding");

        var location = mixerArgument.Value.Location;
        var type = mixerArgument.Value.Value;
        var (mixer, found, declared) = MixerParser.Read(type);
        if (mixer is null)
        {
            if (found == MixerParser.Lookup.NotALayer)
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.NotAMixer, location, model, name, type.Name));
            return (null, null);                                  // a layer in error reports its own diagnostics
        }
        // What the mixer's own declaration says, as the second place a diagnostic about this edge points at.
        var mixerDim = declared?.Named<int>(AttributeNames.Mixer.Dim)?.Location;
        var mixerCausal = declared?.Named<bool>(AttributeNames.Mixer.Causal)?.Location ?? declared?.Location;
        var mixerLength = declared?.Constructor<int>(AttributeNames.PositionBias.MaxLength)?.Location;
        var edge = depth.Value.Value == 1 ? $"{name}[0].Mixer ({type.Name})" : $"{name}[0..{depth.Value.Value - 1}].Mixer ({type.Name})";
        if (mixer.Dim is { } fixedDim && fixedDim != stream.Dim)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.EdgeWidth, location, model, edge, $"[B, {(mixer.TakesGrid ? "H, W" : "T")}, {fixedDim}]",
                stream.Producer, stream.Shape, type.Name, stream.Dim).Also(mixerDim, stream.WidthOrigin));
            return (null, null);
        }
        if (mixer.HasHeads && mixer.Dim is null && stream.Dim % mixer.Heads != 0)
        {
            var found0201 = diagnostics.Count;
            new SizeChecks($"{model}: {edge}, whose width {stream.Dim} is fixed by {stream.WidthStage}", diagnostics)
                .HeadsDivideDim(new Argument<int>(mixer.Heads, location), new Argument<int>(stream.Dim, location));
            for (var i = found0201; i < diagnostics.Count; i++)
                diagnostics[i] = diagnostics[i].Also(declared?.Constructor<int>(AttributeNames.AftConv.Heads)?.Location, stream.WidthOrigin);
            return (null, null);
        }
        if (causal && !mixer.Causal)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.CausalLeak, location, model, edge, type.Name).Also(mixerCausal));
            return (null, null);
        }
        if (mixer.TakesGrid && stream.Kind == Flow.Sequence)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.GridMixerOnSequence, location, model, edge, stream.Producer, stream.Shape));
            return (null, null);
        }
        var flatten = !mixer.TakesGrid && stream.Kind == Flow.Grid;
        if (mixer.LengthBound > 0)
        {
            var length = stream.Kind == Flow.Sequence ? stream.MaxLength : (long)stream.Height * stream.Width;   // 46,341² overflows an int
            var origin = stream.Kind == Flow.Sequence ? "the model's input allows T ≤ " + stream.MaxLength : $"the {stream.Height}×{stream.Width} grid has {length} positions";
            if (length > mixer.LengthBound)
            {
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.LengthBound, location, model, edge, mixer.LengthBound, origin, type.Name, length).Also(mixerLength));
                return (null, null);
            }
            if (length == 0)
            {
                var message = $"{model}: {edge} accepts at most {mixer.LengthBound} positions (maxLength), but the grid's size is only known at run time, so forward checks H·W ≤ {mixer.LengthBound}";
                deferred.Add(new DeferredCheck("AFT0402", "positions", mixer.LengthBound, message));
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.LengthCheckedAtRunTime, location, message));
            }
        }
        var typeName = type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
        var blocks = new BlocksStage(name, stage.ExpectedType, stage.Accessibility, stream.Dim, depth.Value.Value, ffn?.Value ?? AttributeNames.Blocks.DefaultFfn,
            ffnWidth?.Value ?? 0, mixer, typeName, flatten);
        return (stream with { Producer = $"{name} (its last block)" }, blocks);
    }

    (Stream? Next, StageSpec? Spec) Refuse(Location location, string stage, string expected, Stream stream, string advice)
    {
        diagnostics.Add(DiagnosticInfo.Create(Descriptors.StageOrder, location, model, stage, expected, stream.Producer, stream.Shape, advice));
        return (null, null);
    }

    // The patches that would divide a side, for the message; a prime side has none but 1 and itself.
    static string Proper(int side) =>
        SizeChecks.Divisors(side).Where(d => d > 1 && d < side).ToList() is { Count: > 0 } proper ? string.Join(", ", proper) : $"only 1 and {side}";
}
