namespace AftDsl.Generators.Model;

/// <summary>The model's input: token ids <c>[B, T]</c>, or channels-first images <c>[B, C, H, W]</c> (H, W 0 when free).</summary>
internal sealed record InputSpec(bool Tokens, int Vocab, int MaxLength, int Channels, int Height, int Width);

/// <summary>A whole model, checked: its input, its stages in order, and the symbolic shapes at both ends.</summary>
internal sealed record ModelSpec(
    TargetType Target,
    bool Causal,
    InputSpec Input,
    EquatableArray<StageSpec> Stages,
    string InputShape,
    string OutputShape,
    EquatableArray<DeferredCheck> Deferred)
{
    public string ModelName => $"AftModel '{Target.Name}'";

    /// <summary>True when the model gets the decoding members: causal, of token ids, and every stage steps.</summary>
    public bool Decodes => Causal && Input.Tokens && Stages.All(s => s is EmbeddingStage or PositionEmbeddingStage
        or BlocksStage or FinalNormStage or LogitsStage);
}

/// <summary>
/// A relation the compiler could not decide (a size known only at run time): reported as a warning at build
/// time, and checked by the generated forward with the same ID and wording.
/// </summary>
/// <param name="Kind">Which check: <c>patch</c> (image sides divisible by the patch).</param>
internal sealed record DeferredCheck(string Id, string Kind, int Value, string Message);
