using AftDsl.Cuda;
using TorchSharp;
using static AftDsl.Kernels.Cuda.CudaLaunch;
using static TorchSharp.torch;

namespace AftDsl.Kernels.Cuda;

/// <summary>What the host code of the banded CUDA kernels (AFT-local, AFT-conv) shares.</summary>
internal static class BandKernelSupport
{
    /// <summary>Static shared memory a block may use without opting in to more (48 KiB), less a margin.</summary>
    public const int SharedBytes = 47 * 1024;

    /// <summary>Channels per block (the kernels' <c>CB</c>): one warp spans 32 consecutive channels.</summary>
    public const int Columns = 32;

    /// <summary>The storage dtype the kernels take for <paramref name="dtype"/>, and its <c>AFT_BF16</c> value.</summary>
    public static int Bf16Flag(ScalarType dtype, string variant) => dtype switch
    {
        ScalarType.Float32 => 0,
        ScalarType.BFloat16 => 1,
        _ => throw new ArgumentException($"The {variant} CUDA kernels take float32 or bfloat16 tensors, not {dtype}."),
    };

    /// <summary><paramref name="tensor"/> as a contiguous tensor of <paramref name="dtype"/> (itself when it already is one).</summary>
    public static Tensor Prepared(Tensor tensor, ScalarType dtype)
    {
        var converted = tensor.dtype == dtype ? tensor : tensor.to(dtype);
        return converted.is_contiguous() ? converted : converted.contiguous();
    }

    /// <summary>A float32 scratch tensor on <paramref name="device"/>.</summary>
    public static Tensor Floats(Device device, params long[] shape) => empty(shape, dtype: ScalarType.Float32, device: device);

    /// <summary>
    /// Keeps the converted copies among <paramref name="prepared"/> (another dtype, made contiguous) alive as long as the
    /// caller's <paramref name="originals"/> would be.
    /// </summary>
    public static void KeepCopies(Tensor[] prepared, Tensor[] originals)
    {
        foreach (var copy in prepared.Where((t, i) => !ReferenceEquals(t, originals[i])).Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor>())
            copy.MoveToOuterDisposeScope();
    }

    /// <summary>The backward's element-wise part (kernel <paramref name="kernel"/>): ∂Q, and α = S / d, β = S ⊙ R / d.</summary>
    public static (Tensor Dq, Tensor Alpha, Tensor Beta) Upstream(ICudaModule module, string kernel, Tensor q, Tensor grad, Tensor ratio, Tensor denominator)
    {
        var dtype = q.dtype;
        var dq = empty_like(q);
        var (alpha, beta) = (Floats(q.device, q.shape), Floats(q.device, q.shape));
        var count = q.NumberOfElements;
        Run(module, kernel, new Dim3(Blocks(count, 256)), new Dim3(256), new KernelArguments()
            .Tensor(q, dtype, "q").Tensor(grad, dtype, "grad").Tensor(ratio, ScalarType.Float32, "ratio").Tensor(denominator, ScalarType.Float32, "denominator")
            .Tensor(dq, dtype, "dq").Tensor(alpha, ScalarType.Float32, "alpha").Tensor(beta, ScalarType.Float32, "beta").Int64(count));
        return (dq, alpha, beta);
    }

    /// <summary>
    /// Phases 1 and 2 of the lagged scans: per-chunk aggregates (<paramref name="chunkKernel"/>, whose leading arguments
    /// <paramref name="elements"/> adds), then exclusive prefix (and suffix) states per chunk (<paramref name="chainKernel"/>).
    /// </summary>
    public static (Tensor Prefix, Tensor? Suffix) Scan(ICudaModule module, IBandShape shape, string chunkKernel, string chainKernel,
        Func<KernelArguments, KernelArguments> elements, bool withSuffix)
    {
        var states = new long[] { shape.Batch, shape.Chunks, 3, shape.Channels };
        var aggregates = empty(states, dtype: ScalarType.Float32, device: shape.Device);
        var prefix = empty(states, dtype: ScalarType.Float32, device: shape.Device);
        var suffix = withSuffix ? empty(states, dtype: ScalarType.Float32, device: shape.Device) : null;
        Run(module, chunkKernel, new Dim3(shape.Chunks, shape.ChannelBlocks, (uint)shape.Batch), new Dim3(Columns),
            elements(new KernelArguments()).Tensor(aggregates, ScalarType.Float32, "aggregates").Int32(shape.Length));
        var chain = new KernelArguments().Tensor(aggregates, ScalarType.Float32, "aggregates").Tensor(prefix, ScalarType.Float32, "prefix");
        chain = suffix is null ? chain.Int64(0) : chain.Tensor(suffix, ScalarType.Float32, "suffix");
        Run(module, chainKernel, new Dim3(shape.ChannelBlocks, (uint)shape.Batch), new Dim3(Columns), chain.Int32((int)shape.Chunks));
        return (prefix, suffix);
    }

    /// <summary>The gradients, each in the dtype of its forward input (<paramref name="dtypes"/>), moved to the outer dispose scope.</summary>
    public static List<Tensor> InDtypes(Tensor[] gradients, ScalarType[] dtypes) =>
        [.. gradients.Select((t, i) => (t.dtype == dtypes[i] ? t : t.to(dtypes[i])).MoveToOuterDisposeScope())];

    /// <summary>Checks that <paramref name="value"/> fits the kernels' 32-bit sizes.</summary>
    public static int Int(long value, string what) =>
        value is >= 0 and <= int.MaxValue ? (int)value : throw new ArgumentException($"{what} = {value} exceeds the CUDA kernels' 32-bit sizes.");
}

/// <summary>The sizes of a banded call that the lagged scans use.</summary>
internal interface IBandShape
{
    int Batch { get; }
    int Length { get; }
    int Channels { get; }
    Device Device { get; }
    uint Chunks { get; }
    uint ChannelBlocks { get; }
}
