using AftDsl.Kernels;
using AftDsl.Reference;
using AftDsl.Tests.Kernels.Cpu;
using AftDsl.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Kernels;

public sealed class AftFullKernelTests
{
    sealed record Inputs(Tensor Q, Tensor K, Tensor V, Tensor U, Tensor W)
    {
        public int Batch => (int)Q.shape[0];
        public int Length => (int)Q.shape[1];
        public int Hidden => (int)Q.shape[2];

        /// <summary>w = U[:T]·W[:T]ᵀ, what the kernel sees.</summary>
        public Tensor Bias => U.narrow(0, 0, Length).matmul(W.narrow(0, 0, Length).t());

        public Tensor[] All => [Q, K, V, U, W];

        public static Inputs Random(int batch, int length, int hidden, ScalarType dtype, ulong seed, int maxLength = 0, int rank = 3)
        {
            var generator = new Generator(seed);
            Tensor Draw(params long[] shape) => randn(shape, dtype: float64, generator: generator).to(dtype);
            var rows = Math.Max(maxLength, length);
            return new(Draw(batch, length, hidden), Draw(batch, length, hidden), Draw(batch, length, hidden), Draw(rows, rank), Draw(rows, rank));
        }

        public Tensor Run(bool causal) => AftFull.Apply(Q, K, V, U, W, causal);

        public Tensor Reference(bool causal)
        {
            var y = AftFullReference.ExplicitSumShifted(Arrays.Flat(Q), Arrays.Flat(K), Arrays.Flat(V), Arrays.Flat(Bias), Batch, Length, Hidden, causal);
            return Arrays.FromFlat(y, Q.shape);
        }
    }

    [Theory]
    [InlineData(ConvFullPath.Torch, false, 9)]
    [InlineData(ConvFullPath.Torch, true, 9)]
    [InlineData(ConvFullPath.Torch, true, 200)]        // several row chunks
    [InlineData(ConvFullPath.Cpu, false, 9)]
    [InlineData(ConvFullPath.Cpu, true, 9)]
    [InlineData(ConvFullPath.Cpu, true, 200)]        // several row chunks
    public void Float64_matches_the_explicit_sum_of_eq2_within_1e_10(ConvFullPath path, bool causal, int length)
    {
        using var kernels = ConvFullPaths.Force(path);
        var inputs = Inputs.Random(batch: 2, length, hidden: 5, float64, seed: 1, maxLength: length + 7);
        TensorAssert.Close(inputs.Reference(causal), inputs.Run(causal), 1e-10);
    }

    [Theory]
    [InlineData(ConvFullPath.Torch, false)]
    [InlineData(ConvFullPath.Torch, true)]
    [InlineData(ConvFullPath.Cpu, false)]
    [InlineData(ConvFullPath.Cpu, true)]
    public void Float32_matches_the_explicit_sum_of_eq2_within_1e_5(ConvFullPath path, bool causal)
    {
        using var kernels = ConvFullPaths.Force(path);
        var inputs = Inputs.Random(batch: 3, length: 150, hidden: 16, float32, seed: 2);
        var output = inputs.Run(causal);
        Assert.Equal(ScalarType.Float32, output.dtype);
        TensorAssert.Close(inputs.Reference(causal), output, 1e-5);
    }

    [Theory]
    [InlineData(ConvFullPath.Torch, false, 10)]
    [InlineData(ConvFullPath.Torch, true, 10)]
    [InlineData(ConvFullPath.Torch, true, 150)]
    [InlineData(ConvFullPath.Cpu, false, 10)]
    [InlineData(ConvFullPath.Cpu, true, 10)]
    [InlineData(ConvFullPath.Cpu, true, 150)]
    public void Gradients_match_autograd_through_the_naive_reference_in_float64(ConvFullPath path, bool causal, int length)
    {
        using var kernels = ConvFullPaths.Force(path);
        GradientCheck.Matches(
            x => AftFull.Apply(x[0], x[1], x[2], x[3], x[4], causal),
            x => AftNaive.Full(x[0], x[1], x[2], x[3].narrow(0, 0, length).matmul(x[4].narrow(0, 0, length).t()), causal),
            Inputs.Random(2, length, 3, float64, seed: 3, maxLength: length + 5).All, ["Q", "K", "V", "U", "W"]);
    }

