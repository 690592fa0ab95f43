using System.Diagnostics;
using AftDsl.Distributed;
using AftLab.Runtime;
using AftLab.Training.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace AftLab.Training;

/// <summary>How long and how to train.</summary>
/// <param name="Dtype">What each step's forward and backward run in: float32, or bfloat16 as mixed precision (<see cref="WorkingCopy"/>).</param>
public sealed record TrainingOptions(
    string Model,
    TimeSpan Budget,
    int? MaxSteps,
    double LearningRate,
    int Seed,
    int Context,
    string Output,
    bool Resume,
    TimeSpan CheckpointEvery,
    TimeSpan EvaluateEvery,
    int WarmupSteps = 100,
    double ClipNorm = 1.0,
    Action<string>? Notice = null,
    string Dtype = DtypeChoice.Float32);

/// <summary>What a run ended with.</summary>
/// <param name="AlreadyFinished">True when a resumed run had already spent its budget: nothing was trained or written.</param>
public sealed record TrainingSummary(int Steps, long Tokens, TimeSpan Elapsed, double TrainMetric, IReadOnlyDictionary<string, double> Evaluation, string Checkpoint,
    bool AlreadyFinished = false);

/// <summary>
/// The training loop shared by every family: AdamW with a linear warm-up and a cosine decay over the
/// budget (time or steps, whichever ends first), gradient clipping, a progress bar, metrics as CSV and
/// TensorBoard, checkpoints written atomically, and a resume that continues from the last good one.
/// A loss that is not finite stops the run with a message; the last good checkpoint is kept as it is.
/// With a <see cref="DataParallel"/> of several ranks, each rank trains on its share of every batch
/// (<see cref="ShardedTask"/>), gradients are averaged before clipping, and rank 0's clock decides the learning rate
/// and the end for all; rank 0 alone writes metrics, checkpoints and curves and reports progress.
/// In bfloat16 (<see cref="TrainingOptions.Dtype"/>) the steps run on a <see cref="WorkingCopy"/>, and everything else
/// (the optimizer, clipping, the data-parallel average, checkpoints, evaluation) on the float32 masters.
/// </summary>
public static class Trainer
{
    const int LogEvery = 10;
    const int RecentSteps = 50;

