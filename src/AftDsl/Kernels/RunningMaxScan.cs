using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Kernels;

/// <summary>
/// Stable prefix (or suffix) sums of exponentially weighted values along time (dim 1):
/// <c>sums[k][t] = Σ_{t' ≤ t} exp(e[t'] − μ[t]) · y[k][t']</c> with <c>μ[t] = max_{t' ≤ t} e[t']</c>.
/// Every weight is at most 1, so nothing overflows, and the leading term of each sum is exactly 1
/// times its value, so no sum underflows to 0/0. This is the "WKV" recipe of RWKV.
/// </summary>
/// <remarks>
/// Time is cut into chunks of about √T steps: a loop over the steps within a chunk runs for all
/// chunks at once, a loop over chunks carries each chunk's state into the next, and one vectorised
/// pass combines the two. Each output reads positions ≤ t only, through the same operations whatever
/// the data, so a causal result is bit-for-bit independent of later inputs. Tensors are
/// <c>[B, T, ...]</c>; the exponent broadcasts against the values over the trailing dimensions
/// (AFT-conv keeps one exponent per head for d/h channels). A null value stands for 1 (denominators).
/// Reduced-precision inputs are accumulated in float32.
/// <para>On a GPU the loops would cost thousands of kernel launches; there the same sums come from
/// libtorch's scan kernels instead (<see cref="ScanStrategy"/>): μ = cummax(e), and per chunk of about T/16
/// steps a float64 cumsum of e^{e − c} y, c the running max where the chunk starts (known before any of
/// its positions), chained across the few chunks and rescaled to μ. Float64 holds e^{e − c} unless a key
/// jumps more than ~700 above every earlier one inside a chunk; any position left non-finite by that
/// takes its value from the loops instead, a choice that reads positions ≤ t only.</para>
/// </remarks>
public static class RunningMaxScan
{
    /// <summary>How the sums are formed: chosen by device, or forced (tests compare the two).</summary>
    public enum ScanStrategy
    {
        /// <summary>Chunked loops on CPU, libtorch's cumulative scans on accelerators.</summary>
        Automatic,
        /// <summary>The chunked loops.</summary>
        Loops,
        /// <summary>cummax and logcumsumexp.</summary>
        CumulativeOperations,
    }

    /// <summary>Process-wide choice; <see cref="ScanStrategy.Automatic"/> unless a test forces one.</summary>
    public static ScanStrategy Strategy { get; set; } = ScanStrategy.Automatic;

    /// <summary>Sums over t' ≤ t. Returns the running maximum μ (shaped like the exponent) and one sum per value.</summary>
    public static (Tensor Max, Tensor[] Sums) Prefix(Tensor exponent, params Tensor?[] values)
    {
        using var scope = NewDisposeScope();
        var dtype = exponent.dtype;
        var work = IsReduced(dtype) ? ScalarType.Float32 : dtype;
        var cumulative = Strategy == ScanStrategy.CumulativeOperations
            || (Strategy == ScanStrategy.Automatic && exponent.device_type != DeviceType.CPU);
        var (max, sums) = cumulative
            ? ScanByCumulativeOperations(exponent.to(work), values.Select(v => v?.to(work)).ToArray())
            : Scan(exponent.to(work), values.Select(v => v?.to(work)).ToArray());
        return (max.to(dtype).MoveToOuterDisposeScope(), sums.Select(s => s.to(dtype).MoveToOuterDisposeScope()).ToArray());
    }

    /// <summary>Sums over t' ≥ t, with μ the maximum over t' ≥ t.</summary>
    public static (Tensor Max, Tensor[] Sums) Suffix(Tensor exponent, params Tensor?[] values)
    {
        using var scope = NewDisposeScope();
        var (max, sums) = Prefix(exponent.flip(1), values.Select(v => v?.flip(1)).ToArray());
        return (max.flip(1).MoveToOuterDisposeScope(), sums.Select(s => s.flip(1).MoveToOuterDisposeScope()).ToArray());
    }

    static bool IsReduced(ScalarType dtype) => dtype is ScalarType.BFloat16 or ScalarType.Float16;

    static (Tensor Max, Tensor[] Sums) ScanByCumulativeOperations(Tensor exponent, Tensor?[] values)
    {
        var length = exponent.shape[1];
        var chunk = Math.Max(64L, (length + 15) / 16);
        var chunks = (length + chunk - 1) / chunk;
        var padded = chunks * chunk;
        var (max, _) = exponent.cummax(1);
        var e = Chunked(PadTime(exponent.to(ScalarType.Float64), padded, double.NegativeInfinity), chunks, chunk);
        var runningMax = Chunked(PadTime(max.to(ScalarType.Float64), padded, 0), chunks, chunk);
        var start = runningMax.narrow(2, 0, 1);                                                  // c_j: [B, n, 1, ...]
        var z = (e - start).exp_();
        var toMax = (start - runningMax).exp_();                                                 // e^{c_j − μ_t} ≤ 1
        var step = (start.narrow(1, 0, chunks - 1) - start.narrow(1, 1, chunks - 1)).exp_();    // e^{c_{j−1} − c_j}

        var sums = new Tensor[values.Length];
        var finite = true;
        for (var k = 0; k < values.Length; k++)
        {
            var local = values[k] is { } value ? (z * Chunked(PadTime(value.to(ScalarType.Float64), padded, 0), chunks, chunk)).cumsum(2) : z.cumsum(2);
            for (long j = 1; j < chunks; j++)                                                    // add the chunks before, each rescaled to c_j
            {
                using var scope = NewDisposeScope();
                var carry = local.select(1, j - 1).select(1, chunk - 1).mul(step.select(1, j - 1).select(1, 0));
                local.select(1, j).add_(carry.unsqueeze(1));
            }
            sums[k] = Unchunk(local.mul_(toMax), length).to(exponent.dtype);
            finite &= sums[k].isfinite().all().item<bool>();
        }
        if (finite)
            return (max, sums);
        // A key jumped beyond float64's range inside a chunk: those positions (and only those) take the loops' value.
        var (_, exact) = Scan(exponent, values);
        return (max, sums.Select((sum, k) => where(sum.isfinite(), sum, exact[k])).ToArray());
    }

