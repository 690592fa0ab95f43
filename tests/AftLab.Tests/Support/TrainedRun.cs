using System.Globalization;

namespace AftLab.Tests.Support;

/// <summary>
/// One tiny byte-simple run, trained once per test class (a class fixture, so that classes can run side by side) (3 steps, a checkpoint after each, so that
/// checkpoint-000002 and checkpoint-000003 are kept), and copied into each test's own folder to be damaged there.
/// </summary>
public sealed class TrainedRun : IDisposable
{
    public const string Model = "byte-simple";
    readonly TemporaryFolder folder = new();

    /// <summary>
    /// 30 kB of dictionary-like text, so that loading, training and the held-out evaluation take little time: these
    /// tests are about runs, not data. Written once per test process and removed when it exits.
    /// </summary>
    public static string DataFile => Data.Value;

    static readonly Lazy<string> Data = new(() =>
    {
        var path = Path.Combine(Path.GetTempPath(), $"aftlab-tests-text-{System.Environment.ProcessId}.txt");
        File.WriteAllText(path, string.Concat(Enumerable.Range(0, 2000).Select(i => $"Word{i} \\Word\\, n. Entry {i}.\n"))[..30_000]);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => File.Delete(path);
        return path;
    });

    public TrainedRun()
    {
        var (code, output) = AftLabProcess.Run(folder.Path, Environment(folder.Path), Train(folder.File("run"), steps: 3, checkpointMinutes: 1e-6));
        Assert.True(code == 0, output);
    }

    /// <summary>No Debian data packages: the same behaviour on every machine.</summary>
    public static Dictionary<string, string> Environment(string root, params (string Name, string Value)[] more)
    {
        var environment = new Dictionary<string, string> { ["AFTLAB_PACKAGE_ROOT"] = Path.Combine(root, "no-packages") };
        foreach (var (name, value) in more) environment[name] = value;
        return environment;
    }

    /// <summary>A train command line for <paramref name="output"/>: tiny batches and context, no continuation.</summary>
    public static string[] Train(string output, int steps, bool resume = false, double checkpointMinutes = 10, string model = Model) =>
    [
        "train", "--model", model, "--steps", steps.ToString(CultureInfo.InvariantCulture), "--minutes", "30", "--batch", "2", "--context", "16",
        "--checkpoint-minutes", checkpointMinutes.ToString(CultureInfo.InvariantCulture), "--sample-bytes", "0", "--output", output, "--data", DataFile,
        .. resume ? new[] { "--resume" } : [],
    ];

    /// <summary>An eval command line for <paramref name="output"/> on the same data.</summary>
    public static string[] Eval(string output, string model = Model) => ["eval", "--model", model, "--output", output, "--batch", "2", "--data", DataFile];

    /// <summary>A fresh copy of the trained run folder at <paramref name="target"/>.</summary>
    public string CopyTo(string target)
    {
        Copy(folder.File("run"), target);
        return target;
    }

    static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var sub in Directory.GetDirectories(from)) Copy(sub, Path.Combine(to, Path.GetFileName(sub)));
    }

    public void Dispose() => folder.Dispose();
}

/// <summary>What every failure of the app must look like: the documented exit code and one message, no stack trace.</summary>
public static class Outcome
{
    public static void Fails(int expectedCode, string fragment, (int Code, string Output) result)
    {
        Assert.True(result.Code == expectedCode, $"exit code {result.Code}, expected {expectedCode}:\n{result.Output}");
        Assert.Contains(fragment, result.Output.ReplaceLineEndings(" ").Replace("  ", " "));
        Assert.DoesNotContain("   at ", result.Output);                      // a stack frame
        Assert.DoesNotContain("Exception:", result.Output);
    }

    public static void Succeeds((int Code, string Output) result) => Assert.True(result.Code == 0, result.Output);
}
