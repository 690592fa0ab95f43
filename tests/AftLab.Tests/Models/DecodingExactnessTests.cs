using AftDsl.Decoding;
using AftLab.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace AftLab.Tests.Models;

/// <summary>
/// Every causal sample model, fed token by token through its generated <c>Step</c>, gives at every position the
/// logits of one full forward: float64 to 1e-10 and float32 to 1e-5 (relative to the largest logit), for a batch of
/// 5 rows of different lengths (advanced on their own through the active mask) and a batch of 1 after Reset.
/// Sequences are longer than every model's window (140 for windows of 128), so the window's older positions are exercised.
/// </summary>
public sealed class DecodingExactnessTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var entry in ModelCatalog.All.Where(m => m.Family != ModelFamily.Classifier))
            foreach (var dtype in new[] { "float64", "float32" })
                data.Add(entry.Name, dtype);
        return data;
    }

    // Past every window: 140 for the models with a window of 128, 40 for the others (windows of 8 and 32; 24 for the 12-block wide models).
    static long Length(ModelEntry entry) => entry.Name.Contains("wide") ? 24 : entry.Name is "byte-local-128" or "pixel-local" ? 140 : 40;

    [Theory]
    [MemberData(nameof(Cases))]
    public void Token_by_token_logits_equal_one_full_forward(string name, string dtypeName)
    {
        var dtype = dtypeName == "float64" ? float64 : float32;
        var tolerance = dtype == float64 ? 1e-10 : 1e-5;
        var entry = ModelCatalog.Find(name);
        using var scope = NewDisposeScope();
        manual_seed(5);
        var module = entry.Create();
        module.to(dtype).eval();
        var model = Assert.IsAssignableFrom<IDecodingModel>(module);
        var length = Length(entry);
        var tokens = randint(0, 256, [5, length], dtype: int64, generator: new Generator(9));
        Tensor full;
        using (no_grad())
            full = module.forward(tokens);

        long[] lengths = [length, length - 7, length / 2, 3, length - 1];
        using var state = model.BeginDecoding(batch: 5);
        var rows = lengths.Select(_ => new List<Tensor>()).ToArray();
        var random = new Random(4);
        while (rows.Select((r, i) => r.Count < lengths[i]).Any(left => left))
        {
            var active = lengths.Select((l, i) => rows[i].Count < l && random.Next(4) > 0).ToArray();
            var next = stack(state.Positions.Select((p, i) => tokens[i, Math.Min(p, length - 1)]).ToArray());
            var logits = model.Step(next, state, tensor(active));
            Assert.Equal([5L, 256L], logits.shape);
            for (var i = 0; i < 5; i++)
                if (active[i])
                    rows[i].Add(logits[i]);
        }
        Assert.Equal(lengths, state.Positions);
        for (var i = 0; i < 5; i++)
            AssertClose(full[i, TensorIndex.Slice(0, lengths[i])], stack(rows[i].ToArray()), tolerance, $"{name} {dtypeName} row {i}");

        using var single = model.BeginDecoding(batch: 1);
        for (var t = 0; t < 5; t++)
            model.Step(tokens[1, t].unsqueeze(0), single);
        single.Reset();
        Assert.Equal(0, single.Position);
        var stepped = stack(Enumerable.Range(0, 20).Select(t => model.Step(tokens[2, t].unsqueeze(0), single).squeeze(0)).ToArray());
        AssertClose(full[2, TensorIndex.Slice(0, 20)], stepped, tolerance, $"{name} {dtypeName} batch 1 after Reset");
    }

    [Fact]
    public void A_model_with_a_position_embedding_stops_at_its_rows_and_says_so()
    {
        using var scope = NewDisposeScope();
        var model = new ByteLmSimple();
        Assert.Equal(256, model.MaxDecodingLength);
        using var state = model.BeginDecoding(batch: 2);
        var token = zeros(2, dtype: int64);
        for (var t = 0; t < 256; t++)
            model.Step(token, state);
        var error = Assert.Throws<DecodingLengthException>(() => model.Step(token, state));
        Assert.Contains("position embedding", error.Message);
        Assert.Contains("cannot decode position 256", error.Message);
    }

    [Fact]
    public void AFT_full_models_are_bounded_by_their_position_biases()
    {
        Assert.Equal(256, new ByteLmFull().MaxDecodingLength);
        Assert.Equal(784, new PixelLocal().MaxDecodingLength);
    }

    static void AssertClose(Tensor expected, Tensor actual, double tolerance, string what)
    {
        using var finite = actual.isfinite().all();
        Assert.True(finite.item<bool>(), $"{what}: not finite");
        var scale = expected.abs().max().to(float64).item<double>();
        var worst = (expected.to(float64) - actual.to(float64)).abs().max().item<double>();
        Assert.True(worst <= tolerance * scale, $"{what}: largest difference {worst:E3} exceeds {tolerance:E0} × {scale:G4}");
    }
}