    /// <param name="task">The task; under data parallelism, with the combined batch of all ranks (world size × --batch).</param>
    /// <param name="parallel">The data-parallel job this process is a rank of, or null for one process.</param>
    /// <param name="newReplica">Makes a fresh instance of the model's class: the working copy of a bfloat16 run (unused in float32).</param>
    public static TrainingSummary Train(nn.Module<Tensor, Tensor> model, ITrainingTask task, TrainingOptions options, Device device, Action<double, string> report,
        DataParallel? parallel = null, int combinedBatch = 0, Func<nn.Module<Tensor, Tensor>>? newReplica = null)
    {
        var dtype = DtypeChoice.Parse(options.Dtype);
        if (dtype != ScalarType.Float32 && newReplica is null)
            throw new ArgumentException($"Training in {options.Dtype} needs {nameof(newReplica)}, to make the working copy.");
        var (isMain, worldSize) = (parallel?.IsMain ?? true, parallel?.WorldSize ?? 1);
        var notice = isMain ? options.Notice ?? (_ => { }) : _ => { };
        var store = new CheckpointStore(Path.Combine(options.Output, "checkpoints"), notice, isWriter: isMain);
        var batches = worldSize > 1 ? new ShardedTask(task, combinedBatch, parallel!.Rank, worldSize) : task;
        var optimizer = optim.AdamW(model.parameters(), options.LearningRate, weight_decay: 0.01);
        var (step, tokens, previouslyElapsed) = (0, 0L, 0.0);
        var hasCheckpoint = false;
        if (!options.Resume && Directory.Exists(store.Folder) && Directory.EnumerateFileSystemEntries(store.Folder).Any())
            throw new AftLabException(
                $"{store.Folder} already holds checkpoints: pass --resume to continue that run, " +
                "or choose another --output (or delete that folder) to start afresh.", ExitCodes.Usage);
        if (options.Resume)
        {
            if (FindAgreed(store, parallel) is { } latest)
            {
                if (latest.State.Model != options.Model)
                    throw new CheckpointException($"{store.Folder} holds a checkpoint of '{latest.State.Model}', not '{options.Model}'; choose another --output or the same --model.");
                var trainedBy = Math.Max(1, latest.State.WorldSize);
                if (trainedBy != worldSize)
                    throw new AftLabException(
                        $"{store.Folder} holds a run trained by {Processes(trainedBy)}, and this one has {Processes(worldSize)}: resume it with {(trainedBy == 1 ? "one process (without mpirun)" : $"mpirun -np {trainedBy}")}. " +
                        "Each rank's share of every batch depends on the number of processes, so another number would not continue the same run.", ExitCodes.Usage);
                if (latest.State.Dtype is { } trainedIn && trainedIn != options.Dtype)
                    throw new AftLabException(
                        $"{store.Folder} holds a run trained in {trainedIn}, and this one asks for {options.Dtype}: resume it with --dtype {trainedIn}, or choose another --output.",
                        ExitCodes.Usage);
                CheckpointStore.Restore(latest.Path, model, optimizer);
                hasCheckpoint = true;
                (step, tokens, previouslyElapsed) = (latest.State.Step, latest.State.Tokens, latest.State.ElapsedSeconds);
                notice($"Resuming from {latest.Name} (step {step:N0}, {TimeSpan.FromSeconds(previouslyElapsed):hh\\:mm\\:ss} trained).");
            }
            else
                notice($"No checkpoint in {store.Folder} yet: starting from step 0.");
            var done = BudgetSpent(step, previouslyElapsed, options);
            if (done >= 1)
                return new TrainingSummary(step, tokens, TimeSpan.FromSeconds(previouslyElapsed), double.NaN, new Dictionary<string, double>(),
                    Path.Combine(store.Folder, CheckpointName.Of(step)), AlreadyFinished: true);
        }
        var log = isMain ? new MetricsLog(options.Output, task.Metric, step) : null;
        // Batches follow --seed (HashCode would differ per process); a resumed run draws new ones, not the same again.
        var random = new Random(unchecked(options.Seed * 1_000_003 + step));
        var clock = Stopwatch.StartNew();
        var (lastCheckpoint, lastEvaluation) = (TimeSpan.Zero, TimeSpan.Zero);
        var recent = new Queue<double>();                                   // the metric over the last steps: a fair running figure
        var lastLoss = double.NaN;
        double Elapsed() => previouslyElapsed + clock.Elapsed.TotalSeconds;
        // Ranks' clocks differ, and the learning rate and the end depend on the time: every rank uses rank 0's.
        var agreedElapsed = parallel?.BroadcastFromMain(Elapsed())[0] ?? 0;
        double SharedElapsed() => parallel is null ? Elapsed() : agreedElapsed;
        double Progress() => BudgetSpent(step, SharedElapsed(), options);
        void Checkpoint()
        {
            if (isMain)
                store.Save(model, optimizer, new TrainingState(options.Model, step, Elapsed(), tokens, options.Seed, options.Context, worldSize, options.Dtype));
            hasCheckpoint = true;                                           // on every rank: a divergence message must not contradict rank 0's
        }
        parallel?.BroadcastParameters(model);                             // the same weights everywhere, whatever each rank loaded or drew
        using var working = dtype == ScalarType.Float32 ? null : new WorkingCopy(model, newReplica!(), dtype, device);
        var stepModel = working ?? model;                                   // what the forward and backward run on

        model.train();
        IReadOnlyDictionary<string, double> evaluation = new Dictionary<string, double>();
        for (var finished = Progress() >= 1; !finished;)
        {
            foreach (var group in optimizer.ParamGroups)
                group.LearningRate = LearningRate(options, step, Progress());
            double loss;
            using (NewDisposeScope())
            {
                var (inputs, targets) = batches.Batch(random, device);
                working?.LoadMasters();
                var value = batches.Loss(stepModel, inputs, targets);
                optimizer.zero_grad();
                working?.ZeroGradients();
                value.backward();
                working?.StoreGradients();                                  // float32 gradients on the masters: averaged, clipped and stepped there
                parallel?.AverageGradients(model.parameters());              // the combined batch's gradient, before clipping
                var gradientNorm = nn.utils.clip_grad_norm_(model.parameters(), options.ClipNorm);
                loss = value.item<float>();
                if (parallel is not null)
                {
                    // The combined batch's loss (so that every rank decides alike on a non-finite one), and rank 0's clock.
                    var sums = parallel.AllReduceSum(loss / worldSize, isMain ? Elapsed() : 0);
                    (loss, agreedElapsed) = (sums[0], sums[1]);
                }
                // Checked before the optimizer step, so that non-finite values never reach the weights.
                if (!double.IsFinite(loss) || !double.IsFinite(gradientNorm))
                    throw new TrainingDivergedException(
                        $"The {(double.IsFinite(loss) ? $"gradient norm became {gradientNorm}" : $"loss became {loss}")} at step {step + 1}: training stopped, " +
                        (hasCheckpoint
                            ? $"and the last good checkpoint in {store.Folder} is kept as it is. Resume it with a lower --lr (now {options.LearningRate}) and --resume."
                            : $"before its first checkpoint. Start again with a lower --lr (now {options.LearningRate})."));
                optimizer.step();
            }
            step++;
            lastLoss = loss;
            tokens += task.TokensPerBatch;
            recent.Enqueue(task.ToMetric(loss));
            if (recent.Count > RecentSteps) recent.Dequeue();
            var throughput = tokens / Math.Max(1e-9, Elapsed());
            finished = Progress() >= 1;                                     // the last step's row is written below, with the full evaluation
            if (!isMain) continue;                                          // the other ranks only train
            var evaluateNow = !finished && clock.Elapsed - lastEvaluation >= options.EvaluateEvery;
            evaluation = evaluateNow ? task.Evaluate(model, device, quick: true) : new Dictionary<string, double>();
            if (evaluateNow) lastEvaluation = clock.Elapsed;
            if (!finished && (step % LogEvery == 0 || evaluateNow))
                log!.Add(new MetricsRow(step, Elapsed(), loss, task.ToMetric(loss), optimizer.ParamGroups.First().LearningRate, throughput, evaluation));
            report(Progress(), $"step {step}  loss {loss:F3}  {recent.Average():F3} {task.Metric}  {throughput:N0} tok/s");
            if (!finished && clock.Elapsed - lastCheckpoint >= options.CheckpointEvery)
            {
                Checkpoint();
                lastCheckpoint = clock.Elapsed;
            }
        }

        clock.Stop();                                                       // the budget and the throughput count training only
        if (!isMain)
            return new TrainingSummary(step, tokens, TimeSpan.FromSeconds(Elapsed()), recent.DefaultIfEmpty(double.NaN).Average(), new Dictionary<string, double>(),
                Path.Combine(store.Folder, CheckpointName.Of(step)));
        var final = task.Evaluate(model, device, quick: false);
        log!.Add(new MetricsRow(step, Elapsed(), lastLoss, recent.DefaultIfEmpty(double.NaN).Average(),
            optimizer.ParamGroups.First().LearningRate, tokens / Math.Max(1e-9, Elapsed()), final));
        Checkpoint();
        Curves.Save(log.Rows, task.Metric, $"{options.Model}: {task.Metric}", Path.Combine(options.Output, "curves.png"));
        return new TrainingSummary(step, tokens, TimeSpan.FromSeconds(Elapsed()), recent.DefaultIfEmpty(double.NaN).Average(), final,
            Path.Combine(store.Folder, CheckpointName.Of(step)));
    }

