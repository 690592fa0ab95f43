using System.Numerics;

namespace AftDsl.Kernels.Cpu;

/// <summary>
/// Causal AFT-conv of a sequence on the CPU. Per (batch, head), walking time: the sources older than the
/// window, t' ≤ t − s, are one running sum at a running max M_t (the RWKV recipe: one exp per step); the
/// target's shift c_t = max(M_t, max over the window of K_t' + w_tap) comes from the past only, so no
/// later input can change an output's bits, and the window is summed directly, every term e^{·} ≤ 1 and
/// one of them 1. The backward walks time backwards with a running sum of the upstream rows at the
/// running max of −c_t. Work items are (batch, block of heads); heads are independent, so the blocking
/// (chosen from the thread count) never changes a result. Window connectivity leaves the running sums
/// empty (M = −∞), so only the window counts.
/// </summary>
internal static unsafe class AftConvCpuCausal<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>Forward: y, the ratio, the denominator and c_t (both per position and head).</summary>
    public static void Forward(AftConvCpuShape s, T* q, T* k, T* v, T* w, T* y, T* ratio, T* denominator, T* shift)
    {
        var (length, size, dh, heads) = (s.Columns, s.KernelColumns, s.HeadWidth, s.Heads);
        var (blocks, perBlock) = HeadBlocks(s);
        ConvFullThreads.For((long)s.Batch * blocks, item =>
        {
            var b = item / blocks;
            var (h0, h1) = ((int)(item % blocks) * perBlock, Math.Min(heads, (int)(item % blocks + 1) * perBlock));
            using var state = new ConvFullScratch<T>((long)(h1 - h0) * (dh + 1));
            using var accumulator = new ConvFullScratch<T>(dh + 1);
            T* z0 = state.Pointer, acc = accumulator.Pointer;
            ChannelLoops.Clear(z0, (h1 - h0) * (dh + 1));
            var running = new T[h1 - h0];
            Array.Fill(running, T.NegativeInfinity);
            for (var t = 0; t < length; t++)
            {
                var row = b * length + t;
                for (var h = h0; h < h1; h++)
                {
                    var z = z0 + (h - h0) * (dh + 1);
                    if (t >= size && !s.WindowOnly)                                     // window only: the older sum stays empty
                    {
                        var old = b * length + t - size;
                        running[h - h0] = Extend(z, running[h - h0], k[old * heads + h], v + old * s.Width + h * dh, T.One, dh);
                    }
                    var m = running[h - h0];
                    var c = m;
                    for (var j = Math.Max(0, size - 1 - t); j < size; j++)
                        c = T.Max(c, k[(row + j - (size - 1)) * heads + h] + w[h * size + j]);
                    ChannelLoops.Scaled(acc, z, T.Exp(m - c), dh + 1);
                    for (var j = Math.Max(0, size - 1 - t); j < size; j++)
                    {
                        var source = row + j - (size - 1);
                        var coefficient = T.Exp(k[source * heads + h] + w[h * size + j] - c);
                        ChannelLoops.AddScaled(acc, v + source * s.Width + h * dh, coefficient, dh);
                        acc[dh] += coefficient;
                    }
                    ChannelLoops.Scaled(ratio + row * s.Width + h * dh, acc, T.One / acc[dh], dh);
                    denominator[row * heads + h] = acc[dh];
                    shift[row * heads + h] = c;
                }
            }
        });
        ConvFullGates<T>.GateAll(q, ratio, y, s.Batch * s.Positions, s.Width);
    }

    /// <summary>Backward: ∂q, ∂k, ∂v, and ∂w summed over the batch and positions.</summary>
    public static void Backward(AftConvCpuShape s, T* grad, T* q, T* k, T* v, T* w, T* ratio, T* denominator, T* shift,
        T* dq, T* dk, T* dv, T* dw)
    {
        var (length, size, dh, heads) = (s.Columns, s.KernelColumns, s.HeadWidth, s.Heads);
        var positions = s.Batch * s.Positions;
        using var upstream = new ConvFullScratch<T>(positions * s.Stacked);
        var hs = upstream.Pointer;
        ConvFullGates<T>.Gradients(grad, q, ratio, denominator, dq, hs, positions, heads, dh);
        var partial = new double[(long)s.Batch * heads * size];
        var (blocks, perBlock) = HeadBlocks(s);
        ConvFullThreads.For((long)s.Batch * blocks, item =>
        {
            var b = item / blocks;
            var (h0, h1) = ((int)(item % blocks) * perBlock, Math.Min(heads, (int)(item % blocks + 1) * perBlock));
            using var state = new ConvFullScratch<T>((long)(h1 - h0) * (dh + 1));
            using var accumulator = new ConvFullScratch<T>(dh + 1);
            T* z0 = state.Pointer, m = accumulator.Pointer;
            ChannelLoops.Clear(z0, (h1 - h0) * (dh + 1));
            var running = new T[h1 - h0];
            Array.Fill(running, T.NegativeInfinity);
            for (var t = length - 1; t >= 0; t--)
            {
                var row = b * length + t;
                for (var h = h0; h < h1; h++)
                {
                    var z = z0 + (h - h0) * (dh + 1);
                    if (t + size < length && !s.WindowOnly)
                    {
                        var target = row + size;
                        running[h - h0] = Extend(z, running[h - h0], -shift[target * heads + h], hs + target * s.Stacked + h * dh,
                            hs[target * s.Stacked + s.Width + h], dh);
                    }
                    var key = k[row * heads + h];
                    var values = v + row * s.Width + h * dh;
                    ChannelLoops.Scaled(m, z, T.Exp(key + running[h - h0]), dh + 1);
                    var dwHead = new Span<double>(partial, (int)((b * heads + h) * size), size);
                    for (var j = Math.Max(0, t + size - length); j < size; j++)
                    {
                        var target = row + size - 1 - j;
                        var coefficient = T.Exp(w[h * size + j] + key - shift[target * heads + h]);
                        var last = hs[target * s.Stacked + s.Width + h];
                        var dot = ChannelLoops.AddScaledDot(m, hs + target * s.Stacked + h * dh, values, coefficient, dh);
                        m[dh] += coefficient * last;
                        dwHead[j] += double.CreateTruncating(coefficient * (dot + last));
                    }
                    new Span<T>(m, dh).CopyTo(new Span<T>(dv + row * s.Width + h * dh, dh));
                    dk[row * heads + h] = ChannelLoops.Dot(values, m, dh) + m[dh];
                }
            }
        });
        for (var j = 0; j < heads * size; j++)
        {
            var sum = 0.0;
            for (long b = 0; b < s.Batch; b++) sum += partial[b * heads * size + j];
            dw[j] = T.CreateTruncating(sum);
        }
    }

    // Adds e^{exponent} · [row | last] to the running sum z (dh + 1 values) kept at the shift `running`;
    // returns the new shift. One exp per step: either the old sum or the new term is scaled.
    static T Extend(T* z, T running, T exponent, T* row, T last, int dh)
    {
        if (exponent > running)
        {
            var scale = T.Exp(running - exponent);
            ChannelLoops.ScaleAdd(z, scale, row, dh);
            z[dh] = scale * z[dh] + last;
            return exponent;
        }
        var weight = T.Exp(exponent - running);
        ChannelLoops.AddScaled(z, row, weight, dh);
        z[dh] += weight * last;
        return running;
    }

    // Heads per work item: enough items to keep every thread busy, each a contiguous block of channels.
    static (int Blocks, int PerBlock) HeadBlocks(AftConvCpuShape s)
    {
        var wanted = (int)Math.Clamp((ConvFullThreads.Degree + s.Batch - 1) / s.Batch, 1, s.Heads);
        var perBlock = (s.Heads + wanted - 1) / wanted;
        return ((s.Heads + perBlock - 1) / perBlock, perBlock);
    }
}
