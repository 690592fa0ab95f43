using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Kernels;

/// <summary>Masks of the strict future (t' &gt; t) for causal mixers.</summary>
public static class CausalMask
{
    /// <summary><c>[T, T]</c> boolean, true where the source t' lies after the target t.</summary>
    public static Tensor Future(long length, Device device) =>
        ones(length, length, dtype: ScalarType.Bool, device: device).triu(1);
}
