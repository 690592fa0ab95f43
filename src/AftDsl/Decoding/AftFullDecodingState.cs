using static TorchSharp.torch;

namespace AftDsl.Decoding;

/// <summary>
/// Causal AFT-full's state, like a KV cache: for every position so far, exp(K − r)⊙V and exp(K − r) side by
/// side, with r a reference that follows the largest key per row and channel (the rows are rescaled when a key rises far above it).
/// A step evaluates the new row of biases u_t·w_t' only, and one product with the stored rows: O(t·d).
/// </summary>
public sealed class AftFullDecodingState : DecodingState
{
    internal readonly History Weighted;
    internal Tensor Reference;

    /// <param name="owner">How errors name the layer.</param>
    /// <param name="batch">Sequences decoded side by side.</param>
    /// <param name="width">Width of Q, K and V.</param>
    /// <param name="maxLength">The longest sequence the position biases cover.</param>
    /// <param name="like">A parameter of the layer: the state takes its dtype and device.</param>
    public AftFullDecodingState(string owner, long batch, long width, long maxLength, Tensor like) : base(owner, batch)
    {
        Weighted = new History(batch, 2 * width, maxLength, like);
        Reference = Owned([batch, width], double.NegativeInfinity, like);
    }

    /// <summary><paramref name="state"/> as a AftFullDecodingState; throws, naming <paramref name="layer"/>, when it is another layer's state.</summary>
    public static AftFullDecodingState From(DecodingState state, string layer) => Expect<AftFullDecodingState>(state, layer);

    /// <summary>Bytes the state holds; grows with the positions decoded (capacity doubles).</summary>
    public override long ByteCount => Weighted.ByteCount + Reference.NumberOfElements * Reference.ElementSize;

    /// <inheritdoc/>
    protected override void Clear()
    {
        Weighted.Clear();
        Reference.fill_(double.NegativeInfinity);
    }

    /// <inheritdoc/>
    protected override void Release()
    {
        Weighted.Dispose();
        Reference.Dispose();
    }
}
