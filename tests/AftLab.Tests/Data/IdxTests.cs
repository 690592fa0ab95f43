using AftLab.Data;
using AftLab.Tests.Support;

namespace AftLab.Tests.Data;

public sealed class IdxTests : IDisposable
{
    readonly TemporaryFolder folder = new();

    static readonly byte[] Pixels = Enumerable.Range(0, 2 * 3 * 3).Select(i => (byte)(i * 11)).ToArray();

    string Write(string name, byte[] bytes)
    {
        var path = folder.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reads_the_shape_and_the_bytes_raw_or_gzipped(bool gzip)
    {
        var bytes = IdxFiles.Encode([2, 3, 3], Pixels);
        var array = Idx.Read(Write("images", gzip ? IdxFiles.Gzip(bytes) : bytes));
        Assert.Equal([2, 3, 3], array.Shape);
        Assert.Equal(Pixels, array.Data);
        Assert.Equal(9, array.ItemSize);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        var path = folder.File("nowhere-idx3-ubyte");
        var error = Assert.Throws<DataFormatException>(() => Idx.Read(path));
        Assert.Equal(path, error.File);
        Assert.Contains("no such file", error.Message);
    }

    [Fact]
    public void A_wrong_magic_is_reported_at_offset_0()
    {
        var bytes = IdxFiles.Encode([2, 3, 3], Pixels);
        bytes[2] = 0x0D;                                                    // float data, not unsigned bytes
        var error = Assert.Throws<DataFormatException>(() => Idx.Read(Write("floats", bytes)));
        Assert.Equal(0, error.Offset);
        Assert.Contains("00 00 08", error.Message);
        Assert.Contains("00000D03", error.Message);
    }

    [Fact]
    public void A_file_cut_inside_the_dimensions_says_which_dimension_and_where()
    {
        var bytes = IdxFiles.Encode([2, 3, 3], Pixels)[..10];               // magic, dimension 0, half of dimension 1
        var error = Assert.Throws<DataFormatException>(() => Idx.Read(Write("cut", bytes)));
        Assert.Equal(10, error.Offset);
        Assert.Contains("dimension 1", error.Message);
        Assert.Contains("2 of 4 bytes", error.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Truncated_data_is_reported_where_it_ends(bool gzip)
    {
        var bytes = IdxFiles.Encode([2, 3, 3], Pixels)[..^5];
        var error = Assert.Throws<DataFormatException>(() => Idx.Read(Write("short", gzip ? IdxFiles.Gzip(bytes) : bytes)));
        Assert.Equal(bytes.Length, error.Offset);
        Assert.Contains("18 data bytes (2 × 3 × 3)", error.Message);
        Assert.Contains("13 of 18 bytes", error.Message);
    }

    [Fact]
    public void Bytes_beyond_the_announced_data_are_an_error()
    {
        var bytes = IdxFiles.Encode([2, 3, 3], Pixels).Append((byte)1).ToArray();
        var error = Assert.Throws<DataFormatException>(() => Idx.Read(Write("long", bytes)));
        Assert.Equal(bytes.Length - 1, error.Offset);
        Assert.Contains("the end of the file", error.Message);
    }

    [Fact]
    public void A_zero_dimension_is_an_error()
    {
        var error = Assert.Throws<DataFormatException>(() => Idx.Read(Write("empty", IdxFiles.Encode([0, 3, 3], []))));
        Assert.Equal(4, error.Offset);
        Assert.Contains("dimension 0 between 1 and", error.Message);
    }

    [Fact]
    public void Corrupt_compressed_data_is_reported_as_such()
    {
        var gzip = IdxFiles.Gzip(IdxFiles.Encode([2, 3, 3], Enumerable.Range(0, 18).Select(i => (byte)i).ToArray()));
        for (var i = 10; i < gzip.Length - 8; i++) gzip[i] ^= 0xA5;       // scramble the deflate blocks, keep the header
        var error = Assert.Throws<DataFormatException>(() => Idx.Read(Write("corrupt.gz", gzip)));
        Assert.Contains("(decompressed)", error.File);
        Assert.Matches("corrupt compressed data|the end of the file|IDX magic", error.Message);
    }

    public void Dispose() => folder.Dispose();
}
