using System.Globalization;

namespace AftDsl.Distributed;

/// <summary>How <see cref="DataParallel"/> groups gradients and how long it waits for the other ranks.</summary>
public sealed record DataParallelOptions
{
    /// <summary>The environment variable that sets <see cref="CollectiveTimeout"/> in seconds.</summary>
    public const string TimeoutVariable = "AFTDSL_COLLECTIVE_TIMEOUT";

    /// <summary>The default bucket: 25 MiB, PyTorch DDP's default, large enough that each reduction's fixed cost is small.</summary>
    public const long DefaultBucketBytes = 25L << 20;

    /// <summary>Gradients are copied into flat buffers of about this many bytes (one parameter larger than this gets its own), one reduction each.</summary>
    public long BucketBytes { get; init; } = DefaultBucketBytes;

    /// <summary>
    /// The longest one collective may wait for the other ranks before the job is ended (default: 300 s, or
    /// <c>AFTDSL_COLLECTIVE_TIMEOUT</c> seconds). It bounds the time a dead or stuck rank keeps the others waiting; it must be
    /// longer than anything one rank does alone between steps (rank 0's evaluations and checkpoints).
    /// </summary>
    public TimeSpan CollectiveTimeout { get; init; } = TimeoutFromEnvironment(Environment.GetEnvironmentVariable);

    /// <summary>The exit code of every rank when the watchdog ends the job.</summary>
    public int TimeoutExitCode { get; init; } = 1;

    /// <summary>What a timeout does with its message; null: print it on standard error and end the job (MPI_Abort under mpirun).</summary>
    public Action<string>? OnTimeout { get; init; }

    /// <summary>The timeout <paramref name="variable"/> gives (<c>AFTDSL_COLLECTIVE_TIMEOUT</c> in seconds), else 300 s.</summary>
    /// <exception cref="DistributedException">The variable is set to something other than a positive number of seconds.</exception>
    public static TimeSpan TimeoutFromEnvironment(Func<string, string?> variable)
    {
        var text = variable(TimeoutVariable);
        if (string.IsNullOrWhiteSpace(text)) return TimeSpan.FromSeconds(300);
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0 && seconds <= 7 * 24 * 3600
            ? TimeSpan.FromSeconds(seconds)
            : throw new DistributedException($"{TimeoutVariable} is '{text}': expected the seconds a collective may wait, a number above 0 (at most a week).");
    }
}
