using AftLab.Runtime;

namespace AftLab.Training.Checkpoints;

/// <summary>No checkpoint can be used: none verifies, or the one asked for does not fit the model.</summary>
public sealed class CheckpointException(string message, Exception? inner = null) : AftLabException(message, ExitCodes.NoCheckpoint, inner);

/// <summary>A checkpoint could not be written (a full disk): the previous one is intact and the partial one was removed.</summary>
public sealed class CheckpointWriteException(string message, Exception? inner = null) : AftLabException(message, ExitCodes.WriteFailed, inner);

/// <summary>A verified checkpoint chosen for resume, eval or sample: its folder, its state and its manifest.</summary>
public sealed record CheckpointSelection(string Path, TrainingState State, CheckpointManifest Manifest)
{
    public string Name => System.IO.Path.GetFileName(Path);
}
