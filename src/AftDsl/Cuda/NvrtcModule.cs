using System.Collections.Concurrent;
using AftDsl.Cuda.Native;

namespace AftDsl.Cuda;

/// <summary>
/// One kernel source with one set of constants, loaded through the CUDA driver: a driver module per device
/// it has run on, each with its kernels' function handles looked up once.
/// </summary>
internal sealed class NvrtcModule(NvrtcCompiler compiler, string name, string source, KeyValuePair<string, string>[] defines) : ICudaModule
{
    /// <summary>The legacy default stream, PyTorch's current stream unless a program changes it.</summary>
    const nint DefaultStream = 0;

    readonly ConcurrentDictionary<string, Lazy<byte[]>> binaries = new();
    readonly ConcurrentDictionary<int, Lazy<LoadedModule>> devices = new();

    /// <summary>The compiled code for <paramref name="target"/>'s architecture (compiled once, or read from the disk cache).</summary>
    public byte[] Binary(NvrtcCompiler.DeviceTarget target) =>
        binaries.GetOrAdd(target.Architecture, _ => new Lazy<byte[]>(() => compiler.Binary(name, source, defines, target))).Value;

    /// <summary>The module loaded on device <paramref name="ordinal"/>; its primary context must be current.</summary>
    public LoadedModule On(int ordinal) =>
        devices.GetOrAdd(ordinal, o => new Lazy<LoadedModule>(() =>
            new LoadedModule(compiler.Driver, compiler.LoadModule(Binary(compiler.Target(o)), name), name))).Value;

    /// <inheritdoc/>
    public void Launch(string kernel, Dim3 grid, Dim3 block, uint sharedBytes, KernelArguments arguments)
    {
        if (grid.Count == 0) return;   // no blocks: an empty tensor, nothing to do (the driver would call it invalid)
        var ordinal = arguments.DeviceIndex ?? compiler.DefaultDevice;
        using var context = compiler.Contexts.Enter(ordinal);
        var function = On(ordinal).Function(kernel);
        function.AllowDynamicSharedMemory(sharedBytes);
        var result = compiler.Driver.Launch(function.Handle, grid, block, sharedBytes, DefaultStream, arguments.Pointers);
        if (result != CudaDriver.Success)
            throw new CudaException(
                $"{name}: launching {kernel} on cuda:{ordinal} with grid {grid}, block {block}, {sharedBytes} bytes of dynamic shared memory " +
                $"and {arguments.Count} arguments failed: {compiler.Driver.Describe(result)}. (An earlier kernel's fault also surfaces at a later " +
                "launch; CUDA_LAUNCH_BLOCKING=1 makes each launch report its own.)");
        GC.KeepAlive(arguments);
    }
}

/// <summary>A driver module in one context, and the handles of the kernels launched from it so far.</summary>
internal sealed class LoadedModule(CudaDriver driver, nint module, string name)
{
    readonly ConcurrentDictionary<string, KernelFunction> functions = new();

    /// <summary>The kernel named <paramref name="kernel"/> (an <c>extern "C" __global__</c> function).</summary>
    public KernelFunction Function(string kernel) =>
        functions.TryGetValue(kernel, out var function) ? function
            : functions.GetOrAdd(kernel, k => new KernelFunction(driver, driver.Function(module, k, name), k));
}

/// <summary>A kernel's function handle, and how much dynamic shared memory it has been allowed so far.</summary>
internal sealed class KernelFunction(CudaDriver driver, nint handle, string kernel)
{
    readonly Lock gate = new();
    volatile uint allowedSharedBytes;

    /// <summary>The driver's <c>CUfunction</c>.</summary>
    public nint Handle => handle;

    /// <summary>
    /// Raises the kernel's dynamic shared memory limit to <paramref name="bytes"/> if it is lower. Above 48 KiB
    /// (static and dynamic together) a kernel must opt in (<c>CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES</c>);
    /// setting it for any dynamic size, once per new maximum, covers kernels that also have static shared memory.
    /// The limit only grows, under a lock, so that a launch never sees it lowered by another thread's smaller request.
    /// </summary>
    public void AllowDynamicSharedMemory(uint bytes)
    {
        if (bytes <= allowedSharedBytes) return;
        lock (gate)
        {
            if (bytes <= allowedSharedBytes) return;
            driver.AllowDynamicSharedMemory(handle, checked((int)bytes), kernel);
            allowedSharedBytes = bytes;
        }
    }
}
