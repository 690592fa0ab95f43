using TorchSharp;
using static TorchSharp.torch;

namespace AftLab.Data;

/// <summary>
/// A byte-level corpus split into training, validation and test ranges: enwik8's standard 90M / 5M / 5M, or
/// for any other text the first 95% for training and the last 5% held out (validation and test alike).
/// Windows are read from the source as needed; nothing is copied whole.
/// </summary>
public sealed class ByteCorpus(ByteSource source, string description, bool enwik8) : IDisposable
{
    const long Enwik8Train = 90_000_000, Enwik8Valid = 5_000_000;

    public string Description { get; } = description;

    public (long Start, long Length) Train { get; } = enwik8 ? (0, Enwik8Train) : (0, (long)(source.Length * 0.95));

    public (long Start, long Length) Validation { get; } = enwik8 ? (Enwik8Train, Enwik8Valid) : ((long)(source.Length * 0.95), source.Length - (long)(source.Length * 0.95));

    public (long Start, long Length) Test { get; } = enwik8 ? (Enwik8Train + Enwik8Valid, Enwik8Valid) : ((long)(source.Length * 0.95), source.Length - (long)(source.Length * 0.95));

    public static ByteCorpus Open(string? data)
    {
        var (source, description, enwik8) = DataLocator.Text(data);
        return new ByteCorpus(source, description, enwik8);
    }

    /// <summary><paramref name="batch"/> random windows of the training range: inputs and next-byte targets, <c>[B, T]</c> int64.</summary>
    public (Tensor Inputs, Tensor Targets) TrainBatch(int batch, int length, Random random)
    {
        var starts = Enumerable.Range(0, batch).Select(_ => Train.Start + random.NextInt64(0, Train.Length - length - 1)).ToArray();
        return Windows(starts, length);
    }

    /// <summary>Consecutive, non-overlapping windows covering <paramref name="range"/>, <paramref name="batch"/> at a time.</summary>
    public IEnumerable<(Tensor Inputs, Tensor Targets)> Batches((long Start, long Length) range, int batch, int length, int maxBatches = int.MaxValue)
    {
        var starts = new List<long>();
        for (var start = range.Start; start + length + 1 <= range.Start + range.Length; start += length)
            starts.Add(start);
        return starts.Chunk(batch).Take(maxBatches).Select(chunk => Windows(chunk, length));
    }

    (Tensor Inputs, Tensor Targets) Windows(IReadOnlyList<long> starts, int length)
    {
        var data = new long[starts.Count * (length + 1)];
        var window = new byte[length + 1];
        for (var row = 0; row < starts.Count; row++)
        {
            source.Read(starts[row], window);
            for (var i = 0; i <= length; i++)
                data[row * (length + 1) + i] = window[i];
        }
        using var windows = tensor(data, [starts.Count, length + 1]);
        return (windows.narrow(1, 0, length).contiguous(), windows.narrow(1, 1, length).contiguous());
    }

    public void Dispose() => source.Dispose();
}
