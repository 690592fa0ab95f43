using AftLab.Data;
using AftLab.Tests.Support;

namespace AftLab.Tests.Data;

public sealed class Cifar10Tests : IDisposable
{
    readonly TemporaryFolder folder = new();

    string WriteRecords(int count, Func<int, byte>? label = null, int extra = 0)
    {
        var bytes = new byte[count * Cifar10Batch.RecordBytes + extra];
        for (var i = 0; i < count; i++)
        {
            bytes[i * Cifar10Batch.RecordBytes] = (label ?? (r => (byte)(r % 10)))(i);
            bytes[i * Cifar10Batch.RecordBytes + 1] = (byte)(100 + i);     // first red pixel
        }
        var path = folder.File("data_batch_1.bin");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void Splits_records_into_labels_and_pixels()
    {
        var batch = Cifar10.Read(WriteRecords(3));
        Assert.Equal([0, 1, 2], batch.Labels);
        Assert.Equal(3 * 3072, batch.Images.Length);
        Assert.Equal(102, batch.Images[2 * 3072]);
    }

    [Fact]
    public void A_truncated_batch_is_reported_at_the_start_of_the_partial_record()
    {
        var error = Assert.Throws<DataFormatException>(() => Cifar10.Read(WriteRecords(3, extra: 100)));
        Assert.Equal(3 * 3073, error.Offset);
        Assert.Contains("whole records of 3073 bytes", error.Message);
    }

    [Fact]
    public void A_bad_label_is_reported_at_its_record()
    {
        var error = Assert.Throws<DataFormatException>(() => Cifar10.Read(WriteRecords(4, label: i => (byte)(i == 2 ? 200 : 0))));
        Assert.Equal(2 * 3073, error.Offset);
        Assert.Contains("found 200", error.Message);
    }

    [Fact]
    public void A_missing_batch_is_named() =>
        Assert.Equal(folder.File("test_batch.bin"), Assert.Throws<DataFormatException>(() => Cifar10.Read(folder.File("test_batch.bin"))).File);

    public void Dispose() => folder.Dispose();
}
