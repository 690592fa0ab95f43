using System.Numerics;
using System.Runtime.CompilerServices;

namespace AftDsl.Kernels.Cpu;

/// <summary>
/// Vector loads, stores and functions for the CPU kernels, over float or double lanes. A partial vector
/// (a row's last few channels) goes through a scratch vector, so a channel's arithmetic is the same
/// whichever lane it falls in.
/// </summary>
internal static unsafe class Lanes
{
    /// <summary>The <paramref name="count"/> ≤ lane-count elements at <paramref name="source"/>, zeros after them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> Load<T>(T* source, int count, T* scratch) where T : unmanaged
    {
        if (count == Vector<T>.Count) return Unsafe.ReadUnaligned<Vector<T>>(source);
        Unsafe.WriteUnaligned(scratch, Vector<T>.Zero);
        for (var i = 0; i < count; i++) scratch[i] = source[i];
        return Unsafe.ReadUnaligned<Vector<T>>(scratch);
    }

    /// <summary>Stores the first <paramref name="count"/> lanes of <paramref name="value"/> at <paramref name="target"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<T>(T* target, Vector<T> value, int count, T* scratch) where T : unmanaged
    {
        if (count == Vector<T>.Count)
        {
            Unsafe.WriteUnaligned(target, value);
            return;
        }
        Unsafe.WriteUnaligned(scratch, value);
        for (var i = 0; i < count; i++) target[i] = scratch[i];
    }

    /// <summary>A full vector of the kernel's own (padded) buffers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> Read<T>(T* source) where T : unmanaged => Unsafe.ReadUnaligned<Vector<T>>(source);

    /// <summary>Writes a full vector into the kernel's own (padded) buffers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Write<T>(T* target, Vector<T> value) where T : unmanaged => Unsafe.WriteUnaligned(target, value);

    /// <summary>e^x lane by lane (<see cref="FastExp"/> for float).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> Exp<T>(Vector<T> x)
    {
        if (typeof(T) == typeof(float)) return FastExp.Exp(x.As<T, float>()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector.Exp(x.As<T, double>()).As<double, T>();
        throw new NotSupportedException($"No vector exp for {typeof(T).Name}.");
    }

    /// <summary>ln x lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> Log<T>(Vector<T> x)
    {
        if (typeof(T) == typeof(float)) return Vector.Log(x.As<T, float>()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector.Log(x.As<T, double>()).As<double, T>();
        throw new NotSupportedException($"No vector log for {typeof(T).Name}.");
    }

    /// <summary>σ(x) = 1 / (1 + e^{−x}) lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> Sigmoid<T>(Vector<T> x) => Vector<T>.One / (Vector<T>.One + Exp(-x));
}
