using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Kernels;

/// <summary>Builds the pair-wise position biases that AFT-full and AFT-local add to the keys.</summary>
public static class PositionBias
{
    /// <summary>
    /// The factorised bias <c>w = U[:T]·W[:T]ᵀ</c> (paper Eq. 7) for a sequence of length <paramref name="length"/>:
    /// <paramref name="u"/> and <paramref name="w"/> are <c>[maxLength, rank]</c>; the result is <c>[T, T]</c>.
    /// </summary>
    public static Tensor Factorised(Tensor u, Tensor w, long length)
    {
        using var rows = u.narrow(0, 0, length);
        using var columns = w.narrow(0, 0, length);
        return rows.matmul(columns.t());
    }
}
