namespace AftLab.Data;

/// <summary>CIFAR-10 images (3 × 32 × 32, channels first) and labels.</summary>
public sealed record Cifar10Batch(byte[] Labels, byte[] Images)
{
    public const int ImageBytes = 3 * 32 * 32;
    public const int RecordBytes = 1 + ImageBytes;

    public int Count => Labels.Length;
}

/// <summary>
/// Reads the CIFAR-10 binary version (<c>data_batch_{1..5}.bin</c>, <c>test_batch.bin</c>): records of one label
/// byte (0–9) and 3072 pixel bytes (1024 red, 1024 green, 1024 blue, row-major). The file is read once; labels
/// and pixels are split into two buffers without a further copy of the file.
/// </summary>
public static class Cifar10
{
    public static Cifar10Batch Read(string path)
    {
        if (!File.Exists(path))
            throw DataFormatException.Missing(path, "a CIFAR-10 binary batch");
        var length = new FileInfo(path).Length;
        if (length == 0 || length % Cifar10Batch.RecordBytes != 0)
            throw new DataFormatException(path, length - length % Cifar10Batch.RecordBytes,
                $"whole records of {Cifar10Batch.RecordBytes} bytes (1 label + 3072 pixels)", $"a file of {length:N0} bytes, {length % Cifar10Batch.RecordBytes} bytes into a record");
        var count = (int)(length / Cifar10Batch.RecordBytes);
        var labels = new byte[count];
        var images = new byte[(long)count * Cifar10Batch.ImageBytes];
        using var file = File.OpenRead(path);
        for (var i = 0; i < count; i++)
        {
            var label = file.ReadByte();
            if (label is < 0 or > 9)
                throw new DataFormatException(path, (long)i * Cifar10Batch.RecordBytes, "a label between 0 and 9", label.ToString());
            labels[i] = (byte)label;
            file.ReadExactly(images, i * Cifar10Batch.ImageBytes, Cifar10Batch.ImageBytes);
        }
        return new Cifar10Batch(labels, images);
    }
}
