using System.Buffers.Binary;
using System.Text;

namespace AftLab.Tests.Support;

/// <summary>Reads TensorBoard event files as TFRecords (length, CRC, data, CRC) to count the events of one tag.</summary>
public static class TensorBoardEvents
{
    public static int Count(string folder, string tag)
    {
        var needle = Encoding.UTF8.GetBytes(tag);
        var count = 0;
        foreach (var file in Directory.GetFiles(folder, "events.out.tfevents.*", SearchOption.AllDirectories))
        {
            var bytes = File.ReadAllBytes(file);
            for (var at = 0; at + 12 <= bytes.Length;)
            {
                var length = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at));
                var data = bytes.AsSpan(at + 12, length);
                if (data.IndexOf(needle) >= 0) count++;
                at += 12 + length + 4;
            }
        }
        return count;
    }
}
