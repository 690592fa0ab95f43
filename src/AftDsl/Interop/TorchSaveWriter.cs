using System.IO.Compression;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Interop;

/// <summary>
/// Writes a state dict in the file format of <c>torch.save</c> (PyTorch 1.6 and later): a zip archive of stored,
/// uncompressed records, <c>archive/data.pkl</c> (a pickle, protocol 2, of an OrderedDict whose values are
/// <c>torch._utils._rebuild_tensor_v2</c> calls on persistent storages), <c>archive/data/N</c> (each tensor's bytes)
/// and <c>archive/version</c>. PyBridge's writer deflates every tensor, which took seconds per 100 MB and gains
/// nothing on float weights; this one streams each tensor's memory into the file as PyTorch does.
/// </summary>
internal static class TorchSaveWriter
{
    const string Archive = "archive";

    // Pickle opcodes (Python's Lib/pickletools.py).
    const byte Proto = 0x80, Global = (byte)'c', EmptyTuple = (byte)')', Reduce = (byte)'R', Mark = (byte)'(', Tuple = (byte)'t',
        SetItems = (byte)'u', BinPersId = (byte)'Q', BinInt1 = (byte)'K', BinInt = (byte)'J', Long1 = 0x8a, NewFalse = 0x89,
        BinUnicode = (byte)'X', Stop = (byte)'.';

    public static void Write(IReadOnlyList<KeyValuePair<string, Tensor>> stateDict, Stream stream)
    {
        using var archive = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        using (var version = new StreamWriter(archive.CreateEntry($"{Archive}/version", CompressionLevel.NoCompression).Open()))
            version.Write("3\n");
        using (var pickle = archive.CreateEntry($"{Archive}/data.pkl", CompressionLevel.NoCompression).Open())
            pickle.Write(Pickle(stateDict));
        for (var i = 0; i < stateDict.Count; i++)
        {
            using var scope = NewDisposeScope();
            var cpu = stateDict[i].Value.detach().cpu().contiguous();
            using var record = archive.CreateEntry($"{Archive}/data/{i}", CompressionLevel.NoCompression).Open();
            record.Write(cpu.bytes);
        }
    }

    /// <summary>The pickle of an OrderedDict of <paramref name="stateDict"/>, tensor i stored in record data/i.</summary>
    static byte[] Pickle(IReadOnlyList<KeyValuePair<string, Tensor>> stateDict)
    {
        using var buffer = new MemoryStream();
        var w = new BinaryWriter(buffer, Encoding.UTF8);
        w.Write(Proto); w.Write((byte)2);
        WriteGlobal(w, "collections", "OrderedDict"); w.Write(EmptyTuple); w.Write(Reduce);
        w.Write(Mark);
        for (var i = 0; i < stateDict.Count; i++)
        {
            var (name, tensor) = stateDict[i];
            var shape = tensor.shape;
            WriteString(w, name);
            WriteGlobal(w, "torch._utils", "_rebuild_tensor_v2");
            w.Write(Mark);
            w.Write(Mark);                                                   // the persistent id: ('storage', type, key, location, numel)
            WriteString(w, "storage");
            WriteGlobal(w, "torch", StorageName(tensor.dtype));
            WriteString(w, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            WriteString(w, "cpu");
            WriteInt(w, tensor.numel());
            w.Write(Tuple);
            w.Write(BinPersId);
            WriteInt(w, 0);                                                  // storage offset
            WriteTuple(w, shape);
            WriteTuple(w, ContiguousStrides(shape));
            w.Write(NewFalse);                                               // requires_grad
            WriteGlobal(w, "collections", "OrderedDict"); w.Write(EmptyTuple); w.Write(Reduce);   // backward hooks: none
            w.Write(Tuple);
            w.Write(Reduce);
        }
        w.Write(SetItems);
        w.Write(Stop);
        w.Flush();
        return buffer.ToArray();
    }

    static long[] ContiguousStrides(long[] shape)
    {
        var strides = new long[shape.Length];
        for (long i = shape.Length - 1, stride = 1; i >= 0; stride *= shape[i], i--)
            strides[i] = stride;
        return strides;
    }

    static string StorageName(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => "FloatStorage",
        ScalarType.Float64 => "DoubleStorage",
        ScalarType.Float16 => "HalfStorage",
        ScalarType.BFloat16 => "BFloat16Storage",
        ScalarType.Int64 => "LongStorage",
        ScalarType.Int32 => "IntStorage",
        ScalarType.Int16 => "ShortStorage",
        ScalarType.Int8 => "CharStorage",
        ScalarType.Byte => "ByteStorage",
        ScalarType.Bool => "BoolStorage",
        _ => throw new NotSupportedException($"a tensor of {dtype} has no PyTorch storage type this writer knows."),
    };

    static void WriteGlobal(BinaryWriter w, string module, string name)
    {
        w.Write(Global);
        w.Write(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));
    }

    static void WriteString(BinaryWriter w, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        w.Write(BinUnicode);
        w.Write((uint)bytes.Length);
        w.Write(bytes);
    }

    static void WriteInt(BinaryWriter w, long value)
    {
        if (value is >= 0 and < 256) { w.Write(BinInt1); w.Write((byte)value); }
        else if (value is >= int.MinValue and <= int.MaxValue) { w.Write(BinInt); w.Write((int)value); }
        else { w.Write(Long1); w.Write((byte)8); w.Write(value); }
    }

    static void WriteTuple(BinaryWriter w, long[] values)
    {
        if (values.Length == 0) { w.Write(EmptyTuple); return; }
        w.Write(Mark);
        foreach (var value in values) WriteInt(w, value);
        w.Write(Tuple);
    }
}
