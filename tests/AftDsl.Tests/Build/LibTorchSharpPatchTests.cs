using System.Reflection;
using AftDsl.Build;
using TorchSharp;
using Xunit;

namespace AftDsl.Tests.Build;

public sealed class LibTorchSharpPatchTests
{
    const string Version = PatchLibTorchSharp.MissingVersion;

    static string PackagedLibrary()
    {
        var root = typeof(LibTorchSharpPatchTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "NuGetPackageRoot").Value!;
        return Path.Combine(root, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", PatchLibTorchSharp.LibraryName);
    }

    [Fact]
    public void Torch_runs_in_the_test_process()
    {
        using var a = torch.arange(1, 5, dtype: torch.float32).reshape(2, 2);
        using var product = a.matmul(a);
        Assert.Equal(new float[] { 7, 10, 15, 22 }, product.data<float>().ToArray());
    }

    [Fact]
    public void The_build_output_copy_is_patched_where_the_local_libstdcxx_lacks_the_version()
    {
        var copy = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", PatchLibTorchSharp.LibraryName);
        var bytes = File.ReadAllBytes(copy);
        var local = LocalLibStdCxx.Find();
        var expected = local is not null && LocalLibStdCxx.Defines(local, Version) ? WeakenOutcome.Patched : WeakenOutcome.AlreadyWeak;
        Assert.Equal(expected, ElfVersionNeeds.MarkWeak(bytes, Version));
    }

    [Fact]
    public void Patching_sets_exactly_one_flag_bit_and_is_idempotent()
    {
        var original = File.ReadAllBytes(PackagedLibrary());
        var patched = (byte[])original.Clone();

        Assert.Equal(WeakenOutcome.Patched, ElfVersionNeeds.MarkWeak(patched, Version));
        var changed = Enumerable.Range(0, original.Length).Where(i => original[i] != patched[i]).ToArray();
        var only = Assert.Single(changed);
        Assert.Equal(0x2, patched[only] ^ original[only]);

        var again = (byte[])patched.Clone();
        Assert.Equal(WeakenOutcome.AlreadyWeak, ElfVersionNeeds.MarkWeak(again, Version));
        Assert.Equal(patched, again);
    }

    [Fact]
    public void A_version_the_library_does_not_ask_for_is_left_alone()
    {
        var bytes = File.ReadAllBytes(PackagedLibrary());
        var copy = (byte[])bytes.Clone();
        Assert.Equal(WeakenOutcome.NotRequired, ElfVersionNeeds.MarkWeak(copy, "GLIBCXX_9.9.99"));
        Assert.Equal(bytes, copy);
    }

    [Fact]
    public void The_file_is_replaced_atomically_and_the_original_inode_is_untouched()
    {
        var folder = Directory.CreateTempSubdirectory("aftdsl-patch-");
        try
        {
            var target = Path.Combine(folder.FullName, PatchLibTorchSharp.LibraryName);
            File.Copy(PackagedLibrary(), target);
            var before = File.ReadAllBytes(target);
            // A second name for the same file stands in for a hard link into the NuGet cache.
            var link = Path.Combine(folder.FullName, "cache-copy.so");
            Assert.Equal(0, Link(target, link));

            Assert.Equal(WeakenOutcome.Patched, ElfVersionNeeds.MarkWeakInFile(target, Version));
            Assert.Equal(WeakenOutcome.AlreadyWeak, ElfVersionNeeds.MarkWeakInFile(target, Version));
            Assert.Equal(before, File.ReadAllBytes(link));
            Assert.Equal(new[] { "cache-copy.so", PatchLibTorchSharp.LibraryName }, folder.GetFiles().Select(f => f.Name).Order());
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "link", SetLastError = true)]
    static extern int Link(string existing, string created);

    [Theory]
    [InlineData(0, "the ELF magic")]
    [InlineData(3, "the ELF magic")]
    [InlineData(0x2C, "e_shoff")]
    [InlineData(200_000, "sh_")]
    public void A_truncated_file_is_refused_with_the_offset_and_what_was_expected(int keep, string expected)
    {
        var bytes = File.ReadAllBytes(PackagedLibrary()).Take(keep).ToArray();
        var error = Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.MarkWeak(bytes, Version, "lib.so"));
        Assert.Contains("lib.so: at byte offset", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void A_file_that_is_not_elf64_little_endian_is_refused()
    {
        var bytes = File.ReadAllBytes(PackagedLibrary()).Take(64).ToArray();
        bytes[4] = 1; // ELFCLASS32
        var error = Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.MarkWeak(bytes, Version, "lib.so"));
        Assert.Equal("lib.so: at byte offset 4 expected ELFCLASS64 (2), found 1.", error.Message);
    }
}
