using AftDsl.Distributed.Native;
using AftDsl.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Distributed;

/// <summary>Collectives on CPU tensors through MPI (<c>MPI_Allreduce</c> in place, <c>MPI_Bcast</c>) on <c>MPI_COMM_WORLD</c>.</summary>
internal sealed class MpiCollectives : ICollectives
{
    bool abandoned, disposed;
    readonly bool anyThread;

    /// <summary>The MPI library, for the NCCL backend's bootstrap.</summary>
    public MpiLibrary Mpi { get; }

    public MpiCollectives(MpiLibrary mpi, LaunchEnvironment launch)
    {
        Mpi = mpi;
        anyThread = mpi.Initialize() >= MpiLibrary.ThreadMultiple;
        Rank = mpi.Rank();
        WorldSize = mpi.Size();
        // A mismatch means libmpi is not the MPI whose mpirun started us (each process would then be a world of its own).
        if (launch.Launcher == Launcher.Mpirun && (Rank != launch.Rank || WorldSize != launch.WorldSize))
            throw new DistributedException(
                $"mpirun says rank {launch.Rank} of {launch.WorldSize}, but {mpi.Path} says rank {Rank} of {WorldSize}: this libmpi belongs to another MPI than the mpirun that started the job. " +
                $"Use the mpirun of the same Open MPI, or set {MpiLibrary.LibraryVariable} to its libmpi.so.40.");
        Description = $"MPI ({mpi.Version()})";
    }

    public string Description { get; }

    public int Rank { get; }

    public int WorldSize { get; }

    public void AllReduceSum(Tensor tensor) => Apply(tensor, "all-reduce", (address, count, type) => Mpi.AllReduceSumInPlace(address, count, type));

    public void Broadcast(Tensor tensor, int root) => Apply(tensor, "broadcast", (address, count, type) => Mpi.Broadcast(address, count, type, root));

    // MPI counts are ints: a tensor of more than 2³¹ − 1 elements goes in slices.
    void Apply(Tensor tensor, string what, Action<nint, int, nint> call)
    {
        if (tensor.device_type != DeviceType.CPU)
            throw new DistributedException($"The MPI backend {what}s CPU tensors; this one is on {tensor.device}. CUDA tensors use the NCCL backend: create DataParallel with the CUDA device.");
        var type = Mpi.Datatype(tensor.dtype);
        var address = TensorMemory.Address(tensor, tensor.dtype, DeviceType.CPU, "tensor");
        var elementSize = tensor.ElementSize;
        for (long done = 0, total = tensor.NumberOfElements; done < total;)
        {
            var count = (int)Math.Min(int.MaxValue, total - done);
            call(address + (nint)(done * elementSize), count, type);
            done += count;
        }
        GC.KeepAlive(tensor);
    }

    public void Abort(int exitCode)
    {
        // The watchdog aborts from its own thread while another may be inside a collective: MPI allows that only at
        // MPI_THREAD_MULTIPLE. Below it, the process just exits, and mpirun ends the job on the non-zero exit.
        if (anyThread) Mpi.Abort(exitCode);
        Environment.Exit(exitCode);                                         // MPI_Abort returned: should not happen
    }

    public void Abandon() => abandoned = true;

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        if (!abandoned && !Mpi.IsFinalized) Mpi.FinalizeMpi();
    }
}
