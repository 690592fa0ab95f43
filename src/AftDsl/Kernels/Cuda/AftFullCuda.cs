using AftDsl.Cuda;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace AftDsl.Kernels.Cuda;

/// <summary>
/// AFT-full on the GPU, float32 and bfloat16: the matrix products through libtorch (cuBLAS), every
/// element-wise pass around them one kernel of <c>Cuda/Kernels/aft_full.cu</c> (X = [P ⊙ V | P]; the row-max
/// shift and exp of a bias chunk; ratio, gate and output; the backward's upstream and ∂Q; ∂K and ∂V; ∂bias).
/// Same algorithm, stability scheme (causal: per-position channel-max shift, row maxima over the past,
/// future chunks skipped), exact-row repair and contract as <see cref="AftFullOperators"/>.
/// </summary>
/// <remarks>
/// Causal, each row chunk is one product over the columns up to its last row, the future ones masked to zero.
/// A zero weight times a later NaN or infinity would still be NaN, so X is built with its non-finite elements
/// set to zero and the rows from each batch element's first non-finite position on take the exact path.
/// </remarks>
internal static class AftFullCuda
{
    const string CausalKey = "aft-full-cuda-causal";
    const string Source = "aft_full.cu";
    const int Threads = 256;
    const long MaxBlocks = 8192;

