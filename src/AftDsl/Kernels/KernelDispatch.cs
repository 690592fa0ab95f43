using AftDsl.Cuda;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace AftDsl.Kernels;

/// <summary>Where one forward pass runs, and therefore its backward.</summary>
internal enum KernelPath { Torch, Cpu, Cuda }

/// <summary>The fused kernels one AFT variant has: which dtypes its CPU and CUDA kernels take (empty: none).</summary>
internal sealed record FusedKernels(string Variant, ScalarType[] CpuDtypes, ScalarType[] CudaDtypes);

/// <summary>
/// Chooses between the fused kernels and the libtorch-operator kernels for each forward pass
/// (<see cref="AftKernels.Implementation"/>, the tensors' device and dtype) and sends the backward the
/// same way. A CUDA kernel that cannot be had (no NVRTC, a compile error) is reported once, with the
/// reason, and the libtorch-operator kernels run instead.
/// </summary>
internal static class KernelDispatch
{
    const string PathKey = "kernel-path";
    static readonly AsyncLocal<KernelPath?> forced = new();
    static string? cudaUnavailable;                                   // no CUDA runtime: every variant
    static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> variantUnavailable = new();   // one kernel failed to build

    /// <summary>Tests: every forward in this async flow takes <paramref name="path"/> (CUDA on CPU tensors under the host emulation).</summary>
    public static IDisposable Force(KernelPath path)
    {
        var previous = forced.Value;
        forced.Value = path;
        return new Restore(() => forced.Value = previous);
    }

    /// <summary>The path a forward on <paramref name="input"/> takes.</summary>
    public static KernelPath Choose(FusedKernels kernels, Tensor input, bool cpuPreferred = true, bool cudaPreferred = true)
    {
        if (forced.Value is { } path) return path;
        if (AftKernels.Implementation == AftKernelImplementation.Torch) return KernelPath.Torch;
        if (AftKernels.FusedEverywhere) cpuPreferred = cudaPreferred = true;
        return input.device_type switch
        {
            DeviceType.CPU when kernels.CpuDtypes.Contains(input.dtype) && cpuPreferred => KernelPath.Cpu,
            DeviceType.CUDA when kernels.CudaDtypes.Contains(input.dtype) && cudaPreferred && cudaUnavailable is null && !variantUnavailable.ContainsKey(kernels.Variant) => KernelPath.Cuda,
            _ => KernelPath.Torch,
        };
    }

    /// <summary>
    /// Runs the forward on the chosen path and records it for <see cref="Backward"/>. <paramref name="cpuPreferred"/>
    /// (<paramref name="cudaPreferred"/>) false sends CPU (CUDA) tensors to the operator kernels unless a test forces
    /// the fused path: for the cases where those measure faster than the fused kernel (the README's benchmarks say which).
    /// </summary>
    public static Tensor Forward(AutogradContext ctx, FusedKernels kernels, Tensor input,
        Func<Tensor> torch, Func<Tensor>? cpu = null, Func<Tensor>? cuda = null, bool cpuPreferred = true, bool cudaPreferred = true)
    {
        var path = Choose(kernels, input, cpuPreferred, cudaPreferred);
        if (path == KernelPath.Cpu && cpu is null || path == KernelPath.Cuda && cuda is null) path = KernelPath.Torch;
        if (path == KernelPath.Cuda)
        {
            try
            {
                var output = cuda!();
                ctx.save_data(PathKey, path);
                return output;
            }
            catch (CudaException e) when (forced.Value is null)
            {
                ReportUnavailable(kernels.Variant, e);
                path = KernelPath.Torch;
            }
        }
        ctx.save_data(PathKey, path);
        return path == KernelPath.Cpu ? cpu!() : torch();
    }

    /// <summary>
    /// The backward on the path its forward took, freeing what it receives (<paramref name="grad"/>) and returns
    /// where autograd runs it on a thread without a dispose scope (<see cref="BackwardScope"/>). Every custom
    /// function's backward, the generated layers' included, comes through here, so none can leak on the CUDA device thread.
    /// </summary>
    public static List<Tensor> Backward(AutogradContext ctx, Tensor grad, Func<List<Tensor>> torch,
        Func<List<Tensor>>? cpu = null, Func<List<Tensor>>? cuda = null) =>
        BackwardScope.Run(grad, () => (KernelPath)ctx.get_data(PathKey) switch
        {
            KernelPath.Cpu => cpu!(),
            KernelPath.Cuda => cuda!(),
            _ => torch(),
        });

    /// <summary>Why the CUDA kernels are not in use, or null while they are (or were never tried).</summary>
    public static string? CudaUnavailableReason => cudaUnavailable;

    /// <summary>Variants whose CUDA kernel failed to build in this process, with why (they run the libtorch-operator kernels).</summary>
    public static IReadOnlyDictionary<string, string> UnavailableCudaVariants => variantUnavailable;

    // Without a compiler (no NVRTC or driver) no CUDA kernel can run; a kernel that fails to compile or load
    // disables its own variant only.
    static void ReportUnavailable(string variant, CudaException e)
    {
        var first = CudaKernels.CompilerIfCreated is null
            ? Interlocked.CompareExchange(ref cudaUnavailable, e.Message, null) is null
            : variantUnavailable.TryAdd(variant, e.Message);
        if (first)
            Console.Error.WriteLine($"AftDsl: the fused CUDA kernels are unavailable ({variant}): {e.Message}\n" +
                "AftDsl: using the libtorch-operator kernels instead (set AFTDSL_KERNELS=torch to choose them and silence this).");
    }

    sealed class Restore(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }
}
