namespace AftDsl;

/// <summary>
/// Declares an AFT-simple token mixer (Zhai et al., 2021, Eq. 5) on a partial class: no position biases,
/// <c>Y_t = σ(Q_t) ⊙ Σ_t' softmax_t'(K)_t' ⊙ V_t'</c>, O(T·d) time and memory, any sequence length.
/// </summary>
/// <example><code>
/// [AftSimple(Dim = 256, Causal = true)]
/// public partial class FastMixer;
/// </code></example>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class AftSimpleAttribute : AftMixerAttribute
{
    /// <summary>Width of Q, K and V. Default: <see cref="AftMixerAttribute.Dim"/>.</summary>
    public int HiddenDim { get; set; }
}
