using System.IO.Compression;
using System.IO.MemoryMappedFiles;

namespace AftLab.Data;

/// <summary>
/// A long run of bytes (a text corpus) read in windows: a memory-mapped file (enwik8's 100 MB stay on disk,
/// paged in as read) or one decompressed buffer (GCIDE's dictzip, the excerpt the app carries).
/// </summary>
public abstract class ByteSource : IDisposable
{
    public abstract long Length { get; }

    /// <summary>Copies <paramref name="target"/>.Length bytes starting at <paramref name="offset"/>.</summary>
    public abstract void Read(long offset, Span<byte> target);

    public virtual void Dispose() => GC.SuppressFinalize(this);

    public static ByteSource FromBytes(byte[] bytes) => new Memory(bytes, bytes.Length);

    /// <summary>Maps a raw file (enwik8) read-only.</summary>
    public static ByteSource Map(string path, long expectedLength = 0)
    {
        if (!File.Exists(path))
            throw DataFormatException.Missing(path, "a raw text file");
        var length = new FileInfo(path).Length;
        if (length == 0)
            throw new DataFormatException(path, 0, "text", "an empty file");
        if (expectedLength > 0 && length != expectedLength)
            throw new DataFormatException(path, Math.Min(length, expectedLength), $"{expectedLength:N0} bytes", $"{(length < expectedLength ? "the end of the file" : "more data")} ({length:N0} bytes in all)");
        return new Mapped(path, length);
    }

    /// <summary>Decompresses a gzip or dictzip file (GCIDE's gcide.dict.dz) into one buffer.</summary>
    public static ByteSource Gzip(string path)
    {
        if (!File.Exists(path))
            throw DataFormatException.Missing(path, "a gzip (dictzip) file");
        using var file = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[2];
        if (file.Read(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b)
            throw new DataFormatException(path, 0, "the gzip magic 1F 8B", file.Length < 2 ? "the end of the file" : Convert.ToHexString(magic));
        file.Position = 0;
        var compressed = new CompressedPosition(file);
        using var gzip = new GZipStream(compressed, CompressionMode.Decompress);
        using var buffer = new MemoryStream();
        try
        {
            gzip.CopyTo(buffer);
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException(path, compressed.Position, "valid deflate data", $"corrupt data in {compressed.DamageRange} ({e.Message})");
        }
        if (buffer.Length == 0)
            throw new DataFormatException(path, file.Position, "compressed text", "an empty stream");
        // A gzip file cut short can end inside the deflate data without an error: its last four bytes are then
        // not the trailer's length (ISIZE, the uncompressed size mod 2³²) of what was decompressed.
        file.Position = file.Length - 4;
        Span<byte> trailer = stackalloc byte[4];
        file.ReadExactly(trailer);
        if (System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(trailer) != (uint)buffer.Length)
            throw new DataFormatException(path, file.Length, "the rest of the compressed data and the gzip trailer", "the end of the file (truncated)");
        return new Memory(buffer.GetBuffer(), (int)buffer.Length);              // the stream's own buffer: no second copy
    }

    sealed class Memory(byte[] bytes, int length) : ByteSource
    {
        public override long Length => length;

        public override void Read(long offset, Span<byte> target) => bytes.AsSpan((int)offset, target.Length).CopyTo(target);
    }

    sealed class Mapped : ByteSource
    {
        readonly MemoryMappedFile file;
        readonly MemoryMappedViewAccessor view;

        public Mapped(string path, long length)
        {
            Length = length;
            file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            view = file.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
        }

        public override long Length { get; }

        public override void Read(long offset, Span<byte> target)
        {
            var window = new byte[target.Length];
            view.ReadArray(offset, window, 0, window.Length);
            window.CopyTo(target);
        }

        public override void Dispose()
        {
            view.Dispose();
            file.Dispose();
            base.Dispose();
        }
    }
}
