using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using AftDsl.Cuda;
using TorchSharp;

namespace AftDsl.Kernels;

/// <summary>Which implementation the AFT operations run: the library's fused kernels, or chains of libtorch operators.</summary>
public enum AftKernelImplementation
{
    /// <summary>
    /// Single-pass kernels: C# SIMD loops on CPU tensors, CUDA kernels compiled at run time on CUDA tensors.
    /// A tensor that no fused kernel takes (a dtype or device it does not support) uses <see cref="Torch"/>.
    /// </summary>
    Fused,

    /// <summary>The reference implementation: libtorch operators, the same maths on every device and dtype.</summary>
    Torch,
}

/// <summary>
/// The process-wide choice of kernels. It starts from the environment variable <c>AFTDSL_KERNELS</c>
/// (<c>fused</c>, the default, or <c>torch</c>) and can be changed at any time; each autograd node keeps
/// the implementation its forward used for its backward.
/// </summary>
public static class AftKernels
{
    /// <summary>The environment variable that chooses the initial <see cref="Implementation"/>.</summary>
    public const string EnvironmentVariable = "AFTDSL_KERNELS";

    static volatile AftKernelImplementation implementation = FromEnvironment(Environment.GetEnvironmentVariable(EnvironmentVariable));

    /// <summary>The implementation that new forward passes use.</summary>
    public static AftKernelImplementation Implementation
    {
        get => implementation;
        set => implementation = Enum.IsDefined(value) ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "Use AftKernelImplementation.Fused or .Torch.");
    }

    /// <summary>
    /// False (the default): the few cases where the libtorch-operator kernels measure faster than the fused kernel run
    /// those (non-causal AFT-local and AFT-full on the CPU; the README's benchmarks).
    /// True: every forward that a fused kernel takes runs it, as <c>aftlab check-kernels</c> and <c>aftlab bench</c>
    /// do to check and time the fused kernels themselves.
    /// </summary>
    public static bool FusedEverywhere { get; set; }

    /// <summary>Reads <c>AFTDSL_KERNELS</c>: unset or empty means <see cref="AftKernelImplementation.Fused"/>.</summary>
    /// <exception cref="ArgumentException">The value is neither <c>fused</c> nor <c>torch</c>.</exception>
    public static AftKernelImplementation FromEnvironment(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "fused" => AftKernelImplementation.Fused,
        "torch" => AftKernelImplementation.Torch,
        _ => throw new ArgumentException($"{EnvironmentVariable}='{value}' is not a kernel implementation; use 'fused' (the default) or 'torch'."),
    };

    /// <summary>
    /// One line for logs: which kernels a forward pass on <paramref name="device"/> runs now, e.g.
    /// "fused CUDA kernels (NVRTC 13.0, sm_90 on NVIDIA H200 …, cache …)" or, when the CUDA runtime cannot be
    /// had, "libtorch-operator kernels: fused CUDA kernels unavailable: " and why. For a CUDA device this
    /// loads the CUDA libraries if nothing did yet (no kernel is compiled). Variants or dtypes without a fused
    /// kernel run the libtorch-operator kernels whatever this says.
    /// </summary>
    public static string Describe(torch.Device device) => Describe(device, () => CudaKernels.Compiler);

    /// <summary><see cref="Describe(torch.Device)"/> with the CUDA compiler from <paramref name="cudaCompiler"/> (tests).</summary>
    internal static string Describe(torch.Device device, Func<ICudaCompiler> cudaCompiler)
    {
        if (Implementation == AftKernelImplementation.Torch)
            return $"libtorch-operator kernels ({EnvironmentVariable}=torch or --kernels torch)";
        switch (device.type)
        {
            case DeviceType.CPU:
                return $"fused C# SIMD kernels ({SimdDescription()}, {torch.get_num_threads()} threads)";
            case DeviceType.CUDA:
                if (KernelDispatch.CudaUnavailableReason is { } reason) return Unavailable(reason);
                try
                {
                    return $"fused CUDA kernels ({cudaCompiler().Description})";
                }
                catch (CudaException e)
                {
                    return Unavailable(e.Message);
                }
            default:
                return $"libtorch-operator kernels (no fused kernels for {device.type})";
        }
    }

    /// <summary>
    /// The variants (<c>AftSimple</c>, <c>AftLocal</c>, <c>AftConv</c>, <c>AftFull</c>) whose fused CUDA kernel failed to
    /// compile or load in this process, each with the reason; they run the libtorch-operator kernels instead.
    /// </summary>
    public static IReadOnlyDictionary<string, string> UnavailableCudaKernels => KernelDispatch.UnavailableCudaVariants;

    static string Unavailable(string reason) =>
        "libtorch-operator kernels: fused CUDA kernels unavailable: " +
        string.Join(" | ", reason.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    static string SimdDescription() =>
        Avx512F.IsSupported && Vector512.IsHardwareAccelerated ? "AVX-512"
        : Avx2.IsSupported ? "AVX2"
        : System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported ? "Arm AdvSIMD"
        : Vector128.IsHardwareAccelerated ? "128-bit SIMD"
        : "no SIMD";
}
