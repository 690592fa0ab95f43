using System.Diagnostics;
using AftLab.Models;
using AftLab.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace AftLab.Benchmarks;

/// <summary>Training speed of one model at one context length: median step time and tokens per second.</summary>
/// <param name="Batch">Sequences per step of each rank.</param>
/// <param name="Ranks">Data-parallel ranks the step ran on (1: one process); <paramref name="TokensPerSecond"/> counts them all.</param>
public sealed record ThroughputResult(string Model, long Length, long Batch, string Dtype, double? MedianStepMs, double? TokensPerSecond, string Status, int Ranks = 1)
{
    public const string Header = "model,length,batch,dtype,median_step_ms,tokens_per_second,status,ranks";

    public string ToCsv() => string.Join(",", Model, Length, Batch, Dtype,
        MedianStepMs?.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) ?? "",
        TokensPerSecond?.ToString("0", System.Globalization.CultureInfo.InvariantCulture) ?? "", Status, Ranks);

    /// <summary>A line of <see cref="Header"/>'s columns, as <see cref="ToCsv"/> writes it.</summary>
    public static ThroughputResult Parse(string line)
    {
        var f = line.Split(',');
        static double? D(string s) => s.Length == 0 ? null : double.Parse(s, System.Globalization.CultureInfo.InvariantCulture);
        return new(f[0], long.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture), long.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture),
            f[3], D(f[4]), D(f[5]), f[6], f.Length > 7 ? int.Parse(f[7], System.Globalization.CultureInfo.InvariantCulture) : 1);
    }

    /// <summary>The attention baseline of the model's family: <c>byte-mha</c> for <c>byte-*</c>, <c>byte-wide-mha</c> for <c>byte-wide-*</c>.</summary>
    public string Baseline => Model.StartsWith("byte-wide-", StringComparison.Ordinal) ? "byte-wide-mha" : "byte-mha";
}

/// <summary>
/// Times whole training steps of a byte LM (forward, cross-entropy, backward, AdamW) on random bytes, so that
/// every model sees the same work: the mixers' cost in the company of embeddings, norms, MLPs and projections.
/// Under a data-parallel job each rank runs the same step on its own batch, with the gradients averaged after the
/// backward (the all-reduce a data-parallel training step adds), and tokens/s counts every rank's.
/// </summary>
public static class TrainingThroughput
{
    public static ThroughputResult Measure(ModelEntry entry, long length, long batch, ScalarType dtype, Device device, int steps,
        AftDsl.Distributed.DataParallel? parallel = null)
    {
        var name = dtype.ToString().ToLowerInvariant();
        if (length > entry.Context)
            return new(entry.Name, length, batch, name, null, null, $"skipped: context {entry.Context} < T");
        using var scope = NewDisposeScope();
        torch.manual_seed(1 + (parallel?.Rank ?? 0));                      // each rank its own bytes
        var model = entry.Create();
        model.to(device).to(dtype);
        parallel?.BroadcastParameters(model);
        var optimizer = optim.AdamW(model.parameters(), lr: 1e-4);
        var tokens = randint(0, 256, [batch, length + 1], dtype: int64, device: device);
        var (input, target) = (tokens.narrow(1, 0, length), tokens.narrow(1, 1, length).reshape(-1));

        void Step()
        {
            using var step = NewDisposeScope();
            optimizer.zero_grad();
            var logits = model.forward(input);
            var loss = nn.functional.cross_entropy(logits.reshape(-1, 256).to(float32), target);
            loss.backward();
            parallel?.AverageGradients(model.parameters());
            optimizer.step();
            DeviceBinding.Synchronize(device);
        }

        Step();                                                  // warm-up: kernel compilation, allocator growth
        Step();
        var times = new double[steps];
        for (var i = 0; i < steps; i++)
        {
            var clock = Stopwatch.StartNew();
            Step();
            times[i] = clock.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        var median = times[steps / 2];
        var ranks = parallel?.WorldSize ?? 1;
        return new(entry.Name, length, batch, name, median, ranks * batch * length / (median / 1000), "ok", ranks);
    }
}
