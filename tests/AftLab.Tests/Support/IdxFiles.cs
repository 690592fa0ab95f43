using System.Buffers.Binary;
using System.IO.Compression;

namespace AftLab.Tests.Support;

/// <summary>Writes small IDX files (and Fashion-MNIST folders of them) the way the format defines them.</summary>
public static class IdxFiles
{
    public static byte[] Encode(int[] shape, byte[] data)
    {
        var bytes = new byte[4 + 4 * shape.Length + data.Length];
        bytes[2] = 0x08;
        bytes[3] = (byte)shape.Length;
        for (var i = 0; i < shape.Length; i++)
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), shape[i]);
        data.CopyTo(bytes, 4 + 4 * shape.Length);
        return bytes;
    }

    public static byte[] Gzip(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
            gzip.Write(bytes);
        return output.ToArray();
    }

    /// <summary>A Fashion-MNIST folder of <paramref name="train"/> and <paramref name="test"/> images of side×side, labels i mod 10.</summary>
    public static void WriteImageSet(string folder, int train, int test, int side = 4, Func<int, byte>? label = null)
    {
        label ??= i => (byte)(i % 10);
        foreach (var (split, count) in new[] { ("train", train), ("t10k", test) })
        {
            var pixels = Enumerable.Range(0, count * side * side).Select(i => (byte)(i * 7)).ToArray();
            File.WriteAllBytes(Path.Combine(folder, $"{split}-images-idx3-ubyte.gz"), Gzip(Encode([count, side, side], pixels)));
            File.WriteAllBytes(Path.Combine(folder, $"{split}-labels-idx1-ubyte"), Encode([count], Enumerable.Range(0, count).Select(label).ToArray()));
        }
    }
}
