using static TorchSharp.torch;

namespace AftDsl.Decoding;

/// <summary>Causal multi-head attention's KV cache: the keys and values of every position so far, O(t·d).</summary>
public sealed class KeyValueCacheState : DecodingState
{
    internal readonly History Keys, Values;

    /// <param name="owner">How errors name the layer.</param>
    /// <param name="batch">Sequences decoded side by side.</param>
    /// <param name="width">Width of the keys and values (all heads).</param>
    /// <param name="heads">Number of heads; each stores its Dim / heads channels as a row of its own.</param>
    /// <param name="like">A parameter of the layer: the state takes its dtype and device.</param>
    public KeyValueCacheState(string owner, long batch, long width, long heads, Tensor like) : base(owner, batch)
    {
        Heads = heads;
        Keys = new History(batch * heads, width / heads, bound: null, like);
        Values = new History(batch * heads, width / heads, bound: null, like);
    }

    /// <summary>Number of attention heads.</summary>
    public long Heads { get; }

    /// <summary><paramref name="state"/> as a KeyValueCacheState; throws, naming <paramref name="layer"/>, when it is another layer's state.</summary>
    public static KeyValueCacheState From(DecodingState state, string layer) => Expect<KeyValueCacheState>(state, layer);

    /// <summary>Bytes the cache holds; grows with the positions decoded (capacity doubles).</summary>
    public override long ByteCount => Keys.ByteCount + Values.ByteCount;

    /// <inheritdoc/>
    protected override void Clear()
    {
        Keys.Clear();
        Values.Clear();
    }

    /// <inheritdoc/>
    protected override void Release()
    {
        Keys.Dispose();
        Values.Dispose();
    }
}
