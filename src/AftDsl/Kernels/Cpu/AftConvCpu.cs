using System.Numerics;
using AftDsl.Native;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace AftDsl.Kernels.Cpu;

/// <summary>
/// AFT-conv (paper Eq. 6) as single-pass C# kernels over contiguous float32 and float64 CPU tensors, with the
/// same inputs, outputs, saved state and gradients as <see cref="AftConvOperators"/>: non-causal sequences and
/// grids in <see cref="AftConvCpuGrid{T}"/>, causal sequences in <see cref="AftConvCpuCausal{T}"/>. Window
/// sums are taken term by term (never a total minus the window), so no row needs the exact-row repair of
/// the operator kernels. Window connectivity drops the outside sums (and, causal, the running state of the
/// older sources). Threads: <see cref="ConvFullThreads"/>.
/// </summary>
internal static class AftConvCpu
{
    const string CausalKey = "aft-conv-cpu-causal", WindowKey = "aft-conv-cpu-window-only";

    /// <summary>Same contract as <see cref="AftConvOperators.Forward"/>.</summary>
    public static Tensor Forward(AutogradContext ctx, Tensor q, Tensor k, Tensor v, Tensor w, bool causal, bool windowOnly = false)
    {
        using var scope = NewDisposeScope();
        var shape = ShapeOf(q, k, v, w, causal) with { WindowOnly = windowOnly };
        var (qc, kc, vc, wc) = (q.contiguous(), k.contiguous(), v.contiguous(), w.contiguous());
        var y = empty(q.shape, dtype: q.dtype);
        var ratio = empty([shape.Batch, shape.Positions, shape.Width], dtype: q.dtype);
        var denominator = empty([shape.Batch, shape.Positions, shape.Heads], dtype: q.dtype);
        var shift = causal ? empty([shape.Batch, shape.Positions, shape.Heads], dtype: q.dtype) : empty([shape.Batch, shape.Heads], dtype: q.dtype);
        Tensor[] tensors = [qc, kc, vc, wc, y, ratio, denominator, shift];
        if (q.NumberOfElements > 0 && k.NumberOfElements > 0)                          // else no row to point at, nothing to compute
        {
            if (q.dtype == ScalarType.Float32) RunForward<float>(shape, tensors);
            else RunForward<double>(shape, tensors);
        }

        ctx.save_data(CausalKey, causal);
        ctx.save_data(WindowKey, windowOnly);
        SavedTensors.Save(ctx, inputs: [q, k, v, w], created: [ratio, denominator, shift]);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>Gradients of q, k, v, w (in that order), as <see cref="AftConvOperators.Backward"/>.</summary>
    public static List<Tensor> Backward(AutogradContext ctx, Tensor grad)
    {
        using var scope = NewDisposeScope();
        var causal = (bool)ctx.get_data(CausalKey);
        var saved = ctx.get_saved_variables();
        var (q, k, v, w) = (saved[0].contiguous(), saved[1].contiguous(), saved[2].contiguous(), saved[3].contiguous());
        var shape = ShapeOf(q, k, v, w, causal) with { WindowOnly = (bool)ctx.get_data(WindowKey) };
        var upstream = grad.to(q.dtype).contiguous();                      // y.sum().backward() hands in a stride-0 gradient
        var (dq, dk, dv, dw) = (empty(q.shape, dtype: q.dtype), empty(k.shape, dtype: q.dtype), empty(v.shape, dtype: q.dtype), empty(w.shape, dtype: q.dtype));
        Tensor[] tensors = [upstream, q, k, v, w, saved[4], saved[5], saved[6], dq, dk, dv, dw];
        if (q.NumberOfElements == 0 || k.NumberOfElements == 0) dw.zero_();
        else if (q.dtype == ScalarType.Float32) RunBackward<float>(shape, tensors);
        else RunBackward<double>(shape, tensors);
        return [dq.MoveToOuterDisposeScope(), dk.MoveToOuterDisposeScope(), dv.MoveToOuterDisposeScope(), dw.MoveToOuterDisposeScope()];
    }

    static unsafe void RunForward<T>(AftConvCpuShape shape, Tensor[] t) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        T* q = P<T>(t[0], "q"), k = P<T>(t[1], "k"), v = P<T>(t[2], "v"), w = P<T>(t[3], "w");
        T* y = P<T>(t[4], "y"), ratio = P<T>(t[5], "ratio"), denominator = P<T>(t[6], "denominator"), shift = P<T>(t[7], "shift");
        if (shape.Causal) AftConvCpuCausal<T>.Forward(shape, q, k, v, w, y, ratio, denominator, shift);
        else AftConvCpuGrid<T>.Forward(shape, q, k, v, w, y, ratio, denominator, shift);
        GC.KeepAlive(t);
    }

