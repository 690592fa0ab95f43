using AftDsl.Cuda;
using Xunit;

namespace AftDsl.Tests.Cuda;

/// <summary>The disk cache of compiled kernels: keys, atomic writes, damaged entries, where it lives.</summary>
public sealed class CubinCacheTests : IDisposable
{
    readonly string folder = Path.Combine(Path.GetTempPath(), $"aftdsl-cubin-cache-tests-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
    }

    static readonly string[] Options = ["--gpu-architecture=sm_90", "--std=c++17", "-DWIDTH=64"];

    static string KeyOf(string source = "kernel", string[]? options = null, string version = "NVRTC 13.0", string arch = "sm_90") =>
        CubinCache.Key(source, options ?? Options, version, arch);

    [Fact]
    public void A_key_is_the_same_for_the_same_inputs_and_a_64_digit_hex_SHA_256()
    {
        Assert.Equal(KeyOf(), KeyOf());
        Assert.Equal(KeyOf(options: [.. Options]), KeyOf());
        Assert.Matches("^[0-9a-f]{64}$", KeyOf());
    }

    [Fact]
    public void A_key_changes_with_the_source_each_option_the_compiler_version_and_the_architecture()
    {
        var keys = new[]
        {
            KeyOf(),
            KeyOf(source: "kernel "),
            KeyOf(options: ["--gpu-architecture=sm_90", "--std=c++17", "-DWIDTH=128"]),
            KeyOf(options: ["--std=c++17", "--gpu-architecture=sm_90", "-DWIDTH=64"]),
            KeyOf(options: ["--gpu-architecture=sm_90", "--std=c++17"]),
            KeyOf(version: "NVRTC 12.8"),
            KeyOf(arch: "sm_100"),
        };
        Assert.Equal(keys.Length, keys.Distinct().Count());
    }

    [Fact]
    public void Fields_do_not_run_together_into_the_same_key()
    {
        Assert.NotEqual(CubinCache.Key("ab", ["c"], "v", "a"), CubinCache.Key("a", ["bc"], "v", "a"));
        Assert.NotEqual(CubinCache.Key("s", ["a", "b"], "v", "x"), CubinCache.Key("s", ["a b"], "v", "x"));
        Assert.NotEqual(CubinCache.Key("s", [], "v1", "x"), CubinCache.Key("s", [], "v", "1x"));
    }

    [Fact]
    public void An_entry_written_is_read_back_and_no_temporary_file_is_left()
    {
        var cache = new CubinCache(folder);
        var binary = Enumerable.Range(0, 5000).Select(i => (byte)(i * 7)).ToArray();
        var key = KeyOf();

        Assert.Null(cache.TryRead("aft_simple.cu", key));
        Assert.True(cache.TryWrite("aft_simple.cu", key, binary));

        Assert.Equal(binary, cache.TryRead("aft_simple.cu", key));
        Assert.Equal([Path.Combine(folder, $"aft_simple-{key}.cubin")], Directory.GetFiles(folder));
        Assert.Null(cache.LastProblem);
    }

    [Fact]
    public void Another_cache_on_the_same_folder_reads_what_one_wrote()
    {
        var key = KeyOf();
        Assert.True(new CubinCache(folder).TryWrite("k.cu", key, [1, 2, 3]));
        Assert.Equal(new byte[] { 1, 2, 3 }, new CubinCache(folder).TryRead("k.cu", key));
    }

    [Fact]
    public void Writers_racing_on_one_entry_leave_a_whole_entry_and_no_temporary_files()
    {
        var key = KeyOf();
        var binaries = Enumerable.Range(0, 8).Select(w => Enumerable.Repeat((byte)w, 200_000).ToArray()).ToArray();
        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => Assert.True(new CubinCache(folder).TryWrite("race.cu", key, binaries[i % 8])));

