namespace AftDsl.Cuda;

/// <summary>One kernel source compiled with one set of compile-time constants, ready to launch.</summary>
public interface ICudaModule
{
    /// <summary>
    /// Launches the <c>extern "C" __global__</c> function <paramref name="kernel"/> on the current stream (ordered
    /// with TorchSharp's own work; it does not wait for the kernel to finish).
    /// </summary>
    void Launch(string kernel, Dim3 grid, Dim3 block, uint sharedBytes, KernelArguments arguments);
}

/// <summary>Turns kernel sources into modules: NVRTC and the CUDA driver on a GPU, a host emulation in tests.</summary>
public interface ICudaCompiler
{
    /// <summary>A short description for logs, e.g. which NVRTC and GPU architecture.</summary>
    string Description { get; }

    /// <summary>
    /// Compiles <paramref name="source"/> (already complete: headers inlined) with <c>-D</c> definitions
    /// <paramref name="defines"/>; <paramref name="name"/> names it in errors and logs.
    /// </summary>
    /// <exception cref="CudaException">Compilation or loading failed (the message carries the compiler's log).</exception>
    ICudaModule Compile(string name, string source, IReadOnlyList<KeyValuePair<string, string>> defines);
}
