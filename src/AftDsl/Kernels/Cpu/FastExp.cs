using System.Numerics;
using System.Runtime.CompilerServices;

namespace AftDsl.Kernels.Cpu;

/// <summary>
/// e^x for float lanes in about a dozen vector operations (Cephes' expf polynomial, relative error about
/// 2 ulp): the runtime's vector exp for float computes in double precision, which made it the largest
/// cost of the float kernels. Below −104 it gives 0, above ln(float.MaxValue) +∞, NaN stays NaN; the
/// results between (subnormal) come from scaling by 2^n in two halves.
/// </summary>
internal static class FastExp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Exp(Vector<float> x)
    {
        var clamped = Vector.Min(Vector.Max(x, new Vector<float>(-104f)), new Vector<float>(88.8f));
        var n = Vector.Floor(clamped * new Vector<float>(1.44269504088896341f) + new Vector<float>(0.5f));
        var r = clamped - n * new Vector<float>(0.693359375f) - n * new Vector<float>(-2.12194440e-4f);
        var z = r * r;
        var p = new Vector<float>(1.9875691500e-4f);
        p = p * r + new Vector<float>(1.3981999507e-3f);
        p = p * r + new Vector<float>(8.3334519073e-3f);
        p = p * r + new Vector<float>(4.1665795894e-2f);
        p = p * r + new Vector<float>(1.6666665459e-1f);
        p = p * r + new Vector<float>(5.0000001201e-1f);
        var y = p * z + r + Vector<float>.One;
        var exponent = Vector.ConvertToInt32(n);
        var half = Vector.ShiftRightArithmetic(exponent, 1);
        var first = Vector.ShiftLeft(half + new Vector<int>(127), 23).As<int, float>();
        var second = Vector.ShiftLeft(exponent - half + new Vector<int>(127), 23).As<int, float>();
        var result = y * first * second;
        result = Vector.ConditionalSelect(Vector.GreaterThan(x, new Vector<float>(88.72283935546875f)), new Vector<float>(float.PositiveInfinity), result);
        result = Vector.ConditionalSelect(Vector.LessThan(x, new Vector<float>(-104f)), Vector<float>.Zero, result);
        return Vector.ConditionalSelect(Vector.Equals(x, x), result, x);
    }
}