        var read = new CubinCache(folder).TryRead("race.cu", key);
        Assert.NotNull(read);
        Assert.Contains(binaries, b => b.AsSpan().SequenceEqual(read));
        Assert.Single(Directory.GetFiles(folder));
    }

    [Theory]
    [InlineData("flip a payload byte")]
    [InlineData("flip a hash byte")]
    [InlineData("truncate")]
    [InlineData("append")]
    [InlineData("garbage")]
    [InlineData("empty")]
    public void A_damaged_entry_reads_as_missing_is_deleted_and_is_replaced_by_the_next_write(string damage)
    {
        var cache = new CubinCache(folder);
        var key = KeyOf();
        var binary = Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray();
        Assert.True(cache.TryWrite("k.cu", key, binary));
        var path = cache.PathOf("k.cu", key)!;
        var bytes = File.ReadAllBytes(path);
        byte[] damaged = damage switch
        {
            "flip a payload byte" => Flip(bytes, bytes.Length - 10),
            "flip a hash byte" => Flip(bytes, 20),
            "truncate" => bytes[..^1],
            "append" => [.. bytes, 0],
            "garbage" => [.. "not a cubin at all, and long enough to pass for a header"u8],
            _ => [],
        };
        File.WriteAllBytes(path, damaged);

        Assert.Null(cache.TryRead("k.cu", key));
        Assert.False(File.Exists(path));
        Assert.Contains(path, cache.LastProblem);

        Assert.True(cache.TryWrite("k.cu", key, binary));
        Assert.Equal(binary, cache.TryRead("k.cu", key));
    }

    static byte[] Flip(byte[] bytes, int at)
    {
        var copy = (byte[])bytes.Clone();
        copy[at] ^= 0x40;
        return copy;
    }

    [Fact]
    public void A_folder_that_cannot_be_created_makes_writes_fail_softly()
    {
        Directory.CreateDirectory(folder);
        var blocker = Path.Combine(folder, "a-file");
        File.WriteAllText(blocker, "in the way");
        var cache = new CubinCache(Path.Combine(blocker, "cache"));

        Assert.False(cache.TryWrite("k.cu", KeyOf(), [1, 2, 3]));
        Assert.Contains("could not write", cache.LastProblem);
        Assert.Null(cache.TryRead("k.cu", KeyOf()));
    }

    [Fact]
    public void A_cache_without_a_folder_stores_nothing()
    {
        var cache = new CubinCache(null);
        Assert.False(cache.TryWrite("k.cu", KeyOf(), [1]));
        Assert.Null(cache.TryRead("k.cu", KeyOf()));
        Assert.Null(cache.PathOf("k.cu", KeyOf()));
    }

    [Fact]
    public void The_folder_comes_from_AFTDSL_CUDA_CACHE_then_XDG_CACHE_HOME_then_the_home_folder()
    {
        static Func<string, string?> Environment(params (string Name, string Value)[] variables) =>
            name => variables.FirstOrDefault(v => v.Name == name).Value;

        Assert.Equal("/srv/kernels", CubinCache.DefaultFolder(Environment(("AFTDSL_CUDA_CACHE", "/srv/kernels"), ("XDG_CACHE_HOME", "/x"), ("HOME", "/home/u"))));
        Assert.Null(CubinCache.DefaultFolder(Environment(("AFTDSL_CUDA_CACHE", "off"), ("HOME", "/home/u"))));
        Assert.Null(CubinCache.DefaultFolder(Environment(("AFTDSL_CUDA_CACHE", " OFF "))));
        Assert.Equal("/x/aftdsl/cuda", CubinCache.DefaultFolder(Environment(("XDG_CACHE_HOME", "/x"), ("HOME", "/home/u"))));
        Assert.Equal("/home/u/.cache/aftdsl/cuda", CubinCache.DefaultFolder(Environment(("XDG_CACHE_HOME", "relative/ignored"), ("HOME", "/home/u"))));
        Assert.Equal("/home/u/.cache/aftdsl/cuda", CubinCache.DefaultFolder(Environment(("AFTDSL_CUDA_CACHE", ""), ("HOME", "/home/u"))));
    }

    [Fact]
    public void FromEnvironment_reads_AFTDSL_CUDA_CACHE()
    {
        var previous = System.Environment.GetEnvironmentVariable(CubinCache.FolderVariable);
        try
        {
            System.Environment.SetEnvironmentVariable(CubinCache.FolderVariable, folder);
            Assert.Equal(folder, CubinCache.FromEnvironment().Folder);
        }
        finally
        {
            System.Environment.SetEnvironmentVariable(CubinCache.FolderVariable, previous);
        }
    }
}
