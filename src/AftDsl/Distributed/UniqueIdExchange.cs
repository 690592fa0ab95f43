using System.Net;
using System.Net.Sockets;

namespace AftDsl.Distributed;

/// <summary>
/// Sends NCCL's unique id from rank 0 to the other ranks of a torchrun-style job over TCP: rank 0 listens on
/// <c>MASTER_PORT</c> and answers each of the <c>WORLD_SIZE − 1</c> connections with the id; the others connect to
/// <c>MASTER_ADDR:MASTER_PORT</c>, retrying until rank 0 listens. This is the bootstrap only (128 bytes once); every
/// reduction goes through NCCL. (torchrun itself keeps MASTER_PORT for its own store: set the variables yourself, as a
/// cluster script does, rather than starting the app under torchrun.)
/// </summary>
internal static class UniqueIdExchange
{
    /// <summary>Rank 0: sends <paramref name="id"/> and returns it; the others: return what rank 0 sent.</summary>
    /// <exception cref="DistributedException">The exchange did not finish within <paramref name="timeout"/>.</exception>
    public static byte[] Share(LaunchEnvironment launch, byte[]? id, TimeSpan timeout)
    {
        var (address, port) = (launch.MasterAddress ?? "127.0.0.1", launch.MasterPort ?? 29500);
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            return launch.Rank == 0
                ? Serve(id ?? throw new ArgumentNullException(nameof(id)), port, launch.WorldSize - 1, cancel.Token)
                : Fetch(address, port, id?.Length ?? Native.NcclUniqueId.Length, cancel.Token);
        }
        catch (OperationCanceledException)
        {
            throw new DistributedException(
                launch.Rank == 0
                    ? $"Rank 0 waited {timeout.TotalSeconds:0} s on port {port} for the other {launch.WorldSize - 1} rank(s) to fetch NCCL's unique id: start every rank with the same MASTER_ADDR and MASTER_PORT."
                    : $"Rank {launch.Rank} could not fetch NCCL's unique id from {address}:{port} within {timeout.TotalSeconds:0} s: is rank 0 running, and MASTER_ADDR/MASTER_PORT its host and a free port?");
        }
        catch (SocketException e)
        {
            throw new DistributedException($"Sharing NCCL's unique id over TCP ({address}:{port}) failed: {e.Message}. Choose a free MASTER_PORT.", e);
        }
    }

    static byte[] Serve(byte[] id, int port, int clients, CancellationToken cancel)
    {
        var listener = new TcpListener(IPAddress.Any, port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        try
        {
            for (var served = 0; served < clients; served++)
            {
                using var client = listener.AcceptTcpClientAsync(cancel).AsTask().GetAwaiter().GetResult();
                using var stream = client.GetStream();
                stream.WriteAsync(id, cancel).AsTask().GetAwaiter().GetResult();
            }
            return id;
        }
        finally
        {
            listener.Stop();
        }
    }

    static byte[] Fetch(string address, int port, int length, CancellationToken cancel)
    {
        while (true)
        {
            cancel.ThrowIfCancellationRequested();
            try
            {
                using var client = new TcpClient();
                client.ConnectAsync(address, port, cancel).AsTask().GetAwaiter().GetResult();
                using var stream = client.GetStream();
                var id = new byte[length];
                stream.ReadExactlyAsync(id, cancel).AsTask().GetAwaiter().GetResult();
                return id;
            }
            catch (Exception e) when (e is SocketException or IOException)
            {
                // A refused connection or a stream cut short: retry; once out of time it is the timeout (and says so),
                // whichever of them the cancellation happened to interrupt.
                cancel.ThrowIfCancellationRequested();
                Thread.Sleep(100);                                          // rank 0 is not listening yet
            }
        }
    }
}
