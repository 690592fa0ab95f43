using AftDsl.Cuda;

namespace AftDsl.Kernels.Cuda;

/// <summary>Small helpers the CUDA kernels' host code shares.</summary>
internal static class CudaLaunch
{
    /// <summary>⌈<paramref name="count"/> / <paramref name="size"/>⌉ as a launch extent.</summary>
    public static uint Blocks(long count, long size)
    {
        var blocks = (count + size - 1) / size;
        if (blocks > uint.MaxValue) throw new ArgumentOutOfRangeException(nameof(count), $"{count} elements need more than 2³² blocks of {size}.");
        return (uint)blocks;
    }

    /// <summary>Launches unless the grid is empty (CUDA refuses empty grids; there is nothing to do), then frees the arguments.</summary>
    public static void Run(ICudaModule module, string kernel, Dim3 grid, Dim3 block, KernelArguments arguments)
    {
        using (arguments)
            if (grid.Count > 0) module.Launch(kernel, grid, block, 0, arguments);
    }
}
