namespace AftLab.Training;

/// <summary>Where training stood when a checkpoint was written.</summary>
/// <param name="Context">The byte models' sequence length T, which eval and sample reuse; 0 for other families.</param>
/// <param name="WorldSize">How many data-parallel processes trained it (1: one process; older checkpoints have none and read as 1).
/// A resume must use as many: each rank's share of a batch depends on it.</param>
public sealed record TrainingState(string Model, int Step, double ElapsedSeconds, long Tokens, int Seed, int Context = 0, int WorldSize = 1);
