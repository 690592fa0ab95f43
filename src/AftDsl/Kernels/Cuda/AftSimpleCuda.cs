using AftDsl.Cuda;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace AftDsl.Kernels.Cuda;

/// <summary>
/// AFT-simple on the GPU: the kernels of <c>Cuda/Kernels/aft_simple.cu</c>, float32 and bfloat16 (arithmetic in
/// float32, results in the input dtype). Same contract as <see cref="AftSimpleOperators"/>.
/// </summary>
/// <remarks>
/// Causal, the forward is one pass (tile-chained running-max scan) that keeps, besides Q, K and V, only each
/// tile's inclusive (max, numerator, denominator) state; the backward recomputes R and ℓ inside each tile from
/// it and runs the reverse scan the same way. Non-causal, per (batch, channel) reductions over time and one
/// element-wise pass each way; the forward keeps R and ℓ per (batch, channel).
/// </remarks>
internal static class AftSimpleCuda
{
    const string CausalKey = "aft-simple-cuda-causal";
    const string TilesKey = "aft-simple-cuda-tiles";
    const string Source = "aft_simple.cu";
    const int ElementwiseThreads = 256;
    const int ElementsPerThread = 4;                          // AFT_ELEMENTS in aft_simple.cu

    /// <summary>
    /// A block's shape: <paramref name="ChannelThreads"/> threads along the channels, each taking
    /// <paramref name="ChannelsPerThread"/> (1, 2, 4 or 8, loaded as one word), times <paramref name="Segments"/> threads
    /// along time, each scanning <paramref name="Run"/> steps in registers.
    /// <paramref name="InclusiveFlagEvery"/>: tests only; above 1, most tiles raise only their aggregate's flag, so
    /// that the look-back must fold aggregates (under the emulation every earlier tile has finished).
    /// <paramref name="ReductionBlocks"/>: non-causal reductions take spans of tiles so that about this many blocks
    /// fill the GPU and leave few partial states per channel to fold.
    /// </summary>
    internal readonly record struct Tiles(int ChannelThreads, int Segments, int Run, int ChannelsPerThread, int InclusiveFlagEvery = 1,
        int ReductionBlocks = 1024)
    {
        public int Channels => ChannelThreads * ChannelsPerThread;
        public int Steps => Segments * Run;
        public int Threads => ChannelThreads * Segments;
    }

    // 128 threads per block, tiles of 32 steps × 128 (fp32) or 64 (bf16) channels, 16-byte and 4-byte rows per
    // thread: the fastest of the shapes measured on an H200 (B·T = 32k, d = 512; fwd + bwd 0.43–0.57 ms).
    static readonly Tiles float32Tiles = new(ChannelThreads: 32, Segments: 4, Run: 8, ChannelsPerThread: 4);
    static readonly Tiles bfloat16Tiles = new(ChannelThreads: 32, Segments: 4, Run: 8, ChannelsPerThread: 2);
    static readonly AsyncLocal<Tiles?> tilesOverride = new();

    /// <summary>Tests: launches in this async flow use <paramref name="tiles"/> (small tiles make several blocks at small sizes).</summary>
    internal static IDisposable UseTiles(Tiles tiles)
    {
        if (tiles.Threads % 32 != 0 || tiles.Threads > 1024 || tiles.ChannelsPerThread is not (1 or 2 or 4 or 8))
            throw new ArgumentException($"{tiles}: a block is whole warps of at most 1024 threads, 1, 2, 4 or 8 channels per thread.", nameof(tiles));
        var previous = tilesOverride.Value;
        tilesOverride.Value = tiles;
        return new Restore(() => tilesOverride.Value = previous);
    }

