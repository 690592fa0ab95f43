using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Support;

/// <summary>
/// A test that needs a CUDA GPU (TorchSharp bound to a CUDA libtorch, <c>torch.cuda.is_available()</c>).
/// Elsewhere it is reported as skipped, with the reason, never as passed.
/// </summary>
public sealed class GpuFactAttribute : FactAttribute
{
    /// <summary>The reason skipped tests give.</summary>
    public const string NoGpu = "needs a CUDA GPU (none found: torch.cuda.is_available() is false)";

    /// <summary>Skips the test unless a CUDA device is available.</summary>
    public GpuFactAttribute()
    {
        if (!Gpu.Available) Skip = NoGpu;
    }
}

/// <summary>Whether this test process can use a CUDA device, asked once.</summary>
public static class Gpu
{
    static readonly Lazy<bool> available = new(() =>
    {
        try
        {
            return cuda.is_available();
        }
        catch (Exception)
        {
            return false;   // no CUDA libtorch at all: the same answer as "no GPU"
        }
    });

    /// <summary>True where TorchSharp sees a CUDA device.</summary>
    public static bool Available => available.Value;
}
