using System.Diagnostics;
using AftDsl.Decoding;
using AftLab.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace AftLab.Benchmarks;

/// <summary>
/// One decode measurement: a byte model at a context length and batch, decoded step by step (<c>decode</c>) or
/// recomputed over its window for each token (<c>recompute</c>). Times are per step (one token for each of the
/// batch's sequences) of CPU work (<see cref="ThreadClock"/>, libtorch on one thread; on CUDA, wall time), the median of 32 steps at the end
/// of the context and of 32 steps at positions 16…47 of a second state, taken alternately with them: on a machine shared with other processes, wall-clock time measures
/// their load as much as the step. <see cref="WallMsPerStepAtContext"/> is the wall-clock time there (the fastest of
/// the 32, the least disturbed); <see cref="MeanMsPerStep"/> the mean CPU time over every step from position 0.
/// <see cref="StateBytesPerSequence"/> is what the decoding state holds per sequence at the end.
/// </summary>
public sealed record DecodeResult(
    string Model,
    string Method,
    long Context,
    long Batch,
    double? MsPerStepAt16,
    double? MsPerStepAtContext,
    double? MeanMsPerStep,
    double? WallMsPerStepAtContext,
    long? StateBytesAt16,
    long? StateBytesPerSequence,
    string Status)
{
    /// <summary>Generated tokens per second of CPU work at the end of the context, over the whole batch.</summary>
    public double? TokensPerSecond => MsPerStepAtContext is { } ms ? Batch * 1000 / ms : null;

    public static string Header =>
        "model,method,context,batch,cpu_ms_per_step_at_16,cpu_ms_per_step_at_context,mean_cpu_ms_per_step,wall_ms_per_step_at_context,tokens_per_s," +
        "state_bytes_at_16,state_bytes_per_sequence,status";

    public string ToCsv() => string.Join(",", Model, Method, Context, Batch, N(MsPerStepAt16), N(MsPerStepAtContext), N(MeanMsPerStep), N(WallMsPerStepAtContext), N(TokensPerSecond),
        L(StateBytesAt16), L(StateBytesPerSequence), "\"" + Status.Replace("\"", "'") + "\"");

    static string L(long? value) => value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "";

    static string N(double? value) => value?.ToString("G6", System.Globalization.CultureInfo.InvariantCulture) ?? "";
}

/// <summary>
/// Times generation of byte models: step-by-step decoding through the generated API against the same model run again
/// over its window for every token, and every AFT model against byte-mha with its KV cache.
/// </summary>
public static class DecodeBenchmark
{
    /// <summary>A model measured at a context: its name in the tables and how to make it.</summary>
    public sealed record DecodeModel(string Name, Func<nn.Module<Tensor, Tensor>> Create);

    /// <summary>The byte models of the catalog (256 bytes of context) and their 4096-byte versions declared for the benchmark.</summary>
    public static IReadOnlyList<DecodeModel> ModelsAt(long context) => context <= 256
        ? ModelCatalog.All.Where(m => m.Family == ModelFamily.ByteLm && !m.Name.Contains("wide")).Select(m => new DecodeModel(m.Name, m.Create)).ToList()
        :
        [
            new("byte-full", () => new DecodeLmFull()),
            new("byte-local-8", () => new DecodeLmLocal8()),
            new("byte-local-32", () => new DecodeLmLocal32()),
            new("byte-local-128", () => new DecodeLmLocal128()),
            new("byte-simple", () => new DecodeLmSimple()),
            new("byte-mha", () => new DecodeLmAttention()),
        ];

    /// <param name="recomputeBudget">Largest B·context·context the recompute peer is run at; beyond it the row says why not.</param>
    public static List<DecodeResult> Run(IEnumerable<long> contexts, IEnumerable<long> batches, Device device, long recomputeBudget, Action<string> log)
    {
        var results = new List<DecodeResult>();
        foreach (var context in contexts)
            foreach (var batch in batches)
                foreach (var entry in ModelsAt(context))
                {
                    manual_seed(1);
                    using var module = entry.Create();
                    module.to(device).eval();
                    var decode = Decode((IDecodingModel)module, entry.Name, context, batch, device);
                    log($"{entry.Name} decode, context {context}, batch {batch}: {decode.MsPerStepAtContext:F3} ms per step at {context}");
                    results.Add(decode);
                    var recompute = batch * context * context <= recomputeBudget
                        ? Recompute(module, entry.Name, context, batch, device)
                        : new DecodeResult(entry.Name, "recompute", context, batch, null, null, null, null, null, null,
                            $"not run: B·T² = {batch * context * context:N0} above the budget {recomputeBudget:N0} (--decode-recompute-budget)");
                    if (recompute.MsPerStepAtContext is { } ms)
                        log($"{entry.Name} recompute, context {context}, batch {batch}: {ms:F3} ms per step");
                    results.Add(recompute);
                }
        return results;
    }

