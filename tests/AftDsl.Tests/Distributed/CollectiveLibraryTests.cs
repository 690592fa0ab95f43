using System.Net;
using System.Net.Sockets;
using AftDsl.Cuda;
using AftDsl.Distributed;
using AftDsl.Distributed.Native;
using Xunit;

namespace AftDsl.Tests.Distributed;

/// <summary>Finding libmpi and libnccl, the errors when they are missing, and NCCL's unique-id exchange over TCP.</summary>
public sealed class CollectiveLibraryTests
{
    [Fact]
    public void Open_mpis_libmpi_loads_with_every_call_and_handle_bound()
    {
        // CI installs Open MPI (.ci/run); without it this fails with the message a user would see.
        var mpi = MpiLibrary.Load(_ => null);
        Assert.StartsWith("Open MPI v", mpi.Version());
        Assert.NotEqual(0, mpi.CommWorld);
        Assert.NotEqual(0, mpi.Sum);
    }

    [Fact]
    public void A_missing_libmpi_is_named_with_how_to_install_it()
    {
        var refusal = Assert.Throws<DistributedException>(() => MpiLibrary.Load(n => n == MpiLibrary.LibraryVariable ? "/nowhere/libmpi.so.40" : null));
        Assert.Contains("/nowhere/libmpi.so.40", refusal.Message);
        Assert.Contains("AFTDSL_MPI='/nowhere/libmpi.so.40' is set, so nothing else was tried", refusal.Message);
        Assert.DoesNotContain('\n', refusal.Message);
    }

    [Fact]
    public void Nccl_is_looked_for_beside_libtorch_then_in_pytorchs_nvidia_wheel_then_by_name()
    {
        var inputs = new CudaLibraryLocator.SearchInputs(_ => null, ["/site/torch/lib/libtorch.so", "/usr/lib/libc.so.6"]);
        Assert.Equal(["/site/torch/lib/libnccl.so.2", "/site/nvidia/nccl/lib/libnccl.so.2", "libnccl.so.2"], NcclLibrary.Candidates(inputs));
    }

    [Fact]
    public void An_nccl_already_loaded_by_libtorch_comes_first()
    {
        var inputs = new CudaLibraryLocator.SearchInputs(_ => null, ["/site/torch/lib/libtorch_cuda.so", "/site/nvidia/nccl/lib/libnccl.so.2.28.9"]);
        Assert.Equal("/site/nvidia/nccl/lib/libnccl.so.2.28.9", NcclLibrary.Candidates(inputs)[0]);
    }

    [Fact]
    public void A_missing_libnccl_is_named_with_what_was_tried_and_the_fix()
    {
        var inputs = new CudaLibraryLocator.SearchInputs(n => n == NcclLibrary.LibraryVariable ? "/nowhere/libnccl.so.2" : null, []);
        var refusal = Assert.Throws<DistributedException>(() => NcclLibrary.Load(inputs));
        Assert.Contains("Could not load NCCL (libnccl.so.2) for the CUDA backend: tried /nowhere/libnccl.so.2 (no such file)", refusal.Message);
        Assert.Contains("AFTDSL_NCCL='/nowhere/libnccl.so.2' is set", refusal.Message);
        Assert.DoesNotContain('\n', refusal.Message);
    }

    [Fact]
    public void Ranks_of_a_torchrun_style_job_receive_rank_0s_unique_id()
    {
        var port = FreePort();
        var id = Enumerable.Range(0, NcclUniqueId.Length).Select(i => (byte)(i * 7)).ToArray();
        var timeout = TimeSpan.FromSeconds(20);
        // The other ranks start first: they retry until rank 0 listens.
        var others = Enumerable.Range(1, 2).Select(rank => Task.Run(() =>
            UniqueIdExchange.Share(new LaunchEnvironment(Launcher.Torchrun, rank, 3, rank, "127.0.0.1", port), null, timeout))).ToArray();
        Thread.Sleep(200);
        var sent = UniqueIdExchange.Share(new LaunchEnvironment(Launcher.Torchrun, 0, 3, 0, "127.0.0.1", port), id, timeout);
        Assert.Equal(id, sent);
        Assert.All(others, task => Assert.Equal(id, task.Result));
    }

    [Fact]
    public void A_rank_whose_master_never_answers_stops_with_a_message()
    {
        var port = FreePort();
        var refusal = Assert.Throws<DistributedException>(() =>
            UniqueIdExchange.Share(new LaunchEnvironment(Launcher.Torchrun, 1, 2, 1, "127.0.0.1", port), null, TimeSpan.FromSeconds(0.5)));
        Assert.Contains($"Rank 1 could not fetch NCCL's unique id from 127.0.0.1:{port}", refusal.Message);
    }

    static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
