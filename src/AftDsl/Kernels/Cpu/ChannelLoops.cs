using System.Numerics;

namespace AftDsl.Kernels.Cpu;

/// <summary>
/// Loops over the contiguous channel axis of the AFT-conv and AFT-full CPU kernels, vectorised with
/// <see cref="Vector{T}"/> (a scalar loop takes the remainder, and the whole run where SIMD is unavailable).
/// Which elements fall in the remainder depends on <c>n</c> only, so a result never depends on how work
/// was split between threads.
/// </summary>
internal static unsafe class ChannelLoops
{
    /// <summary>acc[i] += a · x[i].</summary>
    public static void AddScaled<T>(T* acc, T* x, T a, int n) where T : unmanaged, INumberBase<T>
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<T>.Count)
        {
            var va = new Vector<T>(a);
            for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
                (Vector.Load(acc + i) + va * Vector.Load(x + i)).Store(acc + i);
        }
        for (; i < n; i++) acc[i] += a * x[i];
    }

    /// <summary>acc[i] += a · h[i], and returns Σ h[i] · v[i] (one read of h for both).</summary>
    public static T AddScaledDot<T>(T* acc, T* h, T* v, T a, int n) where T : unmanaged, INumberBase<T>
    {
        var i = 0;
        var dot = T.Zero;
        if (Vector.IsHardwareAccelerated && n >= Vector<T>.Count)
        {
            var va = new Vector<T>(a);
            var sum = Vector<T>.Zero;
            for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
            {
                var hv = Vector.Load(h + i);
                (Vector.Load(acc + i) + va * hv).Store(acc + i);
                sum += hv * Vector.Load(v + i);
            }
            dot = Vector.Sum(sum);
        }
        for (; i < n; i++)
        {
            acc[i] += a * h[i];
            dot += h[i] * v[i];
        }
        return dot;
    }

    /// <summary>Σ x[i] · y[i].</summary>
    public static T Dot<T>(T* x, T* y, int n) where T : unmanaged, INumberBase<T>
    {
        var i = 0;
        var dot = T.Zero;
        if (Vector.IsHardwareAccelerated && n >= Vector<T>.Count)
        {
            var sum = Vector<T>.Zero;
            for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
                sum += Vector.Load(x + i) * Vector.Load(y + i);
            dot = Vector.Sum(sum);
        }
        for (; i < n; i++) dot += x[i] * y[i];
        return dot;
    }

    /// <summary>acc[i] += x[i].</summary>
    public static void Add<T>(T* acc, T* x, int n) where T : unmanaged, INumberBase<T>
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<T>.Count)
            for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
                (Vector.Load(acc + i) + Vector.Load(x + i)).Store(acc + i);
        for (; i < n; i++) acc[i] += x[i];
    }

    /// <summary>destination[i] = x[i] + y[i].</summary>
    public static void Sum<T>(T* destination, T* x, T* y, int n) where T : unmanaged, INumberBase<T>
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<T>.Count)
            for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
                (Vector.Load(x + i) + Vector.Load(y + i)).Store(destination + i);
        for (; i < n; i++) destination[i] = x[i] + y[i];
    }

    /// <summary>destination[i] = a · x[i].</summary>
    public static void Scaled<T>(T* destination, T* x, T a, int n) where T : unmanaged, INumberBase<T>
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<T>.Count)
        {
            var va = new Vector<T>(a);
            for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
                (va * Vector.Load(x + i)).Store(destination + i);
        }
        for (; i < n; i++) destination[i] = a * x[i];
    }

    /// <summary>z[i] = a · z[i] + x[i] (a running sum moved to a new shift, then extended).</summary>
    public static void ScaleAdd<T>(T* z, T a, T* x, int n) where T : unmanaged, INumberBase<T>
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<T>.Count)
        {
            var va = new Vector<T>(a);
            for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
                (va * Vector.Load(z + i) + Vector.Load(x + i)).Store(z + i);
        }
        for (; i < n; i++) z[i] = a * z[i] + x[i];
    }

    /// <summary>x[i] = 0.</summary>
    public static void Clear<T>(T* x, int n) where T : unmanaged => new Span<T>(x, n).Clear();
}