    // Drawn on the CPU, whose generator any device's tensors can copy (a CUDA draw would need a CUDA generator).
    static Tensor RandomBytes(long[] shape, ulong seed, Device device)
    {
        using var drawn = randint(0, 256, shape, dtype: int64, generator: new Generator(seed));
        return drawn.to(device);
    }

    /// <summary>
    /// Steps from position 0 to the context, timing every step; the last 32 alternate with steps of a second state at
    /// positions 16…47, so that the two probes of the position's effect run under the same load of the shared machine
    /// (measured apart, half a second or more apart, they differed by the load's drift as much as by the position).
    /// </summary>
    static DecodeResult Decode(IDecodingModel model, string name, long context, long batch, Device device)
    {
        const int Probe = 32, Early = 16;
        using var state = model.BeginDecoding(batch);
        using var early = model.BeginDecoding(batch);
        using var tokens = RandomBytes([context, batch], seed: 3, device);
        for (var t = 0; t < Early; t++)
            model.Step(tokens[t], early).Dispose();
        var perStep = new double[context];
        var earlySteps = new List<double>();
        var wall = new double[context];
        var clock = new Stopwatch();
        long? bytesAt16 = null;
        for (var t = 0; t < context; t++)
        {
            if (t == Early)
                bytesAt16 = state.ByteCount / batch;
            clock.Restart();
            var cpu = Work(device, ThreadClock.Milliseconds);
            using (var logits = model.Step(tokens[t], state))
                Synchronize(logits);
            perStep[t] = Work(device, ThreadClock.Milliseconds) - cpu;
            wall[t] = clock.Elapsed.TotalMilliseconds;
            if (t >= context - Probe)
            {
                var start = Work(device, ThreadClock.Milliseconds);
                using (var logits = model.Step(tokens[Early + earlySteps.Count], early))
                    Synchronize(logits);
                earlySteps.Add(Work(device, ThreadClock.Milliseconds) - start);
            }
        }
        var late = Median(perStep.Skip((int)context - Probe));
        return new(name, "decode", context, batch, Median(earlySteps), late, perStep.Average(), wall.Skip((int)context - Probe).Min(), bytesAt16,
            state.ByteCount / batch, "ok");
    }

    /// <summary>The model over the whole window [B, context] for each of a few tokens: what sampling did before decoding.</summary>
    static DecodeResult Recompute(nn.Module<Tensor, Tensor> model, string name, long context, long batch, Device device)
    {
        using var window = RandomBytes([batch, context], seed: 4, device);
        using var noGrad = no_grad();
        var times = new List<double>();
        var walls = new List<double>();
        for (var i = 0; i < 6; i++)                                                     // the first is a warm-up
        {
            var clock = Stopwatch.StartNew();
            // The process's CPU time, not the thread's: the fused CPU kernels of the forward run on worker threads too.
            var cpu = Work(device, ProcessMilliseconds);
            using (var scope = NewDisposeScope())
                Synchronize(model.forward(window).select(1, -1));
            if (i > 0)
            {
                times.Add(Work(device, ProcessMilliseconds) - cpu);
                walls.Add(clock.Elapsed.TotalMilliseconds);
            }
        }
        return new(name, "recompute", context, batch, null, Median(times), times.Average(), walls.Min(), 0, 0, "ok");
    }

    // The clock that measures a step's work: CPU time on a CPU (other processes' load does not count), wall time on
    // CUDA, where the work is the GPU's and the thread only waits for it.
    static double Work(Device device, Func<double> cpuMilliseconds) =>
        device.type == DeviceType.CUDA ? Stopwatch.GetTimestamp() * 1000.0 / Stopwatch.Frequency : cpuMilliseconds();

    static double ProcessMilliseconds() => Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds;

    static void Synchronize(Tensor logits)
    {
        using var first = logits[0, 0];
        first.item<float>();                                                           // waits for the device
    }

    static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