    /// <summary>
    /// The checkpoint to resume from, the same on every rank: rank 0 (the writer, which may set damaged ones aside) looks
    /// first and says which step it chose; the others then look, and must find that one.
    /// </summary>
    static CheckpointSelection? FindAgreed(CheckpointStore store, DataParallel? parallel)
    {
        if (parallel is null || parallel.WorldSize == 1) return store.Find();
        CheckpointSelection? found = null;
        Exception? failure = null;
        if (parallel.IsMain)
            try { found = store.Find(); }
            catch (CheckpointException e) { failure = e; }
        // -2: rank 0 failed (it reports why); -1: no checkpoint; else the step.
        var chosen = (int)parallel.BroadcastFromMain(failure is not null ? -2 : found?.State.Step ?? -1)[0];
        if (failure is not null) throw failure;
        if (parallel.IsMain) return found;
        if (chosen == -2) throw new CheckpointException($"Rank 0 found no usable checkpoint in {store.Folder} (it says why).");
        if (chosen == -1) return null;
        found = store.Find();
        return found?.State.Step == chosen ? found
            : throw new CheckpointException(
                $"Rank 0 resumes from {CheckpointName.Of(chosen)} in {store.Folder}, but this rank finds {(found is null ? "no checkpoint" : found.Name)} there: " +
                "every rank must see the same run folder (a shared file system).");
    }

    static string Processes(int count) => count == 1 ? "one process" : $"{count} data-parallel processes";

    /// <summary>The fraction of the budget (time or steps, whichever is nearer its end) that is spent.</summary>
    static double BudgetSpent(int step, double elapsedSeconds, TrainingOptions options) =>
        Math.Clamp(Math.Max(elapsedSeconds / options.Budget.TotalSeconds, options.MaxSteps is { } max ? (double)step / max : 0), 0, 1);

    static double LearningRate(TrainingOptions options, int step, double progress) =>
        step < options.WarmupSteps
            ? options.LearningRate * (step + 1) / options.WarmupSteps
            : options.LearningRate * (0.1 + 0.9 * 0.5 * (1 + Math.Cos(Math.PI * progress)));
}

/// <summary>Training produced a loss that is not finite.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
