using AftDsl.Kernels;
using AftDsl.Reference;
using AftDsl.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Kernels;

public sealed class RunningMaxScanTests : IDisposable
{
    public void Dispose() => RunningMaxScan.Strategy = RunningMaxScan.ScanStrategy.Automatic;

    // sums[t] = Σ_{t' ≤ t} exp(e[t'] − μ[t]) y[t'], μ[t] = max_{t' ≤ t} e[t'], written as loops over doubles.
    static (double[] Max, double[] Sum) Reference(double[] e, double[] y, int batch, int length, int width, int exponentWidth, bool suffix)
    {
        var (max, sum) = (new double[batch * length * exponentWidth], new double[batch * length * width]);
        for (var b = 0; b < batch; b++)
        for (var t = 0; t < length; t++)
        for (var c = 0; c < width; c++)
        {
            var ce = c * exponentWidth / width;
            var sources = suffix ? Enumerable.Range(t, length - t) : Enumerable.Range(0, t + 1);
            var m = sources.Max(s => e[(b * length + s) * exponentWidth + ce]);
            max[(b * length + t) * exponentWidth + ce] = m;
            sum[(b * length + t) * width + c] = sources.Sum(s => Math.Exp(e[(b * length + s) * exponentWidth + ce] - m) * y[(b * length + s) * width + c]);
        }
        return (max, sum);
    }

    [Theory]
    [InlineData(RunningMaxScan.ScanStrategy.Loops, false, 1, 20)]
    [InlineData(RunningMaxScan.ScanStrategy.Loops, false, 37, 20)]        // chunks of 7 with a padded tail
    [InlineData(RunningMaxScan.ScanStrategy.Loops, true, 37, 20)]
    [InlineData(RunningMaxScan.ScanStrategy.CumulativeOperations, false, 37, 20)]
    [InlineData(RunningMaxScan.ScanStrategy.CumulativeOperations, true, 37, 20)]
    [InlineData(RunningMaxScan.ScanStrategy.CumulativeOperations, false, 300, 20)]   // several chunks
    [InlineData(RunningMaxScan.ScanStrategy.CumulativeOperations, false, 300, 1000)] // jumps beyond float64: the loops take over
    public void Sums_match_the_definition_with_a_broadcast_exponent_and_a_null_value(RunningMaxScan.ScanStrategy strategy, bool suffix, int length, double scale)
    {
        RunningMaxScan.Strategy = strategy;
        var generator = new Generator(1);
        var e = randn([2, length, 3, 1], dtype: float64, generator: generator) * scale;     // one exponent per head of 4 channels
        var y = randn([2, length, 3, 4], dtype: float64, generator: generator);
        var (max, sums) = suffix ? RunningMaxScan.Suffix(e, y, null) : RunningMaxScan.Prefix(e, y, null);

        var (expectedMax, expectedSum) = Reference(Arrays.Flat(e), Arrays.Flat(y), 2, length, 12, 3, suffix);
        var (_, expectedOnes) = Reference(Arrays.Flat(e), Enumerable.Repeat(1.0, 2 * length * 3).ToArray(), 2, length, 3, 3, suffix);
        TensorAssert.Close(Arrays.FromFlat(expectedMax, e.shape), max, 0);
        TensorAssert.Close(Arrays.FromFlat(expectedSum, y.shape), sums[0], 1e-12);
        TensorAssert.Close(Arrays.FromFlat(expectedOnes, e.shape), sums[1], 1e-12);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Kernels_built_on_cumulative_operations_match_the_references(bool local)
    {
        RunningMaxScan.Strategy = RunningMaxScan.ScanStrategy.CumulativeOperations;
        var generator = new Generator(2);
        Tensor Draw(params long[] shape) => randn(shape, dtype: float64, generator: generator);
        if (local)
            GradientCheck.Matches(
                x => AftLocal.Apply(x[0], x[1], x[2], x[3], x[4], 3, causal: true),
                x => AftNaive.Local(x[0], x[1], x[2], x[3].matmul(x[4].t()), 3, causal: true),
                [Draw(2, 20, 4), Draw(2, 20, 4), Draw(2, 20, 4), Draw(20, 2), Draw(20, 2)], ["Q", "K", "V", "U", "W"]);
        else
            GradientCheck.Matches(
                x => AftSimple.Apply(x[0], x[1], x[2], causal: true),
                x => AftNaive.Simple(x[0], x[1], x[2], causal: true),
                [Draw(2, 20, 4), Draw(2, 20, 4), Draw(2, 20, 4)], ["Q", "K", "V"]);
    }
}
