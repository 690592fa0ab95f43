namespace AftDsl;

/// <summary>
/// Declares an AFT-local token mixer (Zhai et al., 2021, Eq. 4) on a partial class: AFT-full whose
/// position biases are kept within the window |t − t'| &lt; s and are 0 (not −∞) outside it, so every
/// position still sees the whole sequence. Computed in linear time in T.
/// </summary>
/// <example><code>
/// [AftLocal(maxLength: 1024, window: 32, Dim = 256, Causal = true)]
/// public partial class TextMixer;
/// </code></example>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class AftLocalAttribute(int maxLength, int window) : AftMixerAttribute
{
    /// <summary>Largest sequence length T the layer accepts; also the number of rows of U and W.</summary>
    public int MaxLength { get; } = maxLength;

    /// <summary>The window s: biases apply where |t − t'| &lt; s. Between 1 and <see cref="MaxLength"/>.</summary>
    public int Window { get; } = window;

    /// <summary>Rank d' of the factorised position bias <c>w = U·Wᵀ</c>, at most <see cref="MaxLength"/>.
    /// Default min(128, maxLength): the paper's 128, or maxLength for a shorter layer.</summary>
    public int FactorRank { get => factorRank ?? Math.Min(AttributeNames.PositionBias.DefaultFactorRank, MaxLength); set => factorRank = value; }

    int? factorRank;

    /// <summary>Width of Q, K and V. Default: <see cref="AftMixerAttribute.Dim"/>.</summary>
    public int HiddenDim { get; set; }
}
