using static TorchSharp.torch;

namespace AftDsl.Decoding;

/// <summary>
/// Causal AFT-local's (and causal 1-d AFT-conv's) recurrence: the keys and values of the last s − 1
/// positions, which the next position sees with their position biases, and running sums (with their running
/// maximum) of every older position, which it sees with bias 0. O(s·d) memory, O(s·d) work per step.
/// </summary>
public sealed class AftLocalDecodingState : DecodingState
{
    internal Tensor WindowKeys, WindowValues;
    internal Tensor OlderMax, OlderNumerator, OlderDenominator;

    /// <param name="owner">How errors name the layer.</param>
    /// <param name="batch">Sequences decoded side by side.</param>
    /// <param name="width">Width of K and V as the recurrence sees them (AFT-conv: its keys broadcast to Dim).</param>
    /// <param name="window">The window s: a position sees the s − 1 before it with their biases.</param>
    /// <param name="like">A parameter of the layer: the state takes its dtype and device.</param>
    public AftLocalDecodingState(string owner, long batch, long width, long window, Tensor like) : base(owner, batch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1, nameof(window));
        Window = window;
        WindowKeys = Owned([batch, window - 1, width], 0, like);
        WindowValues = Owned([batch, window - 1, width], 0, like);
        OlderMax = Owned([batch, width], double.NegativeInfinity, like);
        OlderNumerator = Owned([batch, width], 0, like);
        OlderDenominator = Owned([batch, width], 0, like);
    }

    /// <summary>The window s.</summary>
    public long Window { get; }

    /// <summary><paramref name="state"/> as a AftLocalDecodingState; throws, naming <paramref name="layer"/>, when it is another layer's state.</summary>
    public static AftLocalDecodingState From(DecodingState state, string layer) => Expect<AftLocalDecodingState>(state, layer);

    /// <summary>Bytes the state holds: 2·(s − 1) + 3 rows of width per sequence, whatever the position.</summary>
    public override long ByteCount => (2 * WindowKeys.NumberOfElements + 3 * OlderMax.NumberOfElements) * OlderMax.ElementSize;

    /// <inheritdoc/>
    protected override void Clear()
    {
        WindowKeys.zero_();
        WindowValues.zero_();
        OlderMax.fill_(double.NegativeInfinity);
        OlderNumerator.zero_();
        OlderDenominator.zero_();
    }

    /// <inheritdoc/>
    protected override void Release()
    {
        WindowKeys.Dispose();
        WindowValues.Dispose();
        OlderMax.Dispose();
        OlderNumerator.Dispose();
        OlderDenominator.Dispose();
    }
}
