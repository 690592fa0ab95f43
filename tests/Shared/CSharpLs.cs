namespace AftDsl.Tests.Shared;

/// <summary>
/// csharp-ls 0.28.0, a Roslyn-based language server, installed once as a dotnet tool from NuGet into a folder
/// of the temp directory (or taken from AFTDSL_CSHARP_LS, a path to its executable). Linked into the test projects
/// that use it.
/// </summary>
internal static class CSharpLs
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
        var (code, output) = ProcessRunner.Run("dotnet", $"tool install csharp-ls --version {Version} --tool-path \"{folder}\"",
            System.IO.Path.GetTempPath(), TimeSpan.FromMinutes(4));
        if (code != 0 || !File.Exists(executable))
            throw new InvalidOperationException($"could not install csharp-ls {Version} from NuGet (exit code {code}); the test needs it:\n{output}");
        return executable;
    }
}
