using AftDsl.Kernels.Cpu;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace AftDsl.Kernels;

/// <summary>
/// AFT-local (paper Eq. 4) in linear time: w = U·Wᵀ inside the window |t − t'| &lt; s, 0 (not −∞) outside. Each forward runs the fused kernel for its tensors' device and dtype
/// (<see cref="AftKernels.Implementation"/>), or <see cref="AftLocalOperators"/>, the libtorch-operator
/// reference; its backward runs on the same path.
/// </summary>
public static class AftLocalKernel
{
    static readonly FusedKernels kernels = new("AftLocal", CpuDtypes: [ScalarType.Float32, ScalarType.Float64], CudaDtypes: [ScalarType.Float32, ScalarType.BFloat16]);

    /// <summary><paramref name="q"/>, <paramref name="k"/>, <paramref name="v"/>: <c>[B, T, H]</c>; <paramref name="u"/>, <paramref name="w"/>: <c>[maxLength, rank]</c>; <paramref name="window"/>: s ≥ 1. Returns <c>[B, T, H]</c>.</summary>
    public static Tensor Forward(AutogradContext ctx, Tensor q, Tensor k, Tensor v, Tensor u, Tensor w, long window, bool causal) =>
        // Non-causal, the operator kernels' batched band products measure about 2× faster on the CPU than the C#
        // forward and backward passes; causal, the C# kernels are 1.7× faster. On an H200 the CUDA kernels (band
        // products on the tensor cores) are 1.3–2.2× (non-causal) and 3–8× (causal) faster than the operator kernels.
        KernelDispatch.Forward(ctx, kernels, q,
            torch: () => AftLocalOperators.Forward(ctx, q, k, v, u, w, window, causal),
            cpu: () => AftLocalCpu.Forward(ctx, q, k, v, u, w, window, causal),
            cuda: () => Cuda.AftLocalCuda.Forward(ctx, q, k, v, u, w, window, causal),
            cpuPreferred: causal);

    /// <summary>Gradients of the differentiable inputs, in the order of <see cref="Forward"/>'s parameters, for the output gradient <paramref name="grad"/>.</summary>
    public static List<Tensor> Backward(AutogradContext ctx, Tensor grad) =>
        KernelDispatch.Backward(ctx, grad,
            torch: () => AftLocalOperators.Backward(ctx, grad),
            cpu: () => AftLocalCpu.Backward(ctx, grad),
            cuda: () => Cuda.AftLocalCuda.Backward(ctx, grad));
}
