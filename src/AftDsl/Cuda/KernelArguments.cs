using System.Runtime.InteropServices;
using AftDsl.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Cuda;

/// <summary>
/// The parameter list of one kernel launch, in the form <c>cuLaunchKernel</c> takes it: an array of
/// pointers, each to one argument's value. Values live in unmanaged memory owned by this object; tensors
/// added here are kept alive until it is disposed (dispose it only after the launch has been issued).
/// </summary>
public sealed unsafe class KernelArguments : IDisposable
{
    const int MaxArguments = 32;
    readonly ulong* values = (ulong*)NativeMemory.AllocZeroed(MaxArguments, sizeof(ulong));
    readonly nint* pointers = (nint*)NativeMemory.AllocZeroed(MaxArguments, (nuint)sizeof(nint));
    readonly List<Tensor> keptAlive = [];
    int count;
    bool disposed;

    /// <summary>The <c>void**</c> to hand to a launch.</summary>
    public nint Pointers => (nint)pointers;

    /// <summary>How many arguments were added.</summary>
    public int Count => count;

    /// <summary>The CUDA device of the CUDA tensors added (the launch runs there), or null if none was a CUDA tensor.</summary>
    internal int? DeviceIndex { get; private set; }

    /// <summary>Adds the data pointer of <paramref name="tensor"/>, which must be contiguous and of <paramref name="dtype"/>.</summary>
    public KernelArguments Tensor(Tensor tensor, ScalarType dtype, string name)
    {
        if (tensor.device_type == DeviceType.CUDA)
        {
            var index = Math.Max(0, (int)tensor.device_index);
            if (DeviceIndex is { } other && other != index)
                throw new ArgumentException($"{name} is on cuda:{index}, another argument of this launch on cuda:{other}.", name);
            DeviceIndex = index;
        }
        keptAlive.Add(tensor);
        return Add((ulong)TensorMemory.Address(tensor, dtype, tensor.device_type, name));
    }

    /// <summary>Adds a 32-bit integer.</summary>
    public KernelArguments Int32(int value) => Add((uint)value);

    /// <summary>Adds a 64-bit integer.</summary>
    public KernelArguments Int64(long value) => Add((ulong)value);

    /// <summary>Adds a 32-bit float.</summary>
    public KernelArguments Float32(float value) => Add(BitConverter.SingleToUInt32Bits(value));

    KernelArguments Add(ulong bits)
    {
        if (count == MaxArguments) throw new InvalidOperationException($"A kernel takes at most {MaxArguments} arguments here.");
        values[count] = bits;                 // little-endian: a 4-byte argument reads the slot's low half
        pointers[count] = (nint)(values + count);
        count++;
        return this;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        NativeMemory.Free(values);
        NativeMemory.Free(pointers);
        keptAlive.Clear();
    }
}
