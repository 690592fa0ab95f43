using System.ComponentModel;
using AftLab.Experiments;
using AftLab.Runtime;
using Spectre.Console;
using Spectre.Console.Cli;

namespace AftLab.Commands;

/// <summary>
/// <c>aftlab summarize</c>: each model's mean ± standard deviation over its seeds, from the runs of
/// <c>samples/AftLab/experiments.sh</c> (<c>RUNS/MODEL/seed-N/results.json</c>); writes summary.md and summary.csv.
/// </summary>
public sealed class SummarizeCommand : Command<SummarizeCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--runs <DIR>"), DefaultValue("runs/exp"), Description("Folder of MODEL/seed-N/ training runs.")]
        public string Runs { get; init; } = "runs/exp";

        [CommandOption("--output <DIR>"), Description("Folder for summary.md and summary.csv. Default: the --runs folder.")]
        public string? Output { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var rows = SeedSummary.Collect(settings.Runs);
        var output = settings.Output ?? settings.Runs;
        var markdown = SeedSummary.Markdown(rows);
        AtomicFile.WriteAllText(Path.Combine(output, "summary.md"), markdown);
        AtomicFile.WriteAllText(Path.Combine(output, "summary.csv"), SeedSummary.Csv(rows));
        AnsiConsole.WriteLine(markdown);
        AnsiConsole.MarkupLineInterpolated($"[bold]Wrote[/] summary.md and summary.csv ({rows.Count} models) to {Path.GetFullPath(output)}.");
        return ExitCodes.Success;
    }
}
