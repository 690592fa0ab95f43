using AftDsl.Kernels;
using AftDsl.Reference;
using AftDsl.Tests.Kernels.Cpu;
using AftDsl.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Kernels;

public sealed class AftConvKernelTests
{
    /// <summary>Q, K, V channels-last on <paramref name="grid"/> and kernel biases w <c>[heads, s(, s)]</c>.</summary>
    static Tensor[] Inputs(long batch, long[] grid, long heads, long width, long size, ScalarType dtype, ulong seed)
    {
        var generator = new Generator(seed);
        Tensor Draw(params long[] shape) => randn(shape, dtype: float64, generator: generator).to(dtype);
        long[] Shape(long channels) => [batch, .. grid, channels];
        long[] kernel = grid.Length == 1 ? [heads, size] : [heads, size, size];
        return [Draw(Shape(width)), Draw(Shape(heads)), Draw(Shape(width)), Draw(kernel)];
    }

    static Tensor Run(Tensor[] x, bool causal) => AftConv.Apply(x[0], x[1], x[2], x[3], causal);

    static Tensor Reference(Tensor[] x, bool causal) => AftNaive.Conv(x[0].to(float64), x[1].to(float64), x[2].to(float64), x[3].to(float64), causal);

    static readonly (long[] Grid, long Size, bool Causal)[] shapes =
    [
        ([9], 3, false),
        ([9], 4, false),          // even kernel: PyTorch's asymmetric "same"
        ([9], 3, true),
        ([9], 4, true),
        ([30], 7, true),
        ([5, 6], 3, false),
        ([6, 4], 5, false),
        ([3, 3], 7, false),         // kernel larger than the grid
    ];

