using System.Runtime.InteropServices;

namespace AftLab.Benchmarks;

/// <summary>
/// The few CUDA driver calls the benchmark makes itself: events, to time GPU work the way the PyTorch
/// peers do, and the default memory pool's high-water mark, for peak memory under PyTorch's
/// <c>cudaMallocAsync</c> allocator backend (also <c>aftlab train</c>'s peak GPU memory). Every call runs after TorchSharp has made the device's
/// primary context current.
/// </summary>
internal static partial class CudaDriver
{
    const string Library = "libcuda.so.1";
    const int UsedMemoryHigh = 8, UsedMemoryCurrent = 7;           // CU_MEMPOOL_ATTR_USED_MEM_HIGH / _CURRENT

    [LibraryImport(Library)] private static partial int cuEventCreate(out nint e, uint flags);
    [LibraryImport(Library)] private static partial int cuEventDestroy_v2(nint e);
    [LibraryImport(Library)] private static partial int cuEventRecord(nint e, nint stream);
    [LibraryImport(Library)] private static partial int cuEventSynchronize(nint e);
    [LibraryImport(Library)] private static partial int cuEventElapsedTime(out float ms, nint start, nint end);
    [LibraryImport(Library)] private static partial int cuDeviceGet(out int device, int ordinal);
    [LibraryImport(Library)] private static partial int cuDeviceGetDefaultMemPool(out nint pool, int device);
    [LibraryImport(Library)] private static partial int cuMemPoolGetAttribute(nint pool, int attribute, out ulong value);
    [LibraryImport(Library)] private static partial int cuMemPoolSetAttribute(nint pool, int attribute, in ulong value);

    static void Check(int result, string call)
    {
        if (result != 0) throw new InvalidOperationException($"{call} failed with CUDA error {result}.");
    }

    /// <summary>Milliseconds of GPU time from before <paramref name="work"/> is queued on the default stream until it has finished.</summary>
    public static double TimeMs(Action work)
    {
        Check(cuEventCreate(out var start, 0), "cuEventCreate");
        Check(cuEventCreate(out var end, 0), "cuEventCreate");
        try
        {
            Check(cuEventRecord(start, 0), "cuEventRecord");
            work();
            Check(cuEventRecord(end, 0), "cuEventRecord");
            Check(cuEventSynchronize(end), "cuEventSynchronize");
            Check(cuEventElapsedTime(out var ms, start, end), "cuEventElapsedTime");
            return ms;
        }
        finally
        {
            cuEventDestroy_v2(start);
            cuEventDestroy_v2(end);
        }
    }

    /// <summary>
    /// Bytes allocated by <paramref name="work"/> at its peak above what was allocated before it, from the device's
    /// default memory pool; null when PyTorch does not allocate from it (its default caching allocator), which
    /// <c>PYTORCH_CUDA_ALLOC_CONF=backend:cudaMallocAsync</c> changes.
    /// </summary>
    public static long? PeakBytes(Action work, int ordinal)
    {
        Check(cuDeviceGet(out var device, ordinal), "cuDeviceGet");
        Check(cuDeviceGetDefaultMemPool(out var pool, device), "cuDeviceGetDefaultMemPool");
        Check(cuMemPoolGetAttribute(pool, UsedMemoryCurrent, out var before), "cuMemPoolGetAttribute");
        Check(cuMemPoolSetAttribute(pool, UsedMemoryHigh, 0UL), "cuMemPoolSetAttribute");   // resets the mark to the current use
        work();
        Check(cuMemPoolGetAttribute(pool, UsedMemoryHigh, out var high), "cuMemPoolGetAttribute");
        return high == 0 ? null : (long)(high - before);
    }

    /// <summary>
    /// The most bytes the device's default memory pool has had allocated at once since the process began (or since
    /// <see cref="PeakBytes"/> last reset the mark); null when nothing was allocated from it, as under PyTorch's default allocator.
    /// </summary>
    public static long? HighWaterBytes(int ordinal)
    {
        Check(cuDeviceGet(out var device, ordinal), "cuDeviceGet");
        Check(cuDeviceGetDefaultMemPool(out var pool, device), "cuDeviceGetDefaultMemPool");
        Check(cuMemPoolGetAttribute(pool, UsedMemoryHigh, out var high), "cuMemPoolGetAttribute");
        return high == 0 ? null : (long)high;
    }
}
