using AftDsl.Cuda;
using TorchSharp;
using static AftDsl.Kernels.Cuda.BandKernelSupport;
using static AftDsl.Kernels.Cuda.CudaLaunch;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace AftDsl.Kernels.Cuda;

/// <summary>Tile sizes of the banded CUDA kernels (compile-time constants; tests use small ones).</summary>
/// <param name="Tile">Target rows per forward block, and the prefix scan's chunk length.</param>
/// <param name="Rows">Threads per channel column of a forward block (blocks are 32 × Rows).</param>
/// <param name="BackwardRows">Most source rows per backward block (fewer when the ∂w tile would not fit in shared memory).</param>
/// <param name="BackwardThreadRows">Threads per channel column of a backward block.</param>
/// <param name="PrivateBiasGradients">AFT-local: sum ∂w in a shared cell per (pair, channel) when that fits with at least
/// <paramref name="BackwardThreadRows"/> rows (else by warp shuffles at every pair).</param>
internal sealed record BandTiles(int Tile = 16, int Rows = 4, int BackwardRows = 16, int BackwardThreadRows = 4, bool PrivateBiasGradients = true);

/// <summary>
/// Host code of the AFT-local CUDA kernels (<c>aft_local.cu</c>): w = U·Wᵀ on the band |t − t'| &lt; s only,
/// the band summed directly and the out-of-band sources added as lagged running-max prefix (and, non-causal,
/// suffix) states, so no term cancels and a causal row reads nothing after it. Same contract as
/// <see cref="AftLocalOperators"/>: gradients of q, k, v, u, w in that order.
/// </summary>
internal static class AftLocalCuda
{
    const string CausalKey = "aft-local-cuda-causal", WindowKey = "aft-local-cuda-window", DtypesKey = "aft-local-cuda-dtypes";

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

        var (prefix, suffix) = Scan(module, shape, "aft_local_chunks_forward", "aft_local_chain", a => a.Tensor(pk, dtype, "k").Tensor(pv, dtype, "v"), withSuffix: !causal);

        var y = empty_like(pq);
        var (shift, denominator, ratio) = (Floats(device, pq.shape), Floats(device, pq.shape), Floats(device, pq.shape));
        var arguments = new KernelArguments().Tensor(pq, dtype, "q").Tensor(pk, dtype, "k").Tensor(pv, dtype, "v")
            .Tensor(band, ScalarType.Float32, "band").Tensor(prefix, ScalarType.Float32, "prefix");
        arguments = suffix is null ? arguments.Int64(0) : arguments.Tensor(suffix, ScalarType.Float32, "suffix");
        Run(module, "aft_local_forward", new Dim3(shape.Chunks, shape.ChannelBlocks, (uint)shape.Batch), new Dim3(Columns, (uint)shape.ThreadRows),
            arguments.Tensor(y, dtype, "y").Tensor(shift, ScalarType.Float32, "shift").Tensor(denominator, ScalarType.Float32, "denominator")
                .Tensor(ratio, ScalarType.Float32, "ratio").Int32(shape.Length));

        ctx.save_data(CausalKey, causal);
        ctx.save_data(WindowKey, window);
        ctx.save_data(DtypesKey, originals.Select(t => t.dtype).ToArray());
        KeepCopies(prepared, originals);
        SavedTensors.Save(ctx, inputs: prepared, created: [band, shift, denominator, ratio]);
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
        var (band, shift, denominator, ratio) = (saved[5], saved[6], saved[7], saved[8]);
        var dtype = q.dtype;
        var shape = new LocalShape(k, u, window, causal);
        var module = Module(dtype, shape);
        var device = q.device;
        var g = Prepared(grad, dtype);

        var (dq, alpha, beta) = Upstream(module, "aft_local_upstream", q, g, ratio, denominator);

        var (prefix, suffix) = Scan(module, shape, "aft_local_chunks_backward", "aft_local_chain",
            a => a.Tensor(shift, ScalarType.Float32, "shift").Tensor(alpha, ScalarType.Float32, "alpha").Tensor(beta, ScalarType.Float32, "beta"), withSuffix: true);

