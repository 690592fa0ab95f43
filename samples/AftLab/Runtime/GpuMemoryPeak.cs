using AftLab.Benchmarks;
using TorchSharp;

namespace AftLab.Runtime;

/// <summary>
/// A training process's peak GPU memory, for results.json and the last lines of <c>aftlab train</c>: the high-water
/// mark of the device's default CUDA memory pool (<see cref="CudaDriver.HighWaterBytes"/>), as <c>aftlab bench</c>
/// measures it. PyTorch allocates from that pool only under its stream-ordered allocator
/// (<c>PYTORCH_CUDA_ALLOC_CONF=backend:cudaMallocAsync</c>). Its default caching allocator takes memory with cudaMalloc,
/// which no pool counts, and TorchSharp does not expose that allocator's own statistics, so without the setting
/// there is no figure, and the run says so once rather than report a wrong one.
/// </summary>
public static class GpuMemoryPeak
{
    /// <summary>The variable PyTorch reads its allocator settings from (newer releases also read <see cref="GenericVariable"/>).</summary>
    public const string Variable = "PYTORCH_CUDA_ALLOC_CONF";

    public const string GenericVariable = "PYTORCH_ALLOC_CONF";

    public const string Setting = "backend:cudaMallocAsync";

    /// <summary>Whether an allocator configuration (comma-separated <c>key:value</c> options) selects the cudaMallocAsync backend.</summary>
    public static bool SelectsPoolAllocator(string? configuration) =>
        (configuration ?? "").Split(',').Select(option => option.Split(':', 2))
            .Any(pair => pair.Length == 2 && pair[0].Trim() == "backend" && pair[1].Trim() == "cudaMallocAsync");

    /// <summary>Null when peak GPU memory can be read under these settings, else one line that says why not and how to enable it.</summary>
    public static string? Unavailable(string? configuration, string? genericConfiguration) =>
        SelectsPoolAllocator(configuration) || SelectsPoolAllocator(genericConfiguration)
            ? null
            : "Peak GPU memory is not recorded: PyTorch's default caching allocator takes GPU memory outside the CUDA memory pool that aftlab reads. " +
              $"Start the run with {Variable}={Setting} to record it.";

    /// <summary><see cref="Unavailable(string?, string?)"/> for this process's environment.</summary>
    public static string? Unavailable() =>
        Unavailable(Environment.GetEnvironmentVariable(Variable), Environment.GetEnvironmentVariable(GenericVariable));

    /// <summary>The peak bytes of <paramref name="device"/>'s memory pool since the process began, or null with <paramref name="problem"/> saying why.</summary>
    public static long? Read(torch.Device device, out string? problem)
    {
        problem = null;
        try
        {
            if (CudaDriver.HighWaterBytes(device.index < 0 ? 0 : device.index) is { } bytes) return bytes;
            problem = $"Peak GPU memory is not recorded: the CUDA memory pool of {device} counted no allocation, so PyTorch did not allocate from it despite {Variable}={Setting}.";
        }
        catch (Exception e) when (e is InvalidOperationException or DllNotFoundException or EntryPointNotFoundException)
        {
            problem = $"Peak GPU memory is not recorded: reading the CUDA memory pool failed ({e.Message}).";
        }
        return null;
    }

    /// <summary>Bytes in GiB (MiB below 1 GiB), with the exact count: <c>3.21 GiB (3,446,789,120 bytes)</c>.</summary>
    public static string Describe(long bytes) => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{(bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):0.00} GiB" : $"{bytes / (double)(1L << 20):0.0} MiB")} ({bytes:N0} bytes)");
}
