using AftDsl.Distributed;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Distributed;

/// <summary>DataParallel's own work, over a fake backend: bucketing, averaging, broadcasting, the watchdog.</summary>
public sealed class DataParallelTests
{
    static DataParallel Create(FakeCollectives fake, DataParallelOptions? options = null) =>
        new(fake, CPU, localRank: 0, options ?? new DataParallelOptions { CollectiveTimeout = TimeSpan.FromMinutes(1) });

    static Parameter Parameter(params float[] gradient)
    {
        var parameter = new Parameter(zeros(gradient.Length));
        parameter.grad = tensor(gradient);
        return parameter;
    }

    [Fact]
    public void Gradients_become_their_mean_over_the_ranks()
    {
        // The other rank's gradients are 10 more than ours, element by element: the mean is ours + 5.
        var fake = new FakeCollectives(0, 2) { Others = t => t + 10 };
        using var parallel = Create(fake);
        var (a, b) = (Parameter(1, 2, 3), Parameter(-4));
        parallel.AverageGradients([a, b]);
        Assert.Equal([6f, 7f, 8f], a.grad!.data<float>().ToArray());
        Assert.Equal([1f], b.grad!.data<float>().ToArray());
    }

    [Fact]
    public void A_parameter_without_a_gradient_counts_as_zeros_and_gets_the_mean()
    {
        var fake = new FakeCollectives(1, 4) { Others = t => full_like(t, 8) };
        using var parallel = Create(fake);
        var unused = new Parameter(zeros(2));
        parallel.AverageGradients([unused]);
        Assert.Equal([2f, 2f], unused.grad!.data<float>().ToArray());
    }

    [Fact]
    public void Parameters_that_need_no_gradient_are_left_out()
    {
        var fake = new FakeCollectives(0, 2) { Others = t => t };
        using var parallel = Create(fake);
        var frozen = new Parameter(zeros(3), requires_grad: false);
        parallel.AverageGradients([frozen, Parameter(1)]);
        Assert.Equal([1L], fake.ReducedLengths);
    }

    [Fact]
    public void Gradients_travel_in_buckets_of_the_given_size()
    {
        var fake = new FakeCollectives(0, 2) { Others = t => t };
        using var parallel = Create(fake, new DataParallelOptions { BucketBytes = 4 * 4, CollectiveTimeout = TimeSpan.FromMinutes(1) });
        // 4 floats fit a bucket: [2, 2], [3], [5] (alone, larger than a bucket), [1, 1].
        var parameters = new[] { 2, 2, 3, 5, 1, 1 }.Select(n => Parameter(Enumerable.Repeat(1f, n).ToArray())).ToArray();
        parallel.AverageGradients(parameters);
        Assert.Equal([4L, 3, 5, 2], fake.ReducedLengths);
        Assert.All(parameters, p => Assert.All(p.grad!.data<float>().ToArray(), g => Assert.Equal(1f, g)));
    }

    [Fact]
    public void Buckets_never_mix_dtypes()
    {
        using var single = new Parameter(zeros(2));
        using var wide = new Parameter(zeros(2, dtype: float64));
        using var again = new Parameter(zeros(2));
        var plan = GradientBuckets.Plan([single, wide, again], DataParallelOptions.DefaultBucketBytes);
        Assert.Equal([1, 1, 1], plan.Select(b => b.Count));
    }

    [Fact]
    public void Parameters_and_buffers_take_rank_0s_values()
    {
        var fake = new FakeCollectives(1, 2) { BroadcastValue = 7 };
        using var parallel = Create(fake);
        using var model = nn.Sequential(("linear", nn.Linear(3, 2)), ("norm", nn.BatchNorm1d(2)));
        parallel.BroadcastParameters(model);
        Assert.All(model.parameters(), p => Assert.All(p.data<float>().ToArray(), v => Assert.Equal(7f, v)));
        Assert.All(model.buffers().Where(b => b.dtype == float32), b => Assert.All(b.data<float>().ToArray(), v => Assert.Equal(7f, v)));
    }

    [Fact]
    public void Scalars_are_summed_and_broadcast()
    {
        var fake = new FakeCollectives(0, 3) { Others = t => t * 2, BroadcastValue = 4 };
        using var parallel = Create(fake);
        Assert.Equal([3.0, 6.0], parallel.AllReduceSum(1, 2));
        Assert.Equal([4.0], parallel.BroadcastFromMain(9));
    }

    [Fact]
    public void A_collective_that_outlasts_the_timeout_ends_the_job_with_a_message_naming_it()
    {
        var messages = new List<string>();
        var fake = new FakeCollectives(0, 2) { Delay = TimeSpan.FromSeconds(1.5) };
        using var parallel = Create(fake, new DataParallelOptions { CollectiveTimeout = TimeSpan.FromSeconds(0.2), OnTimeout = m => { lock (messages) messages.Add(m); } });
        parallel.AverageGradients([Parameter(1)]);
        lock (messages)
        {
            var message = Assert.Single(messages);
            Assert.Contains("rank 0 of 2: gradient all-reduce did not complete within 0.2 s", message);
            Assert.Contains("AFTDSL_COLLECTIVE_TIMEOUT", message);
        }
    }

    [Fact]
    public void A_collective_within_the_timeout_sets_nothing_off()
    {
        var messages = new List<string>();
        var fake = new FakeCollectives(0, 2) { Delay = TimeSpan.FromSeconds(0.05) };
        using var parallel = Create(fake, new DataParallelOptions { CollectiveTimeout = TimeSpan.FromSeconds(0.5), OnTimeout = messages.Add });
        for (var step = 0; step < 10; step++) parallel.AverageGradients([Parameter(1)]);
        Thread.Sleep(700);                                                  // idle between steps is not waiting on a collective
        Assert.Empty(messages);
    }

    [Fact]
    public void An_abandoned_rank_leaves_without_the_collective_shutdown()
    {
        var fake = new FakeCollectives(0, 2);
        var parallel = Create(fake);
        parallel.Abandon();
        parallel.Dispose();
        Assert.True(fake.Abandoned);
        Assert.True(fake.Disposed);
        Assert.Throws<ObjectDisposedException>(() => parallel.AllReduceSum(1));
    }

    [Fact]
    public void The_cpu_backend_refuses_a_torchrun_style_world_and_says_to_use_mpirun()
    {
        var refusal = Assert.Throws<DistributedException>(() => DataParallel.Create(new LaunchEnvironment(Launcher.Torchrun, 0, 2, 0, "localhost", 29500), CPU));
        Assert.Contains("mpirun -np N", refusal.Message);
    }
}
