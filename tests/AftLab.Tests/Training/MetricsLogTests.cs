using AftLab.Tests.Support;
using AftLab.Training;

namespace AftLab.Tests.Training;

public sealed class MetricsLogTests : IDisposable
{
    readonly TemporaryFolder folder = new();

    static MetricsRow Row(int step, IReadOnlyDictionary<string, double>? evaluation = null) =>
        new(step, step * 0.5, 2.0 / step, 3.0 / step, 1e-3, 1000, evaluation ?? new Dictionary<string, double>());

    [Fact]
    public void Resuming_keeps_the_rows_up_to_the_checkpoint_and_drops_a_half_written_line()
    {
        var log = new MetricsLog(folder.Path, "bits/byte", resumeStep: 0);
        log.Add(Row(10));
        log.Add(Row(20, new Dictionary<string, double> { ["held-out bits/byte"] = 2.5 }));
        log.Add(Row(30));
        File.AppendAllText(folder.File("metrics.csv"), "40,20.1,0.05");           // a kill in the middle of an append

        var resumed = new MetricsLog(folder.Path, "bits/byte", resumeStep: 20);

        Assert.Equal([10, 20], resumed.Rows.Select(r => r.Step));
        Assert.Equal(2.5, resumed.Rows[1].Evaluation["held-out bits/byte"]);
        var lines = File.ReadAllLines(folder.File("metrics.csv"));
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("step,", lines[0]);
        Assert.StartsWith("20,10,0.1,0.15,", lines[2]);
    }

    [Fact]
    public void A_fresh_run_starts_a_new_file_and_writes_tensorboard_events()
    {
        File.WriteAllText(folder.File("metrics.csv"), "step,old\n1,2\n");
        new MetricsLog(folder.Path, "bits/dim", resumeStep: 0).Add(Row(5));
        Assert.Equal(2, File.ReadAllLines(folder.File("metrics.csv")).Length);
        var events = Directory.GetFiles(folder.File("tensorboard"), "events.out.tfevents.*", SearchOption.AllDirectories);
        Assert.NotEmpty(events);
        Assert.True(new FileInfo(events[0]).Length > 0);
    }

    [Fact]
    public void Values_that_are_not_finite_are_written_as_such_and_read_back()
    {
        var log = new MetricsLog(folder.Path, "bits/byte", resumeStep: 0);
        log.Add(new MetricsRow(10, 1, double.NaN, double.PositiveInfinity, 1e-3, 1000, new Dictionary<string, double> { ["held-out bits/byte"] = double.NaN }));
        var line = File.ReadAllLines(folder.File("metrics.csv"))[1];
        Assert.Equal("10,1,NaN,Infinity,0.001,1000,held-out bits/byte=NaN", line);

        var resumed = new MetricsLog(folder.Path, "bits/byte", resumeStep: 10);
        Assert.True(double.IsNaN(Assert.Single(resumed.Rows).Loss));
    }

    [Fact]
    public void Results_with_values_that_are_not_finite_are_written_as_json_null()
    {
        var results = new AftLab.Commands.RunResults("byte-full", 1, "data", 3, 30, 1.5, double.NaN,
            new Dictionary<string, double> { ["held-out bits/byte"] = double.PositiveInfinity, ["other"] = 2.5 }, "aftlab train");
        var json = System.Text.Json.JsonSerializer.Serialize(results, AftLab.Runtime.FiniteJson.Indented);
        Assert.Contains("\"TrainMetric\": null", json);
        Assert.Contains("\"held-out bits/byte\": null", json);
        Assert.Contains("\"other\": 2.5", json);
    }

    public void Dispose() => folder.Dispose();
}
