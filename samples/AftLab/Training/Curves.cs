using AftLab.Runtime;
using ScottPlot;

namespace AftLab.Training;

/// <summary>The learning curve as a PNG: the training metric by step, and the held-out metrics where they were measured.</summary>
public static class Curves
{
    public static string Save(IReadOnlyList<MetricsRow> rows, string metric, string title, string path)
    {
        var plot = new Plot();
        if (rows.Count > 0)
        {
            var train = plot.Add.Scatter(rows.Select(r => (double)r.Step).ToArray(), rows.Select(r => r.Metric).ToArray());
            train.LegendText = $"train {metric}";
            train.MarkerSize = 0;
            foreach (var name in rows.SelectMany(r => r.Evaluation.Keys).Distinct())
            {
                var points = rows.Where(r => r.Evaluation.ContainsKey(name)).ToList();
                var held = plot.Add.Scatter(points.Select(r => (double)r.Step).ToArray(), points.Select(r => r.Evaluation[name]).ToArray());
                held.LegendText = name;
                held.MarkerSize = 7;
            }
        }
        plot.Axes.Bottom.Label.Text = "step";
        plot.Axes.Left.Label.Text = metric;
        plot.Title(title);
        plot.ShowLegend(Alignment.UpperRight);
        AtomicFile.Write(path, temporary => plot.SavePng(temporary, 1000, 650));
        return path;
    }
}
