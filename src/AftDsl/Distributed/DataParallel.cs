using AftDsl.Distributed.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AftDsl.Distributed;

/// <summary>
/// Data-parallel training for any TorchSharp loop: every rank holds the whole model and trains on its own share of
/// each batch; <see cref="BroadcastParameters(nn.Module)"/> makes all ranks start from rank 0's weights, and
/// <see cref="AverageGradients(IEnumerable{Parameter})"/>, called after <c>backward()</c> and before clipping and the
/// optimizer step, replaces every gradient by its mean over the ranks, so every rank takes the same step, the one a
/// single process would take on the combined batch. The collectives come from existing engines, chosen from the
/// device: MPI (Open MPI's libmpi.so.40) for CPU tensors, NCCL (libnccl.so.2) for CUDA tensors.
/// <code>
/// using var parallel = DataParallel.FromEnvironment(device);   // under mpirun -np N, or a torchrun-style environment
/// parallel.BroadcastParameters(model);
/// foreach (step) { loss.backward(); parallel.AverageGradients(model.parameters()); clip; optimizer.step(); }
/// </code>
/// A collective that waits longer than <see cref="DataParallelOptions.CollectiveTimeout"/> ends the job with a message.
/// One instance per process: MPI cannot be started again once finished.
/// </summary>
public sealed class DataParallel : IDisposable
{
    readonly ICollectives collectives;
    readonly CollectiveWatchdog watchdog;
    readonly DataParallelOptions options;
    bool disposed;

    internal DataParallel(ICollectives collectives, Device device, int localRank, DataParallelOptions options)
    {
        this.collectives = collectives;
        this.options = options;
        Device = device;
        LocalRank = localRank;
        var expire = options.OnTimeout ?? (message =>
        {
            Console.Error.WriteLine(message);
            Console.Error.Flush();
            collectives.Abort(options.TimeoutExitCode);
        });
        watchdog = new CollectiveWatchdog(options.CollectiveTimeout, $"rank {Rank} of {WorldSize}", expire);
    }

    /// <summary>Joins the job this process was launched into (<see cref="LaunchEnvironment.Current"/>) on <paramref name="device"/>.</summary>
    /// <exception cref="DistributedException">The backend's library is missing, or the launch environment does not fit the device.</exception>
    public static DataParallel FromEnvironment(Device device, DataParallelOptions? options = null) =>
        Create(LaunchEnvironment.Current(), device, options);

    /// <summary>
    /// Joins the job <paramref name="launch"/> describes on <paramref name="device"/>: MPI for a CPU device (under mpirun,
    /// or alone at world size 1), NCCL for a CUDA device (its unique id sent through MPI under mpirun, over TCP in a
    /// torchrun-style environment, made locally at world size 1). A CUDA device without an index means cuda:LOCAL_RANK.
    /// </summary>
    /// <exception cref="DistributedException">The backend's library is missing, or the launch environment does not fit the device.</exception>
    public static DataParallel Create(LaunchEnvironment launch, Device device, DataParallelOptions? options = null)
    {
        options ??= new DataParallelOptions();
        switch (device.type)
        {
            case DeviceType.CPU:
                if (launch.Launcher == Launcher.Torchrun && launch.WorldSize > 1)
                    throw new DistributedException(
                        $"WORLD_SIZE is {launch.WorldSize} on the CPU, whose backend is MPI, and MPI's processes must be started by mpirun: " +
                        "launch with mpirun -np N instead (the torchrun-style environment serves the NCCL backend on GPUs).");
                return new DataParallel(new MpiCollectives(MpiLibrary.Load(Environment.GetEnvironmentVariable), launch), device, launch.LocalRank, options);
            case DeviceType.CUDA:
                var index = device.index >= 0 ? device.index : launch.LocalRank;
                var collectives = NcclCollectives.Create(launch, index, options.CollectiveTimeout);
                return new DataParallel(collectives, torch.device(DeviceType.CUDA, index), launch.LocalRank, options);
            default:
                throw new DistributedException($"Data-parallel training runs on CPU (MPI) or CUDA (NCCL) devices, not {device}.");
        }
    }

    /// <summary>This process's rank: 0 to <see cref="WorldSize"/> − 1.</summary>
    public int Rank => collectives.Rank;

    /// <summary>How many processes train together.</summary>
    public int WorldSize => collectives.WorldSize;

    /// <summary>This process's index on its host (the GPU it uses).</summary>
    public int LocalRank { get; }

    /// <summary>True on rank 0, the one that writes files and prints progress.</summary>
    public bool IsMain => Rank == 0;

    /// <summary>The device whose tensors this instance reduces.</summary>
    public Device Device { get; }

