using AftDsl.Distributed;
using Xunit;

namespace AftDsl.Tests.Distributed;

public sealed class LaunchEnvironmentTests
{
    static LaunchEnvironment Parse(params (string Name, string Value)[] variables)
    {
        var map = variables.ToDictionary(v => v.Name, v => v.Value);
        return LaunchEnvironment.Parse(name => map.GetValueOrDefault(name));
    }

    static string Refusal(params (string Name, string Value)[] variables) =>
        Assert.Throws<DistributedException>(() => Parse(variables)).Message;

    [Fact]
    public void No_launcher_is_one_process() => Assert.Equal(LaunchEnvironment.Single, Parse());

    [Fact]
    public void Mpirun_gives_rank_size_and_local_rank() =>
        Assert.Equal(new LaunchEnvironment(Launcher.Mpirun, 3, 4, 1),
            Parse(("OMPI_COMM_WORLD_RANK", "3"), ("OMPI_COMM_WORLD_SIZE", "4"), ("OMPI_COMM_WORLD_LOCAL_RANK", "1")));

    [Fact]
    public void Mpirun_wins_over_a_torchrun_style_environment_left_behind() =>
        Assert.Equal(Launcher.Mpirun, Parse(("OMPI_COMM_WORLD_RANK", "0"), ("OMPI_COMM_WORLD_SIZE", "2"), ("RANK", "5"), ("WORLD_SIZE", "8")).Launcher);

    [Fact]
    public void A_torchrun_style_environment_gives_the_master_to_fetch_the_id_from() =>
        Assert.Equal(new LaunchEnvironment(Launcher.Torchrun, 1, 2, 1, "10.0.0.7", 29500),
            Parse(("RANK", "1"), ("WORLD_SIZE", "2"), ("LOCAL_RANK", "1"), ("MASTER_ADDR", "10.0.0.7"), ("MASTER_PORT", "29500")));

    [Fact]
    public void A_torchrun_style_world_of_one_needs_no_master() =>
        Assert.Equal(new LaunchEnvironment(Launcher.Torchrun, 0, 1, 0), Parse(("RANK", "0"), ("WORLD_SIZE", "1")));

    [Fact]
    public void A_missing_master_is_named() =>
        Assert.Contains("MASTER_ADDR is not set", Refusal(("RANK", "0"), ("WORLD_SIZE", "2"), ("LOCAL_RANK", "0"), ("MASTER_PORT", "29500")));

    [Fact]
    public void A_missing_port_is_named() =>
        Assert.Contains("MASTER_PORT is not set", Refusal(("RANK", "0"), ("WORLD_SIZE", "2"), ("MASTER_ADDR", "host")));

    [Fact]
    public void A_rank_outside_the_world_is_refused() =>
        Assert.Contains("OMPI_COMM_WORLD_RANK is 2 but OMPI_COMM_WORLD_SIZE is 2", Refusal(("OMPI_COMM_WORLD_RANK", "2"), ("OMPI_COMM_WORLD_SIZE", "2")));

    [Theory]
    [InlineData("two")]
    [InlineData("-1")]
    [InlineData("0")]
    public void A_size_that_is_not_a_positive_whole_number_is_refused_with_its_value(string size) =>
        Assert.Contains($"WORLD_SIZE is '{size}'", Refusal(("RANK", "0"), ("WORLD_SIZE", size)));

    [Fact]
    public void Half_of_mpiruns_variables_is_refused() =>
        Assert.Contains("OMPI_COMM_WORLD_SIZE is not set", Refusal(("OMPI_COMM_WORLD_RANK", "0")));

    [Fact]
    public void An_mpich_launcher_is_refused_with_what_to_use_instead() =>
        Assert.Contains("Open MPI", Refusal(("PMI_RANK", "0"), ("PMI_SIZE", "2")));

    [Fact]
    public void The_collective_timeout_comes_from_the_environment_or_is_five_minutes()
    {
        Assert.Equal(TimeSpan.FromSeconds(300), DataParallelOptions.TimeoutFromEnvironment(_ => null));
        Assert.Equal(TimeSpan.FromSeconds(2.5), DataParallelOptions.TimeoutFromEnvironment(n => n == DataParallelOptions.TimeoutVariable ? "2.5" : null));
        var refusal = Assert.Throws<DistributedException>(() => DataParallelOptions.TimeoutFromEnvironment(n => n == DataParallelOptions.TimeoutVariable ? "soon" : null));
        Assert.Contains("AFTDSL_COLLECTIVE_TIMEOUT is 'soon'", refusal.Message);
    }
}
