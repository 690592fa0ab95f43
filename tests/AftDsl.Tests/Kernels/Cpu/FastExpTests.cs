using System.Numerics;
using AftDsl.Kernels.Cpu;
using Xunit;

namespace AftDsl.Tests.Kernels.Cpu;

/// <summary>The float vector exp of the CPU kernels against double-precision Math.Exp.</summary>
public sealed class FastExpTests
{
    static float[] Exp(float[] x)
    {
        var lanes = Vector<float>.Count;
        var padded = new float[(x.Length + lanes - 1) / lanes * lanes];
        x.CopyTo(padded, 0);
        var result = new float[padded.Length];
        for (var i = 0; i < padded.Length; i += lanes)
            FastExp.Exp(new Vector<float>(padded, i)).CopyTo(result, i);
        return result[..x.Length];
    }

    [Fact]
    public void Normal_results_are_within_3e_7_relative_of_the_exact_value()
    {
        var x = Enumerable.Range(0, 200_001).Select(i => -87f + i * (175.5f / 200_000)).ToArray();
        var y = Exp(x);
        for (var i = 0; i < x.Length; i++)
        {
            var exact = Math.Exp(x[i]);
            Assert.True(Math.Abs(y[i] - exact) <= 3e-7 * exact, $"exp({x[i]:R}) = {y[i]:R}, exactly {exact:R}");
        }
    }

    [Fact]
    public void Subnormal_results_are_within_two_of_the_smallest_steps()
    {
        var x = Enumerable.Range(0, 1001).Select(i => -103.9f + i * (16.8f / 1000)).ToArray();
        var y = Exp(x);
        for (var i = 0; i < x.Length; i++)
            Assert.True(Math.Abs(y[i] - Math.Exp(x[i])) <= Math.Max(2 * float.Epsilon, 3e-7 * Math.Exp(x[i])), $"exp({x[i]:R}) = {y[i]:R}, exactly {Math.Exp(x[i]):R}");
    }

    [Fact]
    public void Limits_and_nan_are_those_of_exp()
    {
        var y = Exp([float.NegativeInfinity, -1e4f, -105f, 0f, 88.8f, 1e4f, float.PositiveInfinity, float.NaN]);
        Assert.Equal([0f, 0f, 0f, 1f, float.PositiveInfinity, float.PositiveInfinity, float.PositiveInfinity], y[..7]);
        Assert.True(float.IsNaN(y[7]));
    }
}
