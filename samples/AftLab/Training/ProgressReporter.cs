using Spectre.Console;

namespace AftLab.Training;

/// <summary>
/// Shows training progress: a live Spectre.Console bar with loss, bits per byte and throughput in a
/// terminal; one plain line every few seconds when the output is redirected (CI logs, files).
/// </summary>
public sealed class ProgressReporter
{
    static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(10);

    /// <summary>Runs <paramref name="work"/> with a report callback taking (fraction done, status line).</summary>
    public static void Run(string title, Action<Action<double, string>> work)
    {
        if (AnsiConsole.Profile.Capabilities.Interactive)
        {
            AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                         new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(context =>
                {
                    var task = context.AddTask(Markup.Escape(title), maxValue: 1.0);
                    work((fraction, status) =>
                    {
                        task.Description = Markup.Escape(status);
                        task.Value = Math.Clamp(fraction, 0, 1);
                    });
                    task.Value = 1.0;
                });
            return;
        }

        Console.WriteLine(title);
        var last = DateTime.MinValue;
        work((fraction, status) =>
        {
            if (DateTime.UtcNow - last < PlainInterval && fraction < 1) return;
            last = DateTime.UtcNow;
            Console.WriteLine($"[{fraction,6:P1}] {status}");
        });
    }
}
