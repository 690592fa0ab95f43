using System.Text.RegularExpressions;

namespace AftDsl.Cuda;

/// <summary>
/// The NVRTC command line of one kernel variant. An explicit list, because each flag changes the numbers:
/// <list type="bullet">
/// <item><c>--gpu-architecture=sm_XY</c>: machine code for the GPU's own compute capability, so the driver loads it
/// with no PTX translation at run time (<c>compute_XY</c>, PTX, only where this NVRTC cannot emit code for the GPU).</item>
/// <item><c>--std=c++17</c>: the dialect the kernel sources are written in.</item>
/// <item><c>--ftz=true</c>: subnormal floats flush to zero. It measured faster, and it cannot cost accuracy
/// here: every exponential is taken relative to a running maximum, so a term below 1e-38 is negligible
/// beside the maximum's term of 1.</item>
/// <item>No <c>--use_fast_math</c>: it would replace <c>expf</c> by <c>__expf</c>, whose error grows with the
/// argument, and make division approximate; the kernels choose fast intrinsics where it was measured safe.
/// Division and square roots stay IEEE-rounded (<c>--prec-div</c>, <c>--prec-sqrt</c> at their defaults).</item>
/// <item><c>--generate-line-info</c>: source lines in profiles (Nsight Compute); no effect on the code.</item>
/// <item><c>-DAFT_CUDA=1</c> and one <c>-DNAME=VALUE</c> per compile-time constant.</item>
/// </list>
/// No <c>-I</c>: the kernels include only the library's own headers, which are inlined into the source.
/// </summary>
public static partial class NvrtcOptions
{
    /// <summary>The flags every kernel is compiled with, after the architecture and before the constants.</summary>
    public static IReadOnlyList<string> Common { get; } = ["--std=c++17", "--ftz=true", "--generate-line-info", "-DAFT_CUDA=1"];

    /// <summary>The full option list for <paramref name="architecture"/> (e.g. <c>sm_90</c>) and <paramref name="defines"/>.</summary>
    /// <exception cref="ArgumentException">A constant's name is not a C identifier.</exception>
    public static IReadOnlyList<string> For(string architecture, IReadOnlyList<KeyValuePair<string, string>> defines)
    {
        var options = new List<string> { $"--gpu-architecture={architecture}" };
        options.AddRange(Common);
        foreach (var (name, value) in defines)
        {
            if (!Identifier().IsMatch(name)) throw new ArgumentException($"'{name}' is not a valid name for a -D constant.", nameof(defines));
            options.Add($"-D{name}={value}");
        }
        return options;
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex Identifier();
}
