using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Exporters.Csv;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Spectre.Console;
using TorchSharp;

namespace AftLab.Benchmarks;

/// <summary>
/// Runs a plan: peak memory of every case first, then the times (BenchmarkDotNet on the CPU, CUDA events
/// on a GPU, as the PyTorch peers are timed), all in one process and one run, so that every ratio compares
/// measurements taken side by side.
/// </summary>
public static class BenchRunner
{
    public static List<BenchResult> Run(BenchPlan plan, torch.Device device, int iterations, string output)
    {
        var (cases, skipped) = CaseCatalog.Build(plan);
        AnsiConsole.MarkupLineInterpolated($"[bold]Benchmark:[/] {cases.Count} cases on {device.type} ({plan.Dtype}), {skipped.Count} skipped; d = {BenchPlan.Width}, B·T ≈ {plan.Tokens}.");
        PeakMemory.TuneForSpeed();
        var cuda = device.type == DeviceType.CUDA;
        var (memory, failed) = MeasureMemory(cases, device, cuda
            ? run => CudaDriver.PeakBytes(run, device.index < 0 ? 0 : device.index)
            : run => PeakMemory.Measure(run));
        var failures = failed.Select(f => Result(f.Case, null, null, "failed: " + f.Reason)).ToList();
        cases = [.. cases.Where(c => !failed.Any(f => f.Case.Key == c.Key))];
        if (cuda)
            return [.. cases.Select(c => Timed(c, TimeWithEvents(c, device, iterations), memory.GetValueOrDefault(c.Key))),
                    .. failures,
                    .. skipped.Select(s => Result(s.Case, null, null, "skipped: " + s.Reason))];

        MixerBenchmarks.Cases = cases;
        MixerBenchmarks.Device = device;
        var job = Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithStrategy(RunStrategy.Monitoring)          // long operations: no pilot stage, one call per iteration
            .WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(iterations)
            .WithInvocationCount(1).WithUnrollFactor(1);
        var config = ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddLogger(ConsoleLogger.Default)
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddExporter(CsvExporter.Default)
            .WithArtifactsPath(Path.Combine(output, "benchmarkdotnet"))
            .WithOptions(ConfigOptions.DisableLogFile);
        var summary = BenchmarkRunner.Run<MixerBenchmarks>(config);

        var results = new List<BenchResult>();
        foreach (var report in summary.Reports)
        {
            var c = (BenchCase)report.BenchmarkCase.Parameters["Case"];
            var stats = report.ResultStatistics;
            memory.TryGetValue(c.Key, out var peak);
            results.Add(Result(c, stats is null ? null : (stats.Median / 1e6, stats.Q1 / 1e6, stats.Q3 / 1e6, stats.N), peak,
                stats is null ? "failed: see the BenchmarkDotNet log" : "ok"));
        }
        results.AddRange(failures);
        results.AddRange(skipped.Select(s => Result(s.Case, null, null, "skipped: " + s.Reason)));
        return results;
    }

    // On a GPU, CUDA events around each run, as the PyTorch peers time theirs: GPU time, launch gaps included;
    // and the CPU's time to queue the run, which bounds it from below when the kernels are short.
    static (double Median, double Q1, double Q3, int N, double HostMs) TimeWithEvents(BenchCase c, torch.Device device, int iterations)
    {
        AnsiConsole.MarkupLineInterpolated($"timing {c}");
        using var workload = new BenchWorkload(c, device);
        workload.Run();
        workload.Run();
        var host = new List<double>();
        var times = Enumerable.Range(0, iterations).Select(_ => CudaDriver.TimeMs(() =>
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            workload.Queue();
            host.Add(clock.Elapsed.TotalMilliseconds);
        })).Order().ToArray();
        double Quantile(double[] sorted, double q) => sorted[(int)Math.Round(q * (sorted.Length - 1))];
        return (Quantile(times, 0.5), Quantile(times, 0.25), Quantile(times, 0.75), times.Length, Quantile([.. host.Order()], 0.5));
    }

    // A case that runs out of memory (an operator peer's band tensors at T = 16384 in float32) is reported
    // as failed and left out of the timing; the rest of the run goes on.
    static (Dictionary<string, long?> Peaks, List<(BenchCase Case, string Reason)> Failed) MeasureMemory(
        List<BenchCase> cases, torch.Device device, Func<Action, long?> peak)
    {
        var peaks = new Dictionary<string, long?>();
        var failed = new List<(BenchCase, string)>();
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask("peak memory", maxValue: cases.Count);
                foreach (var c in cases)
                {
                    task.Description = Markup.Escape($"peak memory: {c}");
                    try
                    {
                        using var workload = new BenchWorkload(c, device);
                        workload.Run();                               // lazy initialisation stays out of the peak
                        peaks[c.Key] = peak(workload.Run);
                    }
                    catch (Exception e) when (IsOutOfMemory(e))
                    {
                        failed.Add((c, "out of memory"));
                        AnsiConsole.MarkupLineInterpolated($"[yellow]{c}: out of memory; left out of the timing[/]");
                    }
                    task.Increment(1);
                }
            });
        return (peaks, failed);
    }

    static bool IsOutOfMemory(Exception e) =>
        e.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase)
        || e is OutOfMemoryException;

    static BenchResult Timed(BenchCase c, (double Median, double Q1, double Q3, int N, double HostMs) time, long? peak) =>
        Result(c, (time.Median, time.Q1, time.Q3, time.N), peak, "ok") with { HostMs = time.HostMs };

    static BenchResult Result(BenchCase c, (double Median, double Q1, double Q3, int N)? time, long? peak, string status) =>
        new(c.VariantName, c.Implementation.ToString().ToLowerInvariant(), c.Length, c.Batch, c.Causal, c.Pass, c.Dtype.ToString().ToLowerInvariant(),
            time?.Median, time?.Q1, time?.Q3, time?.N ?? 0, peak / (double)(1 << 20), status, c);
}
