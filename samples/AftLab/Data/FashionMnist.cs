namespace AftLab.Data;

/// <summary>Fashion-MNIST (or MNIST): 28×28 grey images and labels 0–9, a training and a test split.</summary>
public sealed record ImageSet(IdxArray TrainImages, IdxArray TrainLabels, IdxArray TestImages, IdxArray TestLabels, string Description)
{
    public int Side => TrainImages.Shape[1];

    /// <summary>
    /// Reads the four IDX files (<c>train-images-idx3-ubyte</c>, <c>train-labels-idx1-ubyte</c>, <c>t10k-…</c>, each
    /// optionally <c>.gz</c>) from <paramref name="folder"/>, and checks that they agree with each other.
    /// </summary>
    public static ImageSet Load(string folder, string description)
    {
        IdxArray Read(string name)
        {
            var path = new[] { name + ".gz", name }.Select(n => Path.Combine(folder, n)).FirstOrDefault(File.Exists)
                ?? throw DataFormatException.Missing(Path.Combine(folder, name + ".gz"), $"the IDX file {name}(.gz)");
            return Idx.Read(path);
        }
        var set = new ImageSet(Read("train-images-idx3-ubyte"), Read("train-labels-idx1-ubyte"), Read("t10k-images-idx3-ubyte"), Read("t10k-labels-idx1-ubyte"), description);
        Check(folder, "train", set.TrainImages, set.TrainLabels);
        Check(folder, "t10k", set.TestImages, set.TestLabels);
        return set;
    }

    static void Check(string folder, string split, IdxArray images, IdxArray labels)
    {
        var file = Path.Combine(folder, $"{split}-labels-idx1-ubyte(.gz)");
        if (images.Shape.Length != 3 || images.Shape[1] != images.Shape[2])
            throw new DataFormatException(Path.Combine(folder, $"{split}-images-idx3-ubyte(.gz)"), 3, "3 dimensions, N × side × side", string.Join(" × ", images.Shape));
        if (labels.Shape.Length != 1 || labels.Count != images.Count)
            throw new DataFormatException(file, 4, $"{images.Count:N0} labels, one per image", string.Join(" × ", labels.Shape));
        var bad = Array.FindIndex(labels.Data, l => l > 9);
        if (bad >= 0)
            throw new DataFormatException(file, 8 + bad, "a label between 0 and 9", labels.Data[bad].ToString());
    }
}
