using System.Reflection;
using System.Runtime.InteropServices;
using TorchSharp;

namespace AftLab.Runtime;

/// <summary>What reports say about where and from what they were made: the machine, and the build's version and commit.</summary>
public static class RunInfo
{
    /// <summary>Cores, processor, memory, GPUs, and the TorchSharp and .NET versions.</summary>
    public static string Machine(torch.Device device)
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        var gpu = device.type == DeviceType.CUDA ? $", GPU: {torch.cuda.device_count()}× CUDA device" : "";
        return $"{Environment.ProcessorCount} CPU cores ({cpu ?? RuntimeInformation.ProcessArchitecture.ToString()}), " +
               $"{GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GiB{gpu}; TorchSharp {typeof(torch).Assembly.GetName().Version}, .NET {Environment.Version}";
    }

    /// <summary>The app's version with the commit it was built from (the SDK's source-revision stamp), e.g. <c>0.1.0+5c3366e…</c>.</summary>
    public static string Build =>
        typeof(RunInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
}
