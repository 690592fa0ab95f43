using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Native;

/// <summary>
/// Raw data pointers of tensors, for kernels that read and write tensor memory directly. TorchSharp keeps
/// its own accessor's pointer private; its native shim's <c>THSTensor_data</c> returns the address of the
/// first element, a view's offset included.
/// </summary>
internal static partial class TensorMemory
{
    [LibraryImport("LibTorchSharp")]
    private static partial nint THSTensor_data(nint tensor);

    /// <summary>
    /// The address of <paramref name="tensor"/>'s first element, after checking that it is contiguous, of
    /// <paramref name="dtype"/> and on <paramref name="device"/>. The caller keeps the tensor alive while the
    /// address is in use (a <see cref="GC.KeepAlive"/> after the last access).
    /// </summary>
    /// <exception cref="ArgumentException">The tensor is not contiguous, or has another dtype or device.</exception>
    public static nint Address(Tensor tensor, ScalarType dtype, DeviceType device, string name)
    {
        if (tensor.dtype != dtype)
            throw new ArgumentException($"{name} is {tensor.dtype}; the kernel expects {dtype}.", name);
        if (tensor.device_type != device)
            throw new ArgumentException($"{name} is on {tensor.device}; the kernel expects a {device} tensor.", name);
        if (!tensor.is_contiguous())
            throw new ArgumentException($"{name} is not contiguous; call .contiguous() first.", name);
        return tensor.NumberOfElements == 0 ? 0 : THSTensor_data(tensor.Handle);
    }

    /// <summary><see cref="Address"/> as a typed pointer for CPU tensors.</summary>
    public static unsafe T* Pointer<T>(Tensor tensor, string name) where T : unmanaged =>
        (T*)Address(tensor, ScalarTypeOf<T>(), DeviceType.CPU, name);

    /// <summary>The TorchSharp dtype whose elements are <typeparamref name="T"/>.</summary>
    public static ScalarType ScalarTypeOf<T>() where T : unmanaged =>
        typeof(T) == typeof(float) ? ScalarType.Float32
        : typeof(T) == typeof(double) ? ScalarType.Float64
        : typeof(T) == typeof(Half) ? ScalarType.Float16
        : typeof(T) == typeof(long) ? ScalarType.Int64
        : typeof(T) == typeof(int) ? ScalarType.Int32
        : throw new NotSupportedException($"No tensor dtype holds {typeof(T).Name} elements.");
}
