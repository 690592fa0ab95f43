using System.Diagnostics;
using System.Reflection;

namespace AftLab.Tests.Support;

/// <summary>Runs the built app (aftlab.dll) as a user would, in its own process, so that it can be killed.</summary>
public static class AftLabProcess
{
    static string App => typeof(AftLabProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "AftLabApp").Value!;

    static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    public static Process Start(string workingFolder, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var process = Process.Start(Info(workingFolder, environment, arguments))!;
        process.BeginOutputReadLine();                                      // drain the pipes so that the child never blocks on them
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Runs to the end and returns the exit code with everything it printed.</summary>
    public static (int ExitCode, string Output) Run(string workingFolder, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        using var process = Process.Start(Info(workingFolder, environment, arguments))!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"aftlab {string.Join(" ", arguments)} ran for more than 5 minutes.\n{output}");
        }
        return (process.ExitCode, output + error.Result);
    }

    static ProcessStartInfo Info(string workingFolder, IReadOnlyDictionary<string, string>? environment, string[] arguments)
    {
        var start = new ProcessStartInfo(Dotnet) { WorkingDirectory = workingFolder, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(App);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        return start;
    }
}
