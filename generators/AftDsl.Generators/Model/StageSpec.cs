namespace AftDsl.Generators.Model;

/// <summary>
/// One stage of a model, with the sizes the emitter needs once shapes are inferred: what every stage has (its
/// property, module type, width and shapes); each kind's own sizes live on its sealed record, so a kind carries
/// no field it does not use and the emitters pattern-match on the record.
/// </summary>
/// <param name="Property">The partial property the user declared.</param>
/// <param name="PropertyType">The module type the property returns, fully qualified.</param>
/// <param name="Accessibility">The property's modifiers other than <c>partial</c>, e.g. <c>public</c>.</param>
/// <param name="Dim">The width the stage works at: the width it produces, or for a head the width it takes.</param>
internal abstract record StageSpec(string Property, string PropertyType, string Accessibility, int Dim)
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

/// <summary><c>[Embedding]</c>: token ids to vectors of width <see cref="StageSpec.Dim"/>.</summary>
internal sealed record EmbeddingStage(string Property, string PropertyType, string Accessibility, int Dim)
    : StageSpec(Property, PropertyType, Accessibility, Dim);

/// <summary><c>[PatchEmbedding]</c>: images cut into <paramref name="Patch"/>×<paramref name="Patch"/> patches, each to width <see cref="StageSpec.Dim"/>.</summary>
internal sealed record PatchEmbeddingStage(string Property, string PropertyType, string Accessibility, int Dim, int Patch)
    : StageSpec(Property, PropertyType, Accessibility, Dim);

/// <summary><c>[PositionEmbedding]</c>: a learned table of shape <paramref name="Positions"/>, <c>[T, D]</c> or <c>[H, W, D]</c>.</summary>
internal sealed record PositionEmbeddingStage(string Property, string PropertyType, string Accessibility, int Dim, EquatableArray<int> Positions)
    : StageSpec(Property, PropertyType, Accessibility, Dim);

/// <summary>
/// <c>[Blocks]</c>: <paramref name="Depth"/> pre-LN blocks of the mixer <paramref name="Mixer"/> (its type fully qualified
/// in <paramref name="MixerType"/>) and an FFN <paramref name="Ffn"/> times the width, or <paramref name="FfnWidth"/>
/// wide when that was written (0: not written).
/// </summary>
/// <param name="FlattenGrid">True when a sequence mixer takes a grid, mixed as one sequence of H·W positions.</param>
internal sealed record BlocksStage(
    string Property,
    string PropertyType,
    string Accessibility,
    int Dim,
    int Depth,
    int Ffn,
    int FfnWidth,
    MixerSpec Mixer,
    string MixerType,
    bool FlattenGrid)
    : StageSpec(Property, PropertyType, Accessibility, Dim)
{
    /// <summary>The FFN's hidden width in units.</summary>
    public long Hidden => FfnWidth > 0 ? FfnWidth : (long)Ffn * Dim;
}

/// <summary><c>[FinalNorm]</c>: a LayerNorm over the width.</summary>
internal sealed record FinalNormStage(string Property, string PropertyType, string Accessibility, int Dim)
    : StageSpec(Property, PropertyType, Accessibility, Dim);

/// <summary><c>[Logits]</c>: a linear map from the width to <paramref name="Classes"/> logits at every position.</summary>
internal sealed record LogitsStage(string Property, string PropertyType, string Accessibility, int Dim, int Classes)
    : StageSpec(Property, PropertyType, Accessibility, Dim);

/// <summary><c>[ClassifierHead]</c>: global average pooling, then <paramref name="Classes"/> class logits.</summary>
internal sealed record ClassifierHeadStage(string Property, string PropertyType, string Accessibility, int Dim, int Classes)
    : StageSpec(Property, PropertyType, Accessibility, Dim);