    static unsafe void RunBackward<T>(AftConvCpuShape shape, Tensor[] t) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        T* grad = P<T>(t[0], "grad"), q = P<T>(t[1], "q"), k = P<T>(t[2], "k"), v = P<T>(t[3], "v"), w = P<T>(t[4], "w");
        T* ratio = P<T>(t[5], "ratio"), denominator = P<T>(t[6], "denominator"), shift = P<T>(t[7], "shift");
        T* dq = P<T>(t[8], "dq"), dk = P<T>(t[9], "dk"), dv = P<T>(t[10], "dv"), dw = P<T>(t[11], "dw");
        if (shape.Causal) AftConvCpuCausal<T>.Backward(shape, grad, q, k, v, w, ratio, denominator, shift, dq, dk, dv, dw);
        else AftConvCpuGrid<T>.Backward(shape, grad, q, k, v, w, ratio, denominator, shift, dq, dk, dv, dw);
        GC.KeepAlive(t);
    }

    static unsafe T* P<T>(Tensor tensor, string name) where T : unmanaged => TensorMemory.Pointer<T>(tensor, name);

    static AftConvCpuShape ShapeOf(Tensor q, Tensor k, Tensor v, Tensor w, bool causal)
    {
        if (q.dtype is not (ScalarType.Float32 or ScalarType.Float64))
            throw new ArgumentException($"The AFT-conv CPU kernel takes float32 or float64 tensors; got {q.dtype}.", nameof(q));
        foreach (var (tensor, name) in new[] { (k, "k"), (v, "v"), (w, "w") })
            if (tensor.dtype != q.dtype)
                throw new ArgumentException($"AFT-conv: {name} is {tensor.dtype} but q is {q.dtype}.", name);
        var spatial = (int)w.dim() - 1;
        if (spatial is not (1 or 2) || k.dim() != spatial + 2 || v.dim() != spatial + 2 || !q.shape.SequenceEqual(v.shape))
            throw new ArgumentException($"AFT-conv with w {ShapeGuard.Describe(w.shape)} takes q, v [B, *grid, D] and k [B, *grid, heads] " +
                $"on a {spatial}-d grid; got q {ShapeGuard.Describe(q.shape)}, k {ShapeGuard.Describe(k.shape)}, v {ShapeGuard.Describe(v.shape)}.");
        if (causal && spatial != 1)
            throw new ArgumentException("Causal AFT-conv is defined for sequences only (a 1-d kernel).", nameof(causal));
        var (heads, width) = (k.shape[^1], v.shape[^1]);
        if (w.shape[0] != heads || width % heads != 0 || !k.shape.Take(spatial + 1).SequenceEqual(v.shape.Take(spatial + 1)))
            throw new ArgumentException($"AFT-conv: k {ShapeGuard.Describe(k.shape)}, v {ShapeGuard.Describe(v.shape)} and w {ShapeGuard.Describe(w.shape)} disagree " +
                "(heads must divide the width, and match w's first size).");
        return spatial == 1
            ? new AftConvCpuShape((int)k.shape[0], 1, (int)k.shape[1], (int)heads, (int)(width / heads), 1, (int)w.shape[1], causal)
            : new AftConvCpuShape((int)k.shape[0], (int)k.shape[1], (int)k.shape[2], (int)heads, (int)(width / heads), (int)w.shape[1], (int)w.shape[2], causal);
    }
}
