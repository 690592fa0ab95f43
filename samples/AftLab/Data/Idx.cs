using System.Buffers.Binary;
using System.IO.Compression;

namespace AftLab.Data;

/// <summary>An IDX array (MNIST, Fashion-MNIST): its dimensions and its unsigned bytes, in one buffer.</summary>
public sealed record IdxArray(int[] Shape, byte[] Data)
{
    public int Count => Shape[0];

    /// <summary>Bytes per item: the product of every dimension but the first.</summary>
    public int ItemSize => Shape.Skip(1).Aggregate(1, (a, b) => checked(a * b));
}

/// <summary>
/// Reads IDX files, raw or gzip-compressed (detected by the gzip magic): the magic 0x00 0x00 0x08 (unsigned
/// bytes) and the number of dimensions, the dimensions as big-endian 32-bit integers, then exactly the
/// data they announce. Decompresses once, straight into the one buffer it returns.
/// </summary>
public static class Idx
{
    public static IdxArray Read(string path)
    {
        if (!File.Exists(path))
            throw DataFormatException.Missing(path, "an IDX file");
        using var file = File.OpenRead(path);
        var compressed = file.Length >= 2 && file.ReadByte() == 0x1f && file.ReadByte() == 0x8b;
        // What the data can hold at most, known before anything is allocated: the file's length, or for gzip the
        // trailer's ISIZE (the decompressed length mod 2³², exact for anything an array can hold).
        var available = compressed ? GzipLength(file) : file.Length;
        file.Position = 0;
        var position = new CompressedPosition(file);
        using var stream = compressed ? new GZipStream(position, CompressionMode.Decompress) : (Stream)file;
        var reader = new CountingReader(stream, path, compressed ? " (decompressed)" : "", compressed ? position : null);

        var magic = reader.Exactly(4, "the IDX magic 00 00 08 n (unsigned bytes, n dimensions)");
        if (magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 || magic[3] is 0 or > 4)
            throw reader.Error(0, "the IDX magic 00 00 08 n (unsigned bytes, 1 ≤ n ≤ 4 dimensions)", Convert.ToHexString(magic));
        var shape = new int[magic[3]];
        for (var i = 0; i < shape.Length; i++)
        {
            var size = BinaryPrimitives.ReadUInt32BigEndian(reader.Exactly(4, $"dimension {i} (big-endian 32-bit)"));
            if (size == 0 || size > int.MaxValue)
                throw reader.Error(4 + 4 * i, $"dimension {i} between 1 and {int.MaxValue}", size.ToString());
            shape[i] = (int)size;
        }
        long length;
        try { length = shape.Aggregate(1L, (a, b) => checked(a * b)); }
        catch (OverflowException) { throw reader.Error(4, "dimensions whose product fits in 64 bits", string.Join(" × ", shape)); }
        if (length > Array.MaxLength)
            throw reader.Error(4, "an array small enough for one buffer", $"{length:N0} bytes announced ({string.Join(" × ", shape)})");
        var header = 4 + 4L * shape.Length;
        if (header + length > available)
            throw reader.Error(available, $"{length:N0} data bytes ({string.Join(" × ", shape)})",
                $"the end of the file after {Math.Max(0, available - header):N0} of {length:N0} bytes{(compressed ? " (by the gzip trailer's length)" : "")}");
        var data = reader.Exactly((int)length, $"{length:N0} data bytes ({string.Join(" × ", shape)})");
        if (stream.ReadByte() >= 0)
            throw reader.Error(reader.Position, "the end of the file after the announced data", "more bytes");
        return new IdxArray(shape, data);
    }

    static long GzipLength(FileStream file)
    {
        if (file.Length < 18) return 0;                                     // header and trailer alone take 18 bytes
        Span<byte> trailer = stackalloc byte[4];
        file.Position = file.Length - 4;
        file.ReadExactly(trailer);
        return BinaryPrimitives.ReadUInt32LittleEndian(trailer);
    }

    /// <summary>Reads exactly what a format announces, and says where it fell short.</summary>
    sealed class CountingReader(Stream stream, string file, string note, CompressedPosition? compressed)
    {
        public long Position { get; private set; }

        public byte[] Exactly(int count, string what)
        {
            var buffer = new byte[count];
            var read = 0;
            try
            {
                while (read < count)
                {
                    var n = stream.Read(buffer, read, count - read);
                    if (n == 0) break;
                    read += n;
                }
            }
            catch (InvalidDataException e)
            {
                throw Error(Position + read, what, $"corrupt compressed data in {compressed?.DamageRange} ({e.Message})");
            }
            if (read < count)
                throw Error(Position + read, what, $"the end of the file after {read:N0} of {count:N0} bytes");
            Position += count;
            return buffer;
        }

        public DataFormatException Error(long offset, string expected, string found) => new(file + note, offset, expected, found);
    }
}
