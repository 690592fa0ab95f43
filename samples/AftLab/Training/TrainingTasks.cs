using AftLab.Data;
using AftLab.Models;

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
}
