using System.Numerics;
using System.Runtime.CompilerServices;

namespace AftDsl.Kernels.Cpu;

/// <summary>
/// The RWKV "WKV" step: a sum Σ e^{K}·(V | 1) carried as (largest exponent m, numerator, denominator),
/// both scaled by e^{−m}, so nothing overflows whatever the keys. With m' = max(m, K), one of the two
/// rescaling factors e^{m − m'} and e^{K − m'} is 1 and the other is e^{−|m − K|}: one exp per step.
/// </summary>
internal static unsafe class RunningSum
{
    /// <summary>
    /// Adds the keys and values of one row (<paramref name="width"/> channels from offset <paramref name="row"/> of
    /// <paramref name="k"/> and <paramref name="v"/>) to the per-channel sums stored at <paramref name="max"/>,
    /// <paramref name="numerator"/>, <paramref name="denominator"/>; <paramref name="scratch"/> holds a vector for a partial tail.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddRow<T>(T* max, T* numerator, T* denominator, T* k, T* v, long row, int width, T* scratch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var lanes = Vector<T>.Count;
        for (var c = 0; c < width; c += lanes)
        {
            var n = Math.Min(lanes, width - c);
            var (m, nu, de) = (Lanes.Read(max + c), Lanes.Read(numerator + c), Lanes.Read(denominator + c));
            Add(ref m, ref nu, ref de, Lanes.Load(k + row + c, n, scratch), Lanes.Load(v + row + c, n, scratch));
            Lanes.Write(max + c, m);
            Lanes.Write(numerator + c, nu);
            Lanes.Write(denominator + c, de);
        }
    }

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
