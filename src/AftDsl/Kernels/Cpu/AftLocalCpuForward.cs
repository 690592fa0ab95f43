using System.Numerics;
using System.Numerics.Tensors;

namespace AftDsl.Kernels.Cpu;

/// <summary>
/// The forward pass of <see cref="AftLocalCpu"/>: for each row, the out-of-band sources as a running-maximum
/// sum lagging s rows behind (causal; non-causal also a second, reverse pass for the sources s rows ahead)
/// plus the band summed directly, Σ_band e^{w + K}·(V | 1), so nothing cancels. The band factorises as
/// e^{w_t,t' + σ_t' − ρ_t} · e^{K_t' − σ_t'}: σ_t' the largest key at t' (over all channels), ρ_t the row's
/// largest w + σ. The first factor is one exp per (t, t'), shared by every channel; the second one exp
/// per (t', channel), kept in a ring of the band's rows. Channels far below σ (e^{ρ − ℓ} beyond
/// <see cref="LocalBand.ExactnessLimit{T}"/>) are recomputed with their own shift.
/// </summary>
internal static unsafe class AftLocalCpuForward<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Pointers: q, k, v, bias, output, ratio, logDenominator, shift σ [B, T], rowShift ρ [B, T].</summary>
    public static void Run(nint[] p, int batch, int hidden, LocalBand band)
    {
        Shifts((T*)p[1], (T*)p[7], batch * band.Length, hidden);
        var blocks = ChannelBlocks.Fixed<T>(batch, hidden);
        var limit = T.CreateTruncating(Math.Exp(-band.ExactnessLimit<T>()));
        CpuParallel.For(blocks.Count, item =>
        {
            var (b, start, end) = blocks[item];
            Forward(p, b, start, end, hidden, band, limit);
        });
        if (!band.Causal)
            CpuParallel.For(blocks.Count, item =>
            {
                var (b, start, end) = blocks[item];
                Ahead(p, b, start, end, hidden, band);
            });
    }

    // σ_t: the largest key of each position, over all channels.
    static void Shifts(T* k, T* shift, int rows, int hidden)
    {
        var (pk, ps) = ((nint)k, (nint)shift);
        const int rowsPerItem = 256;
        CpuParallel.For((rows + rowsPerItem - 1) / rowsPerItem, item =>
        {
            for (var r = item * rowsPerItem; r < Math.Min(rows, (item + 1) * rowsPerItem); r++)
                ((T*)ps)[r] = TensorPrimitives.Max(new ReadOnlySpan<T>((T*)pk + (long)r * hidden, hidden));
        });
    }

    static void Forward(nint[] p, int b, int start, int end, int hidden, LocalBand band, T limit)
    {
        T* q = (T*)p[0], k = (T*)p[1], v = (T*)p[2], bias = (T*)p[3], y = (T*)p[4], ratio = (T*)p[5], logD = (T*)p[6];
        T* shift = (T*)p[7] + (long)b * band.Length, rho = (T*)p[8] + (long)b * band.Length;
        var (length, window, span, ring) = (band.Length, band.Window, band.Span, band.Span);
        var lanes = Vector<T>.Count;
        var width = end - start;
        var stride = (width + lanes - 1) / lanes * lanes;
        var tail = Tail(width, lanes);
        var buffer = new T[2 * ring * stride + 3 * stride + span];
        T* scratch = stackalloc T[lanes];
        T* lanesOf = stackalloc T[3 * lanes];
        int* slots = stackalloc int[span];                     // ring offsets of the row's band, found once per row
        fixed (T* buf = buffer)
        {
            T* pRing = buf, pvRing = buf + ring * stride, gMax = buf + 2 * ring * stride, gNum = gMax + stride, gDen = gNum + stride, factors = gDen + stride;
            for (var c = 0; c < stride; c += lanes) Lanes.Write(gMax + c, new Vector<T>(T.NegativeInfinity));
            var produced = 0;
            for (var t = 0; t < length; t++)
            {
                for (; produced <= Math.Min(length - 1, t + band.Ahead); produced++)
                {
                    var row = ((long)b * length + produced) * hidden + start;
                    var slot = produced % ring * stride;
                    var sigma = new Vector<T>(shift[produced]);
                    for (var c = 0; c < width; c += lanes)
                    {
                        var n = Math.Min(lanes, width - c);
                        var e = Lanes.Exp(Lanes.Load(k + row + c, n, scratch) - sigma);
                        if (n < lanes) e = Vector.ConditionalSelect(tail, e, Vector<T>.Zero);
                        Lanes.Write(pRing + slot + c, e);
                        Lanes.Write(pvRing + slot + c, e * Lanes.Load(v + row + c, n, scratch));
                    }
                }
                if (t >= window)
                {
                    RunningSum.AddRow(gMax, gNum, gDen, k, v, ((long)b * length + t - window) * hidden + start, width, scratch);
                }

                var (first, last) = (band.FirstSlot(t), band.LastSlot(t));
                var rowShift = T.NegativeInfinity;
                for (var j = first; j <= last; j++)
                    rowShift = T.Max(rowShift, bias[(long)t * span + j] + shift[band.Source(t, j)]);
                for (var j = first; j <= last; j++)
                {
                    factors[j] = bias[(long)t * span + j] + shift[band.Source(t, j)] - rowShift;
                    slots[j] = band.Source(t, j) % ring * stride;
                }
                var exponents = new Span<T>(factors + first, last - first + 1);
                TensorPrimitives.Exp(exponents, exponents);
                if (start == 0) rho[t] = rowShift;
                var vRho = new Vector<T>(rowShift);
                var at = ((long)b * length + t) * hidden + start;
                for (var c = 0; c < width; c += lanes)
                {
                    var n = Math.Min(lanes, width - c);
                    // Two chains of sums, so that the adds' latency overlaps.
                    Vector<T> bandNum = Vector<T>.Zero, bandDen = Vector<T>.Zero, oddNum = Vector<T>.Zero, oddDen = Vector<T>.Zero;
                    var j = first;
                    for (; j < last; j += 2)
                    {
                        var (slot, next) = (slots[j] + c, slots[j + 1] + c);
                        var (f, g) = (new Vector<T>(factors[j]), new Vector<T>(factors[j + 1]));
                        bandNum += f * Lanes.Read(pvRing + slot);
                        bandDen += f * Lanes.Read(pRing + slot);
                        oddNum += g * Lanes.Read(pvRing + next);
                        oddDen += g * Lanes.Read(pRing + next);
                    }
                    if (j == last)
                    {
                        var f = new Vector<T>(factors[j]);
                        bandNum += f * Lanes.Read(pvRing + slots[j] + c);
                        bandDen += f * Lanes.Read(pRing + slots[j] + c);
                    }
                    bandNum += oddNum;
                    bandDen += oddDen;
                    var m = Lanes.Read(gMax + c);
                    var globalLarger = Vector.GreaterThan(m, vRho);
                    var scale = Lanes.Exp(-Vector.Abs(m - vRho));
                    var globalScale = Vector.ConditionalSelect(globalLarger, Vector<T>.One, scale);
                    var bandScale = Vector.ConditionalSelect(globalLarger, scale, Vector<T>.One);
                    var max = Vector.ConditionalSelect(globalLarger, m, vRho);
                    var num = Lanes.Read(gNum + c) * globalScale + bandNum * bandScale;
                    var den = Lanes.Read(gDen + c) * globalScale + bandDen * bandScale;
                    var inexact = Vector.LessThan(den, bandScale * new Vector<T>(limit));
                    if (n < lanes) inexact = Vector.ConditionalSelect(tail, inexact, Vector<T>.Zero);
                    if (inexact != Vector<T>.Zero)
                        Exact(k, v, bias, band, b, t, hidden, start + c, inexact, gMax + c, gNum + c, gDen + c, lanesOf, ref max, ref num, ref den);
                    if (band.Causal)
                    {
                        var r = num / den;
                        Lanes.Store(ratio + at + c, r, n, scratch);
                        Lanes.Store(logD + at + c, max + Lanes.Log(den), n, scratch);
                        Lanes.Store(y + at + c, r * Lanes.Sigmoid(Lanes.Load(q + at + c, n, scratch)), n, scratch);
                    }
                    else
                    {
                        // Partial sums, completed by the reverse pass: (max, numerator, denominator) in (ℓ, R, Y).
                        Lanes.Store(logD + at + c, max, n, scratch);
                        Lanes.Store(ratio + at + c, num, n, scratch);
                        Lanes.Store(y + at + c, den, n, scratch);
                    }
                }
            }
        }
    }

    // The flagged lanes' band with each channel's own shift, joined to the lagged sum.
    static void Exact(T* k, T* v, T* bias, LocalBand band, int b, int t, int hidden, int channel, Vector<T> inexact,
        T* gMax, T* gNum, T* gDen, T* lanesOf, ref Vector<T> max, ref Vector<T> num, ref Vector<T> den)
    {
        var lanes = Vector<T>.Count;
        Lanes.Write(lanesOf, max);
        Lanes.Write(lanesOf + lanes, num);
        Lanes.Write(lanesOf + 2 * lanes, den);
        var (first, last) = (band.FirstSlot(t), band.LastSlot(t));
        for (var i = 0; i < lanes; i++)
        {
            if (inexact[i] == T.Zero) continue;
            long At(int source) => ((long)b * band.Length + source) * hidden + channel + i;
            var shift = T.NegativeInfinity;
            for (var j = first; j <= last; j++)
                shift = T.Max(shift, k[At(band.Source(t, j))] + bias[(long)t * band.Span + j]);
            T bandNum = T.Zero, bandDen = T.Zero;
            for (var j = first; j <= last; j++)
            {
                var source = band.Source(t, j);
                var e = T.Exp(k[At(source)] + bias[(long)t * band.Span + j] - shift);
                bandNum += e * v[At(source)];
                bandDen += e;
            }
            var top = T.Max(gMax[i], shift);
            var (globalScale, bandScale) = (T.Exp(gMax[i] - top), T.Exp(shift - top));
            lanesOf[i] = top;
            lanesOf[lanes + i] = gNum[i] * globalScale + bandNum * bandScale;
            lanesOf[2 * lanes + i] = gDen[i] * globalScale + bandDen * bandScale;
        }
        max = Lanes.Read(lanesOf);
        num = Lanes.Read(lanesOf + lanes);
        den = Lanes.Read(lanesOf + 2 * lanes);
    }

    // Non-causal: joins the sources at least s rows ahead (a reverse running sum) to the partial sums, then R, ℓ and Y.
    static void Ahead(nint[] p, int b, int start, int end, int hidden, LocalBand band)
    {
        T* q = (T*)p[0], k = (T*)p[1], v = (T*)p[2], y = (T*)p[4], ratio = (T*)p[5], logD = (T*)p[6];
        var (length, window) = (band.Length, band.Window);
        var lanes = Vector<T>.Count;
        var width = end - start;
        var stride = (width + lanes - 1) / lanes * lanes;
        var state = new T[3 * stride];
        T* scratch = stackalloc T[lanes];
        fixed (T* s = state)
        {
            T* sMax = s, sNum = s + stride, sDen = s + 2 * stride;
            for (var c = 0; c < stride; c += lanes) Lanes.Write(sMax + c, new Vector<T>(T.NegativeInfinity));
            for (var t = length - 1; t >= 0; t--)
            {
                if (t + window < length)
                {
                    RunningSum.AddRow(sMax, sNum, sDen, k, v, ((long)b * length + t + window) * hidden + start, width, scratch);
                }
                var at = ((long)b * length + t) * hidden + start;
                for (var c = 0; c < width; c += lanes)
                {
                    var n = Math.Min(lanes, width - c);
                    var max = Lanes.Load(logD + at + c, n, scratch);
                    var m = Lanes.Read(sMax + c);
                    var aheadLarger = Vector.GreaterThan(m, max);
                    var scale = Lanes.Exp(-Vector.Abs(m - max));
                    var ownScale = Vector.ConditionalSelect(aheadLarger, scale, Vector<T>.One);
                    var aheadScale = Vector.ConditionalSelect(aheadLarger, Vector<T>.One, scale);
                    var num = Lanes.Load(ratio + at + c, n, scratch) * ownScale + Lanes.Read(sNum + c) * aheadScale;
                    var den = Lanes.Load(y + at + c, n, scratch) * ownScale + Lanes.Read(sDen + c) * aheadScale;
                    var r = num / den;
                    Lanes.Store(ratio + at + c, r, n, scratch);
                    Lanes.Store(logD + at + c, Vector.ConditionalSelect(aheadLarger, m, max) + Lanes.Log(den), n, scratch);
                    Lanes.Store(y + at + c, r * Lanes.Sigmoid(Lanes.Load(q + at + c, n, scratch)), n, scratch);
                }
            }
        }
    }

    /// <summary>The lanes of a row's last, partial vector (all ones when the width fills whole vectors).</summary>
    internal static Vector<T> Tail(int width, int lanes)
    {
        var n = width % lanes;
        if (n == 0) return Vector<T>.AllBitsSet;
        Span<T> mask = stackalloc T[lanes];
        for (var i = 0; i < lanes; i++) mask[i] = i < n ? T.One : T.Zero;
        return Vector.GreaterThan(new Vector<T>(mask), Vector<T>.Zero);
    }
}
