using System.Diagnostics;
using System.Globalization;
using AftLab.Models;
using AftLab.Tests.Support;
using AftLab.Training;
using AftLab.Training.Checkpoints;
using TorchSharp;
using Xunit.Abstractions;

namespace AftLab.Tests.Training;

/// <summary>
/// <c>aftlab train</c> and <c>aftlab check-data-parallel</c> across processes under mpirun (two ranks on the CPU, the MPI
/// backend): the same parameters as one process with the combined batch, step for step; identical parameters on every
/// rank; a rank that dies or stops ends the job with a message in bounded time; a job killed with kill -9 resumes at
/// the same world size and refuses another. One class, so that its jobs run one after another on a small machine.
/// </summary>
public sealed class DataParallelTrainingTests : IDisposable
{
    const string Model = "byte-simple";
    static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(2);
    readonly TemporaryFolder folder = new();
    readonly ITestOutputHelper output;

    public DataParallelTrainingTests(ITestOutputHelper output) => this.output = output;

    // The GCIDE excerpt the app carries: what is tested here is the parallelism, not the data.
    Dictionary<string, string> Environment(params (string Name, string Value)[] more)
    {
        var environment = new Dictionary<string, string> { ["AFTLAB_PACKAGE_ROOT"] = folder.File("no-packages") };
        foreach (var (name, value) in more) environment[name] = value;
        return environment;
    }

    static string[] Train(string output, int batch, int steps, bool resume = false, double checkpointMinutes = 10) =>
    [
        "train", "--model", Model, "--steps", steps.ToString(CultureInfo.InvariantCulture), "--minutes", "30", "--batch", batch.ToString(CultureInfo.InvariantCulture),
        "--context", "32", "--lr", "0.5", "--checkpoint-minutes", checkpointMinutes.ToString(CultureInfo.InvariantCulture), "--sample-bytes", "0", "--output", output,
        .. resume ? new[] { "--resume" } : [],
    ];

    static (TrainingState State, float[] Parameters) Latest(string run)
    {
        var latest = new CheckpointStore(Path.Combine(run, "checkpoints")).Latest();
        Assert.NotNull(latest);
        using var model = ModelCatalog.Find(Model).Create();
        CheckpointStore.Restore(latest.Value.Path, model, optimizer: null);
        var parameters = model.parameters().SelectMany(p => p.detach().cpu().to(torch.float32).data<float>().ToArray()).ToArray();
        return (latest.Value.State, parameters);
    }

    [Fact]
    public void Two_ranks_with_batch_b_train_step_for_step_like_one_process_with_batch_2b()
    {
        var (single, parallel) = (folder.File("single"), folder.File("parallel"));
        for (var steps = 1; steps <= 3; steps++)                            // one step per run, each resuming the last: compared after every step
        {
            var (code, printed) = AftLabProcess.Run(folder.Path, Environment(), Train(single, batch: 4, steps, resume: steps > 1));
            Assert.True(code == 0, printed);
            (code, printed) = MpiJob.Run(2, folder.Path, Environment(), JobTimeout, Train(parallel, batch: 2, steps, resume: steps > 1));
            Assert.True(code == 0, printed);
            var firstLine = printed.Split('\n').Select(Plain).First(l => l.Trim().Length > 0);
            Assert.Contains("Data parallel: MPI (Open MPI", firstLine);
            Assert.Contains("world size 2", firstLine);
            Assert.Equal(1, Occurrences(printed, "Data:"));                 // rank 1 prints nothing

            var (one, two) = (Latest(single), Latest(parallel));
            Assert.Equal((steps, 1), (one.State.Step, one.State.WorldSize));
            Assert.Equal((steps, 2), (two.State.Step, two.State.WorldSize));
            Assert.Equal(one.State.Tokens, two.State.Tokens);               // the combined batch's tokens
            // Float32 sums in another order differ in the last bits, and AdamW's first steps (about lr·g/|g|) turn that into a few 1e-6 where a
            // gradient is tiny. The keys' bias has a gradient of exactly 0 in exact arithmetic (every AFT variant normalises over positions, which
            // a constant added to all keys leaves unchanged), so there AdamW steps by ±lr on rounding alone, in one process as in two: it is left out.
            var compared = Names().Where(n => !n.Name.EndsWith("k_proj.bias", StringComparison.Ordinal)).ToList();
            var (worst, difference) = compared
                .Select(n => (n.Name, Difference: Enumerable.Range(n.Start, n.Count).Max(j => Math.Abs(one.Parameters[j] - two.Parameters[j]))))
                .MaxBy(d => d.Difference);
            output.WriteLine($"step {steps}: max |two ranks − one process| = {difference:E2} ({worst})");
            Assert.True(difference <= 3e-5, $"after step {steps} {worst} differs by {difference:E2} between two ranks and one process (float32 tolerance 3e-5)");
            var moved = Latest(single).Parameters.Zip(InitialParameters(), (a, b) => Math.Abs(a - b)).Max();
            Assert.True(moved > 3e-3, $"training moved the parameters by only {moved:E2}, too little for the comparison to prove anything");
            output.WriteLine($"step {steps}: max change from the initial weights {moved:E2}");
        }
        var rows = File.ReadAllLines(Path.Combine(parallel, "metrics.csv")).Skip(1).Select(l => l.Split(',')[0]).ToArray();
        Assert.Equal(rows.Distinct().Count(), rows.Length);                 // one writer: no rank's rows twice
    }

