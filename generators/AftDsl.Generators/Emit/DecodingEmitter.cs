using Microsoft.CodeAnalysis.CSharp;
using AftDsl.Generators.Emit.Mixers;
using AftDsl.Generators.Model;
using static AftDsl.Generators.Emit.SourceWriter;

namespace AftDsl.Generators.Emit;

/// <summary>
/// Writes the step-by-step decoding members of causal mixers and causal token models: <c>BeginDecoding</c>, which
/// creates a state at position 0, and <c>Step</c>, which consumes one position of each sequence. The recurrences
/// live in the runtime's <c>AftDsl.Decoding.AftStep</c>; what differs between mixer kinds comes from their
/// <see cref="MixerDescriptor"/>.
/// </summary>
internal static class DecodingEmitter
{
    const string Tensor = "global::TorchSharp.torch.Tensor";
    const string Decoding = "global::AftDsl.Decoding";
    const string Linear = "global::AftDsl.Decoding.StepLinear.Forward";

    /// <summary>BeginDecoding, Step and the <c>IDecodingMixer</c> members of a causal sequence mixer.</summary>
    public static void Mixer(SourceWriter w, MixerSpec spec, MixerDescriptor kind, bool guards)
    {
        var state = $"{Decoding}.{kind.DecodingState(spec)}";
        w.Summary($"Begins decoding <paramref name=\"batch\"/> sequences one position at a time with <see cref=\"Step\"/>: the " +
            $"state holds {XmlText(kind.DecodingCost(spec))}; it takes this layer's dtype and device. Dispose it when done.");
        w.Line("/// <param name=\"batch\">Number of sequences decoded side by side.</param>");
        w.Line($"public {state} BeginDecoding(long batch) =>");
        w.Line($"    new(LayerName, batch, {kind.DecodingStateArguments}, q_proj.weight!);");
        w.Line();
        w.Summary("Mixes the next position of each sequence, <c>[B, Dim]</c> → <c>[B, Dim]</c>: the row that <see cref=\"forward\"/> " +
            "gives at that position for the whole sequence so far. Runs without autograd.");
        w.Line("/// <param name=\"x\">The next position's features, one row per sequence.</param>");
        w.Line("/// <param name=\"state\">What <see cref=\"BeginDecoding\"/> returned; the step moves it one position on.</param>");
        w.Line("/// <param name=\"active\">Optional bool <c>[B]</c>: rows it leaves out keep their state, and their output is zero.</param>");
        if (spec.LengthBound > 0)
            w.Line($"/// <exception cref=\"{Decoding}.DecodingLengthException\">A row is at position MaxLength: the position biases end there.</exception>");
        using (w.Block($"public {Tensor} Step({Tensor} x, {state} state, {Tensor}? active = null)"))
        {
            if (guards)
                w.Line($"{Decoding}.StepGuard.Features(x, LayerName, Dim, state, q_proj.weight!);");
            w.Line("using global::TorchSharp.DisposeScope scope = global::TorchSharp.torch.NewDisposeScope();");
            w.Line("using global::System.IDisposable inference = global::TorchSharp.torch.no_grad();");
            // StepLinear: on a few CPU rows, a C# loop over the layers' weights beats libtorch's per-call overhead.
            foreach (var statement in kind.StepMix(spec, $"{Linear}(q_proj, x), {Linear}(k_proj, x), {Linear}(v_proj, x)"))
                w.Line(statement);
            w.Line($"return {Linear}(out_proj, mixed).MoveToOuterDisposeScope();");
        }
        w.Line();
        w.Line($"{Decoding}.DecodingState {Decoding}.IDecodingMixer.BeginDecoding(long batch) => BeginDecoding(batch);");
        w.Line();
        w.Line($"{Tensor} {Decoding}.IDecodingMixer.Step({Tensor} x, {Decoding}.DecodingState state, {Tensor}? active) =>");
        w.Line($"    Step(x, {state}.From(state, LayerName), active);");
    }

