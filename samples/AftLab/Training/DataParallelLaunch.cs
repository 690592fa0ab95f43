using AftDsl.Distributed;
using AftLab.Runtime;
using Spectre.Console;
using TorchSharp;

namespace AftLab.Training;

/// <summary>
/// How aftlab's verbs join a data-parallel job: the launcher's environment, the device of each rank (cuda means
/// cuda:LOCAL_RANK), the <see cref="DataParallel"/> itself, and a console that stays quiet on every rank but 0.
/// Failures of the distributed layer become one-line errors with aftlab's exit code for them.
/// </summary>
public static class DataParallelLaunch
{
    /// <summary>The launcher's environment (mpirun's or torchrun-style), or one process.</summary>
    public static LaunchEnvironment Environment()
    {
        try
        {
            return LaunchEnvironment.Current();
        }
        catch (DistributedException e)
        {
            throw AsError(e);
        }
    }

    /// <summary>
    /// The device this rank trains on: a bare <c>cuda</c> becomes the rank's own GPU, <c>cuda:LOCAL_RANK</c>, unless
    /// <c>CUDA_VISIBLE_DEVICES</c> shows the process a single GPU (one per rank, as schedulers often give), which is <c>cuda:0</c>.
    /// </summary>
    public static string DeviceFor(string device, LaunchEnvironment launch) =>
        DeviceFor(device, launch, System.Environment.GetEnvironmentVariable("CUDA_VISIBLE_DEVICES"));

    /// <summary><see cref="DeviceFor(string, LaunchEnvironment)"/> for the given value of <c>CUDA_VISIBLE_DEVICES</c>.</summary>
    public static string DeviceFor(string device, LaunchEnvironment launch, string? visibleDevices)
    {
        if (launch.Launcher == Launcher.None || !device.Trim().Equals("cuda", StringComparison.OrdinalIgnoreCase)) return device;
        var visible = visibleDevices?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Length;
        return visible == 1 ? "cuda:0" : $"cuda:{launch.LocalRank}";
    }

    /// <summary>The job this process is a rank of, or null when no launcher started it.</summary>
    public static DataParallel? Join(LaunchEnvironment launch, torch.Device device) =>
        launch.Launcher == Launcher.None ? null : Create(launch, device);

    /// <summary>A <see cref="DataParallel"/> for <paramref name="launch"/>, launcher or not (world size 1 without one).</summary>
    public static DataParallel Create(LaunchEnvironment launch, torch.Device device)
    {
        try
        {
            return DataParallel.Create(launch, device, new DataParallelOptions { TimeoutExitCode = ExitCodes.Failure });
        }
        catch (DistributedException e)
        {
            throw AsError(e);
        }
    }

    /// <summary>
    /// What a verb does to take part in a job: reads the launcher's environment, quiets the console of ranks other than 0,
    /// binds the rank's device, joins the job (always, or only under a launcher) and runs <paramref name="body"/>. If the body
    /// fails, this rank abandons the job so that it exits at once and the launcher ends the others; a distributed failure
    /// becomes aftlab's one-line error.
    /// </summary>
    public static int Run(string device, string? libTorch, bool alwaysJoin, Func<torch.Device, DataParallel?, int> body)
    {
        var launch = Environment();
        PrepareConsole(launch);                                             // other ranks print nothing but errors (on standard error)
        var bound = DeviceBinding.Use(DeviceFor(device, launch), libTorch);
        using var parallel = alwaysJoin ? Create(launch, bound) : Join(launch, bound);
        try
        {
            return body(bound, parallel);
        }
        catch (Exception e) when (parallel is not null)
        {
            parallel.Abandon();
            if (e is DistributedException distributed) throw AsError(distributed);
            throw;
        }
    }

    /// <summary>A distributed failure as the one-line error aftlab prints.</summary>
    public static AftLabException AsError(DistributedException e) => new(e.Message, ExitCodes.Failure, e);

    /// <summary>
    /// Ranks other than 0 print nothing but errors (which go to standard error). mpirun gives each rank a pseudo-terminal
    /// of no real width, which Spectre takes for 80 columns: lines are kept whole instead, as for redirected output.
    /// </summary>
    public static void PrepareConsole(LaunchEnvironment launch)
    {
        if (launch.Rank != 0) SilenceConsole();
        else if (launch.Launcher == Launcher.Mpirun) AnsiConsole.Profile.Width = 240;
    }

    static void SilenceConsole()
    {
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null) });
        Console.SetOut(TextWriter.Null);
    }
}
