using AftLab.Data;
using AftLab.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace AftLab.Training;

/// <summary>Options of one training run of the byte-level language model.</summary>
public sealed record LanguageModelRun(int Depth, int Batch, int Context, double LearningRate, TimeSpan Budget, int? MaxSteps, int Seed);

/// <summary>What a run achieved.</summary>
public sealed record LanguageModelResult(int Steps, long Tokens, double TrainBitsPerByte, double HeldOutBitsPerByte, TimeSpan Elapsed);

/// <summary>
/// Trains <see cref="ByteLanguageModel"/> with AdamW, a short warm-up and a cosine decay over the
/// time (or step) budget, gradient clipping at 1, and cross-entropy reported in bits per byte.
/// </summary>
public static class LanguageModelTrainer
{
    const int WarmupSteps = 50;
    const int RecentSteps = 50;

    public static LanguageModelResult Train(ByteLanguageModel model, ByteCorpus corpus, LanguageModelRun run, Action<double, string> report)
    {
        var random = new Random(run.Seed);
        var optimizer = optim.AdamW(model.parameters(), run.LearningRate, weight_decay: 0.01);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (steps, tokens) = (0, 0L);
        var recent = new Queue<double>();   // bits per byte of the last steps: a fair running figure
        model.train();
        while (clock.Elapsed < run.Budget && (run.MaxSteps is null || steps < run.MaxSteps))
        {
            var progress = Progress(run, clock.Elapsed, steps);
            foreach (var group in optimizer.ParamGroups)
                group.LearningRate = LearningRate(run.LearningRate, steps, progress);

            using var scope = NewDisposeScope();
            var (inputs, targets) = corpus.TrainBatch(run.Batch, run.Context, random);
            var loss = nn.functional.cross_entropy(model.forward(inputs).reshape(-1, ByteLanguageModel.Vocabulary), targets.reshape(-1));
            optimizer.zero_grad();
            loss.backward();
            nn.utils.clip_grad_norm_(model.parameters(), 1.0);
            optimizer.step();

            var bits = loss.item<float>() / Math.Log(2);
            if (!double.IsFinite(bits))
                throw new InvalidOperationException($"The loss became {bits} at step {steps}; lower --lr (now {run.LearningRate}) and try again.");
            recent.Enqueue(bits);
            if (recent.Count > RecentSteps) recent.Dequeue();
            steps++;
            tokens += (long)run.Batch * run.Context;
            var rate = tokens / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
            report(Progress(run, clock.Elapsed, steps),
                $"step {steps}  loss {bits * Math.Log(2):F3}  {recent.Average():F3} bits/byte  {rate:N0} tok/s");
        }
        var elapsed = clock.Elapsed;
        return new LanguageModelResult(steps, tokens, recent.DefaultIfEmpty(double.NaN).Average(), Evaluate(model, corpus, run), elapsed);
    }

    /// <summary>Mean cross-entropy on the held-out tail, in bits per byte.</summary>
    public static double Evaluate(ByteLanguageModel model, ByteCorpus corpus, LanguageModelRun run, int maxBatches = 32)
    {
        model.eval();
        using var noGrad = no_grad();
        double total = 0;
        long count = 0;
        foreach (var (inputs, targets) in corpus.HeldOutBatches(run.Batch, run.Context, maxBatches))
        {
            using var scope = NewDisposeScope();
            var loss = nn.functional.cross_entropy(model.forward(inputs).reshape(-1, ByteLanguageModel.Vocabulary), targets.reshape(-1), reduction: nn.Reduction.Sum);
            total += loss.item<float>();
            count += targets.numel();
        }
        model.train();
        return total / count / Math.Log(2);
    }

    static double Progress(LanguageModelRun run, TimeSpan elapsed, int steps)
    {
        var byTime = elapsed / run.Budget;
        var bySteps = run.MaxSteps is { } max ? (double)steps / max : 0;
        return Math.Clamp(Math.Max(byTime, bySteps), 0, 1);
    }

    static double LearningRate(double peak, int step, double progress) =>
        step < WarmupSteps ? peak * (step + 1) / WarmupSteps : peak * (0.1 + 0.9 * 0.5 * (1 + Math.Cos(Math.PI * progress)));
}
