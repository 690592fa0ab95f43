using System.Diagnostics;

namespace AftLab.Tests.Interop;

/// <summary>
/// Runs Python with PyTorch: Debian's /usr/bin/python3, where <c>apt-get install python3-torch</c> puts torch (a
/// python3 earlier on PATH, such as pyenv's, usually has none). AFTDSL_PYTHON names another interpreter.
/// </summary>
public static class PyTorchProcess
{
    public static string Python => Environment.GetEnvironmentVariable("AFTDSL_PYTHON") is { Length: > 0 } python ? python : "/usr/bin/python3";

    /// <summary>Runs <paramref name="script"/> with <paramref name="arguments"/>; fails the test, with all the output, unless it exits 0.</summary>
    public static string Run(string script, TimeSpan timeout, params string[] arguments)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        using var process = Process.Start(start)
            ?? throw new InvalidOperationException($"could not start {Python}: install Debian's python3-torch (apt-get install -y python3-torch), or set AFTDSL_PYTHON.");
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Python} {script} ran for more than {timeout.TotalSeconds:0} s.\n{output.Result}{error.Result}");
        }
        var text = output.Result + error.Result;
        if (process.ExitCode != 0)
            throw new InvalidOperationException(
                $"{Python} {script} exited {process.ExitCode}" +
                (text.Contains("No module named 'torch'") ? " (no PyTorch there: apt-get install -y python3-torch, or set AFTDSL_PYTHON)" : "") + $":\n{text}");
        return text;
    }
}
