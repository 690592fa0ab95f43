using System.Numerics;
using System.Runtime.CompilerServices;

namespace AftDsl.Kernels.Cpu;

/// <summary>
/// The RWKV "WKV" step: a sum Σ e^{K}·(V | 1) carried as (largest exponent m, numerator, denominator),
/// both scaled by e^{−m}, so nothing overflows whatever the keys. With m' = max(m, K), one of the two
/// rescaling factors e^{m − m'} and e^{K − m'} is 1 and the other is e^{−|m − K|}: one exp per step.
/// </summary>
internal static class RunningSum
{
    /// <summary>Adds e^{<paramref name="key"/>}·(<paramref name="value"/> | 1) lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Add<T>(ref Vector<T> max, ref Vector<T> numerator, ref Vector<T> denominator, Vector<T> key, Vector<T> value)
    {
        var newer = Vector.GreaterThan(key, max);
        var factor = Lanes.Exp(-Vector.Abs(max - key));
        var kept = Vector.ConditionalSelect(newer, factor, Vector<T>.One);
        var added = Vector.ConditionalSelect(newer, Vector<T>.One, factor);
        numerator = numerator * kept + added * value;
        denominator = denominator * kept + added;
        max = Vector.ConditionalSelect(newer, key, max);
    }

    /// <summary>Adds e^{<paramref name="key"/>}·(<paramref name="first"/> | <paramref name="second"/>) to two sums that share one running maximum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddPair<T>(ref Vector<T> max, ref Vector<T> firstSum, ref Vector<T> secondSum, Vector<T> key, Vector<T> first, Vector<T> second)
    {
        var newer = Vector.GreaterThan(key, max);
        var factor = Lanes.Exp(-Vector.Abs(max - key));
        var kept = Vector.ConditionalSelect(newer, factor, Vector<T>.One);
        var added = Vector.ConditionalSelect(newer, Vector<T>.One, factor);
        firstSum = firstSum * kept + added * first;
        secondSum = secondSum * kept + added * second;
        max = Vector.ConditionalSelect(newer, key, max);
    }
}
