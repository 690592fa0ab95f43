using AftDsl.Kernels;
using AftDsl.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Kernels;

public sealed class AftFullKernelTests
{
    sealed record Inputs(Tensor Q, Tensor K, Tensor V, Tensor W)
    {
        public int Batch => (int)Q.shape[0];
        public int Length => (int)Q.shape[1];
        public int Hidden => (int)Q.shape[2];

        public static Inputs Random(int batch, int length, int hidden, ScalarType dtype, long seed)
        {
            var generator = new Generator((ulong)seed);
            Tensor Draw(params long[] shape) => randn(shape, dtype: float64, generator: generator).to(dtype);
            return new(Draw(batch, length, hidden), Draw(batch, length, hidden), Draw(batch, length, hidden), Draw(length, length));
        }

        public Tensor Run(bool causal) => AftFullKernel.Forward(Q, K, V, W, causal);

        public Tensor Reference(bool causal, bool shifted = false)
        {
            var (q, k, v, w) = (Arrays.Flat(Q), Arrays.Flat(K), Arrays.Flat(V), Arrays.Flat(W));
            var y = shifted
                ? AftFullReference.ExplicitSumShifted(q, k, v, w, Batch, Length, Hidden, causal)
                : AftFullReference.ExplicitSum(q, k, v, w, Batch, Length, Hidden, causal);
            return Arrays.FromFlat(y, Q.shape);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Float64_matches_the_explicit_sum_of_eq2_within_1e_10(bool causal)
    {
        var inputs = Inputs.Random(batch: 2, length: 9, hidden: 5, float64, seed: 1);
        TensorAssert.Close(inputs.Reference(causal), inputs.Run(causal), 1e-10);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Float32_matches_the_explicit_sum_of_eq2_within_1e_5(bool causal)
    {
        var inputs = Inputs.Random(batch: 3, length: 33, hidden: 16, float32, seed: 2);
        var output = inputs.Run(causal);
        Assert.Equal(ScalarType.Float32, output.dtype);
        TensorAssert.Close(inputs.Reference(causal), output, 1e-5);
    }

    [Theory]
    [InlineData(ScalarType.Float32, 1.0)]
    [InlineData(ScalarType.Float64, 1.0)]
    [InlineData(ScalarType.Float32, 1e4)]      // large keys: the exact-row repair path runs too
    public void Causal_output_at_t_ignores_inputs_after_t_bit_for_bit(ScalarType dtype, double keyScale)
    {
        var inputs = Inputs.Random(batch: 2, length: 12, hidden: 6, dtype, seed: 3);
        var k = inputs.K * keyScale;
        var before = AftFullKernel.Forward(inputs.Q, k, inputs.V, inputs.W, causal: true);
        for (var t = 0; t < inputs.Length - 1; t++)
        {
            var later = inputs.Length - t - 1;
            var noise = Inputs.Random(inputs.Batch, inputs.Length, inputs.Hidden, dtype, seed: 100 + t);
            Tensor Future(Tensor original, Tensor replacement, long dim) =>
                cat([original.narrow(dim, 0, t + 1), replacement.narrow(dim, t + 1, later)], dim);
            var after = AftFullKernel.Forward(
                Future(inputs.Q, noise.Q, 1), Future(k, noise.K * 1e3 * keyScale, 1), Future(inputs.V, noise.V * 1e3, 1),
                Future(inputs.W, noise.W * 50, 1), causal: true);
            TensorAssert.BitIdentical(before.narrow(1, 0, t + 1), after.narrow(1, 0, t + 1), $"positions ≤ {t}");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Keys_at_1e4_and_biases_at_50_give_finite_exact_outputs_in_float32(bool causal)
    {
        var inputs = Inputs.Random(batch: 2, length: 24, hidden: 8, float32, seed: 4);
        var k = inputs.K / inputs.K.abs().max() * 1e4;                 // reaches ±1e4
        var w = inputs.W.sign() * 50;                                  // every bias at ±50
        var extreme = inputs with { K = k, W = w };
        var output = extreme.Run(causal);
        TensorAssert.AllFinite(output, "output");
        TensorAssert.Close(extreme.Reference(causal, shifted: true), output, 1e-5);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Gradients_match_central_finite_differences_in_float64(bool causal)
    {
        var inputs = Inputs.Random(batch: 2, length: 5, hidden: 3, float64, seed: 5);
        var weights = randn(inputs.Q.shape, dtype: float64, generator: new Generator(6));
        Tensor[] leaves = [inputs.Q, inputs.K, inputs.V, inputs.W];
        foreach (var leaf in leaves) leaf.requires_grad_();
        Tensor Loss() => (AftFullKernel.Forward(inputs.Q, inputs.K, inputs.V, inputs.W, causal) * weights).sum();

        Loss().backward();
        foreach (var (leaf, name) in leaves.Zip(new[] { "Q", "K", "V", "w" }))
        {
            var numeric = FiniteDifferences.Gradient(() => Loss().item<double>(), leaf);
            TensorAssert.Close(numeric, leaf.grad!, 1e-8, $"∂L/∂{name}");
        }
    }
}
