using AftDsl.Cuda;
using TorchSharp;
using static AftDsl.Kernels.Cuda.BandKernelSupport;
using static AftDsl.Kernels.Cuda.CudaLaunch;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace AftDsl.Kernels.Cuda;

/// <summary>Tile sizes of the banded CUDA kernels (compile-time constants; tests use small ones).</summary>
/// <param name="Tile">AFT-conv: target rows per forward block; both: the backward's scan chunk length.</param>
/// <param name="Rows">AFT-conv: threads per channel column of a forward block (blocks are 32 × Rows).</param>
/// <param name="BackwardRows">Source rows per backward block.</param>
/// <param name="BackwardThreadRows">Threads per channel column of a backward block.</param>
/// <param name="ProductRows">AFT-local: rows of a block of the band's matrix products (the products' M).</param>
/// <param name="GroupElements">AFT-local: the products run for groups of batch elements whose padded rows hold about this many
/// elements (at least one batch element a group), so that their scratch stays small beside the saved tensors.</param>
/// <param name="ForwardRows">AFT-local: rows per forward block, and the length of the forward scan's segments.</param>
/// <param name="ForwardThreadRows">AFT-local: threads per channel column of a forward block (each takes ForwardRows / ForwardThreadRows consecutive rows).</param>
/// <param name="ForwardBandEntries">AFT-local: band entries (and the sources they reach) a causal forward block holds in shared memory at a time.</param>
/// <param name="CausalBackwardRows">AFT-local: source rows per causal backward block, and the length of its scan's segments.</param>
/// <param name="CausalBackwardThreadRows">AFT-local: threads per channel column of a causal backward block.</param>
/// <param name="CausalBackwardEntries">AFT-local: the widest band (window) that the one-kernel causal backward takes; wider ones take the products.</param>
/// <param name="CausalBackwardBatches">AFT-local: batch elements a causal backward block takes in turn, summing their ∂w before one atomic add.</param>
/// <param name="GridRun">AFT-conv on grids: consecutive positions of a row that one thread of the window kernels takes.</param>
/// <param name="GridRunsPerBlock">AFT-conv on grids: runs of a row per backward block (fewer when the kernel's ∂w cells would not fit).</param>
internal sealed record BandTiles(int Tile = 16, int Rows = 4, int BackwardRows = 16, int BackwardThreadRows = 4, int ProductRows = 64,
    long GroupElements = 1 << 24, int ForwardRows = 64, int ForwardThreadRows = 8, int ForwardBandEntries = 32,
    int CausalBackwardRows = 32, int CausalBackwardThreadRows = 8, int CausalBackwardEntries = 32, int CausalBackwardBatches = 8,
    int GridRun = 8, int GridRunsPerBlock = 4);

/// <summary>
/// Host code of the AFT-local CUDA kernels (<c>aft_local.cu</c>, whose header gives the maths): w = U·Wᵀ on the
/// band |t − t'| &lt; s only. Causal, the forward (and, for windows up to <see cref="BandTiles.CausalBackwardEntries"/>,
/// the backward) is one kernel over tiles of rows after two short scan phases, which sums the band itself; otherwise
/// the band is summed as strided batches of matrix products through libtorch (cuBLAS, on the tensor cores), blocks of
/// rows against the sources they face.
/// Out-of-band sources are added as lagged running-max prefix (and, non-causal, suffix) states, so no term cancels
/// and a causal row reads nothing after it. Rows whose band sums fell below float32's range are recomputed exactly
/// (<see cref="ExactRows"/>).
/// Same contract as <see cref="AftLocalOperators"/>: gradients of q, k, v, u, w in that order.
/// </summary>
internal static class AftLocalCuda
{
    const string CausalKey = "aft-local-cuda-causal", WindowKey = "aft-local-cuda-window", DtypesKey = "aft-local-cuda-dtypes";
    const int Threads = 256;
    const long MaxBlocks = 8192;

    /// <summary>The tile sizes the next launches compile with.</summary>
    internal static BandTiles Tiles { get; set; } = new();

