using AftDsl.Cuda;
using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Kernels.Cuda;

/// <summary>What the host code of the banded CUDA kernels (AFT-local, AFT-conv) shares.</summary>
internal static class BandKernelSupport
{
    /// <summary>Static shared memory a block may use without opting in to more (48 KiB), less a margin.</summary>
    public const int SharedBytes = 47 * 1024;

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

    /// <summary>Checks that <paramref name="value"/> fits the kernels' 32-bit sizes.</summary>
    public static int Int(long value, string what) =>
        value is >= 0 and <= int.MaxValue ? (int)value : throw new ArgumentException($"{what} = {value} exceeds the CUDA kernels' 32-bit sizes.");
}
