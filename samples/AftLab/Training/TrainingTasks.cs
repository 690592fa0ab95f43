using AftLab.Data;
using AftLab.Models;
using AftLab.Runtime;

namespace AftLab.Training;

/// <summary>Per family: the data, the task, and the defaults a user can override.</summary>
public static class TrainingTasks
{
    public static int DefaultBatch(ModelFamily family) => family switch { ModelFamily.ByteLm => 16, ModelFamily.Pixel => 8, _ => 64 };

    public static double DefaultLearningRate(ModelFamily family) => family == ModelFamily.Classifier ? 1e-3 : 2e-3;

    /// <summary>The task for <paramref name="entry"/> on its data (found by <see cref="DataLocator"/>), and a one-line description of the data.</summary>
    public static (ITrainingTask Task, string Data) Create(ModelEntry entry, string? data, int batch, int context, int paddedSide)
    {
        switch (entry.Family)
        {
            case ModelFamily.ByteLm:
                var corpus = ByteCorpus.Open(data);
                RefuseIfTooSmall(corpus, context);
                return (new TextTask(corpus, batch, context), $"{corpus.Description}: {corpus.Train.Length:N0} bytes for training, {corpus.Test.Length:N0} held out");
            case ModelFamily.Pixel:
                var pixels = DataLocator.Images(data);
                if (pixels.TrainImages.ItemSize != entry.Context)
                    throw new ArgumentException($"{entry.Name} models sequences of {entry.Context} pixels, but these images have {pixels.TrainImages.ItemSize}.");
                return (new PixelTask(pixels, batch), pixels.Description);
            default:
                var images = DataLocator.Images(data);
                return (new ClassifierTask(images, batch, paddedSide), images.Description);
        }
    }

    // A training window and a held-out window each take T + 1 bytes (inputs and the next-byte targets).
    static void RefuseIfTooSmall(ByteCorpus corpus, int context)
    {
        var needed = context + 1L;
        if (corpus.Train.Length > needed && corpus.Test.Length >= needed) return;
        throw new AftLabException(
            $"{corpus.Description} is too small for --context {context}: it gives {corpus.Train.Length:N0} bytes for training and {corpus.Test.Length:N0} held out, " +
            $"and each needs at least {needed + 1:N0} and {needed:N0} (about {20 * needed + 20:N0} bytes in all, 5 % held out). Use more text or a shorter --context.",
            ExitCodes.DataError);
    }
}
