using AftDsl.Distributed;
using AftLab.Training;

namespace AftLab.Tests.Training;

/// <summary>Which device a rank of a data-parallel job trains on.</summary>
public sealed class DataParallelLaunchTests
{
    static readonly LaunchEnvironment SecondRank = new(Launcher.Torchrun, Rank: 3, WorldSize: 4, LocalRank: 1, "127.0.0.1", 29500);

    [Theory]
    [InlineData("cuda", null, "cuda:1")]            // every GPU visible: the rank's own, by LOCAL_RANK
    [InlineData("cuda", "0,1,2,3", "cuda:1")]
    [InlineData("cuda", "2", "cuda:0")]             // one GPU visible to this process: it is cuda:0
    [InlineData("CUDA", " 5 ", "cuda:0")]
    [InlineData("cuda:2", null, "cuda:2")]          // an explicit device is kept
    [InlineData("cpu", "2", "cpu")]
    public void A_bare_cuda_is_the_ranks_own_gpu(string device, string? visible, string expected) =>
        Assert.Equal(expected, DataParallelLaunch.DeviceFor(device, SecondRank, visible));

    [Fact]
    public void Without_a_launcher_the_device_is_as_given() =>
        Assert.Equal("cuda", DataParallelLaunch.DeviceFor("cuda", LaunchEnvironment.Single, "0"));
}
