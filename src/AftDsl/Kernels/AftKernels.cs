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

    /// <summary>Reads <c>AFTDSL_KERNELS</c>: unset or empty means <see cref="AftKernelImplementation.Fused"/>.</summary>
    /// <exception cref="ArgumentException">The value is neither <c>fused</c> nor <c>torch</c>.</exception>
    public static AftKernelImplementation FromEnvironment(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "fused" => AftKernelImplementation.Fused,
        "torch" => AftKernelImplementation.Torch,
        _ => throw new ArgumentException($"{EnvironmentVariable}='{value}' is not a kernel implementation; use 'fused' (the default) or 'torch'."),
    };

    /// <summary>One line for logs: which kernels a forward on <paramref name="device"/> uses.</summary>
    public static string Describe(TorchSharp.torch.Device device) =>
        Implementation == AftKernelImplementation.Torch ? $"libtorch-operator kernels ({EnvironmentVariable}=torch)" : $"fused kernels on {device.type}";
}
