namespace AftLab.Training;

/// <summary>Where training stood when a checkpoint was written.</summary>
/// <param name="Context">The byte models' sequence length T, which eval and sample reuse; 0 for other families.</param>
public sealed record TrainingState(string Model, int Step, double ElapsedSeconds, long Tokens, int Seed, int Context = 0);
