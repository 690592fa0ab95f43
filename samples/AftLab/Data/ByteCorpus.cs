using System.IO.Compression;
using TorchSharp;
using static TorchSharp.torch;

namespace AftLab.Data;

/// <summary>
/// A byte-level text corpus split into a training head and a held-out tail, with random windows
/// for batches. Loads the excerpt of GCIDE that the app carries.
/// </summary>
public sealed class ByteCorpus
{
    public const string EmbeddedExcerpt = "gcide-excerpt.txt.gz";

    readonly byte[] bytes;
    readonly int trainLength;

    public ByteCorpus(byte[] bytes, string description, double heldOutFraction = 0.05)
    {
        this.bytes = bytes;
        Description = description;
        trainLength = (int)(bytes.Length * (1 - heldOutFraction));
    }

    public string Description { get; }

    public int TrainBytes => trainLength;

    public int HeldOutBytes => bytes.Length - trainLength;

    public static ByteCorpus FromEmbeddedExcerpt()
    {
        using var resource = typeof(ByteCorpus).Assembly.GetManifestResourceStream(EmbeddedExcerpt)
            ?? throw new InvalidOperationException($"The app was built without its embedded {EmbeddedExcerpt}.");
        using var gzip = new GZipStream(resource, CompressionMode.Decompress);
        using var memory = new MemoryStream();
        gzip.CopyTo(memory);
        return new ByteCorpus(memory.ToArray(), "GCIDE excerpt carried by the app (1.2 MB of the GNU Collaborative International Dictionary of English)");
    }

    /// <summary>
    /// <paramref name="batch"/> random windows of <paramref name="length"/> + 1 bytes from the training
    /// part: inputs <c>[B, T]</c> and next-byte targets <c>[B, T]</c>.
    /// </summary>
    public (Tensor Inputs, Tensor Targets) TrainBatch(int batch, int length, Random random)
    {
        var starts = Enumerable.Range(0, batch).Select(_ => random.Next(0, trainLength - length - 1)).ToArray();
        return Windows(starts, length);
    }

    /// <summary>Consecutive, non-overlapping windows covering the held-out tail, <paramref name="batch"/> at a time.</summary>
    public IEnumerable<(Tensor Inputs, Tensor Targets)> HeldOutBatches(int batch, int length, int maxBatches = int.MaxValue)
    {
        var starts = new List<int>();
        for (var start = trainLength; start + length + 1 <= bytes.Length; start += length)
            starts.Add(start);
        return starts.Chunk(batch).Take(maxBatches).Select(chunk => Windows(chunk, length));
    }

    (Tensor Inputs, Tensor Targets) Windows(IReadOnlyList<int> starts, int length)
    {
        var data = new long[starts.Count * (length + 1)];
        for (var row = 0; row < starts.Count; row++)
            for (var i = 0; i <= length; i++)
                data[row * (length + 1) + i] = bytes[starts[row] + i];
        using var windows = tensor(data, [starts.Count, length + 1]);
        return (windows.narrow(1, 0, length).contiguous(), windows.narrow(1, 1, length).contiguous());
    }
}