    static List<(string Name, int Start, int Count)> Names()
    {
        using var model = ModelCatalog.Find(Model).Create();
        var list = new List<(string, int, int)>();
        var at = 0;
        foreach (var (name, p) in model.named_parameters()) { list.Add((name, at, (int)p.numel())); at += (int)p.numel(); }
        return list;
    }

    static float[] InitialParameters()
    {
        torch.manual_seed(1);
        using var model = ModelCatalog.Find(Model).Create();
        return model.parameters().SelectMany(p => p.detach().data<float>().ToArray()).ToArray();
    }

    [Fact]
    public void The_check_verb_passes_under_mpirun_in_float32_and_float64_and_fails_when_gradients_are_not_averaged()
    {
        var (code, output) = MpiJob.Run(2, folder.Path, Environment(), JobTimeout, "check-data-parallel", "--steps", "4", "--batch", "3");
        Assert.True(code == 0, output);
        var lines = output.Split('\n').Select(Plain).ToArray();
        Assert.Contains(lines, l => l.Contains("float32") && l.Contains("PASS"));
        Assert.Contains(lines, l => l.Contains("float64") && l.Contains("PASS"));
        Assert.Contains(lines, l => l.Contains("world size 2"));

        // The same check with the averaging left out must notice it: the ranks drift apart and from the reference.
        (code, output) = MpiJob.Run(2, folder.Path, Environment((DataParallelCheck.FaultVariable, "no-average")), JobTimeout, "check-data-parallel", "--steps", "2");
        Assert.True(code == 1, output);
        Assert.Contains("FAIL", Plain(output));
    }

    [Fact]
    public void Without_a_launcher_the_check_runs_at_world_size_1_through_mpi_alone()
    {
        // What a one-GPU host without mpirun runs, on the CPU: DataParallel without a launcher (MPI as a singleton here).
        var (code, output) = AftLabProcess.Run(folder.Path, Environment(), "check-data-parallel", "--steps", "2", "--dtype", "float64");
        Assert.True(code == 0, output);
        Assert.Contains("Data parallel: MPI (Open MPI", output);
        Assert.Contains("world size 1", output);
        Assert.Contains("one process (no launcher)", output);
        Assert.Contains("PASS: 1 rank(s)", output);
    }

    [Fact]
    public void Throughput_under_mpirun_times_data_parallel_steps_and_counts_every_rank()
    {
        var results = folder.File("throughput");
        var (code, output) = MpiJob.Run(2, folder.Path, Environment(), JobTimeout,
            "throughput", "--models", Model, "--lengths", "32", "--tokens", "64", "--steps", "1", "--output", results);
        Assert.True(code == 0, output);
        Assert.Contains("Data parallel: MPI (Open MPI", output);
        Assert.Contains("world size 2", output);
        Assert.Single(output.Split('\n'), line => line.Contains("T=32 B=2", StringComparison.Ordinal));     // rank 0 alone prints
        var row = File.ReadAllLines(Path.Combine(results, "throughput.csv"))[1].Split(',');
        Assert.Equal([Model, "32", "2"], row[..3]);                                                          // B is each rank's batch
        Assert.Equal("2", row[^1]);                                                                          // ranks
        var stepMs = double.Parse(row[4], CultureInfo.InvariantCulture);
        var tokensPerSecond = double.Parse(row[5], CultureInfo.InvariantCulture);
        Assert.InRange(tokensPerSecond / (2 * 2 * 32 / (stepMs / 1000)), 0.99, 1.01);                        // both ranks' tokens
    }

