using System.Globalization;
using AftLab.Runtime;
using TorchSharp;

namespace AftLab.Training;

/// <summary>One row of the learning curve.</summary>
public sealed record MetricsRow(int Step, double ElapsedSeconds, double Loss, double Metric, double LearningRate, double TokensPerSecond, IReadOnlyDictionary<string, double> Evaluation);

/// <summary>
/// Writes the learning curve as CSV (<c>metrics.csv</c>, one row per logged step, held-out columns filled at
/// evaluations) and as TensorBoard event files (<c>tensorboard/</c>, TorchSharp's SummaryWriter). On resume
/// it drops the rows after the checkpoint's step, so the file describes exactly the run that continues; the
/// TensorBoard events are rebuilt from the rows kept, because event files can only be appended to. Values that
/// are not finite are written as such (<c>NaN</c>, <c>Infinity</c>) and read back.
/// </summary>
public sealed class MetricsLog
{
    const string Header = "step,elapsed_s,loss,metric,learning_rate,tokens_per_s,evaluation";
    readonly string path;
    readonly TorchSharp.Modules.SummaryWriter writer;
    readonly string metric;

    public MetricsLog(string folder, string metric, int resumeStep)
    {
        Directory.CreateDirectory(folder);
        this.metric = metric;
        path = Path.Combine(folder, "metrics.csv");
        // A run killed while appending may leave a partial last line: only whole rows up to the checkpoint are kept.
        var kept = File.Exists(path) && resumeStep > 0
            ? File.ReadLines(path).Skip(1).Select(TryParse).OfType<(string Line, MetricsRow Row)>().Where(r => r.Row.Step <= resumeStep).ToList()
            : [];
        AtomicFile.Write(path, temporary => File.WriteAllLines(temporary, [Header, .. kept.Select(r => r.Line)]));
        Rows = [];
        var events = Path.Combine(folder, "tensorboard");
        if (Directory.Exists(events)) Directory.Delete(events, recursive: true);   // a crash here loses nothing: the next resume rebuilds them
        writer = torch.utils.tensorboard.SummaryWriter(events);
        foreach (var (_, row) in kept) Write(row);
    }

    public List<MetricsRow> Rows { get; }

    public void Add(MetricsRow row)
    {
        var evaluation = string.Join(";", row.Evaluation.Select(e => $"{e.Key}={F(e.Value)}"));
        File.AppendAllLines(path, [string.Join(",", row.Step.ToString(CultureInfo.InvariantCulture), F(row.ElapsedSeconds), F(row.Loss), F(row.Metric),
            row.LearningRate.ToString("G6", CultureInfo.InvariantCulture), F(row.TokensPerSecond), evaluation)]);
        Write(row);
    }

    void Write(MetricsRow row)
    {
        Rows.Add(row);
        writer.add_scalar("train/loss", (float)row.Loss, row.Step);
        writer.add_scalar($"train/{metric}", (float)row.Metric, row.Step);
        writer.add_scalar("train/learning_rate", (float)row.LearningRate, row.Step);
        writer.add_scalar("train/tokens_per_second", (float)row.TokensPerSecond, row.Step);
        foreach (var (name, value) in row.Evaluation)
            writer.add_scalar("eval/" + name.Replace(' ', '_'), (float)value, row.Step);
    }

    static string F(double value) => value.ToString("0.#####", CultureInfo.InvariantCulture);

    static (string Line, MetricsRow Row)? TryParse(string line)
    {
        var f = line.Split(',');
        if (f.Length != 7) return null;
        var numbers = new double[6];
        for (var i = 0; i < 6; i++)
            if (!double.TryParse(f[i], NumberStyles.Float, CultureInfo.InvariantCulture, out numbers[i])) return null;
        var evaluation = new Dictionary<string, double>();
        foreach (var pair in f[6].Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = pair.Split('=');
            if (parts.Length != 2 || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var value)) return null;
            evaluation[parts[0]] = value;
        }
        return (line, new MetricsRow((int)numbers[0], numbers[1], numbers[2], numbers[3], numbers[4], numbers[5], evaluation));
    }
}
