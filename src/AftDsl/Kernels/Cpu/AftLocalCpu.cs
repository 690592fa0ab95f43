using System.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using AftDsl.Native;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace AftDsl.Kernels.Cpu;

/// <summary>
/// AFT-local on the CPU in C# (w = U·Wᵀ inside |t − t'| &lt; s, 0 outside): the band summed directly on a
/// lagged running-maximum sum (<see cref="AftLocalCpuForward{T}"/>, <see cref="AftLocalCpuBackward{T}"/>),
/// w evaluated on the band only. Same inputs and gradients (q, k, v, u, w) as <see cref="AftLocalOperators"/>.
/// Work items own a batch element's block of channels; the blocks depend on the shape alone, so the
/// gradients of U and W, summed over blocks, do not depend on the thread count.
/// </summary>
internal static unsafe class AftLocalCpu
{
    const string CausalKey = "causal", WindowKey = "window";

    /// <summary>
    /// <paramref name="q"/>, <paramref name="k"/>, <paramref name="v"/>: <c>[B, T, H]</c>; <paramref name="u"/>,
    /// <paramref name="w"/>: <c>[maxLength, rank]</c>; all float32 or all float64 CPU tensors.
    /// </summary>
    public static Tensor Forward(AutogradContext ctx, Tensor q, Tensor k, Tensor v, Tensor u, Tensor w, long window, bool causal)
    {
        using var scope = NewDisposeScope();
        var created = new List<Tensor>();
        (q, k, v) = (CpuTensors.Contiguous(q, created), CpuTensors.Contiguous(k, created), CpuTensors.Contiguous(v, created));
        (u, w) = (CpuTensors.Contiguous(u, created), CpuTensors.Contiguous(w, created));
        var (batch, length, hidden) = (q.shape[0], q.shape[1], q.shape[2]);
        var band = LocalBand.Of(length, window, causal);
        var output = empty_like(q);
        var ratio = empty_like(q);
        var logDenominator = empty_like(q);
        var shift = empty([batch, length], q.dtype);
        var rowShift = empty([batch, length], q.dtype);
        var bias = empty([length, band.Span], q.dtype);
        if (q.NumberOfElements > 0)
        {
            var tensors = new[] { q, k, v, bias, output, ratio, logDenominator, shift, rowShift };
            if (CpuTensors.IsDouble(q, "AFT-local")) Forward<double>(tensors, u, w, band);
            else Forward<float>(tensors, u, w, band);
        }
        ctx.save_data(CausalKey, causal);
        ctx.save_data(WindowKey, window);
        SavedTensors.Save(ctx, inputs: [q, k, v, u, w], created: [.. created, ratio, logDenominator, shift, rowShift, bias]);
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>Gradients of q, k, v, u, w (in that order).</summary>
    public static List<Tensor> Backward(AutogradContext ctx, Tensor grad)
    {
        using var scope = NewDisposeScope();
        var causal = (bool)ctx.get_data(CausalKey);
        var window = (long)ctx.get_data(WindowKey);
        var saved = ctx.get_saved_variables();
        var (q, k, v, u, w) = (saved[0], saved[1], saved[2], saved[3], saved[4]);
        var (ratio, logDenominator, shift, rowShift, bias) = (saved[5], saved[6], saved[7], saved[8], saved[9]);
        grad = grad.to(q.dtype).contiguous();
        var (batch, length, hidden) = (q.shape[0], q.shape[1], q.shape[2]);
        var band = LocalBand.Of(length, window, causal);
        var (dq, dk, dv) = (empty_like(q), empty_like(q), empty_like(q));
        var (du, dw) = (zeros_like(u), zeros_like(w));
        if (q.NumberOfElements > 0)
        {
            var tensors = new[] { grad, q, k, v, ratio, logDenominator, shift, rowShift, bias, dq, dk, dv };
            if (CpuTensors.IsDouble(q, "AFT-local")) Backward<double>(tensors, u, w, du, dw, band);
            else Backward<float>(tensors, u, w, du, dw, band);
        }
        return [dq.MoveToOuterDisposeScope(), dk.MoveToOuterDisposeScope(), dv.MoveToOuterDisposeScope(),
                du.MoveToOuterDisposeScope(), dw.MoveToOuterDisposeScope()];
    }

    static void Forward<T>(Tensor[] tensors, Tensor u, Tensor w, LocalBand band) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var p = tensors.Select((t, i) => (nint)TensorMemory.Pointer<T>(t, ForwardNames[i])).ToArray();
        band.Bias(TensorMemory.Pointer<T>(u, "u"), TensorMemory.Pointer<T>(w, "w"), (int)u.shape[1], (T*)p[3]);
        AftLocalCpuForward<T>.Run(p, (int)tensors[0].shape[0], (int)tensors[0].shape[2], band);
        GC.KeepAlive(tensors);
        GC.KeepAlive(u);
        GC.KeepAlive(w);
    }

    static void Backward<T>(Tensor[] tensors, Tensor u, Tensor w, Tensor du, Tensor dw, LocalBand band) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var p = tensors.Select((t, i) => (nint)TensorMemory.Pointer<T>(t, BackwardNames[i])).ToArray();
        var dBias = AftLocalCpuBackward<T>.Run(p, (int)tensors[1].shape[0], (int)tensors[1].shape[2], band);
        FactorGradients(dBias, TensorMemory.Pointer<T>(u, "u"), TensorMemory.Pointer<T>(w, "w"),
            TensorMemory.Pointer<T>(du, "du"), TensorMemory.Pointer<T>(dw, "dw"), (int)u.shape[1], band);
        GC.KeepAlive(tensors);
        GC.KeepAlive(u);
        GC.KeepAlive(w);
        GC.KeepAlive(du);
        GC.KeepAlive(dw);
    }

    // ∂U_t = Σ_t' ∂w_t,t' W_t' and ∂W_t' = Σ_t ∂w_t,t' U_t over the band; each row is written by one work item.
    static void FactorGradients<T>(T[] dBias, T* u, T* w, T* du, T* dw, int rank, LocalBand band) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (pu, pw, pdu, pdw) = ((nint)u, (nint)w, (nint)du, (nint)dw);
        const int rowsPerItem = 64;
        var items = (band.Length + rowsPerItem - 1) / rowsPerItem;
        CpuParallel.For(2 * items, item =>
        {
            var factorOfU = item < items;
            var first = item % items * rowsPerItem;
            for (var row = first; row < Math.Min(band.Length, first + rowsPerItem); row++)
            {
                var target = new Span<T>((T*)(factorOfU ? pdu : pdw) + (long)row * rank, rank);
                if (factorOfU)
                {
                    for (var j = band.FirstSlot(row); j <= band.LastSlot(row); j++)
                        TensorPrimitives.MultiplyAdd(new ReadOnlySpan<T>((T*)pw + (long)band.Source(row, j) * rank, rank), dBias[(long)row * band.Span + j], target, target);
                }
                else
                {
                    var (from, to) = band.RowsOf(row);
                    for (var t = from; t <= to; t++)
                        TensorPrimitives.MultiplyAdd(new ReadOnlySpan<T>((T*)pu + (long)t * rank, rank), dBias[(long)t * band.Span + band.Slot(t, row)], target, target);
                }
            }
        });
    }

    static readonly string[] ForwardNames = ["q", "k", "v", "bias", "output", "ratio", "logDenominator", "shift", "rowShift"];
    static readonly string[] BackwardNames = ["grad", "q", "k", "v", "ratio", "logDenominator", "shift", "rowShift", "bias", "dq", "dk", "dv"];
}
