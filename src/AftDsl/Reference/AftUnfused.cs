using AftDsl.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Reference;

/// <summary>
/// AFT in the linear-memory forms a user would write with plain TorchSharp operations, differentiated
/// by autograd, which keeps every intermediate for the backward pass. The fused kernels compute the
/// same expressions with hand-written backward passes; this is the peer they are measured against.
/// </summary>
public static class AftUnfused
{
    /// <summary>
    /// AFT-full in its matmul form (numerator = E·(P⊙V), denominator = E·P, E = exp(w), P = exp(K)), with
    /// the stability shifts of <see cref="AftFullKernel"/>; <paramref name="w"/> is <c>[T, T]</c>.
    /// </summary>
    public static Tensor Full(Tensor q, Tensor k, Tensor v, Tensor w, bool causal)
    {
        using var scope = NewDisposeScope();
        Tensor numerator, denominator;
        var hidden = k.shape[2];
        if (causal)
        {
            var shift = k.amax([2], keepdim: true);
            var p = (k - shift).exp();
            var scores = (w.unsqueeze(0) + shift.transpose(1, 2)).masked_fill(CausalMask.Future(k.shape[1], k.device), double.NegativeInfinity);
            var e = (scores - scores.amax([2], keepdim: true)).exp();
            var sums = e.bmm(cat([p * v, p], 2));
            (numerator, denominator) = (sums.narrow(2, 0, hidden), sums.narrow(2, hidden, hidden));
        }
        else
        {
            var p = (k - k.amax([1], keepdim: true)).exp();
            var e = (w - w.amax([1], keepdim: true)).exp();
            var sums = e.matmul(cat([p * v, p], 2));
            (numerator, denominator) = (sums.narrow(2, 0, hidden), sums.narrow(2, hidden, hidden));
        }
        return (q.sigmoid() * numerator / denominator).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// AFT-local in linear time: global sums (cumulative when causal) plus the band correction
    /// (e^w − 1)·P·X on the band blocks of <see cref="BandLayout"/>, w = U·Wᵀ evaluated on the band only,
    /// K shifted by its per-channel max over the whole sequence (causal included, as public implementations do).
    /// </summary>
    public static Tensor Local(Tensor q, Tensor k, Tensor v, Tensor u, Tensor w, long window, bool causal)
    {
        using var scope = NewDisposeScope();
        var hidden = k.shape[2];
        var band = new BandLayout(k.shape[1], window, causal, k.device);
        var p = (k - k.amax([1], keepdim: true)).exp();
        var x = cat([p * v, p], 2);
        var bias = band.BlockFactors(u).bmm(band.WindowFactors(w).transpose(1, 2));
        var inside = band.Mask.logical_and(band.SourceOutside.unsqueeze(1).logical_not());
        var factors = (bias.exp() - 1) * inside.to(bias.dtype);
        var sums = band.Apply(factors, x) + (causal ? x.cumsum(1) : x.sum(1, keepdim: true));
        return (q.sigmoid() * sums.narrow(2, 0, hidden) / sums.narrow(2, hidden, hidden)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// AFT-conv: global sums (cumulative when causal) plus a depthwise convolution of [P ⊙ V | P] with the
    /// kernel e^w − 1, per head; K shifted by its per-head max over all positions. Channels-last inputs as
    /// for <see cref="AftConv.Apply"/>.
    /// </summary>
    public static Tensor Conv(Tensor q, Tensor k, Tensor v, Tensor w, bool causal)
    {
        using var scope = NewDisposeScope();
        var (batch, heads, width) = (k.shape[0], k.shape[^1], v.shape[^1]);
        var spatial = (int)w.dim() - 1;
        var grid = k.shape.Skip(1).Take(spatial).ToArray();
        var positions = grid.Aggregate(1L, (a, b) => a * b);
        var kf = k.reshape(batch, positions, heads);
        var p = (kf - kf.amax([1], keepdim: true)).exp();
        var pv = (p.unsqueeze(3) * v.reshape(batch, positions, heads, width / heads)).reshape(batch, positions, width);
        var x = cat([pv, p], 2);
        var taps = w.exp() - 1;
        var weight = cat([taps.repeat_interleave(width / heads, 0), taps], 0).unsqueeze(1);
        var size = w.shape[1];
        var (before, after) = causal ? (size - 1, 0L) : ((size - 1) / 2, size - 1 - (size - 1) / 2);
        var channelsFirst = x.transpose(1, 2).reshape([batch, width + heads, .. grid]);
        var convolved = spatial == 1
            ? nn.functional.conv1d(nn.functional.pad(channelsFirst, [before, after]), weight, groups: width + heads)
            : nn.functional.conv2d(nn.functional.pad(channelsFirst, [before, after, before, after]), weight, groups: width + heads);
        var sums = convolved.reshape(batch, width + heads, positions).transpose(1, 2) + (causal ? x.cumsum(1) : x.sum(1, keepdim: true));
        var numerator = sums.narrow(2, 0, width).reshape(batch, positions, heads, width / heads);
        var ratio = numerator / sums.narrow(2, width, heads).unsqueeze(3);
        return (q.sigmoid() * ratio.reshape(q.shape)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// AFT-simple: softmax over time when non-causal; causal, cumulative sums of exp(K − max K) with one
    /// max per channel over the whole sequence, as public implementations write it (not bit-exact causal).
    /// </summary>
    public static Tensor Simple(Tensor q, Tensor k, Tensor v, bool causal)
    {
        using var scope = NewDisposeScope();
        Tensor ratio;
        if (causal)
        {
            var p = (k - k.amax([1], keepdim: true)).exp();
            ratio = (p * v).cumsum(1) / p.cumsum(1);
        }
        else
        {
            ratio = (k.softmax(1) * v).sum(1, keepdim: true);
        }
        return (q.sigmoid() * ratio).MoveToOuterDisposeScope();
    }
}