    /// <summary>
    /// The longest sequence a model decodes: the smallest of its position embedding's rows and its mixers' maxLength,
    /// with what sets it; null when nothing bounds it (AFT-simple, AFT-conv and attention without position embeddings).
    /// </summary>
    public static (int Length, string By)? Bound(ModelSpec spec)
    {
        var bounds = spec.Stages.OfType<PositionEmbeddingStage>()
            .Where(s => s.Positions.Count > 0)
            .Select(s => (Length: s.Positions[0], By: $"the rows of the position embedding {s.Property}"))
            .Concat(spec.Stages.OfType<BlocksStage>().Where(s => s.Mixer is { LengthBound: > 0 })
                .Select(s => (Length: s.Mixer.LengthBound, By: $"the position biases of {s.Property}'s mixers")))
            .OrderBy(b => b.Length).ToList();
        return bounds.Count == 0 ? null : bounds[0];
    }

    /// <summary>MaxDecodingLength, BeginDecoding and Step of a causal token model.</summary>
    public static void Model(SourceWriter w, ModelSpec spec, bool guards)
    {
        var bound = Bound(spec);
        w.Summary(bound is { } b
            ? $"The longest sequence <see cref=\"Step\"/> can decode: {Literal(b.Length)}, set by {XmlText(b.By)}."
            : "The longest sequence <see cref=\"Step\"/> can decode: null, as nothing bounds it (no position embedding or " +
              "position biases), so decoding may go beyond MaxLength.");
        w.Line($"public long? MaxDecodingLength => {(bound is { } l ? Literal(l.Length) : "null")};");
        w.Line();
        var stacks = spec.Stages.OfType<BlocksStage>().ToList();
        w.Summary("Begins decoding <paramref name=\"batch\"/> sequences one token at a time with <see cref=\"Step\"/>: a state at " +
            "position 0 holding each mixer's state, in this model's dtype and on its device. Dispose it when done.");
        w.Line("/// <param name=\"batch\">Number of sequences decoded side by side.</param>");
        w.Line($"public {Decoding}.ModelDecodingState BeginDecoding(long batch) =>");
        // Through Begin, which disposes the stacks' states already made when a later stack's BeginDecoding throws.
        w.Line($"    {Decoding}.ModelDecodingState.Begin(ModelName, batch{string.Concat(stacks.Select(s => $", () => this.{s.Identifier}.BeginDecoding(batch)"))});");
        w.Line();
        w.Summary($"Consumes the next token of each sequence, <c>[B]</c> → logits <c>[B, {Literal(spec.Input.Vocab)}]</c>: the row " +
            "that <see cref=\"forward\"/> gives at that position for the whole sequence so far. Runs without autograd.");
        w.Line("/// <param name=\"tokens\">The next token id of each sequence, int64.</param>");
        w.Line("/// <param name=\"state\">What <see cref=\"BeginDecoding\"/> returned; the step moves it one position on.</param>");
        w.Line("/// <param name=\"active\">Optional bool <c>[B]</c>: rows it leaves out keep their state and position.</param>");
        if (bound is not null)
            w.Line($"/// <exception cref=\"{Decoding}.DecodingLengthException\">A row is at position <see cref=\"MaxDecodingLength\"/>.</exception>");
        using (w.Block($"public {Tensor} Step({Tensor} tokens, {Decoding}.ModelDecodingState state, {Tensor}? active = null)"))
        {
            if (guards)
                w.Line($"{Decoding}.StepGuard.Tokens(tokens, ModelName, Vocab, state);");
            if (bound is { } limit)
                w.Line($"state.CheckBound(active, {Literal(limit.Length)}, {SymbolDisplay.FormatLiteral(limit.By, quote: true)});");
            w.Line("using global::TorchSharp.DisposeScope scope = global::TorchSharp.torch.NewDisposeScope();");
            w.Line("using global::System.IDisposable inference = global::TorchSharp.torch.no_grad();");
            var first = true;
            var stack = 0;
            foreach (var stage in spec.Stages)
            {
                var input = first ? "tokens" : "x";
                var call = stage switch
                {
                    PositionEmbeddingStage => $"this.{stage.Identifier}.Step(x, state, active)",
                    BlocksStage => $"this.{stage.Identifier}.Step(x, state.Stage<{Decoding}.BlockStackDecodingState>({Literal(stack++)}), active)",
                    LogitsStage => $"{Linear}(this.{stage.Identifier}, x)",
                    FinalNormStage => $"global::AftDsl.Decoding.StepNorm.Forward(this.{stage.Identifier}, x)",
                    _ => $"this.{stage.Identifier}.forward({input})",
                };
                w.Line($"{(first ? Tensor + " x" : "x")} = {call};");
                first = false;
            }
            w.Line("state.Advance(active);");
            w.Line("return x.MoveToOuterDisposeScope();");
        }
    }
}
