namespace AftDsl;

/// <summary>
/// Declares an AFT-full token mixer (Zhai et al., 2021, Eq. 2) on a partial class:
/// <c>Y_t = σ(Q_t) ⊙ Σ_t' exp(K_t' + w_t,t') ⊙ V_t' / Σ_t' exp(K_t' + w_t,t')</c>, with one learned
/// position bias per (t, t') pair, factorised as <c>w = U·Wᵀ</c>.
/// </summary>
/// <example><code>
/// [AftFull(maxLength: 1024, Dim = 256, Causal = true)]
/// public partial class TextMixer;
/// </code></example>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class AftFullAttribute(int maxLength) : AftMixerAttribute
{
    /// <summary>Largest sequence length T the layer accepts; also the number of rows of U and W.</summary>
    public int MaxLength { get; } = maxLength;

    /// <summary>Rank d' of the factorised position bias <c>w = U·Wᵀ</c>, at most <see cref="MaxLength"/>.
    /// Default min(128, maxLength): the paper's 128, or maxLength for a shorter layer.</summary>
    public int FactorRank { get => factorRank ?? Math.Min(AttributeNames.PositionBias.DefaultFactorRank, MaxLength); set => factorRank = value; }

    int? factorRank;

    /// <summary>Width of Q, K and V (the d of the paper's equations). Default: <see cref="AftMixerAttribute.Dim"/>.</summary>
    public int HiddenDim { get; set; }
}
