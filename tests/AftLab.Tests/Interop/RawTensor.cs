using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace AftLab.Tests.Interop;

/// <summary>Tensors passed to and from Python as raw little-endian numbers: exact, and readable with torch.frombuffer.</summary>
public static class RawTensor
{
    public static void Write(string path, Tensor tensor)
    {
        using var cpu = tensor.detach().cpu().contiguous();
        byte[] bytes = cpu.dtype switch
        {
            ScalarType.Int64 => MemoryMarshal.AsBytes(cpu.data<long>().ToArray().AsSpan()).ToArray(),
            ScalarType.Float32 => MemoryMarshal.AsBytes(cpu.data<float>().ToArray().AsSpan()).ToArray(),
            _ => throw new NotSupportedException(cpu.dtype.ToString()),
        };
        File.WriteAllBytes(path, bytes);
    }

    public static float[] ReadFloats(string path) => MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(path)).ToArray();

    public static float[] Floats(Tensor tensor)
    {
        using var cpu = tensor.detach().cpu().contiguous();
        return cpu.data<float>().ToArray();
    }
}
