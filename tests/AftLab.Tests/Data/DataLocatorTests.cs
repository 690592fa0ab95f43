using AftLab.Tests.Support;

namespace AftLab.Tests.Data;

/// <summary>On a machine without the Debian data packages, the main job still runs, on data the app carries, and says so.</summary>
public sealed class DataLocatorTests : IDisposable
{
    readonly TemporaryFolder folder = new();

    [Theory]
    [InlineData("byte-simple", "GCIDE is not installed", "apt-get install dict-gcide")]
    [InlineData("image-conv", "Fashion-MNIST is not installed", "apt-get install dataset-fashion-mnist")]
    public void Without_the_packages_the_app_trains_on_carried_data_and_says_how_to_get_the_real_data(string model, string note, string how)
    {
        var noPackages = new Dictionary<string, string> { ["AFTLAB_PACKAGE_ROOT"] = folder.File("empty") };
        var (code, output) = AftLabProcess.Run(folder.Path, noPackages,
            "train", "--model", model, "--steps", "3", "--batch", "4", "--sample-bytes", "0", "--output", folder.File("run"));
        Assert.True(code == 0, output);
        var lines = output.Split('\n').Where(l => l.Contains("not installed")).ToList();
        Assert.Single(lines);
        Assert.Contains(note, lines[0]);
        Assert.Contains(how, lines[0]);
    }

    public void Dispose() => folder.Dispose();
}
