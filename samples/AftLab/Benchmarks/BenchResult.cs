using System.Globalization;

namespace AftLab.Benchmarks;

/// <summary>
/// One row of the results: a case (or a peer measured elsewhere, such as PyTorch) with its median time
/// and spread from BenchmarkDotNet, and its peak memory; or the reason it was not run. On a GPU,
/// <see cref="HostMs"/> is the median time the CPU took to queue one run: a run whose host time is near its GPU
/// time is bound by its launches, not by its kernels.
/// </summary>
public sealed record BenchResult(
    string Variant,
    string Implementation,
    long Length,
    long Batch,
    bool Causal,
    string Pass,
    string Dtype,
    double? MedianMs,
    double? Q1Ms,
    double? Q3Ms,
    int Samples,
    double? PeakMiB,
    string Status,
    BenchCase? Case = null,
    double? HostMs = null)
{
    public string Key => string.Join("|", Variant, Implementation, Length.ToString(CultureInfo.InvariantCulture), Causal ? "causal" : "full", Pass);

    public static string Header => "variant,implementation,T,B,causal,pass,dtype,median_ms,q1_ms,q3_ms,samples,peak_mib,status,host_ms";

    public string ToCsv() => string.Join(",",
        Variant, Implementation, Length.ToString(CultureInfo.InvariantCulture), Batch.ToString(CultureInfo.InvariantCulture),
        Causal ? "true" : "false", Pass, Dtype, Number(MedianMs), Number(Q1Ms), Number(Q3Ms),
        Samples.ToString(CultureInfo.InvariantCulture), Number(PeakMiB), Quote(Status), Number(HostMs));

    /// <summary>Reads a row written by <see cref="ToCsv"/> or by the PyTorch peer script (same columns; host_ms may be absent).</summary>
    public static BenchResult Parse(string line)
    {
        var f = SplitCsv(line);
        double? D(string s) => s.Length == 0 ? null : double.Parse(s, CultureInfo.InvariantCulture);
        return new BenchResult(f[0], f[1], long.Parse(f[2], CultureInfo.InvariantCulture), long.Parse(f[3], CultureInfo.InvariantCulture),
            f[4] == "true", f[5], f[6], D(f[7]), D(f[8]), D(f[9]), int.Parse(f[10], CultureInfo.InvariantCulture), D(f[11]), f[12],
            HostMs: f.Count > 13 ? D(f[13]) : null);
    }

    static string Number(double? value) => value?.ToString("0.####", CultureInfo.InvariantCulture) ?? "";

    static string Quote(string text) => text.Contains(',') || text.Contains('"') ? "\"" + text.Replace("\"", "\"\"") + "\"" : text;

    static List<string> SplitCsv(string line)
    {
        var fields = new List<string>();
        var current = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var ch = line[i];
            if (quoted && ch == '"' && i + 1 < line.Length && line[i + 1] == '"') { current.Append('"'); i++; }
            else if (ch == '"') quoted = !quoted;
            else if (ch == ',' && !quoted) { fields.Add(current.ToString()); current.Clear(); }
            else current.Append(ch);
        }
        fields.Add(current.ToString());
        return fields;
    }
}
