using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Kernels.Cpu;

/// <summary>Inputs as the CPU kernels read them: contiguous, of one floating dtype.</summary>
internal static class CpuTensors
{
    /// <summary>
    /// <paramref name="x"/> itself when contiguous, otherwise a contiguous copy, which is added to
    /// <paramref name="created"/> (it then lives in the caller's dispose scope and must be saved as created).
    /// </summary>
    public static Tensor Contiguous(Tensor x, List<Tensor> created)
    {
        if (x.is_contiguous()) return x;
        var copy = x.contiguous();
        created.Add(copy);
        return copy;
    }

    /// <summary>Whether the kernels run in double precision (float64) or single (float32); anything else is refused.</summary>
    public static bool IsDouble(Tensor x, string variant) => x.dtype switch
    {
        ScalarType.Float64 => true,
        ScalarType.Float32 => false,
        _ => throw new NotSupportedException($"The {variant} CPU kernel takes float32 or float64 tensors, not {x.dtype}."),
    };
}
