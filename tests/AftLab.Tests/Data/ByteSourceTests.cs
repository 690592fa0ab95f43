using System.Text;
using AftLab.Data;
using AftLab.Tests.Support;

namespace AftLab.Tests.Data;

public sealed class ByteSourceTests : IDisposable
{
    readonly TemporaryFolder folder = new();

    static readonly byte[] Text = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 400).Select(i => $"Word{i} \\Word{i}\\, n. A test entry.\n")));

    string Write(string name, byte[] bytes)
    {
        var path = folder.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    static byte[] ReadAll(ByteSource source)
    {
        var bytes = new byte[source.Length];
        source.Read(0, bytes);
        return bytes;
    }

    [Fact]
    public void Gzip_text_decompresses_whole()
    {
        using var source = ByteSource.Gzip(Write("text.gz", IdxFiles.Gzip(Text)));
        Assert.Equal(Text, ReadAll(source));
    }

    [Fact]
    public void A_file_that_is_not_gzip_is_reported_at_offset_0()
    {
        var error = Assert.Throws<DataFormatException>(() => ByteSource.Gzip(Write("plain.gz", Text)));
        Assert.Equal(0, error.Offset);
        Assert.Contains("gzip magic 1F 8B", error.Message);
    }

    [Fact]
    public void A_truncated_gzip_is_reported_at_its_end()
    {
        var gzip = IdxFiles.Gzip(Text);
        var cut = gzip[..(gzip.Length / 2)];
        var error = Assert.Throws<DataFormatException>(() => ByteSource.Gzip(Write("cut.gz", cut)));
        Assert.Equal(folder.File("cut.gz"), error.File);
        Assert.InRange(error.Offset, 10, cut.Length);
    }

    [Fact]
    public void Corrupt_deflate_data_is_an_error()
    {
        var gzip = IdxFiles.Gzip(Text);
        for (var i = 12; i < gzip.Length - 8; i += 3) gzip[i] ^= 0x5A;
        var error = Assert.Throws<DataFormatException>(() => ByteSource.Gzip(Write("corrupt.gz", gzip)));
        Assert.Contains("corrupt.gz", error.Message);
    }

    [Fact]
    public void A_missing_file_is_named() =>
        Assert.Contains("no such file", Assert.Throws<DataFormatException>(() => ByteSource.Gzip(folder.File("absent.gz"))).Message);

    [Fact]
    public void Enwik8_gets_the_standard_split_and_stays_on_disk()
    {
        var path = folder.File("enwik8");
        using (var file = File.Create(path))
            file.SetLength(DataLocator.Enwik8Length);                       // sparse: 100 MB that cost nothing to write
        GC.Collect();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        using var corpus = ByteCorpus.Open(path);
        var after = GC.GetTotalMemory(forceFullCollection: true);

        Assert.Equal((0L, 90_000_000L), corpus.Train);
        Assert.Equal((90_000_000L, 5_000_000L), corpus.Validation);
        Assert.Equal((95_000_000L, 5_000_000L), corpus.Test);
        Assert.True(after - before < 10_000_000, $"opening enwik8 grew the managed heap by {after - before:N0} bytes: it should be memory-mapped, not copied");
    }

    [Fact]
    public void A_damaged_enwik8_says_how_long_it_should_be()
    {
        var path = folder.File("enwik8");
        using (var file = File.Create(path))
            file.SetLength(12_345);
        var error = Assert.Throws<DataFormatException>(() => ByteCorpus.Open(path));
        Assert.Equal(12_345, error.Offset);
        Assert.Contains("100,000,000 bytes", error.Message);
    }

    [Fact]
    public void Any_other_text_holds_out_its_last_5_percent()
    {
        using var corpus = ByteCorpus.Open(Write("words.txt", Text));
        var heldOut = (long)(Text.Length * 0.95);
        Assert.Equal((0L, heldOut), corpus.Train);
        Assert.Equal((heldOut, Text.Length - heldOut), corpus.Test);
    }

    [Fact]
    public void Batches_pair_each_byte_with_the_next()
    {
        using var corpus = new ByteCorpus(ByteSource.FromBytes(Text), "words", enwik8: false);
        var (inputs, targets) = corpus.Batches(corpus.Test, batch: 4, length: 16).First();
        Assert.Equal([4L, 16L], inputs.shape);
        var start = corpus.Test.Start;
        Assert.Equal(Text[(int)start + 16 + 3], (byte)inputs[1, 3].item<long>());      // second window starts one length later
        Assert.Equal(Text[(int)start + 16 + 4], (byte)targets[1, 3].item<long>());
        Assert.Equal(inputs[0].narrow(0, 1, 15).data<long>().ToArray(), targets[0].narrow(0, 0, 15).data<long>().ToArray());
    }

    public void Dispose() => folder.Dispose();
}
