using AftDsl.Kernels;
using Spectre.Console;
using TorchSharp;

namespace AftLab.Runtime;

/// <summary>Applies <c>--kernels</c> and says, in one line, which AFT kernels the run uses on its device.</summary>
public static class KernelChoice
{
    /// <summary>Sets <see cref="AftKernels.Implementation"/> from <paramref name="kernels"/> (null keeps AFTDSL_KERNELS's choice) and prints what runs.</summary>
    public static void Apply(string? kernels, torch.Device device)
    {
        if (kernels is not null) AftKernels.Implementation = AftKernels.FromEnvironment(kernels);
        AnsiConsole.MarkupLineInterpolated($"[bold]Kernels:[/] {AftKernels.Describe(device)}.");
    }

    /// <summary>Null if <paramref name="kernels"/> is absent or valid, else what is wrong with it.</summary>
    public static string? Problem(string? kernels)
    {
        if (kernels is null) return null;
        var value = kernels.Trim().ToLowerInvariant();
        return value is "fused" or "torch" ? null : $"--kernels must be fused or torch, got '{kernels}'.";
    }

    /// <summary>
    /// Runs <paramref name="action"/> with <paramref name="implementation"/> kernels, then restores the previous choice.
    /// A forward picks its kernels when it runs and its backward follows the same path, so the backward may run later.
    /// </summary>
    public static T With<T>(AftKernelImplementation implementation, Func<T> action)
    {
        var previous = AftKernels.Implementation;
        AftKernels.Implementation = implementation;
        try { return action(); }
        finally { AftKernels.Implementation = previous; }
    }
}
