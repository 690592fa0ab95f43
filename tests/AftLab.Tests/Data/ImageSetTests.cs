using AftLab.Data;
using AftLab.Tests.Support;

namespace AftLab.Tests.Data;

public sealed class ImageSetTests : IDisposable
{
    readonly TemporaryFolder folder = new();

    [Fact]
    public void Loads_four_files_that_agree()
    {
        IdxFiles.WriteImageSet(folder.Path, train: 20, test: 5);
        var set = ImageSet.Load(folder.Path, "test set");
        Assert.Equal(20, set.TrainImages.Count);
        Assert.Equal(5, set.TestLabels.Count);
        Assert.Equal(4, set.Side);
        Assert.Equal(3, set.TrainLabels.Data[13]);
    }

    [Fact]
    public void A_missing_split_names_the_file_it_looked_for()
    {
        IdxFiles.WriteImageSet(folder.Path, train: 20, test: 5);
        File.Delete(folder.File("t10k-images-idx3-ubyte.gz"));
        var error = Assert.Throws<DataFormatException>(() => ImageSet.Load(folder.Path, "test set"));
        Assert.Equal(folder.File("t10k-images-idx3-ubyte.gz"), error.File);
    }

    [Fact]
    public void A_label_out_of_range_is_reported_at_its_offset()
    {
        IdxFiles.WriteImageSet(folder.Path, train: 20, test: 5, label: i => (byte)(i == 7 ? 12 : 1));
        var error = Assert.Throws<DataFormatException>(() => ImageSet.Load(folder.Path, "test set"));
        Assert.Equal(8 + 7, error.Offset);
        Assert.Contains("a label between 0 and 9, found 12", error.Message);
    }

    [Fact]
    public void Labels_that_do_not_match_the_images_are_an_error()
    {
        IdxFiles.WriteImageSet(folder.Path, train: 20, test: 5);
        File.WriteAllBytes(folder.File("train-labels-idx1-ubyte"), IdxFiles.Encode([19], new byte[19]));
        var error = Assert.Throws<DataFormatException>(() => ImageSet.Load(folder.Path, "test set"));
        Assert.Contains("20 labels, one per image", error.Message);
    }

    [Fact]
    public void The_carried_sample_is_real_fashion_mnist()
    {
        var set = ImageSet.Load(Path.Combine(AppContext.BaseDirectory, "Data", "fashion-mnist-sample"), "carried");
        Assert.Equal((1000, 200, 28), (set.TrainImages.Count, set.TestImages.Count, set.Side));
        Assert.Equal(10, set.TrainLabels.Data.Distinct().Count());
        Assert.InRange(set.TrainImages.Data.Average(b => b), 40, 110);      // Fashion-MNIST's mean grey level is about 73
    }

    public void Dispose() => folder.Dispose();
}
