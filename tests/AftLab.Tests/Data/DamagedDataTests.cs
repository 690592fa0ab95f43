using System.Text;
using AftLab.Data;
using AftLab.Tests.Support;

namespace AftLab.Tests.Data;

/// <summary>
/// Data that cannot be used is refused before anything is allocated or written: an IDX header whose dimensions
/// overflow or exceed the file, a gzip file damaged in the middle (reported where), text too small for the context.
/// </summary>
public sealed class DamagedDataTests : IDisposable
{
    readonly TemporaryFolder folder = new();

    string Write(string name, byte[] bytes)
    {
        var path = folder.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    (int Code, string Output) App(params string[] arguments) => AftLabProcess.Run(folder.Path, TrainedRun.Environment(folder.Path), arguments);

    // Random-looking text compresses poorly, so the damage lands well inside the deflate stream, away from both ends.
    static byte[] Text(int length)
    {
        var random = new Random(3);
        return Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, length / 8).Select(_ => random.Next(10_000_000, 99_999_999).ToString())));
    }

    [Fact]
    public void Dimensions_whose_product_overflows_are_refused_before_any_allocation()
    {
        var bytes = IdxFiles.Encode([4, 2147483620, 2147483620], new byte[3136 - 16]);
        Assert.Equal(3136, bytes.Length);
        var error = Assert.Throws<DataFormatException>(() => Idx.Read(Write("overflow-idx3-ubyte", bytes)));
        Assert.Contains("dimensions whose product fits in 64 bits", error.Message);
        Assert.Contains("4 × 2147483620 × 2147483620", error.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Dimensions_larger_than_the_file_are_refused_before_any_allocation(bool gzip)
    {
        var bytes = IdxFiles.Encode([1, 40000, 40000], new byte[100]);        // 1.6 GB announced in 116 bytes
        var error = Assert.Throws<DataFormatException>(() => Idx.Read(Write("huge", gzip ? IdxFiles.Gzip(bytes) : bytes)));
        Assert.Contains("1,600,000,000 data bytes (1 × 40000 × 40000)", error.Message);
        Assert.Contains("after 100 of 1,600,000,000 bytes", error.Message);
    }

    // Stored (uncompressed) deflate blocks: the damage hits the next block header, which inflate rejects at once.
    // (In Huffman-coded blocks most damage decodes to wrong bytes, and only the CRC-32 at the end finds it.)
    static byte[] StoredGzip(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.NoCompression))
            gzip.Write(bytes);
        return output.ToArray();
    }

    static byte[] Damaged(byte[] gzip, int from, int length)
    {
        for (var i = from; i < from + length; i++) gzip[i] = 0xFF;
        return gzip;
    }

    [Fact]
    public void A_gzip_file_damaged_in_the_middle_is_reported_near_the_damage_not_at_its_end()
    {
        var gzip = StoredGzip(Text(400_000));
        var error = Assert.Throws<DataFormatException>(() => ByteSource.Gzip(Write("damaged.gz", Damaged(gzip, 100_000, 70_000))));
        Assert.InRange(error.Offset, 100_000, 170_000 + 2 * CompressedPosition.Chunk);
        Assert.Matches(@"corrupt data in compressed bytes [\d,]+–[\d,]+ ", error.Message);
    }

    [Fact]
    public void Damage_that_only_the_checksum_finds_says_so()
    {
        var gzip = StoredGzip(Text(400_000));                                // bytes 1,000–1,064 lie inside the first stored block
        var error = Assert.Throws<DataFormatException>(() => ByteSource.Gzip(Write("silent.gz", Damaged(gzip, 1_000, 64))));
        Assert.True(error.Message.Contains("found by the CRC-32 at the end", StringComparison.Ordinal), error.Message);
    }

    [Fact]
    public void Overflowing_idx_files_are_refused_from_the_command_line_with_exit_code_65()
    {
        var data = Directory.CreateDirectory(folder.File("idx")).FullName;
        IdxFiles.WriteImageSet(data, train: 4, test: 2, side: 28);
        File.WriteAllBytes(Path.Combine(data, "train-images-idx3-ubyte.gz"), IdxFiles.Gzip(IdxFiles.Encode([4, 2147483620, 2147483620], new byte[3120])));
        Outcome.Fails(65, "dimensions whose product fits in 64 bits", App("train", "--model", "pixel-simple", "--steps", "1", "--data", data, "--output", folder.File("run")));
        Assert.False(Directory.Exists(folder.File("run")));
    }

    [Theory]
    [InlineData(0, 16, "an empty file")]
    [InlineData(11, 16, "is too small for --context 16: it gives 10 bytes for training and 1 held out")]
    [InlineData(1000, 64, "is too small for --context 64: it gives 950 bytes for training and 50 held out, and each needs at least 66 and 65")]
    public void Text_too_small_for_the_context_is_refused_up_front_with_the_sizes(int length, int context, string message)
    {
        var data = Write("small.txt", Text(1000)[..length]);
        Outcome.Fails(65, message, App("train", "--model", "byte-simple", "--steps", "1", "--context", context.ToString(), "--data", data, "--output", folder.File("run")));
        Assert.False(Directory.Exists(folder.File("run")), "a refused run leaves no folder behind");
    }

    [Fact]
    public void A_damaged_gzip_data_file_is_refused_from_the_command_line_naming_the_compressed_offset()
    {
        var gzip = Damaged(StoredGzip(Text(400_000)), 100_000, 70_000);
        Outcome.Fails(65, "corrupt data in compressed bytes", App("train", "--model", "byte-simple", "--steps", "1", "--data", Write("damaged.gz", gzip), "--output", folder.File("run")));
    }

    public void Dispose() => folder.Dispose();
}
