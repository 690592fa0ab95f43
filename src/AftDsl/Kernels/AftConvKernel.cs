using AftDsl.Kernels.Cpu;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace AftDsl.Kernels;

/// <summary>
/// AFT-conv (paper Eq. 6): per head, a depthwise convolution with the kernel exp(w) − 1 plus global sums, channels-last, on a 1-d sequence or a 2-d grid of any size. Each forward runs the fused kernel for its tensors' device and dtype
/// (<see cref="AftKernels.Implementation"/>), or <see cref="AftConvOperators"/>, the libtorch-operator
/// reference; its backward runs on the same path.
/// </summary>
public static class AftConvKernel
{
    static readonly FusedKernels kernels = new("AftConv", CpuDtypes: [ScalarType.Float32, ScalarType.Float64], CudaDtypes: [ScalarType.Float32, ScalarType.BFloat16]);

    /// <summary><paramref name="q"/>, <paramref name="v"/>: <c>[B, *grid, D]</c>; <paramref name="k"/>: <c>[B, *grid, heads]</c>; <paramref name="w"/>: the effective kernel biases, <c>[heads, s]</c> or <c>[heads, s, s]</c>.</summary>
    public static Tensor Forward(AutogradContext ctx, Tensor q, Tensor k, Tensor v, Tensor w, bool causal) =>
        KernelDispatch.Forward(ctx, kernels, q,
            torch: () => AftConvOperators.Forward(ctx, q, k, v, w, causal),
            cpu: () => AftConvCpu.Forward(ctx, q, k, v, w, causal),
            cuda: () => Cuda.AftConvCuda.Forward(ctx, q, k, v, w, causal));

    /// <summary>Gradients of the differentiable inputs, in the order of <see cref="Forward"/>'s parameters, for the output gradient <paramref name="grad"/>.</summary>
    public static List<Tensor> Backward(AutogradContext ctx, Tensor grad) =>
        KernelDispatch.Backward(ctx,
            torch: () => AftConvOperators.Backward(ctx, grad),
            cpu: () => AftConvCpu.Backward(ctx, grad),
            cuda: () => Cuda.AftConvCuda.Backward(ctx, grad));
}
