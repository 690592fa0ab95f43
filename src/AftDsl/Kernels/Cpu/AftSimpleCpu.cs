using System.Numerics;
using AftDsl.Native;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace AftDsl.Kernels.Cpu;

/// <summary>
/// AFT-simple on the CPU in C#: the forward is one pass over Q, K, V (causal: the running-maximum scan
/// of <see cref="RunningSum"/>; non-causal: the same sum over the whole sequence, then one pass for the
/// outputs), the backward one reverse pass (causal) or two passes (non-causal). Each work item owns a
/// batch element's block of channels (<see cref="ChannelBlocks"/>) and walks its rows in time order.
/// Same saved tensors and gradients as <see cref="AftSimpleOperators"/>: R and ℓ = log D.
/// </summary>
/// <remarks>
/// Causal backward: ℓ_t = log Σ_{t' ≤ t} e^{K_t'} never decreases in t, so the reverse scan
/// A_t' = Σ_{t ≥ t'} e^{ℓ_t' − ℓ_t} S_t = S_t' + e^{ℓ_t' − ℓ_t'+1} A_t'+1 has factors at most 1, and
/// Σ_{t ≥ t'} e^{K_t' − ℓ_t} S_t = e^{K_t' − ℓ_t'} A_t' with K_t' ≤ ℓ_t': nothing overflows.
/// </remarks>
internal static unsafe class AftSimpleCpu
{
    const string CausalKey = "causal";

    /// <summary><paramref name="q"/>, <paramref name="k"/>, <paramref name="v"/>: <c>[B, T, H]</c> float32 or float64 CPU tensors; returns <c>[B, T, H]</c>.</summary>
    public static Tensor Forward(AutogradContext ctx, Tensor q, Tensor k, Tensor v, bool causal)
    {
        using var scope = NewDisposeScope();
        var created = new List<Tensor>();
        (q, k, v) = (CpuTensors.Contiguous(q, created), CpuTensors.Contiguous(k, created), CpuTensors.Contiguous(v, created));
        long[] summary = causal ? q.shape : [q.shape[0], 1, q.shape[2]];
        var output = empty_like(q);
        var ratio = empty(summary, q.dtype);
        var logDenominator = empty(summary, q.dtype);
        var tensors = new[] { q, k, v, output, ratio, logDenominator };
        if (CpuTensors.IsDouble(q, "AFT-simple")) Forward<double>(tensors, causal);
        else Forward<float>(tensors, causal);
        ctx.save_data(CausalKey, causal);
        SavedTensors.Save(ctx, inputs: [q, k, v], created: [.. created, ratio, logDenominator]);
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>Gradients of q, k, v (in that order) for the output gradient <paramref name="grad"/>.</summary>
    public static List<Tensor> Backward(AutogradContext ctx, Tensor grad)
    {
        using var scope = NewDisposeScope();
        var causal = (bool)ctx.get_data(CausalKey);
        var saved = ctx.get_saved_variables();
        var (q, k, v, ratio, logDenominator) = (saved[0], saved[1], saved[2], saved[3], saved[4]);
        grad = grad.to(q.dtype).contiguous();                    // y.sum().backward() hands in a stride-0 gradient
        var (dq, dk, dv) = (empty_like(q), empty_like(q), empty_like(q));
        var tensors = new[] { grad, q, k, v, ratio, logDenominator, dq, dk, dv };
        if (CpuTensors.IsDouble(q, "AFT-simple")) Backward<double>(tensors, causal);
        else Backward<float>(tensors, causal);
        return [dq.MoveToOuterDisposeScope(), dk.MoveToOuterDisposeScope(), dv.MoveToOuterDisposeScope()];
    }

    static void Forward<T>(Tensor[] tensors, bool causal) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (batch, length, hidden) = (tensors[0].shape[0], tensors[0].shape[1], tensors[0].shape[2]);
        if (tensors[0].NumberOfElements == 0) return;
        var p = tensors.Select((t, i) => (nint)TensorMemory.Pointer<T>(t, ForwardNames[i])).ToArray();
        var blocks = ChannelBlocks.For<T>(batch, hidden);
        CpuParallel.For(blocks.Count, item =>
        {
            var (b, start, end) = blocks[item];
            if (causal) CausalForward<T>(p, b, start, end, (int)length, (int)hidden);
            else GlobalForward<T>(p, b, start, end, (int)length, (int)hidden);
        });
        GC.KeepAlive(tensors);
    }