    /// <summary>The backend and its version, e.g. <c>MPI (Open MPI v4.1.4)</c>.</summary>
    public string Backend => collectives.Description;

    /// <summary>The longest one collective may take before the job is ended.</summary>
    public TimeSpan CollectiveTimeout => watchdog.Timeout;

    /// <summary>Copies rank 0's parameters and buffers into every rank's <paramref name="module"/>.</summary>
    public void BroadcastParameters(nn.Module module) =>
        BroadcastTensors(module.parameters().Cast<Tensor>().Concat(module.buffers()));

    /// <summary>Copies rank 0's <paramref name="tensors"/> into every rank's.</summary>
    public void BroadcastTensors(IEnumerable<Tensor> tensors)
    {
        using var noGrad = torch.no_grad();
        foreach (var tensor in tensors)
        {
            using var scope = NewDisposeScope();
            if (tensor.is_contiguous())
                Run("parameter broadcast", () => collectives.Broadcast(tensor, root: 0));
            else
            {
                var copy = tensor.contiguous();
                Run("parameter broadcast", () => collectives.Broadcast(copy, root: 0));
                tensor.copy_(copy);
            }
        }
    }

    /// <summary>
    /// Replaces the gradient of each of <paramref name="parameters"/> that requires one by its mean over all ranks:
    /// bucketed into flat buffers of <see cref="DataParallelOptions.BucketBytes"/>, summed by the backend, divided by
    /// <see cref="WorldSize"/>, copied back. A parameter without a gradient on this rank counts as zeros and gets the mean,
    /// so that every rank's optimizer sees the same gradients. Every rank must pass the same parameters in the same order.
    /// </summary>
    public void AverageGradients(IEnumerable<Parameter> parameters)
    {
        var trained = parameters.Where(p => p.requires_grad).ToList();
        using var noGrad = torch.no_grad();
        foreach (var bucket in GradientBuckets.Plan(trained, options.BucketBytes))
        {
            using var scope = NewDisposeScope();
            var gradients = bucket.Select(p => p.grad is { } g ? g.reshape(-1) : zeros(p.NumberOfElements, dtype: p.dtype, device: p.device)).ToList();
            var flat = gradients.Count == 1 ? gradients[0].clone() : cat(gradients, 0);
            Run("gradient all-reduce", () => collectives.AllReduceSum(flat));
            flat.div_(WorldSize);
            long offset = 0;
            foreach (var parameter in bucket)
            {
                var mean = flat.narrow(0, offset, parameter.NumberOfElements).view(parameter.shape);
                if (parameter.grad is { } gradient) gradient.copy_(mean);
                else parameter.grad = mean.clone().DetachFromDisposeScope();
                offset += parameter.NumberOfElements;
            }
        }
    }

    /// <summary>The sums over all ranks of each of <paramref name="values"/> (e.g. losses and token counts, for rank 0's report).</summary>
    public double[] AllReduceSum(params double[] values) => Scalars(values, "scalar all-reduce", t => collectives.AllReduceSum(t));

    /// <summary>Rank 0's <paramref name="values"/>, on every rank (e.g. decisions only rank 0's clock can make).</summary>
    public double[] BroadcastFromMain(params double[] values) => Scalars(values, "scalar broadcast", t => collectives.Broadcast(t, root: 0));

    double[] Scalars(double[] values, string what, Action<Tensor> collective)
    {
        using var scope = NewDisposeScope();
        var tensor = torch.tensor(values, dtype: ScalarType.Float64, device: Device);
        double[] result = [];
        // The copy back is inside the watch: on CUDA it is where a collective that never ends would block.
        Run(what, () =>
        {
            collective(tensor);
            result = tensor.cpu().data<double>().ToArray();
        });
        return result;
    }

    /// <summary>
    /// This rank is stopping because of an error: disposing then skips the collective shutdown (which would wait for
    /// the other ranks), and the process's non-zero exit makes the launcher end the job. Call it before the error propagates.
    /// </summary>
    public void Abandon() => collectives.Abandon();

    void Run(string what, Action collective)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        using var watch = watchdog.Enter(what);
        collective();
        // NCCL only queues the collective on the GPU: wait for it here, inside the watch, or a peer that died would
        // hang the first later synchronisation (the gradient clipping's norm, a loss's item()) with no time bound.
        if (Device.type == DeviceType.CUDA) torch.cuda.synchronize(Device);
    }

    /// <summary>Leaves the job (MPI_Finalize, ncclCommDestroy), unless <see cref="Abandon"/> was called.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        watchdog.Dispose();
        collectives.Dispose();
    }
}
