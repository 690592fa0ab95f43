namespace AftDsl;

/// <summary>Base of the attributes that make a partial property a stage of an <see cref="AftModelAttribute"/> model.</summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public abstract class StageAttribute : Attribute;

/// <summary>Token embedding: <c>[B, T]</c> ids → <c>[B, T, dim]</c>. Property type: <c>TorchSharp.Modules.Embedding</c>.</summary>
public sealed class EmbeddingAttribute(int dim) : StageAttribute
{
    /// <summary>The model width this stage produces.</summary>
    public int Dim { get; } = dim;
}

/// <summary>
/// Patch embedding: <c>[B, C, H, W]</c> images → <c>[B, H / patch, W / patch, dim]</c> grid.
/// Property type: <c>AftDsl.Modules.PatchEmbedding</c>.
/// </summary>
public sealed class PatchEmbeddingAttribute(int patch, int dim) : StageAttribute
{
    /// <summary>Side of the square patches, in pixels; it must divide the image's height and width.</summary>
    public int Patch { get; } = patch;

    /// <summary>The model width this stage produces.</summary>
    public int Dim { get; } = dim;
}

/// <summary>Learned absolute position embedding added to the stream. Property type: <c>AftDsl.Modules.PositionEmbedding</c>.</summary>
public sealed class PositionEmbeddingAttribute : StageAttribute;

/// <summary>
/// <paramref name="depth"/> pre-LN residual blocks, each a new <paramref name="mixer"/> (a class declared with a
/// layer attribute; it gets its width from the model when it does not fix it) plus a GELU FFN of width
/// <see cref="Ffn"/> × dim, or <see cref="FfnWidth"/> when that is written. Property type: <c>AftDsl.Modules.BlockStack</c>.
/// </summary>
public sealed class BlocksAttribute(int depth, Type mixer) : StageAttribute
{
    /// <summary>Number of blocks.</summary>
    public int Depth { get; } = depth;

    /// <summary>The mixer layer class, declared with [AftFull], [AftLocal], [AftSimple], [AftConv] or [MultiHeadAttention].</summary>
    public Type Mixer { get; } = mixer;

    /// <summary>FFN width as a multiple of the model width. Default 4.</summary>
    public int Ffn { get; set; } = AttributeNames.Blocks.DefaultFfn;

    /// <summary>
    /// The FFN's hidden width in units, instead of <see cref="Ffn"/> × dim: for matching the parameter count of another
    /// model exactly. Write one of the two (AFT0319).
    /// </summary>
    public int FfnWidth { get; set; }
}

/// <summary>Final LayerNorm over the width. Property type: <c>TorchSharp.Modules.LayerNorm</c>.</summary>
public sealed class FinalNormAttribute : StageAttribute;

/// <summary>
/// Per-position logits: <c>[B, T, dim]</c> → <c>[B, T, classes]</c>, classes defaulting to the token vocabulary.
/// Property type: <c>TorchSharp.Modules.Linear</c>.
/// </summary>
public sealed class LogitsAttribute : StageAttribute
{
    /// <summary>Output classes; 0 (default) means the input's vocabulary.</summary>
    public int Classes { get; set; }
}

/// <summary>
/// Global average pooling over all positions, then class logits: <c>[B, *, dim]</c> → <c>[B, classes]</c>.
/// Property type: <c>AftDsl.Modules.ClassifierHead</c>.
/// </summary>
public sealed class ClassifierHeadAttribute(int classes) : StageAttribute
{
    /// <summary>Number of classes.</summary>
    public int Classes { get; } = classes;
}
