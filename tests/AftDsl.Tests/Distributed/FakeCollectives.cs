using AftDsl.Distributed;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Distributed;

/// <summary>
/// A backend for one rank of an imagined job: each all-reduce adds what the other ranks would contribute
/// (<see cref="Others"/>, one call after another), each broadcast writes <see cref="BroadcastValue"/>. It records the calls.
/// </summary>
internal sealed class FakeCollectives(int rank, int worldSize) : ICollectives
{
    public Func<Tensor, Tensor>? Others { get; init; }

    public double BroadcastValue { get; init; } = 7;

    public TimeSpan Delay { get; init; }

    public List<long> ReducedLengths { get; } = [];

    public bool Abandoned { get; private set; }

    public bool Disposed { get; private set; }

    public string Description => "fake";

    public int Rank => rank;

    public int WorldSize => worldSize;

    public void AllReduceSum(Tensor tensor)
    {
        Assert.True(tensor.is_contiguous());
        ReducedLengths.Add(tensor.NumberOfElements);
        if (Delay > TimeSpan.Zero) Thread.Sleep(Delay);
        if (Others is not null) tensor.add_(Others(tensor));
    }

    public void Broadcast(Tensor tensor, int root)
    {
        Assert.Equal(0, root);
        tensor.fill_(BroadcastValue);
    }

    public void Abort(int exitCode) => throw new InvalidOperationException("abort");

    public void Abandon() => Abandoned = true;

    public void Dispose() => Disposed = true;
}
