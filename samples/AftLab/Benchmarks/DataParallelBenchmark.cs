using System.Diagnostics;
using System.Globalization;
using System.Text;
using AftLab.Runtime;

namespace AftLab.Benchmarks;

/// <summary>One model and length: training tokens/s of one rank and of N ranks, each on a core of its own.</summary>
public sealed record ScalingResult(string Model, long Length, long Batch, double? OneRank, double? Ranks, int RankCount)
{
    /// <summary>tokens/s(N) / (N · tokens/s(1)): 1 when N ranks do N times the work of one.</summary>
    public double? Efficiency => OneRank is > 0 && Ranks is { } n ? n / (RankCount * OneRank.Value) : null;

    public const string Header = "model,length,batch_per_rank,tokens_per_second_1_rank,tokens_per_second_n_ranks,ranks,efficiency";

    public string ToCsv() => string.Join(",", Model, Length, Batch, N(OneRank), N(Ranks), RankCount, Efficiency?.ToString("0.####", CultureInfo.InvariantCulture) ?? "");

    static string N(double? value) => value?.ToString("0", CultureInfo.InvariantCulture) ?? "";
}

/// <summary>
/// <c>aftlab bench --data-parallel</c>: <c>aftlab throughput</c> under <c>mpirun --bind-to core</c>, first one rank, then N,
/// each rank pinned to one core with one libtorch thread, so that N ranks have N times the compute of one and the
/// difference is what data parallelism costs (the gradient all-reduce, the ranks waiting for each other).
/// </summary>
public static class DataParallelBenchmark
{
    public static List<ScalingResult> Run(int ranks, string models, string lengths, long tokens, int steps, string output, Action<string> log)
    {
        var one = Throughput(1, models, lengths, tokens, steps, Path.Combine(output, "1-rank"), log);
        var many = Throughput(ranks, models, lengths, tokens, steps, Path.Combine(output, $"{ranks}-ranks"), log);
        return [.. one.Select(r => new ScalingResult(r.Model, r.Length, r.Batch, r.TokensPerSecond,
            many.FirstOrDefault(m => m.Model == r.Model && m.Length == r.Length)?.TokensPerSecond, ranks))];
    }

    public static void Write(IReadOnlyList<ScalingResult> results, string output, string machine, string command)
    {
        AtomicFile.WriteAllText(Path.Combine(output, "data-parallel.csv"), ScalingResult.Header + "\n" + string.Join("\n", results.Select(r => r.ToCsv())) + "\n");
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"# Data-parallel scaling on the CPU, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Machine: {machine}  ");
        text.AppendLine(CultureInfo.InvariantCulture, $"Command: `{command}`  ");
        text.AppendLine("Whole training steps (`aftlab throughput`) under `mpirun --bind-to core`, one libtorch thread a rank: one rank, then " +
            "N ranks with the same batch each; tokens/s count every rank's.");
        text.AppendLine();
        text.AppendLine("| model | T | batch per rank | tokens/s, 1 rank | tokens/s, N ranks | N | scaling efficiency |");
        text.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var r in results)
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Model} | {r.Length} | {r.Batch} | {r.OneRank:N0} | {r.Ranks:N0} | {r.RankCount} | {(r.Efficiency is { } e ? $"{e:P1}" : "")} |");
        AtomicFile.WriteAllText(Path.Combine(output, "summary.md"), text.ToString());
    }

    static List<ThroughputResult> Throughput(int ranks, string models, string lengths, long tokens, int steps, string output, Action<string> log)
    {
        var (app, prefix) = SelfCommand();
        var start = new ProcessStartInfo(MpiRun()) { RedirectStandardOutput = true, RedirectStandardError = true };
        var launcher = new List<string> { "-np", ranks.ToString(CultureInfo.InvariantCulture), "--bind-to", "core", "--map-by", "core", "-x", "OMP_NUM_THREADS=1" };
        if (Environment.UserName == "root") launcher.Insert(0, "--allow-run-as-root");          // mpirun refuses root otherwise
        foreach (var argument in launcher.Append(app).Concat(prefix).Concat(["throughput", "--device", "cpu", "--models", models, "--lengths", lengths,
                     "--tokens", tokens.ToString(CultureInfo.InvariantCulture), "--steps", steps.ToString(CultureInfo.InvariantCulture), "--output", output]))
            start.ArgumentList.Add(argument);
        log($"{ranks} rank(s): mpirun {string.Join(" ", start.ArgumentList)}");
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var printed = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new AftLabException($"mpirun -np {ranks} aftlab throughput failed (exit code {process.ExitCode}): {(error.Result + printed).Trim()}", ExitCodes.Failure);
        return [.. File.ReadLines(Path.Combine(output, "throughput.csv")).Skip(1).Where(l => l.Length > 0).Select(ThroughputResult.Parse)];
    }

    // This app as a command line: `dotnet aftlab.dll` when run through dotnet, else its own executable.
    static (string File, string[] Prefix) SelfCommand()
    {
        var host = Environment.ProcessPath ?? "dotnet";
        return Path.GetFileNameWithoutExtension(host) == "dotnet" ? (host, [typeof(DataParallelBenchmark).Assembly.Location]) : (host, []);
    }

    static string MpiRun() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, "mpirun")).FirstOrDefault(File.Exists)
        ?? throw new AftLabException("bench --data-parallel runs the ranks under Open MPI's mpirun, which is not on PATH: install it with " +
                                     "apt-get install openmpi-bin libopenmpi-dev.", ExitCodes.Failure);
}