    /// <summary><paramref name="q"/>, <paramref name="k"/>, <paramref name="v"/>: <c>[B, T, H]</c>; <paramref name="u"/>, <paramref name="w"/>: <c>[maxLength, rank]</c>, of which the first T rows are used.</summary>
    public static Tensor Forward(AutogradContext ctx, Tensor q, Tensor k, Tensor v, Tensor u, Tensor w, bool causal)
    {
        using var scope = NewDisposeScope();
        var bias = (U: u, W: w);
        var s = Shape.Of(q, k, v, u, w);
        var (qc, kc, vc) = (q.contiguous(), k.contiguous(), v.contiguous());
        (u, w) = (u.to(s.Dtype), w.to(s.Dtype));               // biases in the activations' dtype (their gradients go back in theirs)
        var module = s.Module();
        var columnShift = kc.amax([causal ? 2 : 1], keepdim: true).contiguous();
        var ratio = empty_like(kc);
        var denominator = empty_like(kc);
        var y = empty_like(qc);
        var rowMax = empty(causal ? [s.B, s.T, 1] : [s.T, 1], dtype: s.Dtype, device: k.device);
        var firstNonFinite = full([s.B], s.T, dtype: ScalarType.Int32, device: k.device);
        using (NewDisposeScope())
        {
            var x = Stacked(module, s, kc, vc, columnShift, causal, firstNonFinite);
            foreach (var chunk in RowChunks.Of(s.T, s.B, causal, k.device_type))
            {
                using var step = NewDisposeScope();
                var e = Weights(module, s, u, w, columnShift, rowMax, chunk, causal, store: true);
                var sums = causal ? e.bmm(x.narrow(1, 0, e.shape[2])) : e.matmul(x);          // [B, c, 2H] or [c, B·2H]
                CudaLaunch.Run(module, "aft_full_output", s.Grid((long)s.B * chunk.Length * s.H), new Dim3(Threads), new KernelArguments()
                    .Tensor(sums, s.Dtype, "sums").Tensor(qc, s.Dtype, "q").Tensor(ratio, s.Dtype, "ratio").Tensor(denominator, s.Dtype, "denominator")
                    .Tensor(y, s.Dtype, "y").Int32(s.B).Int32(s.T).Int32(s.H).Int32((int)chunk.Start).Int32((int)chunk.Length).Int32(causal ? 1 : 0));
            }
        }

        var repaired = RowsToRepair(s, denominator, firstNonFinite);
        if (repaired.shape[0] > 0)
        {
            // Rare (a denominator underflowed, or a causal row at or after a non-finite key or value): the exact rows, then the output again.
            ExactRows.Repair(ratio, repaired, kc, vc, Bias, [u, w], causal);
            var (b, t) = (repaired.select(1, 0), repaired.select(1, 1));
            y.index_put_(qc.index([b, t]).sigmoid().mul_(ratio.index([b, t])), b, t);          // those rows only: the others keep their bits
        }
        ctx.save_data(CausalKey, causal);
        SavedTensors.Save(ctx, inputs: [q, k, v, bias.U, bias.W], created: [ratio, denominator, columnShift, rowMax, repaired]);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>Gradients of q, k, v, u, w (in that order) for the output gradient <paramref name="grad"/> (any strides).</summary>
    public static List<Tensor> Backward(AutogradContext ctx, Tensor grad)
    {
        using var scope = NewDisposeScope();
        var causal = (bool)ctx.get_data(CausalKey);
        var saved = ctx.get_saved_variables();
        var (ratio, denominator, columnShift, rowMax, repaired) = (saved[5], saved[6], saved[7], saved[8], saved[9]);
        var s = Shape.Of(saved[0], saved[1], saved[2], saved[3], saved[4]);
        var (u, w) = (saved[3].to(s.Dtype), saved[4].to(s.Dtype));
        var (qc, kc, vc) = (saved[0].contiguous(), saved[1].contiguous(), saved[2].contiguous());
        var g = grad.to(s.Dtype).contiguous();                  // autograd may hand in an expanded (stride-0) gradient
        var module = s.Module();

        var dq = empty_like(qc);
        var upstream = empty([s.B, s.T, 2 * s.H], dtype: s.Dtype, device: qc.device);
        CudaLaunch.Run(module, "aft_full_upstream", s.Grid((long)s.B * s.T * s.H), new Dim3(Threads), new KernelArguments()
            .Tensor(qc, s.Dtype, "q").Tensor(g, s.Dtype, "grad").Tensor(ratio, s.Dtype, "ratio").Tensor(denominator, s.Dtype, "denominator")
            .Tensor(dq, s.Dtype, "dq").Tensor(upstream, s.Dtype, "upstream").Int32(s.B).Int32(s.T).Int32(s.H));
        if (repaired.shape[0] > 0)                              // the exact path handles these rows' gradients
            upstream.index_put_(zeros(1, dtype: s.Dtype, device: qc.device), repaired.select(1, 0), repaired.select(1, 1));

        var (du, dw) = (zeros_like(u), zeros_like(w));
        // Eᵀ·[∂A | ∂D], laid out as X: per batch when causal; non-causal [T, B·2H], accumulated by addmm.
        var m = zeros(causal ? [s.B, s.T, 2 * s.H] : [s.T, s.B * 2 * s.H], dtype: s.Dtype, device: qc.device);
        using (NewDisposeScope())
        {
            var x = Stacked(module, s, kc, vc, columnShift, causal, firstNonFinite: null);
            foreach (var chunk in RowChunks.Of(s.T, s.B, causal, kc.device_type))
            {
                using var step = NewDisposeScope();
                var e = Weights(module, s, u, w, columnShift, rowMax, chunk, causal, store: false);
                var rows = upstream.narrow(1, chunk.Start, chunk.Length);
                var columns = causal ? chunk.Start + chunk.Length : s.T;
                Tensor products;
                if (causal)
                {
                    m.narrow(1, 0, columns).add_(e.transpose(1, 2).bmm(rows));
                    products = rows.bmm(x.narrow(1, 0, columns).transpose(1, 2));             // [B, c, columns]
                }
                else
                {
                    var flatRows = rows.permute(1, 0, 2).reshape(chunk.Length, s.B * 2 * s.H);  // [c, B·2H]
                    m.addmm_(e.t(), flatRows, 1, 1);
                    products = flatRows.matmul(x.t());                                          // [c, T]
                }
                CudaLaunch.Run(module, "aft_full_bias_gradient", s.Grid(e.NumberOfElements), new Dim3(Threads), new KernelArguments()
                    .Tensor(e, s.Dtype, "E").Tensor(products, s.Dtype, "products").Int64(e.NumberOfElements));
                var dBias = !causal ? products : products.shape[0] == 1 ? products.squeeze(0) : products.sum(dim: 0);
                du.narrow(0, chunk.Start, chunk.Length).add_(dBias.matmul(w.narrow(0, 0, columns)));
                dw.narrow(0, 0, columns).add_(dBias.t().matmul(u.narrow(0, chunk.Start, chunk.Length)));
            }
        }

        var (dk, dv) = (empty_like(kc), empty_like(vc));
        CudaLaunch.Run(module, "aft_full_key_value_gradients", s.Grid((long)s.B * s.T * s.H), new Dim3(Threads), new KernelArguments()
            .Tensor(kc, s.Dtype, "k").Tensor(vc, s.Dtype, "v").Tensor(columnShift, s.Dtype, "shift").Tensor(m, s.Dtype, "M")
            .Tensor(dk, s.Dtype, "dk").Tensor(dv, s.Dtype, "dv").Int32(s.B).Int32(s.T).Int32(s.H).Int32(causal ? 1 : 0));
        if (repaired.shape[0] > 0)
        {
            using var gated = qc.sigmoid().mul_(g);                                              // S = G ⊙ σ(Q)
            ExactRows.AddGradients(repaired, gated, kc, vc, Bias, [u, w], causal, dk, dv, [du, dw]);
        }
        return [dq.MoveToOuterDisposeScope(), dk.MoveToOuterDisposeScope(), dv.MoveToOuterDisposeScope(),
                du.to(saved[3].dtype).MoveToOuterDisposeScope(), dw.to(saved[4].dtype).MoveToOuterDisposeScope()];
    }

    /// <summary>The tensors' sizes and dtype, checked.</summary>
    sealed record Shape(int B, int T, int H, ScalarType Dtype)
    {
        public static Shape Of(Tensor q, Tensor k, Tensor v, Tensor u, Tensor w)
        {
            if (q.dim() != 3 || !q.shape.SequenceEqual(k.shape) || !q.shape.SequenceEqual(v.shape))
                throw new ArgumentException($"AFT-full takes q, k, v of one shape [B, T, H]; got [{string.Join(", ", q.shape)}], [{string.Join(", ", k.shape)}], [{string.Join(", ", v.shape)}].");
            var dtypes = new[] { q.dtype, k.dtype, v.dtype };
            if (dtypes.Distinct().Count() != 1 || q.dtype is not (ScalarType.Float32 or ScalarType.BFloat16) || !u.is_floating_point() || !w.is_floating_point())
                throw new ArgumentException($"The CUDA AFT-full kernels take float32 or bfloat16 q, k, v of one dtype and floating-point u, w; got {string.Join(", ", dtypes)}, {u.dtype}, {w.dtype}.");
            if (q.shape[0] * q.shape[1] * q.shape[2] * 2 > int.MaxValue || u.shape[0] < q.shape[1] || w.shape[0] < q.shape[1])
                throw new ArgumentException($"Shape [{string.Join(", ", q.shape)}] with biases of {u.shape[0]} and {w.shape[0]} rows is out of the kernels' range.");
            return new((int)q.shape[0], (int)q.shape[1], (int)q.shape[2], q.dtype);
        }

        public ICudaModule Module() => CudaKernels.Module(Source, ("AFT_BF16", Dtype == ScalarType.BFloat16 ? 1 : 0));

        /// <summary>Blocks for a grid-stride pass over <paramref name="elements"/>.</summary>
        public Dim3 Grid(long elements) => new((uint)Math.Min(MaxBlocks, CudaLaunch.Blocks(elements, Threads)));
    }

    /// <summary>
    /// The (b, t) rows for the exact path, <c>[n, 2]</c>: those with an underflowed denominator, and causal, every row
    /// from its batch element's first non-finite key or value on (their X was zeroed there).
    /// </summary>
    static Tensor RowsToRepair(Shape s, Tensor denominator, Tensor firstNonFinite)
    {
        using var scope = NewDisposeScope();
        var rows = (denominator < ExactRows.UnderflowThreshold(s.Dtype)).any(2);
        rows.logical_or_(arange(s.T, device: denominator.device).unsqueeze(0) >= firstNonFinite.unsqueeze(1));
        return rows.nonzero().MoveToOuterDisposeScope();
    }

    // X = [P ⊙ V | P]: [B, T, 2H] causal (non-finite elements zeroed, the first one's position per batch element
    // lowered into firstNonFinite when given), [T, B·2H] otherwise.
    static Tensor Stacked(ICudaModule module, Shape s, Tensor k, Tensor v, Tensor shift, bool causal, Tensor? firstNonFinite)
    {
        var x = empty(causal ? [s.B, s.T, 2 * s.H] : [s.T, s.B * 2 * s.H], dtype: s.Dtype, device: k.device);
        var arguments = new KernelArguments().Tensor(k, s.Dtype, "k").Tensor(v, s.Dtype, "v").Tensor(shift, s.Dtype, "shift").Tensor(x, s.Dtype, "X");
        arguments = firstNonFinite is null ? arguments.Int64(0) : arguments.Tensor(firstNonFinite, ScalarType.Int32, "first non-finite");
        CudaLaunch.Run(module, "aft_full_stack", s.Grid((long)s.B * s.T * s.H), new Dim3(Threads),
            arguments.Int32(s.B).Int32(s.T).Int32(s.H).Int32(causal ? 1 : 0));
        return x;
    }

    // E for the chunk's rows: [c, T] non-causal, exp(U·Wᵀ − row max) shared by the batch; [B, c, e] causal,
    // exp(U·Wᵀ + shift − row max) over the columns up to the chunk's last row, the future zero. The forward stores
    // the row maxima, the backward reuses them.
    static Tensor Weights(ICudaModule module, Shape s, Tensor u, Tensor w, Tensor columnShift, Tensor rowMax, (long Start, long Length) chunk, bool causal, bool store)
    {
        var columns = causal ? chunk.Start + chunk.Length : s.T;
        var bias = u.narrow(0, chunk.Start, chunk.Length).matmul(w.narrow(0, 0, columns).t()).contiguous();
        var threads = new Dim3((uint)Math.Clamp((columns / 8 + 31) / 32 * 32, 32, Threads));           // short rows: fewer threads
        if (!causal)
        {
            CudaLaunch.Run(module, "aft_full_exp_rows", new Dim3((uint)chunk.Length), threads, new KernelArguments()
                .Tensor(bias, s.Dtype, "scores").Tensor(rowMax, s.Dtype, "row maxima").Int32((int)columns)
                .Int32((int)chunk.Length).Int32(0).Int32((int)chunk.Start).Int32(store ? 1 : 0));
            return bias;
        }
        var e = empty([s.B, chunk.Length, columns], dtype: s.Dtype, device: u.device);
        CudaLaunch.Run(module, "aft_full_causal_exp_rows", new Dim3(checked((uint)(s.B * chunk.Length))), threads, new KernelArguments()
            .Tensor(bias, s.Dtype, "bias").Tensor(columnShift, s.Dtype, "key maxima").Tensor(e, s.Dtype, "E").Tensor(rowMax, s.Dtype, "row maxima")
            .Int32((int)columns).Int32((int)chunk.Length).Int32(s.T).Int32((int)chunk.Start).Int32(store ? 1 : 0));
        return e;
    }

    /// <summary>The bias rows U[t]·W[:T]ᵀ, for the exact-row path.</summary>
    static Tensor Bias(Tensor targets, long length, IReadOnlyList<Tensor> factors) =>
        factors[0].index_select(0, targets).matmul(factors[1].narrow(0, 0, length).t());
}
