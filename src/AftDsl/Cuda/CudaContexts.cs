using System.Collections.Concurrent;
using AftDsl.Cuda.Native;

namespace AftDsl.Cuda;

/// <summary>
/// Makes sure each launch runs in the device's primary context, the one PyTorch allocates its tensors in.
/// After TorchSharp's first CUDA operation that context is current on the thread that ran it, but not
/// necessarily on others: autograd runs backward passes on threads of its own.
/// </summary>
internal sealed class CudaContexts(CudaDriver driver)
{
    readonly ConcurrentDictionary<int, nint> primary = new();

    /// <summary>The primary context of device <paramref name="ordinal"/>, retained on first use and kept for the process's life.</summary>
    public nint Primary(int ordinal) => primary.GetOrAdd(ordinal, o => driver.RetainPrimaryContext(driver.Device(o)));

    /// <summary>
    /// Makes device <paramref name="ordinal"/>'s primary context current until the returned scope is disposed.
    /// A thread with no context keeps it afterwards (as the CUDA runtime would do); a thread on another
    /// context gets that one back.
    /// </summary>
    public Scope Enter(int ordinal)
    {
        var wanted = Primary(ordinal);
        var current = driver.CurrentContext();
        if (current == wanted) return default;
        if (current == 0)
        {
            driver.SetCurrentContext(wanted);
            return default;
        }
        driver.PushContext(wanted);
        return new Scope(driver);
    }

    /// <summary>The CUDA device ordinal whose primary context is current, or null when no context is current.</summary>
    public int? CurrentOrdinal()
    {
        if (driver.CurrentContext() == 0) return null;
        var device = driver.CurrentDevice();
        var count = driver.DeviceCount();
        for (var ordinal = 0; ordinal < count; ordinal++)
            if (driver.Device(ordinal) == device) return ordinal;
        return null;
    }

    /// <summary>Restores the context that was current before <see cref="Enter"/>, if it replaced one.</summary>
    public readonly struct Scope(CudaDriver? pushed) : IDisposable
    {
        /// <inheritdoc/>
        public void Dispose() => pushed?.PopContext();
    }
}
