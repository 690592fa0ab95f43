using System.Runtime.CompilerServices;
using System.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using AftDsl.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AftDsl.Decoding;

/// <summary>
/// A <see cref="Linear"/> layer on the few rows of a decoding step. For a handful of rows on the CPU it is a C#
/// loop of dot products over the layer's own (current) weight and bias; libtorch's matmul costs several microseconds
/// of call overhead and a transpose there, more than the arithmetic of a 128-wide row. Elsewhere (CUDA, other
/// dtypes, more rows) it is the layer's forward. Generated <c>Step</c> methods call it for their projections.
/// </summary>
public static unsafe class StepLinear
{
    /// <summary>Most rows the C# loop takes: beyond, libtorch's matrix product is faster.</summary>
    const long MaxRows = 4;

    /// <summary><paramref name="layer"/> applied to <paramref name="x"/> <c>[B, in]</c> → <c>[B, out]</c>, as its forward computes it (to float rounding).</summary>
    public static Tensor Forward(Linear layer, Tensor x)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(x);
        var weight = layer.weight;
        var bias = layer.bias;
        if (weight is null || !Applies(x, weight, bias))
            return layer.forward(x);
        var (rows, inputs, outputs) = (x.size(0), x.size(1), weight.size(0));
        var result = empty([rows, outputs], dtype: x.dtype);
        if (x.dtype == ScalarType.Float32)
            Run<float>(x, weight, bias, result, (int)rows, (int)inputs, (int)outputs);
        else
            Run<double>(x, weight, bias, result, (int)rows, (int)inputs, (int)outputs);
        return result;
    }

    /// <summary>True for a contiguous float32 or float64 CPU <c>[B, features]</c> of at most a few rows: what the C# loops take.</summary>
    internal static bool SmallCpuRows(Tensor x) =>
        x.device_type == DeviceType.CPU && x.dtype is ScalarType.Float32 or ScalarType.Float64 && x.dim() == 2 && x.size(0) <= MaxRows && x.is_contiguous();

    static bool Applies(Tensor x, Tensor weight, Tensor? bias) =>
        SmallCpuRows(x) && weight.dtype == x.dtype && weight.dim() == 2 && x.size(1) == weight.size(1) && weight.is_contiguous()
        && (bias is null || (bias.dtype == x.dtype && bias.is_contiguous() && bias.NumberOfElements == weight.size(0)))
        && !(is_grad_enabled() && (weight.requires_grad || x.requires_grad));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]                    // sampling runs short: no slow first tier
    static void Run<T>(Tensor x, Tensor weight, Tensor? bias, Tensor result, int rows, int inputs, int outputs)
        where T : unmanaged, INumberBase<T>
    {
        T* px = TensorMemory.Pointer<T>(x, nameof(x)), pw = TensorMemory.Pointer<T>(weight, nameof(weight));
        T* pb = bias is null ? null : TensorMemory.Pointer<T>(bias, nameof(bias)), po = TensorMemory.Pointer<T>(result, nameof(result));
        for (var row = 0; row < rows; row++)
            MatrixVector(pw, px + (long)row * inputs, pb, po + (long)row * outputs, inputs, outputs);
        GC.KeepAlive(x); GC.KeepAlive(weight); GC.KeepAlive(bias); GC.KeepAlive(result);
    }

    /// <summary>
    /// output = W·input + bias for a row-major W <c>[outputs, inputs]</c>: four rows of W at a time against one load of the
    /// input, so each element of W is read once and the loop has no call per row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]                    // sampling runs short: no slow first tier
    static void MatrixVector<T>(T* w, T* input, T* bias, T* output, int inputs, int outputs) where T : unmanaged, INumberBase<T>
    {
        var lanes = Vector<T>.Count;
        var whole = inputs - inputs % lanes;
        var j = 0;
        for (; j + 4 <= outputs; j += 4)
        {
            T* w0 = w + (long)j * inputs, w1 = w0 + inputs, w2 = w1 + inputs, w3 = w2 + inputs;
            Vector<T> a0 = Vector<T>.Zero, a1 = Vector<T>.Zero, a2 = Vector<T>.Zero, a3 = Vector<T>.Zero;
            for (var i = 0; i < whole; i += lanes)
            {
                var v = Vector.Load(input + i);
                a0 += Vector.Load(w0 + i) * v;
                a1 += Vector.Load(w1 + i) * v;
                a2 += Vector.Load(w2 + i) * v;
                a3 += Vector.Load(w3 + i) * v;
            }
            T s0 = Vector.Sum(a0), s1 = Vector.Sum(a1), s2 = Vector.Sum(a2), s3 = Vector.Sum(a3);
            for (var i = whole; i < inputs; i++)
            {
                s0 += w0[i] * input[i];
                s1 += w1[i] * input[i];
                s2 += w2[i] * input[i];
                s3 += w3[i] * input[i];
            }
            output[j] = bias is null ? s0 : s0 + bias[j];
            output[j + 1] = bias is null ? s1 : s1 + bias[j + 1];
            output[j + 2] = bias is null ? s2 : s2 + bias[j + 2];
            output[j + 3] = bias is null ? s3 : s3 + bias[j + 3];
        }
        for (; j < outputs; j++)
        {
            var sum = TensorPrimitives.Dot<T>(new ReadOnlySpan<T>(w + (long)j * inputs, inputs), new ReadOnlySpan<T>(input, inputs));
            output[j] = bias is null ? sum : sum + bias[j];
        }
    }
}
