using System.Runtime.InteropServices;
using AftDsl.Distributed.Native;
using Xunit;

namespace AftDsl.Tests.Distributed;

public sealed partial class NativeEnvironmentTests
{
    [LibraryImport("libc", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint GetEnv(string name);

    static string? Native(string name) => Marshal.PtrToStringUTF8(GetEnv(name));

    [Fact]
    public void A_default_reaches_what_native_libraries_read_and_never_overrides_a_setting()
    {
        const string name = "AFTDSL_TEST_NATIVE_DEFAULT";
        NativeEnvironment.SetDefault(name, "0");
        Assert.Equal("0", Native(name));                                     // NCCL reads NCCL_NVLS_ENABLE this way
        Assert.Equal("0", Environment.GetEnvironmentVariable(name));
        NativeEnvironment.SetDefault(name, "1");
        Assert.Equal("0", Native(name));
    }
}
