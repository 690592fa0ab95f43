namespace AftDsl.Generators.Model;

/// <summary>The stages a model can chain.</summary>
internal enum StageKind
{
    Embedding,
    PatchEmbedding,
    PositionEmbedding,
    Blocks,
    FinalNorm,
    Logits,
    ClassifierHead,
}

/// <summary>The model's input: token ids <c>[B, T]</c>, or channels-first images <c>[B, C, H, W]</c> (H, W 0 when free).</summary>
internal sealed record InputSpec(bool Tokens, int Vocab, int MaxLength, int Channels, int Height, int Width);

/// <summary>
/// One stage, with the sizes the emitter needs once shapes are inferred: <see cref="Dim"/> is the width it
/// produces, <see cref="Positions"/> the position embedding's table shape, <see cref="Mixer"/> the blocks' mixer
/// (with its fully qualified type name) and whether the blocks flatten a grid for a sequence mixer.
/// </summary>
internal sealed record StageSpec(
    StageKind Kind,
    string Property,
    string PropertyType,
    string Accessibility,
    int Dim,
    int Patch = 0,
    int Depth = 0,
    int Ffn = 0,
    int Classes = 0,
    EquatableArray<int> Positions = default,
    MixerSpec? Mixer = null,
    string MixerType = "",
    bool FlattenGrid = false)
{
    /// <summary>The shape the stage takes, as the model's shape inference found it, e.g. <c>[B, T] (token ids)</c>.</summary>
    public string InputShape { get; init; } = "";

    /// <summary>The shape the stage produces, e.g. <c>[B, T, 256]</c>.</summary>
    public string OutputShape { get; init; } = "";

    /// <summary>The backing field, also the state-dict prefix: the property name in snake_case.</summary>
    public string Field => SnakeCase(Property);

    /// <summary>
    /// The field as C# names it: <c>@base</c> for a field that is a keyword; <c>_body</c> when the snake_case name is
    /// the property's own (a lower-case or caseless name such as <c>body</c> or <c>嵌入</c>), which then keeps its
    /// state-dict key through TorchSharp's <c>[ComponentName]</c>.
    /// </summary>
    public string Identifier => FieldIsProperty ? "_" + Field : Identifiers.Escape(Field);

    /// <summary>True when the field's natural name is the property's, so the field is renamed (see <see cref="Identifier"/>).</summary>
    public bool FieldIsProperty => Field == Property;

    internal static string SnakeCase(string name)
    {
        var text = new System.Text.StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0 && (char.IsLower(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1]))))
                text.Append('_');
            text.Append(char.ToLowerInvariant(name[i]));
        }
        return text.ToString();
    }
}

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
    public bool Decodes => Causal && Input.Tokens && Stages.All(s => s.Kind is StageKind.Embedding or StageKind.PositionEmbedding
        or StageKind.Blocks or StageKind.FinalNorm or StageKind.Logits);
}

/// <summary>
/// A relation the compiler could not decide (a size known only at run time): reported as a warning at build
/// time, and checked by the generated forward with the same ID and wording.
/// </summary>
/// <param name="Kind">Which check: <c>patch</c> (image sides divisible by the patch).</param>
internal sealed record DeferredCheck(string Id, string Kind, int Value, string Message);
