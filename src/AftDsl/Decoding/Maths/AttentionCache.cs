using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Decoding.Maths;

/// <summary>
/// One step of causal multi-head attention with a KV cache: the new key and value join the cache, and the new
/// query attends to every cached position of its row (scaled dot products, softmax). Heads are stored as rows
/// of their own, <c>[B·heads, t, Dim / heads]</c>, so both products are plain batched matrix products.
/// </summary>
internal static class AttentionCache
{
    /// <remarks><c>positions</c>: Each row's position t, <c>[B]</c> int64; <paramref name="length"/> is the largest t + 1.</remarks>
    public static Tensor Step(Tensor q, Tensor k, Tensor v, long heads, Tensor positions, long length, KeyValueCacheState state)
    {
        var (batch, width) = (q.shape[0], q.shape[1]);
        var headWidth = width / heads;
        var headPositions = positions.repeat_interleave(heads);
        state.Keys.Write(k.reshape(batch * heads, headWidth), headPositions, length - 1);
        state.Values.Write(v.reshape(batch * heads, headWidth), headPositions, length - 1);

        var scores = state.Keys.Prefix(length).bmm(q.reshape(batch * heads, headWidth, 1)).squeeze(2) / Math.Sqrt(headWidth);
        var sources = arange(length, dtype: ScalarType.Int64, device: positions.device).unsqueeze(0);
        var weights = scores.masked_fill(sources > headPositions.unsqueeze(1), double.NegativeInfinity).softmax(1);
        return weights.unsqueeze(1).bmm(state.Values.Prefix(length)).reshape(batch, width);
    }
}