        var (dk, dv) = (empty_like(k), empty_like(v));
        var dband = zeros([shape.Length, shape.Band], dtype: ScalarType.Float32, device: device);
        Run(module, "aft_local_backward", new Dim3(Blocks(shape.Length, shape.BackwardRows), shape.ChannelBlocks), new Dim3(Columns, (uint)shape.BackwardThreadRows),
            new KernelArguments().Tensor(k, dtype, "k").Tensor(v, dtype, "v").Tensor(band, ScalarType.Float32, "band")
                .Tensor(shift, ScalarType.Float32, "shift").Tensor(alpha, ScalarType.Float32, "alpha").Tensor(beta, ScalarType.Float32, "beta")
                .Tensor(prefix, ScalarType.Float32, "prefix").Tensor(suffix!, ScalarType.Float32, "suffix")
                .Tensor(dk, dtype, "dk").Tensor(dv, dtype, "dv").Tensor(dband, ScalarType.Float32, "dband").Int32(shape.Length).Int32(shape.Batch));

        var (du, dw) = (zeros_like(u), zeros_like(w));
        Run(module, "aft_local_factor_gradients", new Dim3((uint)shape.Length), new Dim3((uint)Math.Min(128, (shape.Rank + 31) / 32 * 32)),
            new KernelArguments().Tensor(dband, ScalarType.Float32, "dband").Tensor(u, dtype, "u").Tensor(w, dtype, "w")
                .Tensor(du, dtype, "du").Tensor(dw, dtype, "dw").Int32(shape.Length));

        return InDtypes([dq, dk, dv, du, dw], (ScalarType[])ctx.get_data(DtypesKey));
    }

    static ICudaModule Module(ScalarType dtype, LocalShape shape) =>
        CudaKernels.Module("aft_local.cu",
            ("AFT_BF16", Bf16Flag(dtype, "AFT-local")), ("D", shape.Channels), ("RANK", shape.Rank), ("LO", shape.Before), ("HI", shape.After),
            ("CAUSAL", shape.Causal ? 1 : 0), ("TILE", shape.Tiles.Tile), ("RY", shape.ThreadRows), ("BT", shape.BackwardRows),
            ("RYB", shape.BackwardThreadRows), ("DW_PRIVATE", shape.PrivateBiasGradients ? 1 : 0));

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
            Causal = causal;
            var reach = (int)Math.Min(window - 1, Math.Max(Length - 1, 0));
            Before = reach;
            After = causal ? 0 : reach;
            Tiles = AftLocalCuda.Tiles;
            var rows = Tiles.BackwardRows;
            while (rows > 1 && PrivateShared(rows) > SharedBytes) rows /= 2;
            PrivateBiasGradients = Tiles.PrivateBiasGradients && PrivateShared(rows) <= SharedBytes
                && rows >= Math.Min(Tiles.BackwardThreadRows, Tiles.BackwardRows);
            if (!PrivateBiasGradients)
            {
                rows = Tiles.BackwardRows;
                while (rows > 1 && BackwardShared(rows) > SharedBytes) rows /= 2;
            }
            if (BackwardShared(rows) > SharedBytes || 6 * Tiles.Tile * Columns * 4 > SharedBytes)
                throw new CudaException($"AFT-local window {window} is too wide for the CUDA kernels' shared memory (band of {Band} offsets).");
            BackwardRows = rows;
        }

        int BackwardShared(int rows) => rows * (6 * Columns + Band) * 4;

        int PrivateShared(int rows) => rows * (6 * Columns + Band * Columns) * 4;

        public bool PrivateBiasGradients { get; }

        /// <summary>Threads per column of a forward block: no more than its rows.</summary>
        public int ThreadRows => Math.Min(Tiles.Rows, Tiles.Tile);

        /// <summary>Threads per column of a backward block: no more than its rows.</summary>
        public int BackwardThreadRows => Math.Min(Tiles.BackwardThreadRows, BackwardRows);

        public int Batch { get; }
        public int Length { get; }
        public int Channels { get; }
        public int Rank { get; }
        public Device Device { get; }
        public bool Causal { get; }
        public int Before { get; }
        public int After { get; }
        public int Band => Before + After + 1;
        public BandTiles Tiles { get; }
        public int BackwardRows { get; }
        public uint Chunks => Blocks(Length, Tiles.Tile);
        public uint ChannelBlocks => Blocks(Channels, Columns);
    }
}
