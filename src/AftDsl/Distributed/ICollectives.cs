using static TorchSharp.torch;

namespace AftDsl.Distributed;

/// <summary>
/// The collectives data-parallel training uses, provided by an existing engine (MPI on the CPU, NCCL on CUDA):
/// nothing here reduces data itself. Every rank must make the same calls in the same order.
/// </summary>
internal interface ICollectives : IDisposable
{
    /// <summary>The backend and its version, e.g. <c>MPI (Open MPI v4.1.4)</c> or <c>NCCL 2.28.9</c>.</summary>
    string Description { get; }

    /// <summary>This process's rank.</summary>
    int Rank { get; }

    /// <summary>How many processes take part.</summary>
    int WorldSize { get; }

    /// <summary>Replaces the contiguous <paramref name="tensor"/> by its sum over all ranks.</summary>
    void AllReduceSum(Tensor tensor);

    /// <summary>Replaces the contiguous <paramref name="tensor"/> by rank <paramref name="root"/>'s.</summary>
    void Broadcast(Tensor tensor, int root);

    /// <summary>Ends every rank of the job now with <paramref name="exitCode"/> (after a timeout); does not return.</summary>
    void Abort(int exitCode);

    /// <summary>This rank is stopping because of an error: <see cref="IDisposable.Dispose"/> then leaves without the
    /// collective shutdown (which would wait for ranks that are still training), so the launcher ends the job.</summary>
    void Abandon();
}