    [Theory]
    [InlineData(ConvFullPath.Torch, false)]
    [InlineData(ConvFullPath.Torch, true)]
    [InlineData(ConvFullPath.Cpu, false)]
    [InlineData(ConvFullPath.Cpu, true)]
    public void Gradients_match_central_finite_differences_in_float64(ConvFullPath path, bool causal)
    {
        using var kernels = ConvFullPaths.Force(path);
        var inputs = Inputs.Random(batch: 2, length: 5, hidden: 3, float64, seed: 5, maxLength: 7, rank: 2);
        var weights = randn(inputs.Q.shape, dtype: float64, generator: new Generator(6));
        foreach (var leaf in inputs.All) leaf.requires_grad_();
        Tensor Loss() => (inputs.Run(causal) * weights).sum();

        Loss().backward();
        foreach (var (leaf, name) in inputs.All.Zip(new[] { "Q", "K", "V", "U", "W" }))
            TensorAssert.Close(FiniteDifferences.Gradient(() => Loss().item<double>(), leaf), leaf.grad!, 1e-8, $"∂L/∂{name}");
    }

    [Theory]
    [InlineData(ConvFullPath.Torch, ScalarType.Float32, 1.0, 12)]
    [InlineData(ConvFullPath.Torch, ScalarType.Float64, 1.0, 12)]
    [InlineData(ConvFullPath.Torch, ScalarType.Float32, 1e4, 12)]      // large keys: the exact-row path runs too
    [InlineData(ConvFullPath.Torch, ScalarType.Float32, 1.0, 300)]     // several row chunks
    [InlineData(ConvFullPath.Cpu, ScalarType.Float32, 1.0, 12)]
    [InlineData(ConvFullPath.Cpu, ScalarType.Float64, 1.0, 12)]
    [InlineData(ConvFullPath.Cpu, ScalarType.Float32, 1e4, 12)]      // large keys: the exact-row path runs too
    [InlineData(ConvFullPath.Cpu, ScalarType.Float32, 1.0, 300)]     // several row chunks
    public void Causal_output_at_t_ignores_inputs_after_t_bit_for_bit(ConvFullPath path, ScalarType dtype, double keyScale, int length)
    {
        using var kernels = ConvFullPaths.Force(path);
        var inputs = Inputs.Random(batch: 2, length, hidden: 6, dtype, seed: 3);
        var k = inputs.K * keyScale;
        var before = AftFull.Apply(inputs.Q, k, inputs.V, inputs.U, inputs.W, causal: true);
        foreach (var t in new[] { 0, 1, length / 3, length / 2, length - 2 })
        {
            var later = length - t - 1;
            var noise = Inputs.Random(inputs.Batch, length, inputs.Hidden, dtype, seed: (ulong)(100 + t));
            Tensor Future(Tensor original, Tensor replacement) =>
                cat([original.narrow(1, 0, t + 1), replacement.narrow(1, t + 1, later)], 1);
            var w = inputs.W.clone();
            w.narrow(0, t + 1, later).copy_(noise.W.narrow(0, t + 1, later) * 7);     // biases of later sources
            var after = AftFull.Apply(Future(inputs.Q, noise.Q), Future(k, noise.K * 1e3 * keyScale), Future(inputs.V, noise.V * 1e3),
                inputs.U, w, causal: true);
            TensorAssert.BitIdentical(before.narrow(1, 0, t + 1), after.narrow(1, 0, t + 1), $"positions ≤ {t}");
        }
    }

