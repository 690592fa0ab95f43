using Spectre.Console;

namespace AftLab.Training;

/// <summary>
/// Training progress: a live Spectre.Console bar (status, percentage, elapsed and remaining time) in a
/// terminal; one plain line every 10 seconds when the output is redirected (CI logs, files).
/// </summary>
public static class ProgressDisplay
{
    static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(10);

    /// <summary>Runs <paramref name="work"/> with a callback taking (fraction done, status line).</summary>
    public static T Run<T>(string title, Func<Action<double, string>, T> work)
    {
        if (AnsiConsole.Profile.Capabilities.Interactive)
        {
            return AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                         new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(context =>
                {
                    var task = context.AddTask(Markup.Escape(title), maxValue: 1.0);
                    var result = work((fraction, status) =>
                    {
                        task.Description = Markup.Escape(status);
                        task.Value = Math.Clamp(fraction, 0, 1);
                    });
                    task.Value = 1.0;
                    return result;
                });
        }

        Console.WriteLine(title);
        var last = DateTime.MinValue;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        double? start = null;                                               // a resumed run starts part-way
        return work((fraction, status) =>
        {
            start ??= fraction;
            if (DateTime.UtcNow - last < PlainInterval && fraction < 1) return;
            last = DateTime.UtcNow;
            var rate = (fraction - start.Value) / Math.Max(1e-9, clock.Elapsed.TotalSeconds);
            var left = rate > 0 ? TimeSpan.FromSeconds((1 - fraction) / rate) : (TimeSpan?)null;
            Console.WriteLine($"[{fraction,6:P1}] {status}{(left is { } l && fraction < 1 ? $"  {l:hh\\:mm\\:ss} left" : "")}");
        });
    }
}
