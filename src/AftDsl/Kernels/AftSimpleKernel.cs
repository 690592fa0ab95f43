using AftDsl.Kernels.Cuda;
using AftDsl.Kernels.Cpu;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace AftDsl.Kernels;

/// <summary>
/// AFT-simple (paper Eq. 5), O(T·d): <c>Y_t = σ(Q_t) ⊙ Σ_t' softmax_t'(K)_t' ⊙ V_t'</c>, over t' ≤ t when causal. Each forward runs the fused kernel for its tensors' device and dtype
/// (<see cref="AftKernels.Implementation"/>), or <see cref="AftSimpleOperators"/>, the libtorch-operator
/// reference; its backward runs on the same path.
/// </summary>
public static class AftSimpleKernel
{
    static readonly FusedKernels kernels = new("AftSimple", CpuDtypes: [ScalarType.Float32, ScalarType.Float64], CudaDtypes: [ScalarType.Float32, ScalarType.BFloat16]);

    /// <summary><paramref name="q"/>, <paramref name="k"/>, <paramref name="v"/>: <c>[B, T, H]</c>; returns <c>[B, T, H]</c>.</summary>
    public static Tensor Forward(AutogradContext ctx, Tensor q, Tensor k, Tensor v, bool causal) =>
        KernelDispatch.Forward(ctx, kernels, q,
            torch: () => AftSimpleOperators.Forward(ctx, q, k, v, causal),
            cpu: () => AftSimpleCpu.Forward(ctx, q, k, v, causal),
            cuda: () => AftSimpleCuda.Forward(ctx, q, k, v, causal));

    /// <summary>Gradients of the differentiable inputs, in the order of <see cref="Forward"/>'s parameters, for the output gradient <paramref name="grad"/>.</summary>
    public static List<Tensor> Backward(AutogradContext ctx, Tensor grad) =>
        KernelDispatch.Backward(ctx, grad,
            torch: () => AftSimpleOperators.Backward(ctx, grad),
            cpu: () => AftSimpleCpu.Backward(ctx, grad),
            cuda: () => AftSimpleCuda.Backward(ctx, grad));
}
