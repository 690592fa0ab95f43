using System.Numerics;
using System.Numerics.Tensors;

namespace AftDsl.Kernels.Cpu;

/// <summary>
/// The band of AFT-local on the CPU: row t's sources t' with |t − t'| &lt; s (causal: t − s &lt; t' ≤ t), kept
/// as slots j = t' − t + s − 1 of a <c>[T, Span]</c> array, the window capped at the sequence length.
/// </summary>
internal readonly record struct LocalBand(int Length, int Window, bool Causal)
{
    /// <summary>The band of a sequence of <paramref name="length"/> for window <paramref name="window"/> ≥ 1.</summary>
    public static LocalBand Of(long length, long window, bool causal) => new((int)length, (int)Math.Max(1, Math.Min(window, length)), causal);

    /// <summary>Slots per row: s causal, 2s − 1 otherwise.</summary>
    public int Span => Causal ? Window : 2 * Window - 1;

    /// <summary>Rows ahead of the current one that the band reaches (0 causal).</summary>
    public int Ahead => Causal ? 0 : Window - 1;

    /// <summary>The source position of slot <paramref name="slot"/> of row <paramref name="row"/>.</summary>
    public int Source(int row, int slot) => row + slot - (Window - 1);

    /// <summary>The slot of source <paramref name="source"/> in row <paramref name="row"/>'s band.</summary>
    public int Slot(int row, int source) => source - row + Window - 1;

    /// <summary>Row <paramref name="row"/>'s first slot inside the sequence.</summary>
    public int FirstSlot(int row) => Math.Max(0, Window - 1 - row);

    /// <summary>Row <paramref name="row"/>'s last slot inside the sequence.</summary>
    public int LastSlot(int row) => Math.Min(Span - 1, Length - 1 - row + Window - 1);

    /// <summary>The first and last rows whose bands hold <paramref name="source"/>.</summary>
    public (int First, int Last) RowsOf(int source) => (Causal ? source : Math.Max(0, source - Window + 1), Math.Min(Length - 1, source + Window - 1));

    /// <summary>
    /// The largest gap ρ_t − ℓ_t (row shift over a channel's log-denominator) at which the factorised band
    /// sums keep full precision: each band term lost to underflow is below the smallest normal number in
    /// units of e^ρ, so Span such terms stay below machine epsilon of the denominator e^ℓ when
    /// e^{ρ − ℓ} ≤ ε / (Span · tiny); and e^{ρ − ℓ} stays below the square root of the largest number.
    /// Wider gaps take the exact per-channel path.
    /// </summary>
    public double ExactnessLimit<T>()
    {
        var (epsilon, tiny, max) = typeof(T) == typeof(float)
            ? (1.1920928955078125e-7, 1.1754943508222875e-38, (double)float.MaxValue)
            : (2.220446049250313e-16, 2.2250738585072014e-308, double.MaxValue);
        return Math.Min(Math.Log(epsilon / (Span * tiny)), 0.5 * Math.Log(max));
    }

    /// <summary>w on the band, <c>[T, Span]</c>: U_t · W_t' for sources inside the sequence, 0 in the other slots.</summary>
    public unsafe void Bias<T>(T* u, T* w, int rank, T* bias) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var band = this;
        var (pu, pw, pb) = ((nint)u, (nint)w, (nint)bias);
        const int rowsPerItem = 64;
        CpuParallel.For((Length + rowsPerItem - 1) / rowsPerItem, item =>
        {
            T* uu = (T*)pu, ww = (T*)pw, bb = (T*)pb;
            for (var t = item * rowsPerItem; t < Math.Min(band.Length, (item + 1) * rowsPerItem); t++)
            {
                var row = new ReadOnlySpan<T>(uu + (long)t * rank, rank);
                for (var j = 0; j < band.Span; j++)
                {
                    var source = band.Source(t, j);
                    bb[(long)t * band.Span + j] = source < 0 || source >= band.Length ? T.Zero
                        : TensorPrimitives.Dot(row, new ReadOnlySpan<T>(ww + (long)source * rank, rank));
                }
            }
        });
    }
}
