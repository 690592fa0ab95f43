namespace AftLab.Runtime;

/// <summary>
/// The exit codes of aftlab, one per kind of failure, so that scripts can tell a typo from bad data from a busy
/// run folder (the values follow BSD's sysexits.h where one fits). docs/aftlab.md lists them.
/// </summary>
public static class ExitCodes
{
    /// <summary>Done, including a resume of a run that had already finished.</summary>
    public const int Success = 0;

    /// <summary>Any other failure that has a clear message (an unusable model or device choice, a shape error).</summary>
    public const int Failure = 1;

    /// <summary>Training stopped because the loss or the gradient stopped being finite; the last good checkpoint is kept.</summary>
    public const int Diverged = 2;

    /// <summary>The command line: an unknown verb or option, a value out of range, an option that does not apply.</summary>
    public const int Usage = 64;

    /// <summary>A data file is missing, damaged, or too small for the model.</summary>
    public const int DataError = 65;

    /// <summary>No checkpoint that verifies (for eval, sample, or a resume that has checkpoints and none usable).</summary>
    public const int NoCheckpoint = 66;

    /// <summary>An unexpected error: a bug. The message says how to see the stack trace.</summary>
    public const int Internal = 70;

    /// <summary>The run folder cannot be used: not a run folder, not creatable, or not writable.</summary>
    public const int CannotCreate = 73;

    /// <summary>Writing failed (a full disk): the previous checkpoint is kept and no partial checkpoint is left.</summary>
    public const int WriteFailed = 74;

    /// <summary>Another trainer is writing to the same run folder.</summary>
    public const int Busy = 75;
}

/// <summary>A failure with a message meant for the user and the exit code that classifies it; printed in one line, without a stack trace.</summary>
public class AftLabException(string message, int exitCode, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
}