    static void Backward<T>(Tensor[] tensors, bool causal) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (batch, length, hidden) = (tensors[1].shape[0], tensors[1].shape[1], tensors[1].shape[2]);
        if (tensors[1].NumberOfElements == 0) return;
        var p = tensors.Select((t, i) => (nint)TensorMemory.Pointer<T>(t, BackwardNames[i])).ToArray();
        var blocks = ChannelBlocks.For<T>(batch, hidden);
        CpuParallel.For(blocks.Count, item =>
        {
            var (b, start, end) = blocks[item];
            if (causal) CausalBackward<T>(p, b, start, end, (int)length, (int)hidden);
            else GlobalBackward<T>(p, b, start, end, (int)length, (int)hidden);
        });
        GC.KeepAlive(tensors);
    }

    static readonly string[] ForwardNames = ["q", "k", "v", "output", "ratio", "logDenominator"];
    static readonly string[] BackwardNames = ["grad", "q", "k", "v", "ratio", "logDenominator", "dq", "dk", "dv"];

    // One block of channels, rows in time order: the running sum, then R = N/D, ℓ = m + log D and Y = σ(Q) R.
    static void CausalForward<T>(nint[] p, int b, int start, int end, int length, int hidden) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* q = (T*)p[0], k = (T*)p[1], v = (T*)p[2], y = (T*)p[3], ratio = (T*)p[4], logD = (T*)p[5];
        var lanes = Vector<T>.Count;
        var width = end - start;
        var stride = Padded(width, lanes);
        var state = new T[3 * stride];
        T* scratch = stackalloc T[lanes];
        fixed (T* s = state)
        {
            T* max = s, num = s + stride, den = s + 2 * stride;
            for (var c = 0; c < stride; c += lanes) Lanes.Write(max + c, new Vector<T>(T.NegativeInfinity));
            for (var t = 0; t < length; t++)
            {
                var row = ((long)b * length + t) * hidden + start;
                for (var c = 0; c < width; c += lanes)
                {
                    var n = Math.Min(lanes, width - c);
                    var at = row + c;
                    var (m, nu, de) = (Lanes.Read(max + c), Lanes.Read(num + c), Lanes.Read(den + c));
                    RunningSum.Add(ref m, ref nu, ref de, Lanes.Load(k + at, n, scratch), Lanes.Load(v + at, n, scratch));
                    Lanes.Write(max + c, m);
                    Lanes.Write(num + c, nu);
                    Lanes.Write(den + c, de);
                    var r = nu / de;
                    Lanes.Store(ratio + at, r, n, scratch);
                    Lanes.Store(logD + at, m + Lanes.Log(de), n, scratch);
                    Lanes.Store(y + at, r * Lanes.Sigmoid(Lanes.Load(q + at, n, scratch)), n, scratch);
                }
            }
        }
    }

    // One block of channels: the sum over the whole sequence, then Y = σ(Q) R row by row.
    static void GlobalForward<T>(nint[] p, int b, int start, int end, int length, int hidden) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* q = (T*)p[0], k = (T*)p[1], v = (T*)p[2], y = (T*)p[3], ratio = (T*)p[4], logD = (T*)p[5];
        var lanes = Vector<T>.Count;
        var width = end - start;
        var stride = Padded(width, lanes);
        var state = new T[3 * stride];
        T* scratch = stackalloc T[lanes];
        fixed (T* s = state)
        {
            T* max = s, num = s + stride, den = s + 2 * stride;
            for (var c = 0; c < stride; c += lanes) Lanes.Write(max + c, new Vector<T>(T.NegativeInfinity));
            for (var t = 0; t < length; t++)
                RunningSum.AddRow(max, num, den, k, v, ((long)b * length + t) * hidden + start, width, scratch);
            var summary = (long)b * hidden + start;
            for (var c = 0; c < width; c += lanes)
            {
                var n = Math.Min(lanes, width - c);
                var de = Lanes.Read(den + c);
                var r = Lanes.Read(num + c) / de;
                Lanes.Write(num + c, r);                                          // num now holds R
                Lanes.Store(ratio + summary + c, r, n, scratch);
                Lanes.Store(logD + summary + c, Lanes.Read(max + c) + Lanes.Log(de), n, scratch);
            }
            for (var t = 0; t < length; t++)
            {
                var row = ((long)b * length + t) * hidden + start;
                for (var c = 0; c < width; c += lanes)
                {
                    var n = Math.Min(lanes, width - c);
                    Lanes.Store(y + row + c, Lanes.Read(num + c) * Lanes.Sigmoid(Lanes.Load(q + row + c, n, scratch)), n, scratch);
                }
            }
        }
    }

    // One block of channels, rows in reverse time order: the suffix sums A (of S) and B (of S ⊙ R), referenced to ℓ_t.
    static void CausalBackward<T>(nint[] p, int b, int start, int end, int length, int hidden) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* g = (T*)p[0], q = (T*)p[1], k = (T*)p[2], v = (T*)p[3], ratio = (T*)p[4], logD = (T*)p[5], dq = (T*)p[6], dk = (T*)p[7], dv = (T*)p[8];
        var lanes = Vector<T>.Count;
        var width = end - start;
        var stride = Padded(width, lanes);
        var state = new T[3 * stride];
        T* scratch = stackalloc T[lanes];
        fixed (T* s = state)
        {
            T* sums = s, weighted = s + stride, next = s + 2 * stride;
            for (var c = 0; c < stride; c += lanes) Lanes.Write(next + c, new Vector<T>(T.PositiveInfinity));
            for (var t = length - 1; t >= 0; t--)
            {
                var row = ((long)b * length + t) * hidden + start;
                for (var c = 0; c < width; c += lanes)
                {
                    var n = Math.Min(lanes, width - c);
                    var at = row + c;
                    var gate = Lanes.Sigmoid(Lanes.Load(q + at, n, scratch));
                    var grad = Lanes.Load(g + at, n, scratch);
                    var r = Lanes.Load(ratio + at, n, scratch);
                    var sg = grad * gate;
                    Lanes.Store(dq + at, sg * r * (Vector<T>.One - gate), n, scratch);
                    var l = Lanes.Load(logD + at, n, scratch);
                    var decay = Lanes.Exp(l - Lanes.Read(next + c));               // ≤ 1; 0 at the last row
                    var a = sg + decay * Lanes.Read(sums + c);
                    var w = sg * r + decay * Lanes.Read(weighted + c);
                    Lanes.Write(sums + c, a);
                    Lanes.Write(weighted + c, w);
                    Lanes.Write(next + c, l);
                    var weight = Lanes.Exp(Lanes.Load(k + at, n, scratch) - l);
                    var dValue = weight * a;
                    Lanes.Store(dv + at, dValue, n, scratch);
                    Lanes.Store(dk + at, Lanes.Load(v + at, n, scratch) * dValue - weight * w, n, scratch);
                }
            }
        }
    }

    // One block of channels: ∂Q and Σ_t S_t, then ∂V = softmax_t(K) Σ S and ∂K = ∂V ⊙ (V − R).
    static void GlobalBackward<T>(nint[] p, int b, int start, int end, int length, int hidden) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* g = (T*)p[0], q = (T*)p[1], k = (T*)p[2], v = (T*)p[3], ratio = (T*)p[4], logD = (T*)p[5], dq = (T*)p[6], dk = (T*)p[7], dv = (T*)p[8];
        var lanes = Vector<T>.Count;
        var width = end - start;
        var stride = Padded(width, lanes);
        var state = new T[3 * stride];
        T* scratch = stackalloc T[lanes];
        var summary = (long)b * hidden + start;
        fixed (T* s = state)
        {
            T* total = s, r = s + stride, l = s + 2 * stride;
            for (var c = 0; c < width; c += lanes)
            {
                var n = Math.Min(lanes, width - c);
                Lanes.Write(r + c, Lanes.Load(ratio + summary + c, n, scratch));
                Lanes.Write(l + c, Lanes.Load(logD + summary + c, n, scratch));
            }
            for (var t = 0; t < length; t++)
            {
                var row = ((long)b * length + t) * hidden + start;
                for (var c = 0; c < width; c += lanes)
                {
                    var n = Math.Min(lanes, width - c);
                    var gate = Lanes.Sigmoid(Lanes.Load(q + row + c, n, scratch));
                    var sg = Lanes.Load(g + row + c, n, scratch) * gate;
                    Lanes.Store(dq + row + c, sg * Lanes.Read(r + c) * (Vector<T>.One - gate), n, scratch);
                    Lanes.Write(total + c, Lanes.Read(total + c) + sg);
                }
            }
            for (var t = 0; t < length; t++)
            {
                var row = ((long)b * length + t) * hidden + start;
                for (var c = 0; c < width; c += lanes)
                {
                    var n = Math.Min(lanes, width - c);
                    var dValue = Lanes.Exp(Lanes.Load(k + row + c, n, scratch) - Lanes.Read(l + c)) * Lanes.Read(total + c);
                    Lanes.Store(dv + row + c, dValue, n, scratch);
                    Lanes.Store(dk + row + c, dValue * (Lanes.Load(v + row + c, n, scratch) - Lanes.Read(r + c)), n, scratch);
                }
            }
        }
    }

    static int Padded(int width, int lanes) => (width + lanes - 1) / lanes * lanes;
}
