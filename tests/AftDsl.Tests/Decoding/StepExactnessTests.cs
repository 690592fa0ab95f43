using AftDsl.Decoding;
using AftDsl.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Decoding;

/// <summary>
/// Decoding position by position gives, at every position, the full causal forward's output: to 1e-10 (relative to
/// the largest output) in float64, 1e-5 in float32; for batches of 1 and 5, rows of different lengths in one batch,
/// after Reset, and for keys as large as ±1e4.
/// </summary>
public sealed class StepExactnessTests
{
    public static TheoryData<string, ScalarType, long> Cases()
    {
        var data = new TheoryData<string, ScalarType, long>();
        foreach (var dtype in new[] { float64, float32 })
            foreach (var variant in StepVariant.All(float64))
                foreach (var batch in new long[] { 1, 5 })
                    data.Add(variant.Name, dtype, batch);
        return data;
    }

    static StepVariant Variant(string name, ScalarType dtype) => StepVariant.All(dtype).Single(v => v.Name == name);

    static double Tolerance(ScalarType dtype) => dtype == float64 ? 1e-10 : 1e-5;

    internal static void AssertRelativelyClose(Tensor expected, Tensor actual, double tolerance, string what)
    {
        TensorAssert.AllFinite(actual, what);
        using var scale = expected.abs().max();
        TensorAssert.Close(expected, actual, tolerance * Math.Max(scale.to(float64).item<double>(), 1e-30), what);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_position_equals_the_full_forward(string name, ScalarType dtype, long batch)
    {
        using var scope = NewDisposeScope();
        var variant = Variant(name, dtype);
        var (q, k, v) = variant.Inputs(batch, 13, dtype, seed: 11);
        using var state = variant.Begin(batch, q);
        var stepped = variant.StepAll(q, k, v, state);
        using (no_grad())
            AssertRelativelyClose(variant.Forward(q, k, v), stepped, Tolerance(dtype), $"{name} {dtype} B={batch}");
        Assert.Equal(13, state.Position);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Reset_starts_again_at_position_0(string name, ScalarType dtype, long batch)
    {
        using var scope = NewDisposeScope();
        var variant = Variant(name, dtype);
        var (q, k, v) = variant.Inputs(batch, 9, dtype, seed: 12);
        var (q2, k2, v2) = variant.Inputs(batch, 5, dtype, seed: 13);
        using var state = variant.Begin(batch, q);
        variant.StepAll(q2, k2, v2, state);
        state.Reset();
        Assert.Equal(0, state.Position);
        var stepped = variant.StepAll(q, k, v, state);
        using (no_grad())
            AssertRelativelyClose(variant.Forward(q, k, v), stepped, Tolerance(dtype), $"{name} after Reset");
    }

    /// <summary>Three rows of lengths 10, 4 and 7, advanced on different steps through the active mask.</summary>
    [Theory]
    [InlineData("AFT-simple")]
    [InlineData("AFT-local-1")]
    [InlineData("AFT-local-3")]
    [InlineData("AFT-local-8")]
    [InlineData("AFT-full")]
    [InlineData("AFT-conv")]
    [InlineData("AFT-conv-window")]
    [InlineData("MHA")]
    public void Rows_of_different_lengths_advance_on_their_own(string name)
    {
        using var scope = NewDisposeScope();
        var variant = Variant(name, float64);
        long[] lengths = [10, 4, 7];
        var (q, k, v) = variant.Inputs(3, 10, float64, seed: 14);
        using var state = variant.Begin(3, q);
        var outputs = lengths.Select(_ => new List<Tensor>()).ToArray();
        var random = new Random(3);
        while (outputs.Select((o, row) => o.Count < lengths[row]).Any(left => left))
        {
            var active = lengths.Select((length, row) => outputs[row].Count < length && random.Next(3) > 0).ToArray();
            var positions = state.Positions.ToArray();
            Tensor Row(Tensor x) => stack(positions.Select((p, row) => x[row, Math.Min(p, x.shape[1] - 1)]).ToArray());
            var mixed = variant.Step(Row(q), Row(k), Row(v), state, tensor(active));
            for (var row = 0; row < 3; row++)
                if (active[row])
                    outputs[row].Add(mixed[row]);
                else
                    Assert.Equal(0, mixed[row].abs().max().item<double>());
        }
        Assert.Equal(lengths, state.Positions);
        for (var row = 0; row < 3; row++)
        {
            var slice = (TensorIndex.Single(row), TensorIndex.Slice(0, lengths[row]));
            using (no_grad())
                AssertRelativelyClose(variant.Forward(q[slice.Item1, slice.Item2].unsqueeze(0), k[slice.Item1, slice.Item2].unsqueeze(0),
                    v[slice.Item1, slice.Item2].unsqueeze(0)).squeeze(0), stack(outputs[row].ToArray()), 1e-10, $"{name} row {row}");
        }
    }

    /// <summary>Row 0 decodes up to the position bound and is then left out while row 1 decodes: row 0's position is past the biases.</summary>
    [Theory]
    [InlineData("AFT-local-3")]
    [InlineData("AFT-full")]
    public void A_row_left_out_at_the_bound_does_not_stop_the_others(string name)
    {
        using var scope = NewDisposeScope();
        var variant = Variant(name, float64);
        const long others = 6;
        var (q, k, v) = variant.Inputs(2, StepVariant.MaxLength, float64, seed: 17);
        using var state = variant.Begin(2, q);
        Tensor At(Tensor x, long position) => stack([x[0, Math.Min(position, x.shape[1] - 1)], x[1, position]]);
        for (var t = 0L; t < StepVariant.MaxLength; t++)
            variant.Step(At(q, t), At(k, t), At(v, t), state, tensor(new[] { true, false }));
        var outputs = new List<Tensor>();
        for (var t = 0L; t < others; t++)
            outputs.Add(variant.Step(At(q, t), At(k, t), At(v, t), state, tensor(new[] { false, true }))[1]);
        Assert.Equal([StepVariant.MaxLength, others], state.Positions);
        var row = (TensorIndex.Single(1), TensorIndex.Slice(0, others));
        using (no_grad())
            AssertRelativelyClose(variant.Forward(q[row.Item1, row.Item2].unsqueeze(0), k[row.Item1, row.Item2].unsqueeze(0),
                v[row.Item1, row.Item2].unsqueeze(0)).squeeze(0), stack(outputs.ToArray()), 1e-10, $"{name} row 1");
    }

    [Theory]
    [InlineData("AFT-simple")]
    [InlineData("AFT-local-3")]
    [InlineData("AFT-full")]
    [InlineData("AFT-conv")]
    [InlineData("AFT-conv-window")]
    public void Keys_of_size_1e4_keep_the_state_finite(string name)
    {
        using var scope = NewDisposeScope();
        var variant = Variant(name, float32);
        var (q, k, v) = variant.Inputs(2, 12, float32, seed: 15);
        var extreme = k.sign() * 1e4 + k;                                  // |K| ≈ 1e4, both signs, all distinct
        using var state = variant.Begin(2, q);
        var stepped = variant.StepAll(q, extreme, v, state);
        var exact = Variant(name, float64);
        using (no_grad())
            AssertRelativelyClose(exact.Forward(q.to(float64), extreme.to(float64), v.to(float64)), stepped.to(float64), 1e-5, $"{name} |K| = 1e4");
    }

    /// <summary>
    /// One key 1e3 above the others, then ordinary keys again: the weights stored after it sit e^1000 below its own,
    /// far past float32's range, and must neither underflow the outputs to 0/0 nor lose the later positions' share
    /// once the big key has left the window (AFT-local) or its bias makes it small (AFT-full with strong biases).
    /// </summary>
    [Theory]
    [InlineData("AFT-simple")]
    [InlineData("AFT-local-3")]
    [InlineData("AFT-full")]
    [InlineData("AFT-conv")]
    [InlineData("AFT-conv-window")]
    public void A_key_jumping_1e3_above_the_rest_matches_the_full_forward(string name)
    {
        using var scope = NewDisposeScope();
        var variant = Variant(name, float32);
        var (q, k, v) = variant.Inputs(2, 12, float32, seed: 20);
        var jump = zeros_like(k);
        jump[0, 4] = 1e3;                                                    // row 0: position 4, every channel
        jump[1, 7, 0] = 1e3;                                                 // row 1: position 7, channel 0 only
        var keys = k + jump;
        using var state = variant.Begin(2, q);
        var stepped = variant.StepAll(q, keys, v, state);
        var exact = Variant(name, float64);
        using (no_grad())
            AssertRelativelyClose(exact.Forward(q.to(float64), keys.to(float64), v.to(float64)), stepped.to(float64), 1e-5, $"{name} key jump 1e3");
    }

    [Theory]
    [InlineData("AFT-local-3")]
    [InlineData("AFT-full")]
    public void A_position_beyond_the_biases_says_what_bounds_it(string name)
    {
        using var scope = NewDisposeScope();
        var variant = Variant(name, float64);
        var (q, k, v) = variant.Inputs(1, StepVariant.MaxLength, float64, seed: 16);
        using var state = variant.Begin(1, q);
        variant.StepAll(q, k, v, state);
        var error = Assert.Throws<DecodingLengthException>(() => variant.Step(q.select(1, 0), k.select(1, 0), v.select(1, 0), state, null));
        Assert.Contains("position biases pos_u and pos_w", error.Message);
        Assert.Contains($"cannot decode position {StepVariant.MaxLength}", error.Message);
        Assert.Equal(StepVariant.MaxLength, error.Bound);
    }

    [Fact]
    public void AFT_simple_and_local_state_does_not_grow_with_the_position()
    {
        using var scope = NewDisposeScope();
        foreach (var variant in StepVariant.All(float32).Where(v => v.Name is "AFT-simple" or "AFT-local-3" or "AFT-conv"))
        {
            var (q, k, v) = variant.Inputs(2, 20, float32, seed: 17);
            using var state = variant.Begin(2, q);
            var before = state.ByteCount;
            variant.StepAll(q, k, v, state);
            Assert.Equal(before, state.ByteCount);
        }
    }

    [Fact]
    public void A_step_leaves_no_tensors_behind()
    {
        foreach (var variant in StepVariant.All(float32))
        {
            var (q, k, v) = variant.Inputs(2, 1, float32, seed: 18);
            using var state = variant.Begin(2, q);
            LeakCheck.NoTensorsLeak(() => variant.Step(q.select(1, 0), k.select(1, 0), v.select(1, 0), state, null).Dispose());
        }
    }

    [Fact]
    public void A_step_of_the_wrong_batch_or_a_disposed_state_is_refused()
    {
        var variant = StepVariant.All(float32).First();
        var (q, k, v) = variant.Inputs(3, 1, float32, seed: 19);
        var state = variant.Begin(2, q);
        var error = Assert.Throws<ArgumentException>(() => variant.Step(q.select(1, 0), k.select(1, 0), v.select(1, 0), state, null));
        Assert.Contains("decoding began with batch 2", error.Message);
        state.Dispose();
        Assert.Throws<ObjectDisposedException>(() => state.Reset());
    }
}
