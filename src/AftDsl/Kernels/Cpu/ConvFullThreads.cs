using TorchSharp;

namespace AftDsl.Kernels.Cpu;

/// <summary>
/// How many threads the AFT-conv and AFT-full CPU kernels use: torch's intra-op thread count unless a test or
/// caller chooses another for the current async flow. Work is split into items whose boundaries do not
/// depend on the count, so every count gives bit-identical results.
/// </summary>
internal static class ConvFullThreads
{
    static readonly AsyncLocal<int?> chosen = new();

    /// <summary>The degree of parallelism in effect.</summary>
    public static int Degree => Math.Max(1, chosen.Value ?? torch.get_num_threads());

    /// <summary>Uses <paramref name="threads"/> threads until the returned handle is disposed.</summary>
    public static IDisposable Use(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        var previous = chosen.Value;
        chosen.Value = threads;
        return new Restore(() => chosen.Value = previous);
    }

    /// <summary>Runs <paramref name="body"/> for items 0 … <paramref name="count"/> − 1, in parallel when more than one thread is allowed.</summary>
    public static void For(long count, Action<long> body)
    {
        var degree = (int)Math.Min(Degree, count);
        if (degree <= 1)
        {
            for (long i = 0; i < count; i++) body(i);
            return;
        }
        Parallel.For(0L, count, new ParallelOptions { MaxDegreeOfParallelism = degree }, body);
    }

    sealed class Restore(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }
}
