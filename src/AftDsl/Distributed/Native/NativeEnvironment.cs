using System.Runtime.InteropServices;

namespace AftDsl.Distributed.Native;

/// <summary>
/// Sets variables that native libraries read with getenv. On Linux and macOS, .NET keeps its own copy of the
/// environment, and <see cref="Environment.SetEnvironmentVariable(string, string)"/> does not reach the C library's.
/// </summary>
internal static partial class NativeEnvironment
{
    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    /// <summary>Sets <paramref name="name"/> to <paramref name="value"/> for .NET and native code, unless it is set already.</summary>
    public static void SetDefault(string name, string value)
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name))) return;
        Environment.SetEnvironmentVariable(name, value);
        if (!OperatingSystem.IsWindows()) SetEnv(name, value, overwrite: 0);
    }
}
