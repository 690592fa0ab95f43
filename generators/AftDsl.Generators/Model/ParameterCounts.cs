namespace AftDsl.Generators.Model;

/// <summary>
/// Trainable parameters, as TorchSharp counts them, in checked long arithmetic: a size whose count does not fit a
/// long throws <see cref="OverflowException"/>, which the parsers turn into AFT0104 (so the emitters, which
/// call these on checked specs, never see it).
/// </summary>
internal static class ParameterCounts
{
    /// <summary>
    /// A mixer at width <paramref name="dim"/>: linear layers carry weights and biases; AFT-full/local add both
    /// [MaxLength, FactorRank] factors, AFT-conv its kernel and, when reparameterised, per-head γ, β.
    /// </summary>
    public static long Mixer(MixerSpec spec, long dim)
    {
        checked
        {
            if (spec.Kind == MixerKind.Attention)
                return 4 * Linear(dim, dim);
            if (spec.Kind == MixerKind.Conv)
            {
                var taps = spec.Grid ? (long)spec.Window * spec.Window : spec.Window;
                return 3 * Linear(dim, dim) + Linear(dim, spec.Heads) + spec.Heads * taps + (spec.Reparameterise ? 2L * spec.Heads : 0);
            }
            var hidden = (long?)spec.HiddenDim ?? dim;
            var bias = spec.HasFactorisedBias ? 2L * spec.MaxLength * spec.FactorRank : 0;
            return 3 * Linear(dim, hidden) + Linear(hidden, dim) + bias;
        }
    }

    /// <summary>One stage of a model.</summary>
    public static long Stage(StageSpec stage, InputSpec input)
    {
        checked
        {
            long dim = stage.Dim;
            return stage switch
            {
                EmbeddingStage => input.Vocab * dim,
                PatchEmbeddingStage patch => (long)input.Channels * patch.Patch * patch.Patch * dim + dim,
                PositionEmbeddingStage positions => positions.Positions.Aggregate(1L, (a, b) => checked(a * b)),
                BlocksStage blocks => blocks.Depth * (4 * dim + Mixer(blocks.Mixer, dim) + 2 * blocks.Hidden * dim + blocks.Hidden + dim),
                FinalNormStage => 2 * dim,
                LogitsStage logits => dim * logits.Classes + logits.Classes,
                ClassifierHeadStage head => dim * head.Classes + head.Classes,
                _ => throw new ArgumentOutOfRangeException(nameof(stage), stage.GetType().Name, "a stage kind without a parameter count"),
            };
        }
    }

    static long Linear(long inputs, long outputs) => checked(inputs * outputs + outputs);
}