    /// <summary>q, k, v: <c>[B, T, D]</c>; u, w: <c>[maxLength ≥ T, rank]</c>; float32 or bfloat16.</summary>
    public static Tensor Forward(AutogradContext ctx, Tensor q, Tensor k, Tensor v, Tensor u, Tensor w, long window, bool causal)
    {
        using var scope = NewDisposeScope();
        var dtype = q.dtype;
        var shape = new LocalShape(k, u, window, causal);
        var module = Module(dtype, shape);
        Tensor[] originals = [q, k, v, u, w];
        var prepared = originals.Select(t => Prepared(t, dtype)).ToArray();
        var (pq, pk, pv, pu, pw) = (prepared[0], prepared[1], prepared[2], prepared[3], prepared[4]);
        var device = q.device;

        var band = Floats(device, shape.Length, shape.Band);
        Run(module, "aft_local_bias", new Dim3((uint)shape.Length), new Dim3(256), new KernelArguments()
            .Tensor(pu, dtype, "u").Tensor(pw, dtype, "w").Tensor(band, ScalarType.Float32, "band").Int32(shape.Length));
        var sigma = pk.amax(2).to(ScalarType.Float32).contiguous();                     // σ_t': each position's largest key
        var mu = Floats(device, shape.Batch, shape.Length);
        Run(module, "aft_local_band_max", new Dim3(Blocks((long)shape.Batch * shape.Length, Threads / 32)), new Dim3(Threads), new KernelArguments()
            .Tensor(band, ScalarType.Float32, "band").Tensor(sigma, ScalarType.Float32, "sigma").Tensor(mu, ScalarType.Float32, "mu")
            .Int32(shape.Length).Int32(shape.Batch * shape.Length));

        var (past, future) = Segments(module, shape, pk, pv);
        var y = empty_like(pq);
        var (shift, denominator, ratio) = (Floats(device, pq.shape), Floats(device, pq.shape), Floats(device, pq.shape));
        var flags = zeros([shape.Batch, shape.Length], dtype: ScalarType.Float32, device: device);
        void Merge(Tensor? sums, int firstBatch, int batches)
        {
            var arguments = new KernelArguments().Tensor(pq, dtype, "q").Tensor(pk, dtype, "k").Tensor(pv, dtype, "v")
                .Tensor(band, ScalarType.Float32, "band").Tensor(sigma, ScalarType.Float32, "sigma").Tensor(mu, ScalarType.Float32, "mu")
                .Tensor(past, ScalarType.Float32, "past states");
            arguments = future is null ? arguments.Int64(0) : arguments.Tensor(future, ScalarType.Float32, "future states");
            arguments = sums is null ? arguments.Int64(0) : arguments.Tensor(sums, dtype, "band sums");
            Run(module, "aft_local_fused_forward", new Dim3(shape.ForwardTiles, shape.ChannelBlocks, (uint)batches), new Dim3(Columns, (uint)shape.Tiles.ForwardThreadRows),
                arguments.Tensor(y, dtype, "y").Tensor(shift, ScalarType.Float32, "shift").Tensor(denominator, ScalarType.Float32, "denominator")
                    .Tensor(ratio, ScalarType.Float32, "ratio").Tensor(flags, ScalarType.Float32, "flags")
                    .Int32(shape.Length).Int32(firstBatch).Int32(shape.BlocksPerBatch));
        }

        // Causal, the kernel sums the band itself; not causal, a band twice as wide goes faster as products on the
        // tensor cores (measured on an H200: docs/benchmarks.md), a group of batch elements at a time.
        if (causal) Merge(null, 0, shape.Batch);
        else
            foreach (var group in shape.Groups())
            {
                using var step = NewDisposeScope();
                var x = Stacked(module, shape, group, pk, pv, sigma);
                Merge(Weights(module, shape, group, band, sigma, mu, transposed: false).bmm(Windows(x, shape, group, shape.Span)), group.First, group.Count);
            }

        var repaired = flags.nonzero();                                                  // [n, 2]: (b, t) of the flagged rows
        if (repaired.shape[0] > 0)
        {
            // Rare (a channel's keys far below the position's largest): those rows exactly, then their outputs again.
            var exact = InFloat32(prepared);
            ExactRows.Repair(ratio, repaired, exact[1], exact[2], Bias(window), [exact[3], exact[4]], causal);
            var (b, t) = (repaired.select(1, 0), repaired.select(1, 1));
            y.index_put_(pq.index([b, t]).to(ScalarType.Float32).sigmoid().mul_(ratio.index([b, t])).to(dtype), b, t);
        }

        ctx.save_data(CausalKey, causal);
        ctx.save_data(WindowKey, window);
        ctx.save_data(DtypesKey, originals.Select(t => t.dtype).ToArray());
        KeepCopies(prepared, originals);
        SavedTensors.Save(ctx, inputs: prepared, created: [band, sigma, mu, shift, denominator, ratio, repaired]);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>Gradients of q, k, v, u, w (in that order), in the dtypes of the forward's inputs.</summary>
    public static List<Tensor> Backward(AutogradContext ctx, Tensor grad)
    {
        using var scope = NewDisposeScope();
        var causal = (bool)ctx.get_data(CausalKey);
        var window = (long)ctx.get_data(WindowKey);
        var saved = ctx.get_saved_variables();
        var (q, k, v, u, w) = (saved[0], saved[1], saved[2], saved[3], saved[4]);
        var (band, sigma, mu, shift, denominator, ratio, repaired) = (saved[5], saved[6], saved[7], saved[8], saved[9], saved[10], saved[11]);
        var dtype = q.dtype;
        var shape = new LocalShape(k, u, window, causal);
        var module = Module(dtype, shape);
        var device = q.device;
        var g = Prepared(grad, dtype);

        var (dq, alpha, beta) = Upstream(module, "aft_local_upstream", q, g, ratio, denominator);
        if (repaired.shape[0] > 0)                              // the exact path handles these rows' gradients
        {
            var (b, t) = (repaired.select(1, 0), repaired.select(1, 1));
            alpha.index_put_(zeros(1, device: device), b, t);
            beta.index_put_(zeros(1, device: device), b, t);
        }

        var (dk, dv) = (empty_like(k), empty_like(v));
        var dband = zeros([shape.Length, shape.Band], dtype: ScalarType.Float32, device: device);
        var parts = new BackwardParts(k, v, band, sigma, mu, shift, alpha, beta, dk, dv, dband);
        // The one-kernel backward sums the band with float32 FMAs: as fast as the products at s = 32 with less memory,
        // twice their time at s = 256 (H200, docs/benchmarks.md); so wider bands, and non-causal ones, take the products.
        if (causal && shape.Band <= shape.Tiles.CausalBackwardEntries) CausalBackward(module, shape, parts);
        else ProductsBackward(module, shape, parts);

        var (du, dw) = (zeros_like(u), zeros_like(w));
        Run(module, "aft_local_factor_gradients", new Dim3((uint)shape.Length), new Dim3((uint)Math.Min(128, (shape.Rank + 31) / 32 * 32)),
            new KernelArguments().Tensor(dband, ScalarType.Float32, "dband").Tensor(u, dtype, "u").Tensor(w, dtype, "w")
                .Tensor(du, dtype, "du").Tensor(dw, dtype, "dw").Int32(shape.Length));

        if (repaired.shape[0] > 0)
        {
            var exact = InFloat32([q, k, v, u, w]);
            var gradients = new[] { k, v, u, w }.Select(t => zeros_like(t, dtype: ScalarType.Float32)).ToArray();
            var gated = exact[0].sigmoid().mul_(g.to(ScalarType.Float32));                                 // S = G ⊙ σ(Q)
            ExactRows.AddGradients(repaired, gated, exact[1], exact[2], Bias(window), [exact[3], exact[4]], causal,
                gradients[0], gradients[1], [gradients[2], gradients[3]]);
            foreach (var (total, part) in new[] { dk, dv, du, dw }.Zip(gradients)) total.add_(part.to(dtype));
        }

        return InDtypes([dq, dk, dv, du, dw], (ScalarType[])ctx.get_data(DtypesKey));
    }

    // Causal, a band of up to CausalBackwardEntries: the target scan's two phases (segments shifted by the window,
    // chained from the end), then one kernel for ∂K, ∂V and ∂w of the band, CausalBackwardBatches batch elements a block.
    static void CausalBackward(ICudaModule module, LocalShape shape, BackwardParts parts)
    {
        var states = new long[] { shape.Batch, shape.CausalBackwardTiles, 3, shape.Channels };
        var (segments, future) = (empty(states, dtype: ScalarType.Float32, device: shape.Device), empty(states, dtype: ScalarType.Float32, device: shape.Device));
        Run(module, "aft_local_target_segments", new Dim3(shape.CausalBackwardTiles, shape.ChannelBlocks, (uint)shape.Batch), new Dim3(Columns),
            new KernelArguments().Tensor(parts.Shift, ScalarType.Float32, "shift").Tensor(parts.Alpha, ScalarType.Float32, "alpha")
                .Tensor(parts.Beta, ScalarType.Float32, "beta").Tensor(segments, ScalarType.Float32, "target segments").Int32(shape.Length));
        Run(module, "aft_local_target_chain", new Dim3(shape.ChannelBlocks, (uint)shape.Batch), new Dim3(Columns),
            new KernelArguments().Tensor(segments, ScalarType.Float32, "target segments").Tensor(future, ScalarType.Float32, "future states")
                .Int32((int)shape.CausalBackwardTiles));
        var dtype = shape.Dtype;
        var blocks = new Dim3(shape.CausalBackwardTiles, shape.ChannelBlocks, Blocks(shape.Batch, shape.Tiles.CausalBackwardBatches));
        Run(module, "aft_local_fused_backward", blocks, new Dim3(Columns, (uint)shape.Tiles.CausalBackwardThreadRows), new KernelArguments()
            .Tensor(parts.K, dtype, "k").Tensor(parts.V, dtype, "v").Tensor(parts.Band, ScalarType.Float32, "band").Tensor(parts.Sigma, ScalarType.Float32, "sigma")
            .Tensor(parts.Mu, ScalarType.Float32, "mu").Tensor(parts.Shift, ScalarType.Float32, "shift").Tensor(parts.Alpha, ScalarType.Float32, "alpha")
            .Tensor(parts.Beta, ScalarType.Float32, "beta").Tensor(future, ScalarType.Float32, "future states")
            .Tensor(parts.Dk, dtype, "dk").Tensor(parts.Dv, dtype, "dv").Tensor(parts.Dband, ScalarType.Float32, "dband").Int32(shape.Length).Int32(shape.Batch));
    }

    // Not causal, or a wider band: chunked target scans, then per group of batch elements the band's three products on the tensor cores,
    // merged with the out-of-band targets by one kernel (∂K, ∂V) and summed at the band's entries by another (∂w).
    static void ProductsBackward(ICudaModule module, LocalShape shape, BackwardParts parts)
    {
        var (k, v, band, sigma, mu, shift, alpha, beta, dk, dv, dband) = parts;
        var (dtype, device) = (shape.Dtype, shape.Device);
        var (prefix, suffix) = Scan(module, shape, "aft_local_chunks_backward", "aft_local_chain",
            a => a.Tensor(shift, ScalarType.Float32, "shift").Tensor(alpha, ScalarType.Float32, "alpha").Tensor(beta, ScalarType.Float32, "beta"), withSuffix: true);
        foreach (var group in shape.Groups())
        {
            using var step = NewDisposeScope();
            var scaled = empty([shape.PaddedRows(group.Count), 2 * shape.Channels], dtype: dtype, device: device);      // Ũ = [α̃ | −β̃]
            Run(module, "aft_local_scaled_upstream", Grid(scaled.NumberOfElements), new Dim3(Threads), new KernelArguments()
                .Tensor(alpha, ScalarType.Float32, "alpha").Tensor(beta, ScalarType.Float32, "beta").Tensor(shift, ScalarType.Float32, "shift")
                .Tensor(mu, ScalarType.Float32, "mu").Tensor(scaled, dtype, "scaled upstream")
                .Int32(shape.Length).Int32(group.First).Int32(group.Count).Int32(shape.RowsPerBatch).Int64(scaled.shape[0]));
            using (NewDisposeScope())
            {
                var transposed = Weights(module, shape, group, band, sigma, mu, transposed: true);
                var products = transposed.bmm(Windows(scaled, shape, group, shape.Span));                          // Eᵀ·Ũ, source rows
                Run(module, "aft_local_backward", new Dim3(Blocks(shape.Length, shape.BackwardRows), shape.ChannelBlocks), new Dim3(Columns, (uint)shape.BackwardThreadRows),
                    new KernelArguments().Tensor(k, dtype, "k").Tensor(v, dtype, "v").Tensor(sigma, ScalarType.Float32, "sigma")
                        .Tensor(shift, ScalarType.Float32, "shift").Tensor(alpha, ScalarType.Float32, "alpha").Tensor(beta, ScalarType.Float32, "beta")
                        .Tensor(prefix, ScalarType.Float32, "prefix").Tensor(suffix!, ScalarType.Float32, "suffix").Tensor(products, dtype, "products")
                        .Tensor(dk, dtype, "dk").Tensor(dv, dtype, "dv").Int32(shape.Length).Int32(group.First).Int32(group.Count).Int32(shape.BlocksPerBatch));
            }
            var x = Stacked(module, shape, group, k, v, sigma);
            var e = Weights(module, shape, group, band, sigma, mu, transposed: false);
            var width = 2L * shape.Channels;
            var targets = scaled.as_strided([shape.ProductBlocks(group.Count), shape.ProductRows, width], [shape.ProductRows * width, width, 1], shape.After * width);
            var bias = targets.bmm(Windows(x, shape, group, shape.Span).transpose(1, 2));                                 // Ũ·Xᵀ, E's layout
            Run(module, "aft_local_band_gradient", Grid((long)shape.Length * shape.Band), new Dim3(Threads), new KernelArguments()
                .Tensor(e, dtype, "E").Tensor(bias, dtype, "products").Tensor(dband, ScalarType.Float32, "dband")
                .Int32(shape.Length).Int32(group.Count).Int32(shape.BlocksPerBatch));
        }
    }

    // The forward's scan phases: aggregates of segments shifted by the lag, then exclusive prefix states of the
    // past's and (non-causal) exclusive suffix states of the future's, [B, tiles, 3, D] each.
    static (Tensor Past, Tensor? Future) Segments(ICudaModule module, LocalShape shape, Tensor k, Tensor v)
    {
        var states = new long[] { shape.Batch, shape.ForwardTiles, 3, shape.Channels };
        Tensor? Maybe() => shape.Causal ? null : empty(states, dtype: ScalarType.Float32, device: shape.Device);
        var (pastSegments, futureSegments) = (empty(states, dtype: ScalarType.Float32, device: shape.Device), Maybe());
        var (past, future) = (empty(states, dtype: ScalarType.Float32, device: shape.Device), Maybe());
        static KernelArguments Optional(KernelArguments a, Tensor? t, string name) => t is null ? a.Int64(0) : a.Tensor(t, ScalarType.Float32, name);
        Run(module, "aft_local_segments", new Dim3(shape.ForwardTiles, shape.ChannelBlocks, (uint)shape.Batch), new Dim3(Columns),
            Optional(new KernelArguments().Tensor(k, k.dtype, "k").Tensor(v, k.dtype, "v").Tensor(pastSegments, ScalarType.Float32, "past segments"),
                futureSegments, "future segments").Int32(shape.Length));
        var chain = Optional(new KernelArguments().Tensor(pastSegments, ScalarType.Float32, "past segments"), futureSegments, "future segments")
            .Tensor(past, ScalarType.Float32, "past states");
        Run(module, "aft_local_segment_chain", new Dim3(shape.ChannelBlocks, (uint)shape.Batch), new Dim3(Columns),
            Optional(chain, future, "future states").Int32((int)shape.ForwardTiles));
        return (past, future);
    }

    static ICudaModule Module(ScalarType dtype, LocalShape shape) =>
        CudaKernels.Module("aft_local.cu",
            ("AFT_BF16", Bf16Flag(dtype, "AFT-local")), ("D", shape.Channels), ("RANK", shape.Rank), ("LO", shape.Before), ("HI", shape.After),
            ("CAUSAL", shape.Causal ? 1 : 0), ("FT", shape.Tiles.ForwardRows), ("FRY", shape.Tiles.ForwardThreadRows),
            ("FB", shape.Tiles.ForwardBandEntries), ("TILE", shape.Tiles.Tile), ("BT", shape.BackwardRows), ("RYB", shape.BackwardThreadRows),
            ("BR", shape.ProductRows), ("CFT", shape.Tiles.CausalBackwardRows), ("CFY", shape.Tiles.CausalBackwardThreadRows),
            ("CFE", shape.Tiles.CausalBackwardEntries), ("CFB", shape.Tiles.CausalBackwardBatches), ("CPR", shape.CausalBackwardSums));

    static Dim3 Grid(long elements) => new((uint)Math.Min(MaxBlocks, Blocks(elements, Threads)));

    // X = [P ⊙ V | P], P = e^{K − σ}, for a group of batch elements, in the padded rows the products' windows read.
    static Tensor Stacked(ICudaModule module, LocalShape shape, BatchGroup group, Tensor k, Tensor v, Tensor sigma)
    {
        var x = empty([shape.PaddedRows(group.Count), 2 * shape.Channels], dtype: k.dtype, device: k.device);
        Run(module, "aft_local_stack", Grid(x.NumberOfElements), new Dim3(Threads), new KernelArguments()
            .Tensor(k, k.dtype, "k").Tensor(v, k.dtype, "v").Tensor(sigma, ScalarType.Float32, "sigma").Tensor(x, k.dtype, "X")
            .Int32(shape.Length).Int32(group.First).Int32(group.Count).Int32(shape.RowsPerBatch).Int64(x.shape[0]));
        return x;
    }

    // E (or Eᵀ, by source blocks) of a group of batch elements: [blocks, rows, span] in the activations' dtype.
    static Tensor Weights(ICudaModule module, LocalShape shape, BatchGroup group, Tensor band, Tensor sigma, Tensor mu, bool transposed)
    {
        var dtype = shape.Dtype;
        var e = empty([shape.ProductBlocks(group.Count), shape.ProductRows, shape.Span], dtype: dtype, device: band.device);
        Run(module, "aft_local_band_weights", Grid(e.NumberOfElements), new Dim3(Threads), new KernelArguments()
            .Tensor(band, ScalarType.Float32, "band").Tensor(sigma, ScalarType.Float32, "sigma").Tensor(mu, ScalarType.Float32, "mu")
            .Tensor(e, dtype, "E").Int32(shape.Length).Int32(group.First).Int32(group.Count).Int32(shape.BlocksPerBatch).Int32(transposed ? 1 : 0));
        return e;
    }

    // The windows of `span` padded rows that the product blocks face, one every ProductRows rows: overlapping views, no copy.
    static Tensor Windows(Tensor padded, LocalShape shape, BatchGroup group, int span) =>
        padded.as_strided([shape.ProductBlocks(group.Count), span, padded.shape[1]], [shape.ProductRows * padded.shape[1], padded.shape[1], 1]);

    /// <summary>What the backward's band kernels read (the saved inputs and scratch) and write (∂K, ∂V, and ∂w on the band).</summary>
    readonly record struct BackwardParts(Tensor K, Tensor V, Tensor Band, Tensor Sigma, Tensor Mu, Tensor Shift, Tensor Alpha, Tensor Beta,
        Tensor Dk, Tensor Dv, Tensor Dband);

    /// <summary>Batch elements [First, First + Count).</summary>
    readonly record struct BatchGroup(int First, int Count);

    static Tensor[] InFloat32(Tensor[] tensors) => [.. tensors.Select(t => t.to(ScalarType.Float32))];

    static BiasRows Bias(long window) => (targets, length, factors) => AftLocalOperators.LocalBiasRows(targets, length, factors, window);

    /// <summary>Sizes of one call, and the tile sizes it compiles with.</summary>
    sealed class LocalShape : IBandShape
    {
        public LocalShape(Tensor k, Tensor u, long window, bool causal)
        {
            if (k.dim() != 3) throw new ArgumentException($"AFT-local takes [B, T, D] inputs; got k of {k.dim()} dimensions.");
            if (window < 1) throw new ArgumentException($"The AFT-local window must be at least 1; got {window}.", nameof(window));
            Batch = Int(k.shape[0], "B");
            Length = Int(k.shape[1], "T");
            Channels = Int(k.shape[2], "D");
            Rank = Int(u.shape[1], "rank");
            if (u.shape[0] < Length) throw new ArgumentException($"AFT-local factors have {u.shape[0]} rows, fewer than the sequence length {Length}.");
            Device = k.device;
            Dtype = k.dtype;
            Causal = causal;
            var reach = (int)Math.Min(window - 1, Math.Max(Length - 1, 0));
            Before = reach;
            After = causal ? 0 : reach;
            Tiles = AftLocalCuda.Tiles;
            if (6 * Tiles.BackwardRows * Columns * 4 > SharedBytes || ForwardShared > SharedBytes)
                throw new CudaException($"AFT-local tiles {Tiles} do not fit the CUDA kernels' shared memory.");
            if (Tiles.ForwardRows % Tiles.ForwardThreadRows != 0 || Tiles.CausalBackwardRows % Tiles.CausalBackwardThreadRows != 0)
                throw new CudaException($"AFT-local tiles {Tiles}: ForwardRows and CausalBackwardRows must be multiples of their ThreadRows.");
            if (CausalBackwardShared > SharedBytes || Tiles.CausalBackwardEntries % CausalBackwardSums != 0)
                throw new CudaException($"AFT-local tiles {Tiles}: the causal backward's entries must fill its threads' ∂w sums evenly, and its block must fit the shared memory.");
            BlocksPerBatch = (int)(Blocks(Length, ProductRows) + Blocks(Before + After, ProductRows));
            Int((long)RowsPerBatch * Math.Max(Span, 2 * Channels), "a batch element's padded rows × (2D + 2s)");   // products run a group of batch elements at a time
        }

        /// <summary>Bytes of shared memory of a forward block: E and X for a chunk of band entries, and the row groups' shares.</summary>
        int ForwardShared
        {
            get
            {
                var (rows, entries) = (Tiles.ForwardRows, Tiles.ForwardBandEntries);
                return (rows * entries + 2 * (rows + entries - 1) * Columns + 3 * Tiles.ForwardThreadRows * Columns) * 4;
            }
        }

        /// <summary>Bytes of shared memory of a causal backward block: E, the targets' and sources' values (rows of 33), the row groups' shares.</summary>
        int CausalBackwardShared
        {
            get
            {
                var (rows, entries) = (Tiles.CausalBackwardRows, Tiles.CausalBackwardEntries);
                return (rows * entries + 2 * (rows + entries - 1 + rows) * (Columns + 1) + 3 * Tiles.CausalBackwardThreadRows * Columns) * 4;
            }
        }

        /// <summary>Band offsets each thread of a causal backward block sums ∂w for (the kernels' CPR): the block's threads cover its rows × entries.</summary>
        public int CausalBackwardSums
        {
            get
            {
                var threads = Columns * Tiles.CausalBackwardThreadRows;
                return (Tiles.CausalBackwardRows * Tiles.CausalBackwardEntries + threads - 1) / threads;
            }
        }

        /// <summary>Tiles of source rows of the causal backward.</summary>
        public uint CausalBackwardTiles => Blocks(Length, Tiles.CausalBackwardRows);

        /// <summary>Threads per column of a backward block: no more than its rows.</summary>
        public int BackwardThreadRows => Math.Min(Tiles.BackwardThreadRows, BackwardRows);

        public int Batch { get; }
        public int Length { get; }
        public int Channels { get; }
        public int Rank { get; }
        public Device Device { get; }
        public ScalarType Dtype { get; }
        public bool Causal { get; }
        public int Before { get; }
        public int After { get; }
        public int Band => Before + After + 1;
        public BandTiles Tiles { get; }
        public int BackwardRows => Tiles.BackwardRows;
        public uint Chunks => Blocks(Length, Tiles.Tile);

        /// <summary>Tiles of rows of the forward.</summary>
        public uint ForwardTiles => Blocks(Length, Tiles.ForwardRows);
        public uint ChannelBlocks => Blocks(Channels, Columns);

        /// <summary>Rows of a product block (the kernels' BR).</summary>
        public int ProductRows => Tiles.ProductRows;

        /// <summary>Sources (targets) a product block faces: its rows and the band's reach either side.</summary>
        public int Span => ProductRows + Before + After;

        /// <summary>Product blocks per batch element: its rows', and enough more that every window stays inside its rows.</summary>
        public int BlocksPerBatch { get; }

        public int RowsPerBatch => BlocksPerBatch * ProductRows;

        /// <summary>Product blocks of <paramref name="batches"/> batch elements (the products' batch).</summary>
        public long ProductBlocks(int batches) => (long)batches * BlocksPerBatch;

        /// <summary>Rows of a padded copy of <paramref name="batches"/> batch elements: theirs, and the last window's overhang.</summary>
        public long PaddedRows(int batches) => (long)batches * RowsPerBatch + Before + After;

        /// <summary>The groups of batch elements the products run for, in order.</summary>
        public IEnumerable<BatchGroup> Groups()
        {
            var size = (int)Math.Clamp(Tiles.GroupElements / ((long)RowsPerBatch * 2 * Channels), 1, Batch);
            for (var first = 0; first < Batch; first += size) yield return new(first, Math.Min(size, Batch - first));
        }
    }
}