    [Theory]
    [InlineData(ConvFullPath.Torch, false)]
    [InlineData(ConvFullPath.Torch, true)]
    [InlineData(ConvFullPath.Cpu, false)]
    [InlineData(ConvFullPath.Cpu, true)]
    public void Keys_at_1e4_and_biases_at_50_give_finite_exact_outputs_and_gradients_in_float32(ConvFullPath path, bool causal)
    {
        using var kernels = ConvFullPaths.Force(path);
        var inputs = Inputs.Random(batch: 2, length: 24, hidden: 8, float32, seed: 4, rank: 1);
        var extreme = inputs with
        {
            K = inputs.K / inputs.K.abs().max() * 1e4,                           // reaches ±1e4
            U = inputs.U.sign() * Math.Sqrt(50),                                 // w[t, t'] = ±50 everywhere
            W = inputs.W.sign() * Math.Sqrt(50),
        };
        foreach (var leaf in extreme.All) leaf.requires_grad_();
        var output = extreme.Run(causal);
        TensorAssert.AllFinite(output, "output");
        using (no_grad())
            TensorAssert.Close((extreme with { }).Reference(causal), output.detach(), 1e-5);
        output.sum().backward();
        foreach (var leaf in extreme.All) TensorAssert.AllFinite(leaf.grad!, "gradient");
    }

    [Theory]
    [InlineData(ConvFullPath.Torch, false)]
    [InlineData(ConvFullPath.Torch, true)]
    [InlineData(ConvFullPath.Cpu, false)]
    [InlineData(ConvFullPath.Cpu, true)]
    public void Gradients_of_repaired_rows_match_the_naive_reference_in_float64(ConvFullPath path, bool causal)
    {
        using var kernels = ConvFullPaths.Force(path);
        // Keys ±400 and biases ±400 that cancel: every weight is moderate, but the fast path's separate
        // shifts leave exp(−800) = 0 in float64 denominators, so those rows take the exact path.
        const int length = 10;
        var noise = new Generator(8);
        var k = zeros([2, length, 3], dtype: float64);
        k.select(2, 0).fill_(-400).narrow(1, 0, 1).fill_(400);
        k.select(2, 1).fill_(400).narrow(1, 0, 1).fill_(-400);
        k += 0.3 * randn([2, length, 3], dtype: float64, generator: noise);
        var u = 20 + 0.1 * randn([length, 1], dtype: float64, generator: noise);
        var w = 20 + 0.1 * randn([length, 1], dtype: float64, generator: noise);
        w.narrow(0, 0, 1).neg_();
        var x = new[] { randn([2, length, 3], dtype: float64, generator: noise), k, randn([2, length, 3], dtype: float64, generator: noise), u, w };

        var fastPathOnly = AftUnfused.Full(x[0], x[1], x[2], u.matmul(w.t()), causal);
        Assert.False(fastPathOnly.isfinite().all().item<bool>(), "the inputs should defeat the fast path");
        GradientCheck.Matches(
            y => AftFull.Apply(y[0], y[1], y[2], y[3], y[4], causal),
            y => AftNaive.Full(y[0], y[1], y[2], y[3].matmul(y[4].t()), causal),
            x, ["Q", "K", "V", "U", "W"]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Bfloat16_runs_and_stays_close_to_float64(bool causal)
    {
        var inputs = Inputs.Random(batch: 2, length: 33, hidden: 8, float64, seed: 6);
        var output = AftFull.Apply(inputs.Q.to(bfloat16), inputs.K.to(bfloat16), inputs.V.to(bfloat16), inputs.U.to(bfloat16), inputs.W.to(bfloat16), causal);
        Assert.Equal(ScalarType.BFloat16, output.dtype);
        TensorAssert.Close(inputs.Reference(causal), output.to(float64), 0.1);
    }

    [Theory]
    [InlineData(ConvFullPath.Torch, false)]
    [InlineData(ConvFullPath.Torch, true)]
    [InlineData(ConvFullPath.Cpu, false)]
    [InlineData(ConvFullPath.Cpu, true)]
    public void Forward_and_backward_leave_no_tensors_alive(ConvFullPath path, bool causal)
    {
        using var kernels = ConvFullPaths.Force(path);
        var inputs = Inputs.Random(batch: 2, length: 20, hidden: 4, float32, seed: 7);
        LeakCheck.NoTensorsLeak(() =>
        {
            var leaves = inputs.All.Select(i => i.detach().requires_grad_()).ToArray();
            AftFull.Apply(leaves[0], leaves[1], leaves[2], leaves[3], leaves[4], causal).sum().backward();
        });
    }
}
