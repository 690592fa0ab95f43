using AftDsl.Cuda;
using AftDsl.Cuda.Native;
using AftDsl.Distributed.Native;
using AftDsl.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Distributed;

/// <summary>
/// Collectives on CUDA tensors through NCCL, on the tensors' memory and PyTorch's default stream (the legacy stream 0,
/// which TorchSharp's operations use, as do AftDsl's kernels): the reduction is ordered after the backward pass that
/// wrote the gradients and before the optimizer step that reads them, with no host synchronisation.
/// The communicator is made on the rank's device from a unique id that rank 0 creates and sends: through MPI when
/// mpirun started the job, over TCP to MASTER_ADDR:MASTER_PORT in a torchrun-style environment, and not at all at
/// world size 1.
/// </summary>
internal sealed class NcclCollectives : ICollectives
{
    readonly NcclLibrary nccl;
    readonly MpiCollectives? mpi;
    readonly int device;
    nint comm;
    bool abandoned;

    /// <summary>PyTorch's current stream unless a program changes it: the legacy default stream.</summary>
    const nint DefaultStream = 0;

    NcclCollectives(NcclLibrary nccl, MpiCollectives? mpi, int rank, int worldSize, int device, NcclUniqueId id)
    {
        this.nccl = nccl;
        this.mpi = mpi;
        this.device = device;
        Rank = rank;
        WorldSize = worldSize;
        // ncclCommInitRank binds the communicator to the current device: make that the tensors' one.
        var driverLibrary = CudaLibraryLocator.LoadDriver();
        var driver = new CudaDriver(driverLibrary.Handle, driverLibrary.Path);
        driver.Init();
        using (new CudaContexts(driver).Enter(device))
            comm = nccl.InitRank(worldSize, id, rank);
        Description = $"NCCL {nccl.Version()} ({nccl.Path}){(mpi is not null ? ", unique id sent through MPI" : "")}";
    }

    /// <summary>Joins the job described by <paramref name="launch"/> on CUDA device <paramref name="device"/>.</summary>
    public static NcclCollectives Create(LaunchEnvironment launch, int device, TimeSpan timeout)
    {
        // NVLink SHARP (NVLS) reserves much memory and has been seen to fail on shared hosts: off unless asked for,
        // set before NCCL's first call reads its environment.
        NativeEnvironment.SetDefault("NCCL_NVLS_ENABLE", "0");
        var nccl = NcclLibrary.Load(CudaLibraryLocator.SearchInputs.Current());
        switch (launch.Launcher)
        {
            case Launcher.Mpirun:
                var mpi = new MpiCollectives(MpiLibrary.Load(Environment.GetEnvironmentVariable), launch);
                try
                {
                    var bytes = launch.Rank == 0 ? nccl.NewUniqueId().ToArray() : new byte[NcclUniqueId.Length];
                    mpi.Mpi.BroadcastBytes(bytes, root: 0);
                    return new NcclCollectives(nccl, mpi, launch.Rank, launch.WorldSize, device, NcclUniqueId.From(bytes));
                }
                catch
                {
                    mpi.Abandon();
                    mpi.Dispose();
                    throw;
                }
            case Launcher.Torchrun when launch.WorldSize > 1:
                var id = UniqueIdExchange.Share(launch, launch.Rank == 0 ? nccl.NewUniqueId().ToArray() : null, timeout);
                return new NcclCollectives(nccl, null, launch.Rank, launch.WorldSize, device, NcclUniqueId.From(id));
            default:
                return new NcclCollectives(nccl, null, 0, 1, device, nccl.NewUniqueId());
        }
    }

    public string Description { get; }

    public int Rank { get; }

    public int WorldSize { get; }

    public void AllReduceSum(Tensor tensor)
    {
        var address = Address(tensor, "all-reduce");
        nccl.AllReduceSumInPlace(address, tensor.NumberOfElements, NcclLibrary.Datatype(tensor.dtype), comm, DefaultStream);
        GC.KeepAlive(tensor);
    }

    public void Broadcast(Tensor tensor, int root)
    {
        var address = Address(tensor, "broadcast");
        nccl.Broadcast(address, tensor.NumberOfElements, NcclLibrary.Datatype(tensor.dtype), root, comm, DefaultStream);
        GC.KeepAlive(tensor);
    }

    nint Address(Tensor tensor, string what)
    {
        if (tensor.device_type != DeviceType.CUDA || Math.Max(0, (int)tensor.device_index) != device)
            throw new DistributedException($"The NCCL backend of this rank {what}s tensors on cuda:{device}; this one is on {tensor.device}.");
        return TensorMemory.Address(tensor, tensor.dtype, DeviceType.CUDA, "tensor");
    }

    public void Abort(int exitCode)
    {
        if (comm != 0) nccl.Abort(comm);
        comm = 0;
        if (mpi is not null) mpi.Abort(exitCode);
        Environment.Exit(exitCode);
    }

    public void Abandon()
    {
        abandoned = true;
        mpi?.Abandon();
    }

    public void Dispose()
    {
        if (comm != 0)
        {
            if (abandoned) nccl.Abort(comm);
            else
            {
                torch.cuda.synchronize(torch.device(DeviceType.CUDA, device));   // work still queued on the communicator first
                nccl.Destroy(comm);
            }
            comm = 0;
        }
        mpi?.Dispose();
    }
}
