using TorchSharp;

namespace AftDsl.Kernels.Cpu;

/// <summary>How many threads the C# CPU kernels use, and the loop that spreads their work items over them.</summary>
public static class CpuParallel
{
    static int degree;

    /// <summary>
    /// Threads the CPU kernels run on; 0 (the default) follows <c>torch.get_num_threads()</c>. The kernels
    /// give bit-identical results for every value: their work items never share an accumulator.
    /// </summary>
    public static int Degree
    {
        get => degree > 0 ? degree : Math.Max(1, torch.get_num_threads());
        set => degree = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Use 0 for torch's thread count or a positive count.");
    }

    /// <summary>Runs <paramref name="body"/> for work items 0 … <paramref name="count"/> − 1, on up to <see cref="Degree"/> threads.</summary>
    internal static void For(int count, Action<int> body)
    {
        var threads = Math.Min(Degree, count);
        if (threads <= 1)
        {
            for (var i = 0; i < count; i++) body(i);
            return;
        }
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = threads }, body);
    }
}
