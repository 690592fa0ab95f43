namespace AftDsl;

/// <summary>
/// Declares a whole model on a partial class: an input attribute (<see cref="TokenInputAttribute"/> or
/// <see cref="ImageInputAttribute"/>) and stages, partial properties in declaration order, each with a stage
/// attribute. The generator threads the shape through the stages, checks every edge at compile time, and
/// writes the module, its constructor and its forward.
/// </summary>
/// <example><code>
/// [AftModel(Causal = true)]
/// [TokenInput(vocab: 256, maxLength: 1024)]
/// public partial class CharLm
/// {
///     [Embedding(dim: 256)]                            public partial Embedding Embed { get; }
///     [Blocks(depth: 4, mixer: typeof(TextMixer))]     public partial BlockStack Body { get; }
///     [FinalNorm]                                      public partial LayerNorm Norm { get; }
///     [Logits]                                         public partial Linear Head { get; }
/// }
/// </code></example>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class AftModelAttribute : Attribute
{
    /// <summary>An autoregressive model: every mixer must be causal, or the future would leak into the past.</summary>
    public bool Causal { get; set; }

    /// <summary>
    /// Asks for the step-by-step decoding API (<c>BeginDecoding</c>, <c>Step</c>). Every causal model of token ids has it
    /// anyway; on a model that is not causal it is error AFT0318, since such a model cannot decode one token at a time.
    /// </summary>
    public bool Decoding { get; set; }
}

/// <summary>Model input: token ids <c>[B, T]</c> (int64) with 1 ≤ T ≤ <see cref="MaxLength"/> and ids below <see cref="Vocab"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class TokenInputAttribute(int vocab, int maxLength) : Attribute
{
    /// <summary>Number of distinct token ids: every id lies in [0, Vocab).</summary>
    public int Vocab { get; } = vocab;

    /// <summary>The longest sequence the model accepts; every stage's T bound is checked against it.</summary>
    public int MaxLength { get; } = maxLength;
}

/// <summary>
/// Model input: channels-first images <c>[B, Channels, H, W]</c> (float). Height and Width fix the size;
/// left out, any size divisible by the patch is accepted (checked at run time).
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class ImageInputAttribute(int channels) : Attribute
{
    /// <summary>Channels of the input images (1 grey, 3 RGB).</summary>
    public int Channels { get; } = channels;

    /// <summary>Fixed image height in pixels; 0 (default, with Width 0) accepts any size.</summary>
    public int Height { get; set; }

    /// <summary>Fixed image width in pixels; 0 (default, with Height 0) accepts any size.</summary>
    public int Width { get; set; }
}