    public static TheoryData<ConvFullPath, long[], long, bool> Shapes
    {
        get
        {
            var data = new TheoryData<ConvFullPath, long[], long, bool>();
            foreach (var path in new[] { ConvFullPath.Torch, ConvFullPath.Cpu })
                foreach (var (grid, size, causal) in shapes)
                    data.Add(path, grid, size, causal);
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Float64_matches_aft_local_with_shared_relative_biases_within_1e_10(ConvFullPath path, long[] grid, long size, bool causal)
    {
        using var kernels = ConvFullPaths.Force(path);
        var x = Inputs(2, grid, heads: 2, width: 6, size, float64, seed: 1);
        TensorAssert.Close(Reference(x, causal), Run(x, causal), 1e-10);
    }

    [Theory]
    [InlineData(ConvFullPath.Torch, false)]
    [InlineData(ConvFullPath.Torch, true)]
    [InlineData(ConvFullPath.Cpu, false)]
    [InlineData(ConvFullPath.Cpu, true)]
    public void Float32_matches_the_reference_within_1e_5(ConvFullPath path, bool causal)
    {
        using var kernels = ConvFullPaths.Force(path);
        long[] grid = causal ? [40] : [7, 6];
        var x = Inputs(2, grid, heads: 4, width: 16, 5, float32, seed: 2);
        TensorAssert.Close(Reference(x, causal), Run(x, causal), 1e-5);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Gradients_match_autograd_through_the_naive_reference_in_float64(ConvFullPath path, long[] grid, long size, bool causal)
    {
        using var kernels = ConvFullPaths.Force(path);
        GradientCheck.Matches(
            y => AftConv.Apply(y[0], y[1], y[2], y[3], causal),
            y => AftNaive.Conv(y[0], y[1], y[2], y[3], causal),
            Inputs(2, grid, heads: 2, width: 4, size, float64, seed: 3), ["Q", "K", "V", "w"]);
    }

    [Theory]
    [InlineData(ConvFullPath.Torch, false)]
    [InlineData(ConvFullPath.Torch, true)]
    [InlineData(ConvFullPath.Cpu, false)]
    [InlineData(ConvFullPath.Cpu, true)]
    public void At_initialisation_it_is_aft_simple(ConvFullPath path, bool causal)
    {
        using var kernels = ConvFullPaths.Force(path);
        // γ = β = 0 make every bias 0, so exp(w) − 1 = 0: only the global sums remain.
        long[] grid = causal ? [20] : [5, 4];
        var x = Inputs(2, grid, heads: 3, width: 6, 3, float64, seed: 4);
        var raw = randn(causal ? [3, 3] : [3, 3, 3], dtype: float64);
        var w = AftConv.Reparameterise(raw, zeros(3, dtype: float64), zeros(3, dtype: float64));
        var output = AftConv.Apply(x[0], x[1], x[2], w, causal);

        var flat = x.Take(3).Select(t => t.reshape(2, -1, t.shape[^1])).ToArray();
        var keys = flat[1].repeat_interleave(2, 2);                                    // each head's key for its 2 channels
        var simple = AftSimple.Apply(flat[0], keys, flat[2], causal);
        TensorAssert.Close(simple.reshape(output.shape), output, 1e-12);
    }

    [Fact]
    public void Reparameterisation_normalises_each_head_and_has_gradients()
    {
        var raw = randn([2, 3, 3], dtype: float64).requires_grad_();
        var gamma = tensor(new[] { 2.0, -1.0 }, dtype: float64).requires_grad_();
        var beta = tensor(new[] { 0.5, 3.0 }, dtype: float64).requires_grad_();
        var w = AftConv.Reparameterise(raw, gamma, beta);
        // Per head: mean β, population std |γ|·std/(std + ε).
        TensorAssert.Close(beta.detach(), w.flatten(1).mean([1]).detach(), 1e-12);
        var std = raw.detach().flatten(1).std(1, unbiased: false);
        TensorAssert.Close(gamma.detach().abs() * std / (std + 1e-5), w.flatten(1).std(1, unbiased: false).detach(), 1e-12);
        w.sum().backward();
        Assert.NotNull(raw.grad);
        Assert.NotNull(gamma.grad);
        Assert.NotNull(beta.grad);
    }

    [Theory]
    [InlineData(ConvFullPath.Torch, ScalarType.Float32, 1.0)]
    [InlineData(ConvFullPath.Torch, ScalarType.Float64, 1.0)]
    [InlineData(ConvFullPath.Torch, ScalarType.Float32, 1e4)]
    [InlineData(ConvFullPath.Cpu, ScalarType.Float32, 1.0)]
    [InlineData(ConvFullPath.Cpu, ScalarType.Float64, 1.0)]
    [InlineData(ConvFullPath.Cpu, ScalarType.Float32, 1e4)]
    public void Causal_output_at_t_ignores_inputs_after_t_bit_for_bit(ConvFullPath path, ScalarType dtype, double keyScale)
    {
        using var kernels = ConvFullPaths.Force(path);
        const long length = 50;
        var x = Inputs(2, [length], heads: 2, width: 6, 5, dtype, seed: 5);
        x[1] *= keyScale;
        var before = Run(x, causal: true);
        foreach (var t in new long[] { 0, 2, 7, 8, 30, 48 })
        {
            var noise = Inputs(2, [length], heads: 2, width: 6, 5, dtype, seed: (ulong)(100 + t));
            var changed = x.Select(i => i.clone()).ToArray();
            for (var i = 0; i < 3; i++)
                changed[i].narrow(1, t + 1, length - t - 1).copy_(noise[i].narrow(1, t + 1, length - t - 1) * (i == 1 ? 1e3 * keyScale : 1e3));
            TensorAssert.BitIdentical(before.narrow(1, 0, t + 1), Run(changed, causal: true).narrow(1, 0, t + 1), $"positions ≤ {t}");
        }
    }

    [Theory]
    [InlineData(ConvFullPath.Torch, false)]
    [InlineData(ConvFullPath.Torch, true)]
    [InlineData(ConvFullPath.Cpu, false)]
    [InlineData(ConvFullPath.Cpu, true)]
    public void Keys_up_to_1e4_give_finite_exact_outputs_and_gradients_in_float32(ConvFullPath path, bool causal)
    {
        using var kernels = ConvFullPaths.Force(path);
        long[] grid = causal ? [30] : [6, 5];
        var x = Inputs(2, grid, heads: 2, width: 8, 3, float32, seed: 6);
        x[1] = x[1] / x[1].abs().max() * 1e4;
        x[3] = x[3] * 10;
        TensorAssert.FiniteAndExact(x, inputs => Run(inputs, causal), inputs => Reference(inputs, causal), 1e-5);
    }

    [Theory]
    [InlineData(ConvFullPath.Torch, false)]
    [InlineData(ConvFullPath.Torch, true)]
    [InlineData(ConvFullPath.Cpu, false)]
    [InlineData(ConvFullPath.Cpu, true)]
    public void Rows_whose_kernel_correction_cancels_are_exact_with_exact_gradients(ConvFullPath path, bool causal)
    {
        using var kernels = ConvFullPaths.Force(path);
        // One key 30 above the rest and biases of −30 around it: near the spike the global sum is almost
        // all kernel window, and 1 + (e^w − 1) cancels to e^{−30}. Those rows take the exact path.
        var x = Inputs(2, [16], heads: 2, width: 4, 3, float64, seed: 10);
        x[1] = x[1] * 0.1;
        x[1].narrow(1, 6, 1).add_(30);
        x[3] = full([2, 3], -30.0, dtype: float64) + 0.1 * randn([2, 3], dtype: float64);
        TensorAssert.Close(Reference(x, causal), Run(x, causal), 1e-10);
        GradientCheck.Matches(
            y => AftConv.Apply(y[0], y[1], y[2], y[3], causal),
            y => AftNaive.Conv(y[0], y[1], y[2], y[3], causal),
            x, ["Q", "K", "V", "w"]);
    }

    [Theory]
    [MemberData(nameof(ConvFullPaths.Both), MemberType = typeof(ConvFullPaths))]
    public void One_kernel_runs_on_grids_of_any_size(ConvFullPath path)
    {
        using var kernels = ConvFullPaths.Force(path);
        var w = randn(2, 3, 3, dtype: float64);
        foreach (long[] grid in new long[][] { [4, 4], [7, 3], [1, 9], [12, 12] })
        {
            var x = Inputs(1, grid, heads: 2, width: 4, 3, float64, seed: 7);
            x[3] = w;
            TensorAssert.Close(Reference(x, false), Run(x, false), 1e-10);
        }
    }

    public static TheoryData<ConvFullPath, long, long[], long, long, long, bool> OddSizes
    {
        get
        {
            var data = new TheoryData<ConvFullPath, long, long[], long, long, long, bool>();
            foreach (var path in new[] { ConvFullPath.Torch, ConvFullPath.Cpu })
            {
                data.Add(path, 7, [5, 7], 3, 15, 3, false);      // odd grid, B = 7, d/h = 5 (not a vector width)
                data.Add(path, 1, [5, 7], 1, 11, 5, false);      // one head, d = 11
                data.Add(path, 2, [7, 5], 6, 6, 3, false);       // heads = D
                data.Add(path, 7, [13], 2, 18, 5, true);         // d/h = 9
                data.Add(path, 1, [17], 9, 9, 4, true);          // heads = D, even kernel
                data.Add(path, 3, [11], 1, 13, 6, false);
            }
            return data;
        }
    }

    [Theory]
    [InlineData(ConvFullPath.Torch, false)]
    [InlineData(ConvFullPath.Torch, true)]
    [InlineData(ConvFullPath.Cpu, false)]
    [InlineData(ConvFullPath.Cpu, true)]
    public void One_position_gives_the_gated_value_and_its_gradients(ConvFullPath path, bool causal)
    {
        // T = 1: the only source is the target itself, so y = σ(q) ⊙ v and K, w get no gradient.
        using var kernels = ConvFullPaths.Force(path);
        var x = Inputs(1, [1], heads: 1, width: 5, 3, float64, seed: 12).Select(t => t.requires_grad_()).ToArray();
        var output = Run(x, causal);
        TensorAssert.Close(x[0].detach().sigmoid() * x[2].detach(), output.detach(), 1e-15);
        output.sum().backward();
        TensorAssert.Close(x[0].detach().sigmoid() * (1 - x[0].detach().sigmoid()) * x[2].detach(), x[0].grad!, 1e-15, "∂Q");
        TensorAssert.Close(x[0].detach().sigmoid(), x[2].grad!, 1e-15, "∂V");
        TensorAssert.Close(zeros_like(x[1]), x[1].grad!, 1e-15, "∂K");
        TensorAssert.Close(zeros_like(x[3]), x[3].grad!, 1e-15, "∂w");
    }

    [Theory]
    [MemberData(nameof(OddSizes))]
    public void Odd_sizes_match_the_float64_reference_and_its_gradients(ConvFullPath path, long batch, long[] grid, long heads, long width, long size, bool causal)
    {
        using var kernels = ConvFullPaths.Force(path);
        var x = Inputs(batch, grid, heads, width, size, float64, seed: 11);
        GradientCheck.Matches(
            y => AftConv.Apply(y[0], y[1], y[2], y[3], causal),
            y => AftNaive.Conv(y[0], y[1], y[2], y[3], causal),
            x, ["Q", "K", "V", "w"]);
        var single = x.Select(t => t.to(float32)).ToArray();
        GradientCheck.Relative(Reference(single, causal), Run(single, causal).to(float64), 1e-5, "float32 output");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Bfloat16_runs_and_stays_close_to_float64(bool causal)
    {
        long[] grid = causal ? [40] : [6, 6];
        var x = Inputs(2, grid, heads: 2, width: 8, 3, float64, seed: 8);
        var output = Run(x.Select(i => i.to(bfloat16)).ToArray(), causal);
        Assert.Equal(ScalarType.BFloat16, output.dtype);
        TensorAssert.Close(Reference(x, causal), output.to(float64), 0.1);
    }

    [Theory]
    [InlineData(ConvFullPath.Torch, false)]
    [InlineData(ConvFullPath.Torch, true)]
    [InlineData(ConvFullPath.Cpu, false)]
    [InlineData(ConvFullPath.Cpu, true)]
    public void Forward_and_backward_leave_no_tensors_alive(ConvFullPath path, bool causal)
    {
        using var kernels = ConvFullPaths.Force(path);
        long[] grid = causal ? [40] : [6, 6];
        var x = Inputs(2, grid, heads: 2, width: 8, 3, float32, seed: 9);
        LeakCheck.NoTensorsLeak(() =>
        {
            var leaves = x.Select(i => i.detach().requires_grad_()).ToArray();
            Run(leaves, causal).sum().backward();
        });
    }
}
