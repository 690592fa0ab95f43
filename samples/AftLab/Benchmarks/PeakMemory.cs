using System.Runtime.InteropServices;

namespace AftLab.Benchmarks;

/// <summary>
/// Peak native memory of one run on CPU (TorchSharp allocates tensors outside the managed heap, so
/// BenchmarkDotNet's memory diagnoser cannot see them). While measuring, glibc is told to map every
/// allocation above 64 KiB on its own and unmap it when freed, so resident memory follows the live
/// tensors; the kernel's high-water mark (VmHWM, reset through /proc/self/clear_refs) then gives the
/// peak above the inputs. Timing runs use the opposite setting: allocations up to 32 MiB reuse heap
/// memory instead of faulting in fresh pages, which on this platform costs more than the arithmetic.
/// </summary>
public static class PeakMemory
{
    const int TrimThreshold = -1, TopPad = -2, MmapThreshold = -3;   // mallopt parameters (malloc.h)

    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int MallOpt(int parameter, int value);

    [DllImport("libc", EntryPoint = "malloc_trim")]
    static extern int MallocTrim(nuint pad);

    public static bool Supported => OperatingSystem.IsLinux() && File.Exists("/proc/self/clear_refs");

    /// <summary>Allocator setting for timing: reuse memory rather than map and fault it in for every tensor.</summary>
    public static void TuneForSpeed()
    {
        if (!OperatingSystem.IsLinux()) return;
        MallOpt(MmapThreshold, 32 << 20);
        MallOpt(TrimThreshold, int.MaxValue);
        MallOpt(TopPad, 64 << 20);
    }

    /// <summary>Bytes allocated at the peak of <paramref name="run"/> beyond what was resident before it, or null where unsupported.</summary>
    public static long? Measure(Action run)
    {
        if (!Supported) return null;
        MallOpt(MmapThreshold, 64 << 10);
        MallOpt(TrimThreshold, 128 << 10);
        MallOpt(TopPad, 0);
        try
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            MallocTrim(0);
            var baseline = Status("VmRSS");
            File.WriteAllText("/proc/self/clear_refs", "5");
            run();
            return Math.Max(0, Status("VmHWM") - baseline);
        }
        finally
        {
            TuneForSpeed();
        }
    }

    static long Status(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        throw new InvalidOperationException($"/proc/self/status has no {field}.");
    }
}