    static (Tensor Max, Tensor[] Sums) Scan(Tensor exponent, Tensor?[] values)
    {
        var length = exponent.shape[1];
        var chunk = Math.Max(1L, (long)Math.Ceiling(Math.Sqrt(length)));
        var chunks = (length + chunk - 1) / chunk;
        var padded = chunks * chunk;

        // [B, n, C, ...]: step i of every chunk is one strided slice, so one loop serves all chunks.
        var e = Chunked(PadTime(exponent, padded, double.NegativeInfinity), chunks, chunk);
        var y = values.Select(v => v is null ? null : Chunked(PadTime(v, padded, 0), chunks, chunk)).ToArray();

        // 1. Within each chunk: running max and sums relative to it.
        var localMax = empty_like(e);
        // A null value (1) sums like the exponent; a value may be wider (it broadcasts the exponent).
        var localSums = y.Select(v => empty(v?.shape ?? e.shape, dtype: e.dtype, device: e.device)).ToArray();
        localMax.select(2, 0).copy_(e.select(2, 0));
        for (var k = 0; k < y.Length; k++)
        {
            if (y[k] is { } value) localSums[k].select(2, 0).copy_(value.select(2, 0));
            else localSums[k].select(2, 0).fill_(1);
        }
        for (long i = 1; i < chunk; i++)
        {
            using var step = NewDisposeScope();
            var previous = localMax.select(2, i - 1);
            var current = localMax.select(2, i);
            current.copy_(maximum(previous, e.select(2, i)));
            var decay = (previous - current).exp_();
            var weight = (e.select(2, i) - current).exp_();
            for (var k = 0; k < y.Length; k++)
                Accumulate(localSums[k].select(2, i), localSums[k].select(2, i - 1), decay, y[k]?.select(2, i), weight);
        }
        if (chunks == 1)
            return (Unchunk(localMax, length), localSums.Select(s => Unchunk(s, length)).ToArray());

        // 2. Across chunks: the state carried into chunk j summarises every chunk before it.
        var carryMax = empty(Drop(e.shape, 2), dtype: e.dtype, device: e.device);
        var carrySums = localSums.Select(s => empty(Drop(s.shape, 2), dtype: s.dtype, device: s.device)).ToArray();
        carryMax.select(1, 0).copy_(localMax.select(2, chunk - 1).select(1, 0));
        for (var k = 0; k < y.Length; k++)
            carrySums[k].select(1, 0).copy_(localSums[k].select(2, chunk - 1).select(1, 0));
        for (long j = 1; j < chunks - 1; j++)
        {
            using var step = NewDisposeScope();
            var end = localMax.select(2, chunk - 1).select(1, j);
            var previous = carryMax.select(1, j - 1);
            var current = carryMax.select(1, j);
            current.copy_(maximum(previous, end));
            var decay = (previous - current).exp_();
            var weight = (end - current).exp_();
            for (var k = 0; k < y.Length; k++)
                Accumulate(carrySums[k].select(1, j), carrySums[k].select(1, j - 1), decay, localSums[k].select(2, chunk - 1).select(1, j), weight);
        }

        // 3. Combine: chunk j ≥ 1 adds the carry of chunks < j to each of its local sums.
        var priorMax = carryMax.narrow(1, 0, chunks - 1).unsqueeze(2);
        var later = localMax.narrow(1, 1, chunks - 1);
        using (NewDisposeScope())
        {
            var max = maximum(priorMax, later);
            var priorWeight = (priorMax - max).exp_();
            var localWeight = (later - max).exp_();
            later.copy_(max);
            max.Dispose();
            for (var k = 0; k < y.Length; k++)
                localSums[k].narrow(1, 1, chunks - 1).mul_(localWeight).addcmul_(carrySums[k].narrow(1, 0, chunks - 1).unsqueeze(2), priorWeight, 1);
        }
        return (Unchunk(localMax, length), localSums.Select(s => Unchunk(s, length)).ToArray());
    }

    // target = previous · decay + value · weight (value null: 1).
    static void Accumulate(Tensor target, Tensor previous, Tensor decay, Tensor? value, Tensor weight)
    {
        target.copy_(previous).mul_(decay);
        if (value is null) target.add_(weight);
        else target.addcmul_(value, weight, 1);
    }

    static Tensor PadTime(Tensor tensor, long padded, double fill)
    {
        var missing = padded - tensor.shape[1];
        if (missing == 0) return tensor;
        var shape = tensor.shape.ToArray();
        shape[1] = missing;
        return cat([tensor, full(shape, fill, dtype: tensor.dtype, device: tensor.device)], 1);
    }

    static Tensor Chunked(Tensor tensor, long chunks, long chunk)
    {
        var shape = new List<long> { tensor.shape[0], chunks, chunk };
        shape.AddRange(tensor.shape.Skip(2));
        return tensor.contiguous().view(shape.ToArray());
    }

    static Tensor Unchunk(Tensor tensor, long length)
    {
        var shape = new List<long> { tensor.shape[0], tensor.shape[1] * tensor.shape[2] };
        shape.AddRange(tensor.shape.Skip(3));
        return tensor.view(shape.ToArray()).narrow(1, 0, length);
    }

    static long[] Drop(long[] shape, int dim) => shape.Where((_, i) => i != dim).ToArray();
}
