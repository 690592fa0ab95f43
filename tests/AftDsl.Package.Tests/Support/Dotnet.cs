using System.Diagnostics;
using System.Reflection;
using AftDsl.Tests.Shared;

namespace AftDsl.Package.Tests.Support;

/// <summary>The dotnet CLI, run to completion with a timeout; its output is kept for failure messages.</summary>
public static class Dotnet
{
    /// <summary>The repository's root folder, as the test project was built from it.</summary>
    public static string RepositoryRoot => Metadata("RepositoryRoot");

    /// <summary>The configuration the tests (and so src/AftDsl, which they reference) were built in.</summary>
    public static string Configuration => Metadata("Configuration");

    static string Metadata(string key) =>
        typeof(Dotnet).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    // The dotnet that runs the tests (dotnet test sets DOTNET_HOST_PATH), so that the consumers build with the same SDK.
    static string Host => System.Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    /// <summary>Runs <c>dotnet <paramref name="arguments"/></c>; <paramref name="environment"/> adds or overrides variables.</summary>
    public static (int ExitCode, string Output) Run(string arguments, string workingDirectory, TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var watch = Stopwatch.StartNew();
        var (code, output) = ProcessRunner.Run(Host, arguments, workingDirectory, timeout, environment);
        return (code, $"$ dotnet {arguments}  ({watch.Elapsed.TotalSeconds:0.0} s, exit code {code})\n{output}");
    }

    /// <summary>As <see cref="Run"/>, failing with the command's output unless it exits with 0.</summary>
    public static string Succeed(string arguments, string workingDirectory, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var (code, output) = Run(arguments, workingDirectory, timeout, environment);
        return code == 0 ? output : throw new InvalidOperationException($"'dotnet {arguments}' failed:\n{output}");
    }
}
