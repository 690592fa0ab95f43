using System.Diagnostics;
using System.Text;

namespace AftDsl.Generators.Tests.LanguageServer;

/// <summary>Runs a command to completion with a timeout, keeping its output for the failure message.</summary>
public static class Tools
{
    public static (int ExitCode, string Output) Run(string file, string arguments, string workingDirectory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["DOTNET_CLI_UI_LANGUAGE"] = "en";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{file} {arguments}' did not finish within {timeout.TotalSeconds:0} s:\n{output}");
        }
        process.WaitForExit();
        lock (output) return (process.ExitCode, output.ToString());
    }
}

/// <summary>
/// csharp-ls 0.28.0, a Roslyn-based language server, installed once as a dotnet tool from NuGet into a folder
/// of the temp directory (or taken from AFTDSL_CSHARP_LS, a path to its executable).
/// </summary>
public static class CSharpLs
{
    public const string Version = "0.28.0";

    static readonly Lazy<string> Executable = new(Install);

    public static string Path => Executable.Value;

    static string Install()
    {
        if (Environment.GetEnvironmentVariable("AFTDSL_CSHARP_LS") is { Length: > 0 } given)
            return File.Exists(given) ? given : throw new FileNotFoundException($"AFTDSL_CSHARP_LS names {given}, which does not exist");
        var folder = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"aftdsl-csharp-ls-{Version}");
        var executable = System.IO.Path.Combine(folder, OperatingSystem.IsWindows() ? "csharp-ls.exe" : "csharp-ls");
        if (File.Exists(executable))
            return executable;
        var (code, output) = Tools.Run("dotnet", $"tool install csharp-ls --version {Version} --tool-path \"{folder}\"",
            System.IO.Path.GetTempPath(), TimeSpan.FromMinutes(4));
        if (code != 0 || !File.Exists(executable))
            throw new InvalidOperationException($"could not install csharp-ls {Version} from NuGet (exit code {code}); the test needs it:\n{output}");
        return executable;
    }
}
