using System.Diagnostics;

namespace AftDsl.Distributed;

/// <summary>
/// Bounds how long one collective may take. A collective waits for every rank, so a rank that died or hangs would
/// block the others for ever; after <see cref="Timeout"/> the watchdog's own thread calls <c>expire</c> with a message
/// (by default: print it and end the job). Under mpirun a rank that exits is noticed by mpirun, which ends the job
/// sooner; the watchdog covers what mpirun cannot see, such as a rank stuck in a loop or a lost peer without mpirun.
/// </summary>
internal sealed class CollectiveWatchdog : IDisposable
{
    readonly Action<string> expire;
    readonly string who;
    readonly Thread thread;
    readonly ManualResetEventSlim stopping = new();
    readonly Stopwatch clock = Stopwatch.StartNew();
    readonly object gate = new();
    string? watching;
    TimeSpan startedAt;
    bool fired;

    public CollectiveWatchdog(TimeSpan timeout, string who, Action<string> expire)
    {
        Timeout = timeout;
        this.who = who;
        this.expire = expire;
        thread = new Thread(Watch) { IsBackground = true, Name = "AftDsl collective watchdog" };
        thread.Start();
    }

    /// <summary>The longest a collective may take.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Watches <paramref name="what"/> until the returned scope is disposed.</summary>
    public Scope Enter(string what)
    {
        lock (gate)
        {
            watching = what;
            startedAt = clock.Elapsed;
        }
        return new Scope(this);
    }

    void Leave()
    {
        lock (gate) watching = null;
    }

    void Watch()
    {
        var period = TimeSpan.FromMilliseconds(Math.Clamp(Timeout.TotalMilliseconds / 10, 10, 1000));
        while (!stopping.Wait(period))
        {
            string? late = null;
            lock (gate)
                if (!fired && watching is { } what && clock.Elapsed - startedAt > Timeout)
                {
                    fired = true;
                    late = what;
                }
            if (late is not null)
                expire($"{who}: {late} did not complete within {Timeout.TotalSeconds:0.#} s, so another rank has stopped or hangs; ending the job. " +
                       $"(Set {DataParallelOptions.TimeoutVariable} to the seconds to wait, if a rank legitimately works longer between steps.)");
        }
    }

    public void Dispose()
    {
        stopping.Set();
        thread.Join();
        stopping.Dispose();
    }

    /// <summary>Ends the watch of one collective.</summary>
    public readonly struct Scope(CollectiveWatchdog? owner) : IDisposable
    {
        /// <inheritdoc/>
        public void Dispose() => owner?.Leave();
    }
}
