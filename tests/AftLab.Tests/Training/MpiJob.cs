using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace AftLab.Tests.Training;

/// <summary>
/// The built app (aftlab.dll) run by N ranks under Open MPI's mpirun, as CI does: <c>mpirun --allow-run-as-root
/// --oversubscribe -np N dotnet aftlab.dll …</c>. Without mpirun a test fails and says what to install.
/// </summary>
public sealed class MpiJob : IDisposable
{
    readonly StringBuilder output = new();

    MpiJob(Process process) => Process = process;

    /// <summary>mpirun's process; the ranks are its children.</summary>
    public Process Process { get; }

    /// <summary>Everything printed so far (all ranks, standard output and error).</summary>
    public string Output
    {
        get { lock (output) return output.ToString(); }
    }

    static string App => typeof(MpiJob).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "AftLabApp").Value!;

    static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    /// <summary>mpirun's path on PATH; fails the test when Open MPI is not installed.</summary>
    public static string MpiRun =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, "mpirun")).FirstOrDefault(File.Exists)
        ?? throw new Xunit.Sdk.XunitException("mpirun was not found on PATH: the data-parallel tests need Open MPI. Install it with " +
                                              "apt-get install openmpi-bin libopenmpi-dev (.ci/run does).");

    /// <summary>Starts <paramref name="ranks"/> ranks of <c>aftlab <paramref name="arguments"/></c>.</summary>
    public static MpiJob Start(int ranks, string workingFolder, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var start = new ProcessStartInfo(MpiRun) { WorkingDirectory = workingFolder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "--allow-run-as-root", "--oversubscribe", "-np", ranks.ToString(System.Globalization.CultureInfo.InvariantCulture), Dotnet, App })
            start.ArgumentList.Add(argument);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        var job = new MpiJob(Process.Start(start)!);
        job.Process.OutputDataReceived += (_, e) => { lock (job.output) job.output.AppendLine(e.Data); };
        job.Process.ErrorDataReceived += (_, e) => { lock (job.output) job.output.AppendLine(e.Data); };
        job.Process.BeginOutputReadLine();
        job.Process.BeginErrorReadLine();
        return job;
    }

    /// <summary>Runs to the end (at most <paramref name="timeout"/>) and returns mpirun's exit code and all output.</summary>
    public static (int ExitCode, string Output) Run(int ranks, string workingFolder, IReadOnlyDictionary<string, string>? environment, TimeSpan timeout, params string[] arguments)
    {
        using var job = Start(ranks, workingFolder, environment, arguments);
        return job.WaitForExit(timeout)
            ? (job.Process.ExitCode, job.Output)
            : throw new TimeoutException($"mpirun -np {ranks} aftlab {string.Join(" ", arguments)} ran for more than {timeout.TotalSeconds:0} s:\n{job.Output}");
    }

    /// <summary>Waits for mpirun to end; false if it is still running after <paramref name="timeout"/>.</summary>
    public bool WaitForExit(TimeSpan timeout)
    {
        if (!Process.WaitForExit(timeout)) return false;
        Process.WaitForExit();                                              // the output's last lines
        return true;
    }

    /// <summary>The process id of rank <paramref name="rank"/> (a child of mpirun, found by its OMPI_COMM_WORLD_RANK), or null if not started yet.</summary>
    public int? RankProcess(int rank)
    {
        foreach (var child in Children(Process.Id))
        {
            try
            {
                var environment = File.ReadAllText($"/proc/{child}/environ").Split('\0');
                if (environment.Contains($"OMPI_COMM_WORLD_RANK={rank}")) return child;
            }
            catch (IOException) { }                                          // ended meanwhile
            catch (UnauthorizedAccessException) { }
        }
        return null;
    }

    static IEnumerable<int> Children(int pid)
    {
        var tasks = $"/proc/{pid}/task";
        if (!Directory.Exists(tasks)) return [];
        var children = new List<int>();
        foreach (var task in Directory.GetDirectories(tasks))
        {
            try
            {
                children.AddRange(File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse));
            }
            catch (IOException) { }
        }
        return children.Distinct();
    }

    /// <summary>Sends <paramref name="signal"/> (kill's name for it: KILL, STOP) to one process.</summary>
    public static void Signal(int pid, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", $"-{signal} {pid}") { RedirectStandardError = true })!;
        kill.WaitForExit();
        Assert.True(kill.ExitCode == 0, $"kill -{signal} {pid} failed: {kill.StandardError.ReadToEnd()}");
    }

    /// <summary>Kills mpirun and every rank at once with SIGKILL: nothing of the job runs a handler.</summary>
    public void KillAll()
    {
        if (!Process.HasExited) Process.Kill(entireProcessTree: true);
        Process.WaitForExit();
    }

    public void Dispose()
    {
        try { KillAll(); }
        catch (InvalidOperationException) { }
        Process.Dispose();
    }
}
