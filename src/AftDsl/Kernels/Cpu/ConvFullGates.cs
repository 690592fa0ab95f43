using System.Numerics;
using System.Numerics.Tensors;

namespace AftDsl.Kernels.Cpu;

/// <summary>
/// The gate σ(Q) around the AFT-conv and AFT-full CPU kernels, forward and backward, on fixed chunks of
/// positions (so the split between vector and scalar code, and hence every bit, is the same for any
/// thread count).
/// </summary>
internal static unsafe class ConvFullGates<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>Positions per work item.</summary>
    public const int Chunk = 32;

    /// <summary>
    /// y = σ(q) ⊙ ratio for <paramref name="positions"/> rows of <paramref name="width"/> channels, one row at a
    /// time: TensorPrimitives takes a scalar path for a whole vector holding an extreme value, so a vector
    /// must never mix positions (a later position's input would change an earlier one's bits).
    /// </summary>
    public static void Gate(T* q, T* ratio, T* y, long positions, int width)
    {
        for (long p = 0; p < positions; p++)
        {
            var output = new Span<T>(y + p * width, width);
            TensorPrimitives.Sigmoid(new ReadOnlySpan<T>(q + p * width, width), output);
            TensorPrimitives.Multiply(output, new ReadOnlySpan<T>(ratio + p * width, width), output);
        }
    }

    /// <summary>y = σ(q) ⊙ ratio for all <paramref name="positions"/> rows of <paramref name="width"/> channels, in parallel.</summary>
    public static void GateAll(T* q, T* ratio, T* y, long positions, int width)
    {
        var chunks = (positions + Chunk - 1) / Chunk;
        ConvFullThreads.For(chunks, chunk =>
        {
            var start = chunk * Chunk;
            Gate(q + start * width, ratio + start * width, y + start * width, Math.Min(Chunk, positions - start), width);
        });
    }

    /// <summary>
    /// ∂Q = G ⊙ R ⊙ σ(Q)(1 − σ(Q)) into <paramref name="dq"/>, and the upstream rows h = [S / D | −Σ_head S ⊙ R / D]
    /// with S = G ⊙ σ(Q), one row of <c>width + heads</c> channels per position, into <paramref name="upstream"/>;
    /// <paramref name="denominator"/> holds one value per (position, head).
    /// </summary>
    public static void Gradients(T* grad, T* q, T* ratio, T* denominator, T* dq, T* upstream, long positions, int heads, int headWidth)
    {
        var width = heads * headWidth;
        var stacked = width + heads;
        var chunks = (positions + Chunk - 1) / Chunk;
        ConvFullThreads.For(chunks, chunk =>
        {
            var start = chunk * Chunk;
            var count = Math.Min(Chunk, positions - start);
            var total = (int)(count * width);
            var gates = new Span<T>(dq + start * width, total);
            TensorPrimitives.Sigmoid(new ReadOnlySpan<T>(q + start * width, total), gates);
            for (var p = start; p < start + count; p++)
                for (var h = 0; h < heads; h++)
                    upstream[p * stacked + width + h] =
                        HeadGradients(grad + p * width + h * headWidth, ratio + p * width + h * headWidth, dq + p * width + h * headWidth,
                            upstream + p * stacked + h * headWidth, denominator[p * heads + h], headWidth);
        });
    }

    // One head of one position: dq (holding σ(Q) on entry) and h_A in place; returns h_D.
    static T HeadGradients(T* grad, T* ratio, T* dq, T* hA, T denominator, int n)
    {
        var inverse = T.One / denominator;
        var i = 0;
        var sum = T.Zero;
        if (Vector.IsHardwareAccelerated && n >= Vector<T>.Count)
        {
            var one = Vector<T>.One;
            var vi = new Vector<T>(inverse);
            var vs = Vector<T>.Zero;
            for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
            {
                var g = Vector.Load(dq + i);
                var s = Vector.Load(grad + i) * g;
                var r = Vector.Load(ratio + i);
                (s * r * (one - g)).Store(dq + i);
                (s * vi).Store(hA + i);
                vs += s * r;
            }
            sum = Vector.Sum(vs);
        }
        for (; i < n; i++)
        {
            var g = dq[i];
            var s = grad[i] * g;
            dq[i] = s * ratio[i] * (T.One - g);
            hA[i] = s * inverse;
            sum += s * ratio[i];
        }
        return -sum * inverse;
    }
}
