using System.Runtime.InteropServices;

namespace AftLab.Benchmarks;

/// <summary>
/// The calling thread's CPU time (Linux <c>clock_gettime(CLOCK_THREAD_CPUTIME_ID)</c>, nanoseconds). With libtorch on
/// one thread, an operation runs on the thread that calls it, so this is the work a step did, whatever other
/// processes of a shared machine take from the core meanwhile; wall-clock time counts their share too.
/// </summary>
public static class ThreadClock
{
    const int ThreadCpuTime = 3;                                                       // CLOCK_THREAD_CPUTIME_ID

    [StructLayout(LayoutKind.Sequential)]
    struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    static extern int ClockGetTime(int clock, out TimeSpec time);

    public static bool Supported => OperatingSystem.IsLinux();

    /// <summary>The thread's CPU time so far, in milliseconds; 0 where unsupported.</summary>
    public static double Milliseconds()
    {
        if (!Supported || ClockGetTime(ThreadCpuTime, out var time) != 0)
            return 0;
        return time.Seconds * 1e3 + time.Nanoseconds / 1e6;
    }
}
