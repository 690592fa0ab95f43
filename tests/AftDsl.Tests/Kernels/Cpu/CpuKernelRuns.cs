using AftDsl.Kernels;
using AftDsl.Kernels.Cpu;
using static TorchSharp.torch;

namespace AftDsl.Tests.Kernels.Cpu;

/// <summary>Runs of an operation on the C# CPU path, at a chosen thread count.</summary>
internal static class CpuKernelRuns
{
    /// <summary>The output and the input gradients for the output gradient <paramref name="upstream"/>, on <paramref name="threads"/> threads.</summary>
    public static (Tensor Output, Tensor[] Gradients) Run(Func<Tensor[], Tensor> operation, Tensor[] inputs, Tensor upstream, int threads)
    {
        var previous = CpuParallel.Degree;
        CpuParallel.Degree = threads;
        try
        {
            using var path = KernelDispatch.Force(KernelPath.Cpu);
            var leaves = inputs.Select(x => x.detach().clone().requires_grad_()).ToArray();
            var output = operation(leaves);
            output.backward([upstream]);
            return (output.detach(), leaves.Select(l => l.grad!).ToArray());
        }
        finally
        {
            CpuParallel.Degree = previous;
        }
    }
}
