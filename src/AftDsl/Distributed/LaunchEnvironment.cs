using System.Globalization;

namespace AftDsl.Distributed;

/// <summary>
/// Where this process stands among the processes of one data-parallel job, read from the launcher's environment:
/// Open MPI's <c>mpirun</c> first (<c>OMPI_COMM_WORLD_*</c>), then a torchrun-style environment (<c>RANK</c>,
/// <c>WORLD_SIZE</c>, <c>LOCAL_RANK</c>, <c>MASTER_ADDR</c>, <c>MASTER_PORT</c>); neither means one process.
/// </summary>
/// <param name="Launcher">What started the process.</param>
/// <param name="Rank">This process's index, 0 to <paramref name="WorldSize"/> − 1; rank 0 is the one that writes.</param>
/// <param name="WorldSize">How many processes train together.</param>
/// <param name="LocalRank">This process's index among those on its host: the GPU it uses.</param>
/// <param name="MasterAddress">torchrun-style only: the host that serves NCCL's unique id to the others.</param>
/// <param name="MasterPort">torchrun-style only: the TCP port on <paramref name="MasterAddress"/>.</param>
public sealed record LaunchEnvironment(Launcher Launcher, int Rank, int WorldSize, int LocalRank, string? MasterAddress = null, int? MasterPort = null)
{
    /// <summary>One process, no launcher.</summary>
    public static LaunchEnvironment Single { get; } = new(Launcher.None, 0, 1, 0);

    /// <summary>This process's environment.</summary>
    /// <exception cref="DistributedException">A launcher's variables are present but incomplete or out of range.</exception>
    public static LaunchEnvironment Current() => Parse(Environment.GetEnvironmentVariable);

    /// <summary>The launch described by <paramref name="variable"/> (a lookup of environment variables).</summary>
    /// <exception cref="DistributedException">A launcher's variables are present but incomplete or out of range.</exception>
    public static LaunchEnvironment Parse(Func<string, string?> variable)
    {
        if (Present(variable, "OMPI_COMM_WORLD_SIZE") || Present(variable, "OMPI_COMM_WORLD_RANK"))
        {
            const string how = "mpirun sets these for every process it starts: launch with mpirun -np N, or unset them";
            var size = Whole(variable, "OMPI_COMM_WORLD_SIZE", 1, how);
            var rank = Whole(variable, "OMPI_COMM_WORLD_RANK", 0, how);
            var local = Present(variable, "OMPI_COMM_WORLD_LOCAL_RANK") ? Whole(variable, "OMPI_COMM_WORLD_LOCAL_RANK", 0, how) : rank;
            return Checked(new LaunchEnvironment(Launcher.Mpirun, rank, size, local), "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE");
        }
        if (Present(variable, "PMI_SIZE") && !Present(variable, "WORLD_SIZE"))
            throw new DistributedException(
                "PMI_SIZE is set, so this looks like an MPICH or Intel MPI launcher; data-parallel training here binds Open MPI (libmpi.so.40): " +
                "launch with Open MPI's mpirun (Debian: apt-get install openmpi-bin libopenmpi-dev), or use a torchrun-style environment on GPUs.");
        if (Present(variable, "WORLD_SIZE") || Present(variable, "RANK"))
        {
            const string how = "a torchrun-style launch sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT for every process";
            var size = Whole(variable, "WORLD_SIZE", 1, how);
            var rank = Whole(variable, "RANK", 0, how);
            var local = Present(variable, "LOCAL_RANK") ? Whole(variable, "LOCAL_RANK", 0, how) : rank;
            string? address = null;
            int? port = null;
            if (size > 1)
            {
                address = variable("MASTER_ADDR") is { Length: > 0 } a ? a.Trim()
                    : throw new DistributedException($"WORLD_SIZE is {size} but MASTER_ADDR is not set: {how} (MASTER_ADDR is rank 0's host).");
                port = Whole(variable, "MASTER_PORT", 1, how);
                if (port > 65535) throw new DistributedException($"MASTER_PORT is {port}: a TCP port is 1 to 65535.");
            }
            return Checked(new LaunchEnvironment(Launcher.Torchrun, rank, size, local, address, port), "RANK", "WORLD_SIZE");
        }
        return Single;
    }

    /// <summary>A one-line description, e.g. <c>rank 1 of 2 (mpirun)</c>.</summary>
    public override string ToString() => Launcher == Launcher.None ? "one process (no launcher)" : $"rank {Rank} of {WorldSize} ({Launcher.ToString().ToLowerInvariant()})";

    static bool Present(Func<string, string?> variable, string name) => !string.IsNullOrWhiteSpace(variable(name));

    static int Whole(Func<string, string?> variable, string name, int minimum, string how)
    {
        var text = variable(name);
        if (string.IsNullOrWhiteSpace(text))
            throw new DistributedException($"{name} is not set: {how}.");
        if (!int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < minimum)
            throw new DistributedException($"{name} is '{text}': expected a whole number of at least {minimum} ({how}).");
        return value;
    }

    static LaunchEnvironment Checked(LaunchEnvironment launch, string rankName, string sizeName) =>
        launch.Rank < launch.WorldSize ? launch
            : throw new DistributedException($"{rankName} is {launch.Rank} but {sizeName} is {launch.WorldSize}: a rank is 0 to {sizeName} − 1.");
}
