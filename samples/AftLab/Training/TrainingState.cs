namespace AftLab.Training;

/// <summary>Where training stood when a checkpoint was written.</summary>
/// <param name="Context">The byte models' sequence length T, which eval and sample reuse; 0 for other families.</param>
/// <param name="WorldSize">How many data-parallel processes trained it (1: one process; older checkpoints have none and read as 1).
/// A resume must use as many: each rank's share of a batch depends on it.</param>
/// <param name="Dtype">What the steps ran in: "float32", or "bfloat16" (mixed precision; the weights are float32 either way). Older
/// checkpoints have none and read as float32; null for weights no step has trained yet (<c>aftlab import</c> into a new run), which
/// any --dtype may resume. A resume must use the same: another would not continue the same run.</param>
public sealed record TrainingState(string Model, int Step, double ElapsedSeconds, long Tokens, int Seed, int Context = 0, int WorldSize = 1,
    string? Dtype = Runtime.DtypeChoice.Float32);
