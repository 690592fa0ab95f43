namespace AftLab.Data;

/// <summary>
/// A read-only stream that hands a decompressor at most <see cref="Chunk"/> bytes per read, so that when decoding
/// fails, <see cref="Position"/> says within that many bytes where in the compressed file the damage is. (A
/// decompressor reading 8 KiB or the whole file at once would only say "somewhere before here".)
/// </summary>
public sealed class CompressedPosition(Stream inner) : Stream
{
    /// <summary>The precision of a reported offset; small enough to point at the damage, large enough to cost nothing measurable.</summary>
    public const int Chunk = 512;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => inner.Length;

    /// <summary>Compressed bytes handed out so far: the damage lies in the last <see cref="Chunk"/> of them.</summary>
    public override long Position { get => inner.Position; set => throw new NotSupportedException(); }

    /// <summary>
    /// Where decoding failed, as text: the range of compressed bytes with an invalid code, or, when every code was valid
    /// and only the checksum at the end disagreed, that (Huffman-coded damage often decodes to wrong bytes silently).
    /// </summary>
    public string DamageRange => Position >= inner.Length
        ? $"compressed bytes before {Position:N0}, found by the CRC-32 at the end (the bytes decode, to the wrong text)"
        : $"compressed bytes {Math.Max(0, Position - Chunk):N0}–{Position:N0}";

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, Chunk));
    public override int Read(Span<byte> buffer) => inner.Read(buffer[..Math.Min(buffer.Length, Chunk)]);
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
