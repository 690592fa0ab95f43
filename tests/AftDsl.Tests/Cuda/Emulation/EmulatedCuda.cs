using AftDsl.Cuda;
using AftDsl.Kernels;

namespace AftDsl.Tests.Cuda.Emulation;

/// <summary>
/// Runs the CUDA path (its C# launch code and its kernels) on CPU tensors: the host emulation as the
/// compiler, and every forward in the calling flow sent down the CUDA path.
/// <code>using var cuda = EmulatedCuda.Use(); var y = AftSimple.Apply(q, k, v, causal: true);</code>
/// </summary>
public static class EmulatedCuda
{
    static readonly object gate = new();

    public static IDisposable Use()
    {
        lock (gate)
        {
            // Setting the compiler forgets compiled modules, so set it once.
            if (CudaKernels.CompilerIfCreated is not HostEmulationCompiler) CudaKernels.Compiler = HostEmulationCompiler.Instance;
        }
        return KernelDispatch.Force(KernelPath.Cuda);
    }
}
