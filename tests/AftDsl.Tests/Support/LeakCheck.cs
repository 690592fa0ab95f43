using TorchSharp;
using Xunit;

namespace AftDsl.Tests.Support;

/// <summary>Asserts that work inside a dispose scope leaves no live tensors behind (DisposeScopeManager statistics).</summary>
public static class LeakCheck
{
    public static void NoTensorsLeak(Action work)
    {
        work();                                            // first run: lazy statics, generators, caches
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using (torch.NewDisposeScope())
            work();
        var after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Assert.True(after == before, $"{after - before} tensors are still alive after the scope ended (before {before}, after {after}).");
    }
}
