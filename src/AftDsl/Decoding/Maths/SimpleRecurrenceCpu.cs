using System.Runtime.CompilerServices;
using System.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using AftDsl.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Decoding.Maths;

/// <summary>
/// <see cref="SimpleRecurrence"/> on the CPU in one C# pass over each row, updating the state's tensors in place:
/// a batch-1 step of the tensor version is a dozen libtorch calls on 128 elements, each costing more in TorchSharp's
/// per-call overhead than its arithmetic. Same algebra, in the same order, so results agree to float rounding.
/// </summary>
internal static unsafe class SimpleRecurrenceCpu
{
    /// <summary>True when the step can run here: CPU, float32 or float64, contiguous <c>[B, H]</c> inputs of the state's dtype.</summary>
    public static bool Applies(Tensor q, Tensor k, Tensor v, AftSimpleDecodingState state) =>
        q.device_type == DeviceType.CPU
        && q.dtype is ScalarType.Float32 or ScalarType.Float64
        && k.dtype == q.dtype && v.dtype == q.dtype && state.Max.dtype == q.dtype
        && q.is_contiguous() && k.is_contiguous() && v.is_contiguous()
        && state.Max.is_contiguous() && state.Numerator.is_contiguous() && state.Denominator.is_contiguous()
        && q.NumberOfElements == state.Max.NumberOfElements && k.NumberOfElements == q.NumberOfElements && v.NumberOfElements == q.NumberOfElements;

    /// <summary>One step: the state moves on in the rows <paramref name="rows"/> marks; their outputs are the mix, the others' zero.</summary>
    public static Tensor Step(Tensor q, Tensor k, Tensor v, AftSimpleDecodingState state, ActiveRows rows)
    {
        var mixed = empty_like(q);
        if (q.dtype == ScalarType.Float32)
            Run<float>(q, k, v, state, rows, mixed);
        else
            Run<double>(q, k, v, state, rows, mixed);
        return mixed;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]                    // sampling runs short: no slow first tier
    static void Run<T>(Tensor q, Tensor k, Tensor v, AftSimpleDecodingState state, ActiveRows rows, Tensor mixed)
        where T : unmanaged, IExponentialFunctions<T>, IFloatingPointIeee754<T>
    {
        var batch = (int)state.Batch;
        var width = (int)(q.NumberOfElements / batch);
        T* pq = TensorMemory.Pointer<T>(q, nameof(q)), pk = TensorMemory.Pointer<T>(k, nameof(k)), pv = TensorMemory.Pointer<T>(v, nameof(v));
        T* pm = TensorMemory.Pointer<T>(state.Max, "max"), pn = TensorMemory.Pointer<T>(state.Numerator, "numerator");
        T* pd = TensorMemory.Pointer<T>(state.Denominator, "denominator"), po = TensorMemory.Pointer<T>(mixed, nameof(mixed));
        var scratch = width <= 512 ? stackalloc T[2 * width] : new T[2 * width];
        var next = scratch[..width];
        var factor = scratch[width..];
        for (var row = 0; row < batch; row++)
        {
            var offset = row * width;
            var output = new Span<T>(po + offset, width);
            if (!rows.Includes(row))
            {
                output.Clear();
                continue;
            }
            var key = new ReadOnlySpan<T>(pk + offset, width);
            var value = new ReadOnlySpan<T>(pv + offset, width);
            var max = new Span<T>(pm + offset, width);
            var numerator = new Span<T>(pn + offset, width);
            var denominator = new Span<T>(pd + offset, width);
            TensorPrimitives.Max<T>(max, key, next);                                // m' = max(m, k)
            TensorPrimitives.Subtract<T>(max, next, factor);
            TensorPrimitives.Exp<T>(factor, factor);                                 // exp(m − m'): 0 at the first key (m = −∞)
            TensorPrimitives.Multiply<T>(numerator, factor, numerator);
            TensorPrimitives.Multiply<T>(denominator, factor, denominator);
            TensorPrimitives.Subtract<T>(key, next, factor);
            TensorPrimitives.Exp<T>(factor, factor);                                 // exp(k − m'), ≤ 1
            TensorPrimitives.MultiplyAdd<T>(factor, value, numerator, numerator);
            TensorPrimitives.Add<T>(denominator, factor, denominator);
            next.CopyTo(max);
            TensorPrimitives.Sigmoid<T>(new ReadOnlySpan<T>(pq + offset, width), output);
            TensorPrimitives.Multiply<T>(output, numerator, output);
            TensorPrimitives.Divide<T>(output, denominator, output);
        }
        GC.KeepAlive(q); GC.KeepAlive(k); GC.KeepAlive(v); GC.KeepAlive(mixed); GC.KeepAlive(state);
    }
}
