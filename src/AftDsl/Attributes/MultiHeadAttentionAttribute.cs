namespace AftDsl;

/// <summary>
/// Declares a standard multi-head attention mixer on a partial class: Q, K, V and output projections
/// around TorchSharp's scaled_dot_product_attention, <c>[B, T, Dim]</c> → <c>[B, T, Dim]</c>. The baseline
/// of the paper's experiments; it has no position parameters (give the model a <c>[PositionEmbedding]</c>).
/// </summary>
/// <example><code>
/// [MultiHeadAttention(heads: 8, Causal = true)]
/// public partial class AttentionMixer;
/// </code></example>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class MultiHeadAttentionAttribute(int heads) : AftMixerAttribute
{
    /// <summary>Number of heads; must divide Dim.</summary>
    public int Heads { get; } = heads;
}
