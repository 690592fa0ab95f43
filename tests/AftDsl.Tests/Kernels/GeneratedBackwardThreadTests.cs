using System.Collections.Concurrent;
using AftDsl.Tests.Layers;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Kernels;

/// <summary>
/// Autograd runs a CUDA layer's backward on its device thread, a long-lived thread with no dispose scope open.
/// A generated layer's backward must free there what it receives and returns, or every training step leaves
/// the gradients of every layer to the finalizer: GPU memory the garbage collector does not see (a 12-block
/// model ran a 140 GB device out of memory within 80 steps). A worker thread stands in for the device thread.
/// </summary>
public sealed class GeneratedBackwardThreadTests : IDisposable
{
    readonly BlockingCollection<Action> work = new();
    readonly Thread worker;

    public GeneratedBackwardThreadTests()
    {
        worker = new Thread(() => { foreach (var action in work.GetConsumingEnumerable()) action(); });
        worker.Start();
    }

    public void Dispose()
    {
        work.CompleteAdding();
        worker.Join();
    }

    /// <summary>Runs <paramref name="action"/> on the worker and returns the worker's live tensor count afterwards.</summary>
    long OnWorker(Action action)
    {
        using var done = new ManualResetEventSlim();
        (Exception? Failure, long Live) result = default;
        work.Add(() =>
        {
            try { action(); }
            catch (Exception e) { result.Failure = e; }
            result.Live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            done.Set();
        });
        done.Wait();
        if (result.Failure is not null) throw result.Failure;
        return result.Live;
    }

    public static TheoryData<string> Layers => new() { "full", "local", "simple", "conv" };

    static (nn.Module<Tensor, Tensor> Layer, Tensor Input) Create(string variant) => variant switch
    {
        "full" => (new CausalMixer(), randn(2, 10, 8)),
        "local" => (new CausalLocalMixer(), randn(2, 10, 8)),
        "simple" => (new CausalSimpleMixer(), randn(2, 10, 8)),
        _ => (new GridMixer(4), randn(2, 3, 4, 4)),
    };

    [Theory]
    [MemberData(nameof(Layers))]
    public void A_backward_on_a_thread_without_a_scope_leaves_no_more_tensors_alive_step_after_step(string variant)
    {
        var (layer, input) = Create(variant);
        var live = new List<long>();
        for (var step = 0; step < 4; step++)
        {
            using (NewDisposeScope())
            {
                var loss = layer.forward(input).square().sum();
                live.Add(OnWorker(() => loss.backward()));
            }
            layer.zero_grad();
        }
        // The first backward may leave its own returned gradients for the next one to free; no later one adds any.
        Assert.True(live.Skip(1).All(count => count == live[1]), $"live tensors on the backward's thread after each step: {string.Join(", ", live)}");
    }
}
