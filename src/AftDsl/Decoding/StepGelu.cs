using System.Runtime.CompilerServices;
using System.Numerics;
using AftDsl.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Decoding;

/// <summary>
/// The exact GELU, x·Φ(x) = ½·x·erfc(−x/√2), in place on a small float32 CPU tensor of a decoding step: one C# pass
/// instead of libtorch's call, whose overhead exceeds the work on a few hundred elements. erfc is the Chebyshev fit of
/// Numerical Recipes (§6.2), relative error below 1.2e-7 everywhere, evaluated in float64: float32 rounding.
/// </summary>
internal static unsafe class StepGelu
{
    /// <summary>
    /// True when <see cref="InPlace"/> takes <paramref name="x"/>: a few contiguous float32 CPU rows. On more rows libtorch's
    /// vectorised GELU wins: this loop is scalar, about 10 ns an element.
    /// </summary>
    public static bool Applies(Tensor x) => x.dtype == ScalarType.Float32 && StepLinear.SmallCpuRows(x);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]                    // sampling runs short: no slow first tier
    public static void InPlace(Tensor x)
    {
        var values = new Span<float>((void*)TensorMemory.Address(x, ScalarType.Float32, DeviceType.CPU, nameof(x)), (int)x.NumberOfElements);
        var lanes = Vector<float>.Count;
        var whole = values.Length - values.Length % lanes;
        for (var i = 0; i < whole; i += lanes)
        {
            Vector.Widen(new Vector<float>(values[i..]), out var low, out var high);
            Vector.Narrow(Gelu(low), Gelu(high)).CopyTo(values[i..]);
        }
        foreach (ref var value in values[whole..])
            value = (float)(0.5 * value * Erfc(-value * Sqrt1_2));
        GC.KeepAlive(x);
    }

    const double Sqrt1_2 = 0.70710678118654752440;

    /// <summary>½·x·erfc(−x/√2) on float64 lanes: <see cref="Erfc"/>'s fit, with Vector.Exp.</summary>
    static Vector<double> Gelu(Vector<double> x)
    {
        var u = -x * Sqrt1_2;
        var z = Vector.Abs(u);
        var t = Vector<double>.One / (Vector<double>.One + 0.5 * z);
        var p = new Vector<double>(0.17087277);
        foreach (var c in Coefficients)
            p = p * t + new Vector<double>(c);
        var r = t * Vector.Exp(-z * z + p);
        var erfc = Vector.ConditionalSelect(Vector.GreaterThanOrEqual(u, Vector<double>.Zero), r, new Vector<double>(2) - r);
        return 0.5 * x * erfc;
    }

    /// <summary>The fit's coefficients from the second-highest power down to the constant, −1.26551223.</summary>
    static readonly double[] Coefficients =
        [-0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196, 1.00002368, -1.26551223];

    static double Erfc(double x)
    {
        var z = Math.Abs(x);
        var t = 1 / (1 + 0.5 * z);
        var r = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
            t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? r : 2 - r;
    }
}
