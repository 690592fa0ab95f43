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

    /// <summary>acc[i] += a[i] · x[i].</summary>
    public static void MultiplyAdd<T>(T* acc, T* a, T* x, int n) where T : unmanaged, INumberBase<T>
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<T>.Count)
            for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
                (Vector.Load(acc + i) + Vector.Load(a + i) * Vector.Load(x + i)).Store(acc + i);
        for (; i < n; i++) acc[i] += a[i] * x[i];
    }

    /// <summary>acc[i] += a[i] · h[i] and products[i] += h[i] · x[i] (one read of h for both).</summary>
    public static void MultiplyAddBoth<T>(T* acc, T* a, T* h, T* products, T* x, int n) where T : unmanaged, INumberBase<T>
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<T>.Count)
            for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
            {
                var hv = Vector.Load(h + i);
                (Vector.Load(acc + i) + Vector.Load(a + i) * hv).Store(acc + i);
                (Vector.Load(products + i) + hv * Vector.Load(x + i)).Store(products + i);
            }
        for (; i < n; i++)
        {
            acc[i] += a[i] * h[i];
            products[i] += h[i] * x[i];
        }
    }

    /// <summary>x[i] *= a[i].</summary>
    public static void Multiply<T>(T* x, T* a, int n) where T : unmanaged, INumberBase<T>
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<T>.Count)
            for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
                (Vector.Load(x + i) * Vector.Load(a + i)).Store(x + i);
        for (; i < n; i++) x[i] *= a[i];
    }

    /// <summary>
    /// acc[i] (+)= Σ_p a[p][i] · x[p][i] over <paramref name="pairs"/> pairs of rows, in pair order, blocks of
    /// channels held in registers across all pairs (one store per block, not one per pair). Mul then add,
    /// never fused, in vector and scalar code alike: every element gets the same bits on either path.
    /// </summary>
    public static void WeightedSum<T>(T* acc, T** a, T** x, int pairs, int n, bool accumulate) where T : unmanaged, INumberBase<T>
    {
        var i = 0;
        var width = Vector<T>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= n - 4 * width; i += 4 * width)
            {
                Vector<T> s0 = Vector<T>.Zero, s1 = Vector<T>.Zero, s2 = Vector<T>.Zero, s3 = Vector<T>.Zero;
                if (accumulate)
                    (s0, s1, s2, s3) = (Vector.Load(acc + i), Vector.Load(acc + i + width), Vector.Load(acc + i + 2 * width), Vector.Load(acc + i + 3 * width));
                for (var p = 0; p < pairs; p++)
                {
                    T* ap = a[p] + i, xp = x[p] + i;
                    s0 += Vector.Load(ap) * Vector.Load(xp);
                    s1 += Vector.Load(ap + width) * Vector.Load(xp + width);
                    s2 += Vector.Load(ap + 2 * width) * Vector.Load(xp + 2 * width);
                    s3 += Vector.Load(ap + 3 * width) * Vector.Load(xp + 3 * width);
                }
                s0.Store(acc + i);
                s1.Store(acc + i + width);
                s2.Store(acc + i + 2 * width);
                s3.Store(acc + i + 3 * width);
            }
            for (; i <= n - width; i += width)
            {
                var s0 = accumulate ? Vector.Load(acc + i) : Vector<T>.Zero;
                for (var p = 0; p < pairs; p++)
                    s0 += Vector.Load(a[p] + i) * Vector.Load(x[p] + i);
                s0.Store(acc + i);
            }
        }
        for (; i < n; i++)
        {
            var sum = accumulate ? acc[i] : T.Zero;
            for (var p = 0; p < pairs; p++) sum += a[p][i] * x[p][i];
            acc[i] = sum;
        }
    }

    /// <summary>x[i] = 0.</summary>
    public static void Clear<T>(T* x, int n) where T : unmanaged => new Span<T>(x, n).Clear();
}
