using System.Runtime.CompilerServices;
using System.Numerics;
using AftDsl.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AftDsl.Decoding;

/// <summary>
/// A <see cref="LayerNorm"/> over the last dimension on the few rows of a decoding step: on the CPU a C# pass per row
/// (mean and biased variance accumulated in float64, then (x − mean)/√(var + eps)·γ + β), with the layer's current
/// parameters; elsewhere, or for other shapes, the layer's forward. Same contract as <see cref="StepLinear"/>.
/// </summary>
public static unsafe class StepNorm
{
    /// <summary><paramref name="layer"/> applied to <paramref name="x"/> <c>[B, dim]</c>, as its forward computes it (to float rounding).</summary>
    public static Tensor Forward(LayerNorm layer, Tensor x)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(x);
        var (weight, bias) = (layer.weight, layer.bias);
        if (!Applies(layer, x, weight, bias))
            return layer.forward(x);
        var result = empty_like(x);
        if (x.dtype == ScalarType.Float32)
            Run<float>(x, weight, bias, result, layer.eps);
        else
            Run<double>(x, weight, bias, result, layer.eps);
        return result;
    }

    static bool Applies(LayerNorm layer, Tensor x, Tensor? weight, Tensor? bias) =>
        StepLinear.SmallCpuRows(x) && layer.normalized_shape.Length == 1 && layer.normalized_shape[0] == x.size(1)
        && (weight is null || Parameter(weight, x)) && (bias is null || Parameter(bias, x))
        && !(is_grad_enabled() && (x.requires_grad || weight?.requires_grad == true || bias?.requires_grad == true));

    static bool Parameter(Tensor p, Tensor x) => p.dtype == x.dtype && p.is_contiguous() && p.NumberOfElements == x.size(1);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]                    // sampling runs short: no slow first tier
    static void Run<T>(Tensor x, Tensor? weight, Tensor? bias, Tensor result, double eps) where T : unmanaged, IFloatingPoint<T>
    {
        var (rows, width) = ((int)x.size(0), (int)x.size(1));
        T* px = TensorMemory.Pointer<T>(x, nameof(x)), po = TensorMemory.Pointer<T>(result, nameof(result));
        T* pw = weight is null ? null : TensorMemory.Pointer<T>(weight, nameof(weight)), pb = bias is null ? null : TensorMemory.Pointer<T>(bias, nameof(bias));
        for (var row = 0; row < rows; row++)
        {
            T* input = px + (long)row * width, output = po + (long)row * width;
            var sum = 0.0;
            for (var i = 0; i < width; i++)
                sum += double.CreateTruncating(input[i]);
            var mean = sum / width;
            var squares = 0.0;
            for (var i = 0; i < width; i++)
            {
                var d = double.CreateTruncating(input[i]) - mean;
                squares += d * d;
            }
            var scale = 1 / Math.Sqrt(squares / width + eps);
            for (var i = 0; i < width; i++)
            {
                var y = (double.CreateTruncating(input[i]) - mean) * scale;
                if (pw is not null) y *= double.CreateTruncating(pw[i]);
                if (pb is not null) y += double.CreateTruncating(pb[i]);
                output[i] = T.CreateTruncating(y);
            }
        }
        GC.KeepAlive(x); GC.KeepAlive(weight); GC.KeepAlive(bias); GC.KeepAlive(result);
    }
}
