using System.Numerics;
using System.Numerics.Tensors;

namespace AftDsl.Kernels.Cpu;

/// <summary>
/// The backward pass of <see cref="AftLocalCpu"/>. With S = G ⊙ σ(Q) and the saved R and ℓ = log D:
/// ∂V_t' = Σ_t e^{K_t' + w_t,t' − ℓ_t} S_t, ∂K_t' = V_t' ⊙ ∂V_t' − Σ_t e^{K_t' + w_t,t' − ℓ_t} S_t ⊙ R_t and
/// ∂w_t,t' = Σ_channels e^{K_t' + w_t,t' − ℓ_t} S_t ⊙ (V_t' − R_t) on the band, w = 0 outside it. Sources
/// outside the band are a running-maximum sum over rows at least s ahead (non-causal also behind), keyed by
/// −ℓ, whose weights e^{K_t' − ℓ_t} ≤ 1; the band uses the forward's factorisation with h = S e^{ρ − ℓ}.
/// Rows of a channel with e^{ρ − ℓ} beyond <see cref="LocalBand.ExactnessLimit{T}"/> take exact terms
/// afterwards instead.
/// </summary>
internal static unsafe class AftLocalCpuBackward<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// Pointers: grad, q, k, v, ratio, logDenominator, shift σ, rowShift ρ, bias, dq, dk, dv.
    /// Returns ∂w on the band, <c>[T, Span]</c>, summed over batch and channels.
    /// </summary>
    public static T[] Run(nint[] p, int batch, int hidden, LocalBand band)
    {
        var blocks = ChannelBlocks.Fixed<T>(batch, hidden);
        var size = band.Length * band.Span;
        var partial = new T[blocks.Count][];
        var limit = T.CreateTruncating(band.ExactnessLimit<T>());
        CpuParallel.For(blocks.Count, item =>
        {
            var (b, start, end) = blocks[item];
            partial[item] = new T[size];
            var exact = Behind(p, b, start, end, hidden, band, limit, partial[item]);
            if (!band.Causal) Ahead(p, b, start, end, hidden, band);
            if (exact is not null) ExactTerms(p, b, hidden, band, exact, partial[item]);
        });
        var total = partial[0];
        const int rowsPerItem = 256;
        CpuParallel.For((size + rowsPerItem * band.Span - 1) / (rowsPerItem * band.Span), item =>
        {
            var slice = new Span<T>(total, item * rowsPerItem * band.Span, Math.Min(rowsPerItem * band.Span, size - item * rowsPerItem * band.Span));
            for (var i = 1; i < partial.Length; i++)
                TensorPrimitives.Add(slice, new ReadOnlySpan<T>(partial[i], item * rowsPerItem * band.Span, slice.Length), slice);
        });
        return total;
    }

    // Rows in reverse order: the band and the sources ≥ s rows behind each source t' (rows t ≥ t' + s).
    // Causal this completes ∂K and ∂V; non-causal the second pass adds the rows ≥ s behind.
    static List<(int Row, int Channel)>? Behind(nint[] p, int b, int start, int end, int hidden, LocalBand band, T limit, T[] dBias)
    {
        T* g = (T*)p[0], q = (T*)p[1], k = (T*)p[2], v = (T*)p[3], ratio = (T*)p[4], logD = (T*)p[5];
        T* shift = (T*)p[6] + (long)b * band.Length, rho = (T*)p[7] + (long)b * band.Length, bias = (T*)p[8];
        T* dq = (T*)p[9], dk = (T*)p[10], dv = (T*)p[11];
        var (length, window, span) = (band.Length, band.Window, band.Span);
        var ring = span;
        var behind = band.Ahead;                                    // rows of h needed behind the source: s − 1 non-causal, 0 causal
        var lanes = Vector<T>.Count;
        var width = end - start;
        var stride = (width + lanes - 1) / lanes * lanes;
        var tail = AftLocalCpuForward<T>.Tail(width, lanes);
        var buffer = new T[4 * ring * stride + 3 * stride + span * lanes + span];
        List<(int Row, int Channel)>? exact = null;
        T* scratch = stackalloc T[lanes];
        int* slots = stackalloc int[span];                     // ring offsets of the source's band rows, found once per source
        var vLimit = new Vector<T>(limit);
        fixed (T* buf = buffer)
        fixed (T* dw = dBias)
        {
            T* hRing = buf, rRing = hRing + ring * stride, sRing = rRing + ring * stride, srRing = sRing + ring * stride;
            T* sMax = srRing + ring * stride, sA = sMax + stride, sB = sA + stride, dwAcc = sB + stride, factors = dwAcc + span * lanes;
            for (var c = 0; c < stride; c += lanes) Lanes.Write(sMax + c, new Vector<T>(T.NegativeInfinity));
            var produced = length - 1;
            var nextBehind = length - 1;
            for (var source = length - 1; source >= 0; source--)
            {
                // Rows ≥ source + s join the running sum before production overwrites their ring slots.
                for (; nextBehind >= source + window; nextBehind--)
                {
                    var slot = nextBehind % ring * stride;
                    var at = ((long)b * length + nextBehind) * hidden + start;
                    for (var c = 0; c < width; c += lanes)
                    {
                        var n = Math.Min(lanes, width - c);
                        var (m, a, w) = (Lanes.Read(sMax + c), Lanes.Read(sA + c), Lanes.Read(sB + c));
                        RunningSum.AddPair(ref m, ref a, ref w, -Lanes.Load(logD + at + c, n, scratch), Lanes.Read(sRing + slot + c), Lanes.Read(srRing + slot + c));
                        Lanes.Write(sMax + c, m);
                        Lanes.Write(sA + c, a);
                        Lanes.Write(sB + c, w);
                    }
                }
                for (; produced >= Math.Max(0, source - behind); produced--)
                {
                    var slot = produced % ring * stride;
                    var row = ((long)b * length + produced) * hidden + start;
                    var vRho = new Vector<T>(rho[produced]);
                    for (var c = 0; c < width; c += lanes)
                    {
                        var n = Math.Min(lanes, width - c);
                        var gate = Lanes.Sigmoid(Lanes.Load(q + row + c, n, scratch));
                        var r = Lanes.Load(ratio + row + c, n, scratch);
                        var sg = Lanes.Load(g + row + c, n, scratch) * gate;
                        Lanes.Store(dq + row + c, sg * r * (Vector<T>.One - gate), n, scratch);
                        var gap = vRho - Lanes.Load(logD + row + c, n, scratch);
                        var wide = Vector.GreaterThan(gap, vLimit);
                        if (n < lanes) wide = Vector.ConditionalSelect(tail, wide, Vector<T>.Zero);
                        var h = Vector.ConditionalSelect(wide, Vector<T>.Zero, sg * Lanes.Exp(Vector.Min(gap, vLimit)));
                        Lanes.Write(hRing + slot + c, h);
                        Lanes.Write(rRing + slot + c, r);
                        Lanes.Write(sRing + slot + c, sg);
                        Lanes.Write(srRing + slot + c, sg * r);
                        if (wide != Vector<T>.Zero)
                            for (var i = 0; i < n; i++)
                                if (wide[i] != T.Zero) (exact ??= []).Add((produced, start + c + i));
                    }
                }

                var (first, last) = band.RowsOf(source);
                var count = last - first + 1;
                var sigma = shift[source];
                for (var i = 0; i < count; i++)
                {
                    var t = first + i;
                    factors[i] = bias[(long)t * span + band.Slot(t, source)] + sigma - rho[t];
                    slots[i] = t % ring * stride;
                }
                var exponents = new Span<T>(factors, count);
                TensorPrimitives.Exp(exponents, exponents);
                new Span<T>(dwAcc, count * lanes).Clear();
                var vSigma = new Vector<T>(sigma);
                var at2 = ((long)b * length + source) * hidden + start;
                for (var c = 0; c < width; c += lanes)
                {
                    var n = Math.Min(lanes, width - c);
                    var key = Lanes.Load(k + at2 + c, n, scratch);
                    var value = Lanes.Load(v + at2 + c, n, scratch);
                    var pk = Lanes.Exp(key - vSigma);
                    if (n < lanes) pk = Vector.ConditionalSelect(tail, pk, Vector<T>.Zero);
                    Vector<T> sumA = Vector<T>.Zero, sumK = Vector<T>.Zero;
                    for (var i = 0; i < count; i++)
                    {
                        var slot = slots[i] + c;
                        var f = new Vector<T>(factors[i]);
                        var h = Lanes.Read(hRing + slot);
                        // h (V − R) directly: V ∂V − Σ h R would cancel where one source carries the row.
                        var d = h * (value - Lanes.Read(rRing + slot));
                        sumA += f * h;
                        sumK += f * d;
                        Lanes.Write(dwAcc + i * lanes, Lanes.Read(dwAcc + i * lanes) + pk * d);
                    }
                    var outside = Lanes.Exp(key + Lanes.Read(sMax + c));
                    var a = Lanes.Read(sA + c);
                    Lanes.Store(dv + at2 + c, pk * sumA + outside * a, n, scratch);
                    Lanes.Store(dk + at2 + c, pk * sumK + outside * (value * a - Lanes.Read(sB + c)), n, scratch);
                }
                for (var i = 0; i < count; i++)
                {
                    var t = first + i;
                    dw[(long)t * span + band.Slot(t, source)] = factors[i] * Vector.Sum(Lanes.Read(dwAcc + i * lanes));
                }
            }
        }
        return exact;
    }

    // Non-causal, rows in order: the terms of rows t ≤ t' − s, s or more rows behind each source t'.
    static void Ahead(nint[] p, int b, int start, int end, int hidden, LocalBand band)
    {
        T* g = (T*)p[0], q = (T*)p[1], k = (T*)p[2], v = (T*)p[3], ratio = (T*)p[4], logD = (T*)p[5];
        T* dk = (T*)p[10], dv = (T*)p[11];
        var (length, window) = (band.Length, band.Window);
        var lanes = Vector<T>.Count;
        var width = end - start;
        var stride = (width + lanes - 1) / lanes * lanes;
        var state = new T[3 * stride];
        T* scratch = stackalloc T[lanes];
        fixed (T* s = state)
        {
            T* sMax = s, sA = s + stride, sB = s + 2 * stride;
            for (var c = 0; c < stride; c += lanes) Lanes.Write(sMax + c, new Vector<T>(T.NegativeInfinity));
            for (var source = 0; source < length; source++)
            {
                if (source >= window)
                {
                    var row = ((long)b * length + source - window) * hidden + start;
                    for (var c = 0; c < width; c += lanes)
                    {
                        var n = Math.Min(lanes, width - c);
                        var sg = Lanes.Load(g + row + c, n, scratch) * Lanes.Sigmoid(Lanes.Load(q + row + c, n, scratch));
                        var (m, a, w) = (Lanes.Read(sMax + c), Lanes.Read(sA + c), Lanes.Read(sB + c));
                        RunningSum.AddPair(ref m, ref a, ref w, -Lanes.Load(logD + row + c, n, scratch), sg, sg * Lanes.Load(ratio + row + c, n, scratch));
                        Lanes.Write(sMax + c, m);
                        Lanes.Write(sA + c, a);
                        Lanes.Write(sB + c, w);
                    }
                }
                var at = ((long)b * length + source) * hidden + start;
                for (var c = 0; c < width; c += lanes)
                {
                    var n = Math.Min(lanes, width - c);
                    var outside = Lanes.Exp(Lanes.Load(k + at + c, n, scratch) + Lanes.Read(sMax + c));
                    var a = Lanes.Read(sA + c);
                    var dValue = Lanes.Load(dv + at + c, n, scratch) + outside * a;
                    var dKey = Lanes.Load(dk + at + c, n, scratch) + outside * (Lanes.Load(v + at + c, n, scratch) * a - Lanes.Read(sB + c));
                    Lanes.Store(dv + at + c, dValue, n, scratch);
                    Lanes.Store(dk + at + c, dKey, n, scratch);
                }
            }
        }
    }

    // The band terms of the rows left out of the factorised sums, each with its own exponent e^{K + w − ℓ} ≤ 1.
    static void ExactTerms(nint[] p, int b, int hidden, LocalBand band, List<(int Row, int Channel)> exact, T[] dBias)
    {
        T* g = (T*)p[0], q = (T*)p[1], k = (T*)p[2], v = (T*)p[3], ratio = (T*)p[4], logD = (T*)p[5], bias = (T*)p[8];
        T* dk = (T*)p[10], dv = (T*)p[11];
        foreach (var (t, channel) in exact)
        {
            var at = ((long)b * band.Length + t) * hidden + channel;
            var sg = g[at] / (T.One + T.Exp(-q[at]));
            var (r, l) = (ratio[at], logD[at]);
            for (var j = band.FirstSlot(t); j <= band.LastSlot(t); j++)
            {
                var source = ((long)b * band.Length + band.Source(t, j)) * hidden + channel;
                var term = T.Exp(k[source] + bias[(long)t * band.Span + j] - l) * sg;
                dv[source] += term;
                dk[source] += (v[source] - r) * term;
                dBias[(long)t * band.Span + j] += (v[source] - r) * term;
            }
        }
    }
}
