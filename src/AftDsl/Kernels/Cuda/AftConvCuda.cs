using AftDsl.Cuda;
using TorchSharp;
using static AftDsl.Kernels.Cuda.BandKernelSupport;
using static AftDsl.Kernels.Cuda.CudaLaunch;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace AftDsl.Kernels.Cuda;

/// <summary>
/// Host code of the AFT-conv CUDA kernels (<c>aft_conv.cu</c>). Sequences (w <c>[heads, s]</c>, causal or not)
/// run the AFT-local scheme with relative taps: band summed directly, out-of-band sources as lagged running-max
/// states. Grids (w <c>[heads, s, s]</c>, non-causal) shift each head's keys by their grid maximum and sum the
/// window plus the rows above and below it and the columns left and right of it, all positive sums. Window
/// connectivity compiles with WINDOW = 1 and runs none of the out-of-window scans (sequences) or outside sums (grids). Same
/// contract as <see cref="AftConvOperators"/>: gradients of q, k, v, w in that order.
/// </summary>
internal static class AftConvCuda
{
    const string CausalKey = "aft-conv-cuda-causal", WindowKey = "aft-conv-cuda-window-only", DtypesKey = "aft-conv-cuda-dtypes";

    /// <summary>q, v: <c>[B, *grid, D]</c>; k: <c>[B, *grid, heads]</c>; w: <c>[heads, s]</c> or <c>[heads, s, s]</c>; float32 or bfloat16;
    /// <paramref name="windowOnly"/>: sources outside the window do not count.</summary>
    public static Tensor Forward(AutogradContext ctx, Tensor q, Tensor k, Tensor v, Tensor w, bool causal, bool windowOnly = false)
    {
        using var scope = NewDisposeScope();
        var dtype = q.dtype;
        var shape = new ConvShape(k, v, w, causal, windowOnly);
        var module = Module(dtype, shape);
        Tensor[] originals = [q, k, v];
        var prepared = originals.Select(t => Prepared(t, dtype)).ToArray();
        var (pq, pk, pv) = (prepared[0], prepared[1], prepared[2]);
        var taps = Prepared(w, ScalarType.Float32);
        if (ReferenceEquals(taps, w)) taps = w.detach().clone();     // saved as created: never the caller's own tensor
        var device = q.device;
        var y = empty_like(pq);
        var (denominator, ratio) = (Floats(device, pq.shape), Floats(device, pq.shape));
        Tensor[] created;
        if (shape.Spatial == 1)
        {
            var (prefix, suffix) = windowOnly ? (null, null)                                     // the kernel reads no lagged state
                : Scan(module, shape, "aft_conv1_chunks_forward", "aft_conv1_chain", a => a.Tensor(pk, dtype, "k").Tensor(pv, dtype, "v"), withSuffix: !causal);
            var shift = Floats(device, pq.shape);
            var arguments = new KernelArguments().Tensor(pq, dtype, "q").Tensor(pk, dtype, "k").Tensor(pv, dtype, "v")
                .Tensor(taps, ScalarType.Float32, "taps");
            arguments = prefix is null ? arguments.Int64(0) : arguments.Tensor(prefix, ScalarType.Float32, "prefix");
            arguments = suffix is null ? arguments.Int64(0) : arguments.Tensor(suffix, ScalarType.Float32, "suffix");
            Run(module, "aft_conv1_forward", new Dim3(shape.Chunks, shape.ChannelBlocks, (uint)shape.Batch), new Dim3(Columns, (uint)shape.Tiles.Rows),
                arguments.Tensor(y, dtype, "y").Tensor(shift, ScalarType.Float32, "shift").Tensor(denominator, ScalarType.Float32, "denominator")
                    .Tensor(ratio, ScalarType.Float32, "ratio").Int32(shape.Length));
            created = [taps, shift, denominator, ratio];
        }
        else
        {
            var (exponentials, shifted, outsideScale) = GridShifts(module, shape, pk, taps, dtype);
            OutsideSums? outside = windowOnly ? null : Outside(module, shape, "forward",
                a => a.Tensor(exponentials, ScalarType.Float32, "exponentials").Tensor(pv, dtype, "v"));
            Run(module, "aft_conv2_forward", new Dim3(Blocks(shape.RunsPerRow * shape.Channels, 256), (uint)shape.Height, (uint)shape.Batch), new Dim3(256), OutsideArguments(new KernelArguments()
                .Tensor(pq, dtype, "q").Tensor(exponentials, ScalarType.Float32, "exponentials").Tensor(pv, dtype, "v")
                .Tensor(shifted, ScalarType.Float32, "shifted").Tensor(outsideScale, ScalarType.Float32, "outsideScale"), outside)
                .Tensor(y, dtype, "y").Tensor(denominator, ScalarType.Float32, "denominator").Tensor(ratio, ScalarType.Float32, "ratio")
                .Int32(shape.Height).Int32(shape.Width));
            created = [exponentials, shifted, outsideScale, denominator, ratio];
        }

        ctx.save_data(CausalKey, causal);
        ctx.save_data(WindowKey, windowOnly);
        ctx.save_data(DtypesKey, new[] { q.dtype, k.dtype, v.dtype, w.dtype });
        KeepCopies(prepared, originals);
        SavedTensors.Save(ctx, inputs: [pq, pk, pv, w], created: created);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>Gradients of q, k, v, w (in that order), in the dtypes of the forward's inputs.</summary>
    public static List<Tensor> Backward(AutogradContext ctx, Tensor grad)
    {
        using var scope = NewDisposeScope();
        var causal = (bool)ctx.get_data(CausalKey);
        var windowOnly = (bool)ctx.get_data(WindowKey);
        var saved = ctx.get_saved_variables();
        var (q, k, v, w) = (saved[0], saved[1], saved[2], saved[3]);
        var dtype = q.dtype;
        var shape = new ConvShape(k, v, w, causal, windowOnly);
        var module = Module(dtype, shape);
        var device = q.device;
        var g = Prepared(grad, dtype);
        var (denominator, ratio) = shape.Spatial == 1 ? (saved[6], saved[7]) : (saved[7], saved[8]);

        var (dq, alpha, beta) = Upstream(module, "aft_conv_upstream", q, g, ratio, denominator);

        var dkChannels = Floats(device, q.shape);
        var dv = empty_like(v);
        var dtaps = zeros(w.shape, dtype: ScalarType.Float32, device: device);
        if (shape.Spatial == 1)
        {
            var (taps, shift) = (saved[4], saved[5]);
            var (prefix, suffix) = windowOnly ? (null, null)
                : Scan(module, shape, "aft_conv1_chunks_backward", "aft_conv1_chain",
                    a => a.Tensor(shift, ScalarType.Float32, "shift").Tensor(alpha, ScalarType.Float32, "alpha").Tensor(beta, ScalarType.Float32, "beta"), withSuffix: true);
            var arguments = new KernelArguments().Tensor(k, dtype, "k").Tensor(v, dtype, "v").Tensor(taps, ScalarType.Float32, "taps")
                .Tensor(shift, ScalarType.Float32, "shift").Tensor(alpha, ScalarType.Float32, "alpha").Tensor(beta, ScalarType.Float32, "beta");
            arguments = prefix is null ? arguments.Int64(0) : arguments.Tensor(prefix, ScalarType.Float32, "prefix");
            arguments = suffix is null ? arguments.Int64(0) : arguments.Tensor(suffix, ScalarType.Float32, "suffix");
            Run(module, "aft_conv1_backward", new Dim3(Blocks(shape.Length, shape.BackwardRows), shape.ChannelBlocks), new Dim3(Columns, (uint)shape.Tiles.BackwardThreadRows),
                arguments
                    .Tensor(dkChannels, ScalarType.Float32, "dkChannels").Tensor(dv, dtype, "dv").Tensor(dtaps, ScalarType.Float32, "dtaps")
                    .Int32(shape.Length).Int32(shape.Batch));
        }
        else
        {
            var (exponentials, shifted, outsideScale) = (saved[4], saved[5], saved[6]);
            OutsideSums? outside = windowOnly ? null : Outside(module, shape, "backward",
                a => a.Tensor(alpha, ScalarType.Float32, "alpha").Tensor(beta, ScalarType.Float32, "beta"));
            Run(module, "aft_conv2_backward", new Dim3((uint)(shape.Height * shape.BackwardBlocksPerRow), shape.ChannelBlocks, (uint)shape.Batch),
                new Dim3(Columns, (uint)shape.GridRuns), OutsideArguments(new KernelArguments()
                .Tensor(exponentials, ScalarType.Float32, "exponentials").Tensor(v, dtype, "v")
                .Tensor(shifted, ScalarType.Float32, "shifted").Tensor(outsideScale, ScalarType.Float32, "outsideScale"), outside)
                .Tensor(alpha, ScalarType.Float32, "alpha").Tensor(beta, ScalarType.Float32, "beta")
                .Tensor(dkChannels, ScalarType.Float32, "dkChannels").Tensor(dv, dtype, "dv").Tensor(dtaps, ScalarType.Float32, "dtaps")
                .Int32(shape.Height).Int32(shape.Width));
        }

        var dk = empty_like(k);
        var keys = k.NumberOfElements;
        Run(module, "aft_conv_key_gradients", new Dim3(Blocks(keys, 256)), new Dim3(256), new KernelArguments()
            .Tensor(dkChannels, ScalarType.Float32, "dkChannels").Tensor(dk, dtype, "dk").Int64(keys / shape.Heads));

        return InDtypes([dq, dk, dv, dtaps], (ScalarType[])ctx.get_data(DtypesKey));
    }

    // Grids: e^{K − M} per (batch, position, head) with M each head's key maximum per batch element, the shifted
    // taps e^{w − ρ} and the outside scale e^{−ρ}.
    static (Tensor Exponentials, Tensor Shifted, Tensor OutsideScale) GridShifts(ICudaModule module, ConvShape shape, Tensor k, Tensor taps, ScalarType dtype)
    {
        var keyMax = Floats(shape.Device, shape.Batch, shape.Heads);
        Run(module, "aft_conv2_key_max", new Dim3((uint)(shape.Batch * shape.Heads)), new Dim3(256), new KernelArguments()
            .Tensor(k, dtype, "k").Tensor(keyMax, ScalarType.Float32, "keyMax").Int32(shape.Positions));
        var exponentials = Floats(shape.Device, k.shape);
        var keys = k.NumberOfElements;
        Run(module, "aft_conv2_exponentials", new Dim3(Blocks(keys, 256)), new Dim3(256), new KernelArguments()
            .Tensor(k, dtype, "k").Tensor(keyMax, ScalarType.Float32, "keyMax").Tensor(exponentials, ScalarType.Float32, "exponentials")
            .Int32(shape.Positions).Int64(keys));
        var shifted = Floats(shape.Device, taps.shape);
        var outsideScale = Floats(shape.Device, shape.Heads);
        Run(module, "aft_conv2_taps", new Dim3((uint)shape.Heads), new Dim3(64), new KernelArguments()
            .Tensor(taps, ScalarType.Float32, "taps").Tensor(shifted, ScalarType.Float32, "shifted").Tensor(outsideScale, ScalarType.Float32, "outsideScale"));
        return (exponentials, shifted, outsideScale);
    }

    // Grids: the outside sums' arguments, or two null pointers (window only: the kernels read none).
    static KernelArguments OutsideArguments(KernelArguments arguments, OutsideSums? outside) =>
        outside is { } sums
            ? arguments.Tensor(sums.Segments, ScalarType.Float32, "segments").Tensor(sums.Rows, ScalarType.Float32, "rowsOutside")
            : arguments.Int64(0).Int64(0);

    /// <summary>Grids: the sums outside the windows beyond what the window kernels load themselves: per run of positions, the window
    /// rows' columns left and right of the run's windows (<c>[B, H, runs, 6, D]</c>, two of the six slots scratch), and per row
    /// the rows above and below its window rows (<c>[B, H, 2, D]</c>).</summary>
    sealed record OutsideSums(Tensor Segments, Tensor Rows);

    // Grids: the outside sums of the sources (forward) or targets (backward) whose elements the kernels of `pass` read
    // from the leading arguments that `elements` adds: segment sums per run, their prefix and suffix over the row's
    // runs (in place) with the row totals, then the rows outside each row's window rows.
    static OutsideSums Outside(ICudaModule module, ConvShape shape, string pass, Func<KernelArguments, KernelArguments> elements)
    {
        var segments = Floats(shape.Device, shape.Batch, shape.Height, shape.RunsPerRow, 6, shape.Channels);
        Run(module, $"aft_conv2_segments_{pass}", new Dim3(Blocks((long)shape.RunsPerRow * shape.Channels, 256), (uint)shape.Height, (uint)shape.Batch),
            new Dim3(256), elements(new KernelArguments()).Tensor(segments, ScalarType.Float32, "segments").Int32(shape.Height).Int32(shape.Width));
        var rowTotals = Floats(shape.Device, shape.Batch, shape.Height, 2, shape.Channels);
        var perRow = new Dim3((uint)shape.Height, shape.ChannelBlocks, (uint)shape.Batch);
        Run(module, "aft_conv2_run_states", perRow, new Dim3(Columns), new KernelArguments()
            .Tensor(segments, ScalarType.Float32, "segments").Tensor(rowTotals, ScalarType.Float32, "rowTotals").Int32(shape.Height).Int32(shape.Width));
        var rows = Floats(shape.Device, shape.Batch, shape.Height, 2, shape.Channels);
        Run(module, "aft_conv2_rows", perRow, new Dim3(Columns), new KernelArguments()
            .Tensor(rowTotals, ScalarType.Float32, "rowTotals").Tensor(rows, ScalarType.Float32, "rowsOutside")
            .Int32(shape.Height).Int32(pass == "backward" ? 1 : 0));
        return new OutsideSums(segments, rows);
    }

    static ICudaModule Module(ScalarType dtype, ConvShape shape)
    {
        var bf16 = Bf16Flag(dtype, "AFT-conv");
        return shape.Spatial == 1
            ? CudaKernels.Module("aft_conv.cu", [("AFT_BF16", bf16), ("D", shape.Channels), ("HEADS", shape.Heads), ("SPATIAL", 1), ("S", shape.Size),
                ("LO", shape.Lo), ("HI", shape.Hi), ("TAP0", shape.Before - shape.Lo), ("CAUSAL", shape.Causal ? 1 : 0),
                ("TILE", shape.Tiles.Tile), ("RY", shape.Tiles.Rows), ("BT", shape.BackwardRows), ("RYB", shape.Tiles.BackwardThreadRows), .. WindowDefine(shape)])
            : CudaKernels.Module("aft_conv.cu", [("AFT_BF16", bf16), ("D", shape.Channels), ("HEADS", shape.Heads), ("SPATIAL", 2), ("S", shape.Size),
                ("BEFORE", shape.Before), ("GRID_RUN", shape.Tiles.GridRun), ("GRID_RUNS", shape.GridRuns), .. WindowDefine(shape)]);
    }

    // WINDOW = 1 only when asked, so the global-connectivity modules compile from exactly the defines they always had.
    static (string Name, object Value)[] WindowDefine(ConvShape shape) => shape.WindowOnly ? [("WINDOW", 1)] : [];

    /// <summary>Sizes of one call, and the tile sizes it compiles with.</summary>
    sealed class ConvShape : IBandShape
    {
        public ConvShape(Tensor k, Tensor v, Tensor w, bool causal, bool windowOnly)
        {
            WindowOnly = windowOnly;
            Spatial = (int)w.dim() - 1;
            if (Spatial is not (1 or 2) || k.dim() != Spatial + 2 || v.dim() != Spatial + 2)
                throw new ArgumentException($"AFT-conv takes w [heads, s] with [B, T, ·] inputs or w [heads, s, s] with [B, H, W, ·] inputs; got w of {w.dim()} and k of {k.dim()} dimensions.");
            if (causal && Spatial != 1)
                throw new ArgumentException("Causal AFT-conv is defined for sequences only (a 1-d kernel).", nameof(causal));
            Batch = Int(k.shape[0], "B");
            Heads = Int(k.shape[^1], "heads");
            Channels = Int(v.shape[^1], "D");
            if (Channels % Heads != 0) throw new ArgumentException($"AFT-conv: {Heads} heads must divide the width {Channels}.");
            Size = Int(w.shape[1], "s");
            Height = Spatial == 1 ? 1 : Int(k.shape[1], "H");
            Width = Int(k.shape[Spatial], "W");
            Positions = Int(k.shape[1] * (Spatial == 1 ? 1 : k.shape[2]), "positions");
            Device = k.device;
            Causal = causal;
            Before = causal ? Size - 1 : (Size - 1) / 2;
            var after = causal ? 0 : Size - 1 - Before;
            Lo = Math.Min(Before, Math.Max(Width - 1, 0));
            Hi = Math.Min(after, Math.Max(Width - 1, 0));
            Tiles = AftLocalCuda.Tiles;
            if (Spatial == 1)
            {
                var rows = Tiles.BackwardRows;
                while (rows > 1 && BackwardShared(rows) > SharedBytes) rows /= 2;
                if (BackwardShared(rows) > SharedBytes || 6 * Tiles.Tile * Columns * 4 > SharedBytes)
                    throw new CudaException($"AFT-conv kernel of {Size} taps is too wide for the CUDA kernels' shared memory.");
                BackwardRows = rows;
            }
            else
            {
                if (Height > MaxGridExtent || Batch > MaxGridExtent)           // rows and batch elements are launch extents y and z
                    throw new CudaException($"AFT-conv's CUDA kernels take grids of at most {MaxGridExtent:N0} rows and {MaxGridExtent:N0} batch elements; got {Height:N0} rows and {Batch:N0}.");
                var runs = Tiles.GridRunsPerBlock;                        // the backward's ∂w cells: a column per thread
                while (runs > 1 && Size * Size * Columns * runs * 4 > SharedBytes) runs /= 2;
                if (Size * Size * Columns * runs * 4 > SharedBytes)
                    throw new CudaException($"AFT-conv kernel of {Size}×{Size} taps is too wide for the CUDA kernels' shared memory.");
                GridRuns = runs;
            }
        }

        const int MaxGridExtent = 65535;                                   // CUDA's limit on a launch's y and z extents

        int BackwardShared(int rows) => (rows * 6 * Columns + (Lo + Hi + 1) * Columns * Tiles.BackwardThreadRows) * 4;

        public int Spatial { get; }
        public int Batch { get; }
        public int Heads { get; }
        public int Channels { get; }
        public int Size { get; }
        public int Height { get; }
        public int Width { get; }
        public int Positions { get; }
        public int Length => Width;
        public Device Device { get; }
        public bool Causal { get; }
        public bool WindowOnly { get; }
        public int Before { get; }
        public int Lo { get; }
        public int Hi { get; }
        public BandTiles Tiles { get; }
        public int BackwardRows { get; }
        /// <summary>Grids: runs of <see cref="BandTiles.GridRun"/> positions per backward block.</summary>
        public int GridRuns { get; }
        /// <summary>Grids: runs of <see cref="BandTiles.GridRun"/> positions a row.</summary>
        public int RunsPerRow => (Width + Tiles.GridRun - 1) / Tiles.GridRun;
        /// <summary>Grids: backward blocks per row.</summary>
        public int BackwardBlocksPerRow => (RunsPerRow + GridRuns - 1) / GridRuns;
        public uint Chunks => Blocks(Length, Tiles.Tile);
        public uint ChannelBlocks => Blocks(Channels, Columns);
    }
}