    /// <summary><paramref name="q"/>, <paramref name="k"/>, <paramref name="v"/>: <c>[B, T, D]</c>, float32 or bfloat16, one device; returns <c>[B, T, D]</c>.</summary>
    public static Tensor Forward(AutogradContext ctx, Tensor q, Tensor k, Tensor v, bool causal)
    {
        using var scope = NewDisposeScope();
        var layout = Layout.Of(q, k, v, tilesOverride.Value);
        var (qc, kc, vc) = (layout.Ready(q), layout.Ready(k), layout.Ready(v));
        var module = layout.Module();
        var y = empty_like(qc);
        ctx.save_data(CausalKey, causal);
        ctx.save_data(TilesKey, layout.Tiles);                // the backward reads the forward's tile states
        if (causal)
        {
            var states = layout.States();
            using var flags = layout.Flags();
            CudaLaunch.Run(module, "aft_simple_causal_forward", layout.ScanGrid, layout.Block, new KernelArguments()
                .Tensor(qc, layout.Dtype, "q").Tensor(kc, layout.Dtype, "k").Tensor(vc, layout.Dtype, "v").Tensor(y, layout.Dtype, "y")
                .Tensor(states, float32, "states").Tensor(flags, int32, "flags")
                .Int32(layout.T).Int32(layout.Chains).Int32(layout.TileCount));
            SavedTensors.Save(ctx, inputs: [q, k, v], created: [states]);
        }
        else
        {
            var ratio = layout.PerChannel();
            var logDenominator = layout.PerChannel();
            using (var partials = layout.Partials())
            {
                CudaLaunch.Run(module, "aft_simple_reduce_forward", layout.ReduceGrid, layout.Block, new KernelArguments()
                    .Tensor(kc, layout.Dtype, "k").Tensor(vc, layout.Dtype, "v").Tensor(partials, float32, "partials")
                    .Int32(layout.T).Int32(layout.Chains).Int32(layout.PartialCount).Int32(layout.Span));
                layout.Fold(module, partials, ratio, logDenominator, kind: 0);
            }
            CudaLaunch.Run(module, "aft_simple_output", layout.ElementwiseGrid, new Dim3(ElementwiseThreads), new KernelArguments()
                .Tensor(qc, layout.Dtype, "q").Tensor(ratio, float32, "ratio").Tensor(y, layout.Dtype, "y").Int32(layout.T));
            SavedTensors.Save(ctx, inputs: [q, k, v], created: [ratio, logDenominator]);
        }
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>Gradients of q, k, v (in that order) for the output gradient <paramref name="grad"/> (any strides).</summary>
    public static List<Tensor> Backward(AutogradContext ctx, Tensor grad)
    {
        using var scope = NewDisposeScope();
        var causal = (bool)ctx.get_data(CausalKey);
        var saved = ctx.get_saved_variables();
        var layout = Layout.Of(saved[0], saved[1], saved[2], (Tiles)ctx.get_data(TilesKey));
        var (qc, kc, vc) = (layout.Ready(saved[0]), layout.Ready(saved[1]), layout.Ready(saved[2]));
        var g = layout.Ready(grad.to(layout.Dtype));          // autograd may hand in an expanded (stride-0) gradient
        var module = layout.Module();
        var (dq, dk, dv) = (empty_like(qc), empty_like(qc), empty_like(qc));
        if (causal)
        {
            using var states = layout.States();
            using var flags = layout.Flags();
            CudaLaunch.Run(module, "aft_simple_causal_backward", layout.ScanGrid, layout.Block, new KernelArguments()
                .Tensor(qc, layout.Dtype, "q").Tensor(kc, layout.Dtype, "k").Tensor(vc, layout.Dtype, "v").Tensor(g, layout.Dtype, "grad")
                .Tensor(saved[3], float32, "forward states")
                .Tensor(dq, layout.Dtype, "dq").Tensor(dk, layout.Dtype, "dk").Tensor(dv, layout.Dtype, "dv")
                .Tensor(states, float32, "states").Tensor(flags, int32, "flags")
                .Int32(layout.T).Int32(layout.Chains).Int32(layout.TileCount));
        }
        else
        {
            var (ratio, logDenominator) = (saved[3], saved[4]);
            using var total = layout.PerChannel();
            using (var partials = layout.Partials())
            {
                CudaLaunch.Run(module, "aft_simple_reduce_backward", layout.ReduceGrid, layout.Block, new KernelArguments()
                    .Tensor(qc, layout.Dtype, "q").Tensor(g, layout.Dtype, "grad").Tensor(partials, float32, "partials")
                    .Int32(layout.T).Int32(layout.Chains).Int32(layout.PartialCount).Int32(layout.Span));
                layout.Fold(module, partials, total, total, kind: 1);
            }
            CudaLaunch.Run(module, "aft_simple_gradients", layout.ElementwiseGrid, new Dim3(ElementwiseThreads), new KernelArguments()
                .Tensor(qc, layout.Dtype, "q").Tensor(kc, layout.Dtype, "k").Tensor(vc, layout.Dtype, "v").Tensor(g, layout.Dtype, "grad")
                .Tensor(ratio, float32, "ratio").Tensor(logDenominator, float32, "log-denominator").Tensor(total, float32, "ΣS")
                .Tensor(dq, layout.Dtype, "dq").Tensor(dk, layout.Dtype, "dk").Tensor(dv, layout.Dtype, "dv").Int32(layout.T));
        }
        return [dq.MoveToOuterDisposeScope(), dk.MoveToOuterDisposeScope(), dv.MoveToOuterDisposeScope()];
    }

    /// <summary>Sizes of one launch: the tensors' shape, the block shape, and the tiles and chains they make.</summary>
    sealed record Layout(int B, int T, int D, ScalarType Dtype, Device Device, Tiles Tiles)
    {
        public static Layout Of(Tensor q, Tensor k, Tensor v, Tiles? tiles)
        {
            if (q.dim() != 3 || !q.shape.SequenceEqual(k.shape) || !q.shape.SequenceEqual(v.shape))
                throw new ArgumentException($"AFT-simple takes q, k, v of one shape [B, T, D]; got [{string.Join(", ", q.shape)}], [{string.Join(", ", k.shape)}], [{string.Join(", ", v.shape)}].");
            if (q.dtype != k.dtype || q.dtype != v.dtype || q.dtype is not (ScalarType.Float32 or ScalarType.BFloat16))
                throw new ArgumentException($"The CUDA AFT-simple kernels take float32 or bfloat16 q, k, v of one dtype; got {q.dtype}, {k.dtype}, {v.dtype}.");
            if (q.shape[0] > int.MaxValue || q.shape[1] * q.shape[2] > int.MaxValue || q.shape[2] == 0)
                throw new ArgumentException($"Shape [{string.Join(", ", q.shape)}] is out of the kernels' range.");
            return new((int)q.shape[0], (int)q.shape[1], (int)q.shape[2], q.dtype, q.device,
                tiles ?? (q.dtype == ScalarType.BFloat16 ? bfloat16Tiles : float32Tiles));
        }

        public int ChannelGroups => (D + Tiles.Channels - 1) / Tiles.Channels;
        public int Chains => checked(B * ChannelGroups);
        public int TileCount => (T + Tiles.Steps - 1) / Tiles.Steps;
        public Dim3 ScanGrid => new(checked((uint)(Chains * (long)TileCount)));
        public Dim3 Block => new((uint)Tiles.Threads);
        public Dim3 ElementwiseGrid => new(CudaLaunch.Blocks((long)T * D, ElementwiseThreads * ElementsPerThread), (uint)B);

        /// <summary>
        /// <paramref name="tensor"/> contiguous, with its first element aligned for the kernels' vector loads of
        /// <see cref="Tiles.ChannelsPerThread"/> elements (a view at an odd offset is copied).
        /// </summary>
        public Tensor Ready(Tensor tensor)
        {
            var contiguous = tensor.contiguous();
            var alignment = Tiles.ChannelsPerThread * contiguous.ElementSize;
            return Native.TensorMemory.Address(contiguous, Dtype, contiguous.device_type, "input") % alignment == 0 ? contiguous : contiguous.clone();
        }

        public ICudaModule Module() => CudaKernels.Module(Source,
            ("AFT_D", D), ("AFT_BF16", Dtype == ScalarType.BFloat16 ? 1 : 0),
            ("AFT_VEC", Tiles.ChannelsPerThread), ("AFT_CHT", Tiles.ChannelThreads), ("AFT_SEG", Tiles.Segments), ("AFT_RUN", Tiles.Run),
            ("AFT_INCLUSIVE_FLAG_EVERY", Tiles.InclusiveFlagEvery));

        /// <summary>Per (chain, tile): aggregate and inclusive (max, numerator, denominator) of each channel slot.</summary>
        public Tensor States() => empty([Chains, TileCount, 2, 3, Tiles.Channels], float32, Device);

        /// <summary>
        /// Non-causal reductions: tiles per reduction block, so that about <see cref="Tiles.ReductionBlocks"/> blocks
        /// make few partial states per chain (the fold that follows runs one thread per channel).
        /// </summary>
        public int Span => Math.Max(1, TileCount / Math.Max(1, Tiles.ReductionBlocks / Chains));
        public int PartialCount => (TileCount + Span - 1) / Span;
        public Dim3 ReduceGrid => new(checked((uint)(Chains * (long)PartialCount)));
        public Tensor Partials() => empty([Chains, PartialCount, 2, 3, Tiles.Channels], float32, Device);

        /// <summary>The ticket counter and one flag per (chain, tile), zero.</summary>
        public Tensor Flags() => zeros([1 + Chains * (long)TileCount], int32, Device);

        public Tensor PerChannel() => empty([B, D], float32, Device);

        public void Fold(ICudaModule module, Tensor partials, Tensor first, Tensor second, int kind)
        {
            if (TileCount == 0) return;                       // T = 0: nothing reads the per-channel results
            CudaLaunch.Run(module, "aft_simple_fold", new Dim3(CudaLaunch.Blocks((long)B * D, ElementwiseThreads)), new Dim3(ElementwiseThreads), new KernelArguments()
                .Tensor(partials, float32, "partials").Tensor(first, float32, "first").Tensor(second, float32, "second")
                .Int32(B).Int32(PartialCount).Int32(kind));
        }
    }

    sealed class Restore(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }
}
