using System.Diagnostics;
using System.Runtime.Versioning;
using AftLab.Tests.Support;
using Xunit;

namespace AftLab.Tests.Experiments;

/// <summary>
/// samples/AftLab/experiments.sh's retries, with a stand-in <c>dotnet</c> first on PATH that fails its first
/// <c>FAILS</c> trainings with <c>MESSAGE</c> on standard error (exit code 70, as the app's unexpected errors) and
/// counts the trainings it was asked for.
/// </summary>
[SupportedOSPlatform("linux")]                                              // a bash script, as CI runs it
public sealed class ExperimentsScriptTests : IDisposable
{
    readonly TemporaryFolder folder = new();

    public void Dispose() => folder.Dispose();

    static string Script
    {
        get
        {
            var here = new DirectoryInfo(AppContext.BaseDirectory);
            while (here is not null && !File.Exists(Path.Combine(here.FullName, "AftDsl.sln"))) here = here.Parent;
            return Path.Combine(here?.FullName ?? throw new InvalidOperationException("no AftDsl.sln above the test's folder"), "samples", "AftLab", "experiments.sh");
        }
    }

    (int ExitCode, string Output, int Trainings) Run(int fails, string message, string seeds)
    {
        var bin = Directory.CreateDirectory(folder.File("bin")).FullName;
        var counter = folder.File("trainings");
        File.WriteAllText(Path.Combine(bin, "dotnet"), $$"""
            #!/usr/bin/env bash
            case " $* " in
              *" train "*) n=$(cat '{{counter}}' 2>/dev/null || echo 0); echo $((n + 1)) > '{{counter}}'
                if [ "$n" -lt {{fails}} ]; then echo "Error: ExternalException: {{message}}" >&2; exit 70; fi ;;
            esac
            exit 0
            """.Replace("\r", ""));
        File.SetUnixFileMode(Path.Combine(bin, "dotnet"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { Script, "stand-in-model" }) start.ArgumentList.Add(argument);
        start.Environment["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH");
        start.Environment["SEEDS"] = seeds;
        start.Environment["OUT"] = folder.File("runs");
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(1)), "experiments.sh ran for more than a minute");
        var trainings = File.Exists(counter) ? int.Parse(File.ReadAllText(counter).Trim()) : 0;
        return (process.ExitCode, output + error.Result, trainings);
    }

    [Theory]
    [InlineData("Unknown scalar type")]
    [InlineData("Expected false to be true")]
    public void A_run_stopped_by_the_Scalar_race_runs_again_and_the_next_seed_follows(string message)
    {
        var (exitCode, output, trainings) = Run(fails: 1, message, seeds: "1 2");
        Assert.Equal(0, exitCode);
        Assert.Equal(3, trainings);                                         // seed 1 twice, seed 2 once
        Assert.Contains($"stand-in-model seed 1 stopped by TorchSharp's Scalar race ({message}); running it again (1 of 2)", output);
        Assert.Contains("running it again (1 of 2)", File.ReadAllText(folder.File("runs/retries.log")));
    }

    [Fact]
    public void The_retries_are_bounded()
    {
        var (exitCode, _, trainings) = Run(fails: 5, "Unknown scalar type", seeds: "1 2");
        Assert.NotEqual(0, exitCode);
        Assert.Equal(3, trainings);                                         // the first run and two retries, then it stops
    }

    [Fact]
    public void Any_other_failure_stops_the_script_at_once()
    {
        var (exitCode, output, trainings) = Run(fails: 1, "a shape error", seeds: "1 2");
        Assert.NotEqual(0, exitCode);
        Assert.Equal(1, trainings);
        Assert.Contains("a shape error", output);
        Assert.DoesNotContain("running it again", output);
    }
}