    [Fact]
    public void Bench_data_parallel_reports_one_and_two_pinned_ranks_and_their_efficiency()
    {
        var results = folder.File("bench");
        var (code, output) = AftLabProcess.Run(folder.Path, Environment(), "bench", "--data-parallel", "--tokens", "256", "--iterations", "1", "--output", results);
        Assert.True(code == 0, output);
        Assert.Contains("--bind-to core", output);
        var rows = File.ReadAllLines(Path.Combine(results, "data-parallel.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(["byte-simple", "byte-local-32", "byte-full", "byte-mha"], rows.Select(r => r[0]));
        foreach (var row in rows)
        {
            var (one, two) = (double.Parse(row[3], CultureInfo.InvariantCulture), double.Parse(row[4], CultureInfo.InvariantCulture));
            Assert.Equal("2", row[5]);
            Assert.InRange(double.Parse(row[6], CultureInfo.InvariantCulture) - two / (2 * one), -1e-3, 1e-3);     // tokens/s are written rounded
        }
        Assert.Contains("| byte-mha | 256 | 1 |", File.ReadAllText(Path.Combine(results, "summary.md")));
    }

    [Fact]
    public void A_killed_rank_ends_the_job_with_a_message_in_bounded_time()
    {
        var run = folder.File("killed");
        using var job = MpiJob.Start(2, folder.Path, Environment(), Train(run, batch: 2, steps: 100_000, checkpointMinutes: 1e-6));
        WaitForCheckpoint(job, run, step: 1);
        var clock = Stopwatch.StartNew();
        MpiJob.Signal(job.RankProcess(1) ?? throw new InvalidOperationException("rank 1 not found:\n" + job.Output), "KILL");
        Assert.True(job.WaitForExit(TimeSpan.FromSeconds(60)), "the job went on for 60 s after rank 1 was killed:\n" + job.Output);
        Assert.NotEqual(0, job.Process.ExitCode);
        Assert.Contains("exited on signal 9", job.Output);                  // mpirun's message naming the rank
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the job took {clock.Elapsed.TotalSeconds:0} s to end");
    }

    [Fact]
    public void A_stopped_rank_ends_the_job_after_the_collective_timeout_with_a_message()
    {
        var run = folder.File("stopped");
        using var job = MpiJob.Start(2, folder.Path, Environment(("AFTDSL_COLLECTIVE_TIMEOUT", "3")), Train(run, batch: 2, steps: 100_000, checkpointMinutes: 1e-6));
        WaitForCheckpoint(job, run, step: 1);
        var clock = Stopwatch.StartNew();
        MpiJob.Signal(job.RankProcess(1) ?? throw new InvalidOperationException("rank 1 not found:\n" + job.Output), "STOP");   // alive but silent: mpirun cannot tell
        Assert.True(job.WaitForExit(TimeSpan.FromSeconds(60)), "the job went on for 60 s after rank 1 stopped:\n" + job.Output);
        Assert.NotEqual(0, job.Process.ExitCode);
        Assert.Contains("rank 0 of 2: gradient all-reduce did not complete within 3 s", job.Output);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the job took {clock.Elapsed.TotalSeconds:0} s to end");
    }

    [Fact]
    public void A_job_killed_with_kill_9_resumes_at_the_same_world_size_and_refuses_another()
    {
        var run = folder.File("resumed");
        int killedAt;
        using (var job = MpiJob.Start(2, folder.Path, Environment(), Train(run, batch: 2, steps: 100_000, checkpointMinutes: 1e-6)))
        {
            // A checkpoint after every step: the kill lands while one is being written, or just after.
            WaitForCheckpoint(job, run, step: 3);
            job.KillAll();                                                   // SIGKILL to mpirun and both ranks
            killedAt = Latest(run).State.Step;
        }
        Assert.Equal(2, Latest(run).State.WorldSize);

        var (code, output) = MpiJob.Run(2, folder.Path, Environment(), JobTimeout, Train(run, batch: 2, steps: killedAt + 3, resume: true));
        Assert.True(code == 0, output);
        Assert.Contains($"Resuming from {CheckpointName.Of(killedAt)}", Plain(output));
        Assert.Equal(killedAt + 3, Latest(run).State.Step);

        (code, output) = AftLabProcess.Run(folder.Path, Environment(), Train(run, batch: 2, steps: killedAt + 10, resume: true));
        Assert.True(code == 64, output);
        Assert.Contains("trained by 2 data-parallel processes, and this one has one process: resume it with mpirun -np 2", output);
        Assert.Equal(killedAt + 3, Latest(run).State.Step);                  // refused before anything was written
    }

    /// <summary>Waits until the job has published a checkpoint of at least <paramref name="step"/>: training, with its collectives, is under way.</summary>
    static void WaitForCheckpoint(MpiJob job, string run, int step)
    {
        var deadline = DateTime.UtcNow + JobTimeout;
        int Published() => new CheckpointStore(Path.Combine(run, "checkpoints")).Latest()?.State.Step ?? 0;
        while (Published() < step && DateTime.UtcNow < deadline && !job.Process.HasExited)
            Thread.Sleep(50);
        Assert.False(job.Process.HasExited, "the job ended before it could be interrupted:\n" + job.Output);
        Assert.True(Published() >= step, $"no checkpoint of step {step} after {JobTimeout.TotalSeconds:0} s:\n{job.Output}");
    }

    static int Occurrences(string text, string part) => (text.Length - text.Replace(part, "").Length) / part.Length;

    /// <summary>Without terminal escapes and line wraps (mpirun gives each rank a pseudo-terminal).</summary>
    static string Plain(string text) => System.Text.RegularExpressions.Regex.Replace(text, @"\x1b(\[[0-9;?]*[A-Za-z]|[=>])", "");

    public void Dispose() => folder.Dispose();
}
