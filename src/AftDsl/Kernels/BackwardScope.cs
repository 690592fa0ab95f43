using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Kernels;

/// <summary>
/// Runs a custom autograd function's backward so that the tensors it receives and returns are freed.
/// </summary>
/// <remarks>
/// On the CPU, autograd runs a backward on the thread that asked for the gradients, inside that thread's
/// dispose scope, which then owns them. For CUDA tensors it runs it on its own device thread, where no
/// dispose scope is open: TorchSharp hands the returned gradients' handles to libtorch (which takes its own
/// references) and leaves the managed tensors, and the incoming gradient, to the finalizer. That is GPU
/// memory the garbage collector does not see: a benchmark ran a 140 GB device out of memory that way.
/// There the incoming gradient is disposed at once, and the returned ones at the thread's next backward,
/// when libtorch has long taken its references.
/// </remarks>
internal static class BackwardScope
{
    [ThreadStatic] static List<Tensor>? returnedBefore;

    public static List<Tensor> Run(Tensor gradOutput, Func<List<Tensor>> backward)
    {
        if (CurrentDisposeScope is not null) return backward();

        DisposeReturnedBefore();
        List<Tensor> gradients;
        using (var scope = NewDisposeScope())
        {
            gradients = backward();
            scope.Detach(gradients.Where(g => g is not null && scope.Contains(g)));
        }
        var returned = gradients.Where(g => g is not null).ToList();
        if (!returned.Any(g => ReferenceEquals(g, gradOutput))) gradOutput.Dispose();
        returnedBefore = returned;
        return gradients;
    }

    static void DisposeReturnedBefore()
    {
        foreach (var tensor in returnedBefore ?? []) tensor.Dispose();
        returnedBefore = null;
    }
}
