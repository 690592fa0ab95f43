using AftDsl.Kernels.Cuda;
using AftDsl.Kernels.Cpu;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace AftDsl.Kernels;

/// <summary>
/// AFT-full (paper Eq. 2) with the factorised bias w = U·Wᵀ. Each forward runs the fused kernel for its tensors' device and dtype
/// (<see cref="AftKernels.Implementation"/>), or <see cref="AftFullOperators"/>, the libtorch-operator
/// reference; its backward runs on the same path.
/// </summary>
public static class AftFullKernel
{
    static readonly FusedKernels kernels = new("AftFull", CpuDtypes: [ScalarType.Float32, ScalarType.Float64], CudaDtypes: [ScalarType.Float32, ScalarType.BFloat16]);

    /// <summary><paramref name="q"/>, <paramref name="k"/>, <paramref name="v"/>: <c>[B, T, H]</c>; <paramref name="u"/>, <paramref name="w"/>: <c>[maxLength, rank]</c>, of which the first T rows are used.</summary>
    public static Tensor Forward(AutogradContext ctx, Tensor q, Tensor k, Tensor v, Tensor u, Tensor w, bool causal) =>
        // Non-causal, the operator kernels' two large products run about 2× faster on the CPU than the C# tiles;
        // causal, the C# kernels are as fast and keep a NaN from reaching earlier positions.
        KernelDispatch.Forward(ctx, kernels, q,
            torch: () => AftFullOperators.Forward(ctx, q, k, v, u, w, causal),
            cpu: () => AftFullCpu.Forward(ctx, q, k, v, u, w, causal),
            cuda: () => AftFullCuda.Forward(ctx, q, k, v, u, w, causal),
            cpuPreferred: causal);

    /// <summary>Gradients of the differentiable inputs, in the order of <see cref="Forward"/>'s parameters, for the output gradient <paramref name="grad"/>.</summary>
    public static List<Tensor> Backward(AutogradContext ctx, Tensor grad) =>
        KernelDispatch.Backward(ctx, grad,
            torch: () => AftFullOperators.Backward(ctx, grad),
            cpu: () => AftFullCpu.Backward(ctx, grad),
            cuda: () => AftFullCuda.Backward(ctx, grad));
}
