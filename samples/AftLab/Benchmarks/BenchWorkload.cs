using AftDsl.Kernels;
using AftDsl.Reference;
using AftLab.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace AftLab.Benchmarks;

/// <summary>
/// The tensors of one <see cref="BenchCase"/> and the operation to time: forward under no_grad, or
/// forward plus the gradients of every input for one upstream gradient (autograd.grad, so nothing
/// accumulates between runs). Mixers only: no projections, the same inputs for every implementation.
/// </summary>
public sealed class BenchWorkload : IDisposable
{
    const long Rank = 128;
    readonly BenchCase benchCase;
    readonly Device device;
    readonly Tensor[] leaves;
    readonly Tensor? upstream;
    readonly Func<Tensor[], Tensor> operation;
    readonly nn.Module<Tensor, Tensor>? layer;

    public BenchWorkload(BenchCase benchCase, Device device)
    {
        this.benchCase = benchCase;
        this.device = device;
        torch.manual_seed(17);
        leaves = Inputs(benchCase).Select(x => x.to(benchCase.Dtype, device).requires_grad_(benchCase.Backward)).ToArray();
        operation = Operation(benchCase);
        if (Layer(benchCase) is { } module)
        {
            // A layer's backward computes its parameters' gradients too, as in training.
            layer = module;
            layer.to(benchCase.Dtype).to(device);
            leaves = [.. leaves, .. benchCase.Backward ? layer.parameters() : []];
            operation = x => layer.forward(x[0]);
        }
        if (benchCase.Backward)
        {
            using var noGrad = no_grad();
            using var probe = operation(leaves);
            upstream = randn_like(probe);
        }
    }

    /// <summary>Runs the case once, waiting for the device to finish.</summary>
    public void Run()
    {
        Queue();
        DeviceBinding.Synchronize(device);
    }

    /// <summary>Runs the case once without waiting for the device: on a GPU, returns once every kernel is queued.</summary>
    public void Queue()
    {
        using (NewDisposeScope())
        {
            if (benchCase.Backward)
            {
                var output = operation(leaves);
                autograd.grad([output], leaves, [upstream!]);
            }
            else
            {
                using var noGrad = no_grad();
                operation(leaves);
            }
        }
    }

    public void Dispose()
    {
        foreach (var leaf in leaves) leaf.Dispose();
        upstream?.Dispose();
        layer?.Dispose();
    }

    static Tensor[] Inputs(BenchCase c)
    {
        var (b, t, d) = (c.Batch, c.Length, c.Width);
        return c.Variant switch
        {
            Variant.Full or Variant.Local => [randn(b, t, d), randn(b, t, d), randn(b, t, d), randn(t, Rank) * 0.1, randn(t, Rank) * 0.1],
            Variant.Simple => [randn(b, t, d), randn(b, t, d), randn(b, t, d)],
            Variant.Conv when c.GridSide > 0 =>
                [randn(b, c.GridSide, c.GridSide, d), randn(b, c.GridSide, c.GridSide, c.Heads), randn(b, c.GridSide, c.GridSide, d), randn(c.Heads, c.Window, c.Window) * 0.5],
            Variant.Conv => [randn(b, t, d), randn(b, t, c.Heads), randn(b, t, d), randn(c.Heads, c.Window) * 0.5],
            Variant.Attention => [randn(b, 8, t, d / 8), randn(b, 8, t, d / 8), randn(b, 8, t, d / 8)],
            Variant.Copy => [randn(4, b, t, d), zeros(4, b, t, d)],     // into touched memory: page faults are not bandwidth
            Variant.SimpleLayer or Variant.LocalLayer or Variant.AttentionLayer => [randn(b, t, d)],
            _ => [randn(t, t), randn(t, 2 * b * d)],
        };
    }

    static Func<Tensor[], Tensor> Operation(BenchCase c) => (c.Variant, c.Implementation) switch
    {
        (_, Implementation.Operators) => x => KernelChoice.With(AftKernelImplementation.Torch, () => Operation(c with { Implementation = Implementation.Fused })(x)),
        (Variant.Full, Implementation.Fused) => x => AftFull.Apply(x[0], x[1], x[2], x[3], x[4], c.Causal),
        (Variant.Full, Implementation.Unfused) => x => AftUnfused.Full(x[0], x[1], x[2], x[3].matmul(x[4].t()), c.Causal),
        (Variant.Full, Implementation.Naive) => x => AftNaive.Full(x[0], x[1], x[2], x[3].matmul(x[4].t()), c.Causal),
        (Variant.Local, Implementation.Fused) => x => AftLocal.Apply(x[0], x[1], x[2], x[3], x[4], c.Window, c.Causal),
        (Variant.Local, Implementation.Unfused) => x => AftUnfused.Local(x[0], x[1], x[2], x[3], x[4], c.Window, c.Causal),
        (Variant.Local, Implementation.Naive) => x => AftNaive.Local(x[0], x[1], x[2], x[3].matmul(x[4].t()), c.Window, c.Causal),
        (Variant.Simple, Implementation.Fused) => x => AftSimple.Apply(x[0], x[1], x[2], c.Causal),
        (Variant.Simple, Implementation.Unfused) => x => AftUnfused.Simple(x[0], x[1], x[2], c.Causal),
        (Variant.Simple, Implementation.Naive) => x => AftNaive.Simple(x[0], x[1], x[2], c.Causal),
        (Variant.Conv, Implementation.Fused) => x => AftConv.Apply(x[0], x[1], x[2], x[3], c.Causal),
        (Variant.Conv, Implementation.Unfused) => x => AftUnfused.Conv(x[0], x[1], x[2], x[3], c.Causal),
        (Variant.Conv, Implementation.Naive) => x => AftNaive.Conv(x[0], x[1], x[2], x[3], c.Causal),
        (Variant.Attention, _) => x => nn.functional.scaled_dot_product_attention(x[0], x[1], x[2], is_casual: c.Causal),
        (Variant.Matmul, _) => x => x[0].matmul(x[1]),
        (Variant.Copy, _) => x => x[1].copy_(x[0]),
        (Variant.SimpleLayer or Variant.LocalLayer or Variant.AttentionLayer, _) => x => x[0],   // replaced by the layer's forward
        _ => throw new ArgumentException($"No implementation {c.Implementation} of {c.Variant}."),
    };

    static nn.Module<Tensor, Tensor>? Layer(BenchCase c) => c.Variant switch
    {
        Variant.SimpleLayer => new BenchSimpleLayer(),
        Variant.LocalLayer => new BenchLocalLayer(),
        Variant.AttentionLayer => new BenchAttentionLayer(),
        _ => null,
    };
}
