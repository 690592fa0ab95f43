using static TorchSharp.torch;

namespace AftDsl.Decoding;

/// <summary>
/// Causal AFT-simple's recurrence: per row and channel, the running maximum m of the keys so far and the
/// sums Σ exp(K − m)⊙V and Σ exp(K − m). O(d) memory and O(d) work per step at any position.
/// </summary>
public sealed class AftSimpleDecodingState : DecodingState
{
    internal Tensor Max, Numerator, Denominator;

    /// <param name="owner">How errors name the layer.</param>
    /// <param name="batch">Sequences decoded side by side.</param>
    /// <param name="width">Width of Q, K and V.</param>
    /// <param name="like">A parameter of the layer: the state takes its dtype and device.</param>
    public AftSimpleDecodingState(string owner, long batch, long width, Tensor like) : base(owner, batch)
    {
        Max = Owned([batch, width], double.NegativeInfinity, like);
        Numerator = Owned([batch, width], 0, like);
        Denominator = Owned([batch, width], 0, like);
    }

    /// <summary><paramref name="state"/> as a AftSimpleDecodingState; throws, naming <paramref name="layer"/>, when it is another layer's state.</summary>
    public static AftSimpleDecodingState From(DecodingState state, string layer) => Expect<AftSimpleDecodingState>(state, layer);

    /// <summary>Bytes the state holds: three <c>[B, width]</c> tensors, whatever the position.</summary>
    public override long ByteCount => 3 * Max.NumberOfElements * Max.ElementSize;

    /// <inheritdoc/>
    protected override void Clear()
    {
        Max.fill_(double.NegativeInfinity);
        Numerator.zero_();
        Denominator.zero_();
    }

    /// <inheritdoc/>
    protected override void Release()
    {
        Max.Dispose();
        Numerator.Dispose();
        Denominator.Dispose();
    }
}
