using AftDsl.Kernels;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Kernels;

/// <summary>
/// A backward that autograd runs on its CUDA device thread has no dispose scope: what it receives and returns
/// must still be freed. A plain thread stands in for that thread here.
/// </summary>
public class BackwardScopeTests
{
    static void OnThreadWithoutScope(Action action)
    {
        Exception? failure = null;
        var thread = new Thread(() => { try { action(); } catch (Exception e) { failure = e; } });
        thread.Start();
        thread.Join();
        if (failure is not null) throw failure;
    }

    [Fact]
    public void Without_a_scope_the_incoming_gradient_is_freed_at_once_and_the_returned_ones_at_the_next_backward()
    {
        OnThreadWithoutScope(() =>
        {
            Assert.Null(CurrentDisposeScope);
            var incoming = ones(3);
            Tensor? temporary = null;
            var first = BackwardScope.Run(incoming, () => { temporary = incoming * 2; return [temporary + 1, null!]; });
            Assert.True(incoming.IsInvalid);
            Assert.True(temporary!.IsInvalid);                       // made inside the backward, not returned
            Assert.False(first[0].IsInvalid);                        // libtorch has yet to take its reference
            Assert.Equal(3f, first[0][0].item<float>());

            var second = BackwardScope.Run(ones(3), () => [zeros(3)]);
            Assert.True(first[0].IsInvalid);
            Assert.False(second[0].IsInvalid);
            Assert.Null(CurrentDisposeScope);                        // nothing left open on the thread
        });
    }

    [Fact]
    public void A_gradient_passed_through_unchanged_is_kept_until_the_next_backward()
    {
        OnThreadWithoutScope(() =>
        {
            var incoming = ones(3);
            var result = BackwardScope.Run(incoming, () => [incoming]);
            Assert.False(result[0].IsInvalid);
            BackwardScope.Run(ones(3), () => [zeros(3)]);
            Assert.True(incoming.IsInvalid);
        });
    }

    [Fact]
    public void Inside_a_scope_the_scope_owns_everything()
    {
        using var scope = NewDisposeScope();
        var incoming = ones(3);
        var result = BackwardScope.Run(incoming, () => [incoming * 2]);
        Assert.False(incoming.IsInvalid);
        Assert.False(result[0].IsInvalid);
        scope.Dispose();
        Assert.True(incoming.IsInvalid);
        Assert.True(result[0].IsInvalid);
    }
}
