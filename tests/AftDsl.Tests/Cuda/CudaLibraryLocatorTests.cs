using AftDsl.Cuda;
using Xunit;
using static AftDsl.Cuda.CudaLibraryLocator;

namespace AftDsl.Tests.Cuda;

/// <summary>Where NVRTC is looked for, in which order, and what the error says when it is not found.</summary>
public sealed class CudaLibraryLocatorTests : IDisposable
{
    // A PyTorch install's layout: site-packages/torch/lib beside site-packages/nvidia/<package>/lib.
    readonly string root = Path.Combine(Path.GetTempPath(), $"aftdsl-locator-tests-{Guid.NewGuid():N}");
    string SitePackages => Path.Combine(root, "site-packages");
    string TorchLib => Path.Combine(SitePackages, "torch", "lib");

    public void Dispose()
    {
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
    }

    string Touch(params string[] parts)
    {
        var path = Path.Combine([root, .. parts]);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "not really a library");
        return path;
    }

    static SearchInputs Inputs(IReadOnlyList<string> loaded, params (string Name, string Value)[] variables) =>
        new(name => variables.FirstOrDefault(v => v.Name == name).Value, loaded);

    static List<string> Paths(SearchInputs inputs) => NvrtcCandidates(inputs).Select(c => c.PathOrName).ToList();

    [Fact]
    public void Beside_the_loaded_libtorch_the_CUDA_13_wheel_comes_first_then_CUDA_12_then_other_wheels_then_toolkits_then_loader_names()
    {
        var libtorch = Touch("site-packages", "torch", "lib", "libtorch_cuda.so");
        var cu13 = Touch("site-packages", "nvidia", "cu13", "lib", "libnvrtc.so.13");
        var cu12 = Touch("site-packages", "nvidia", "cuda_nvrtc", "lib", "libnvrtc.so.12");
        var other = Touch("site-packages", "nvidia", "aaa_other", "lib", "libnvrtc.so.11.2");
        Touch("site-packages", "nvidia", "cu13", "lib", "libnvrtc-builtins.so.13.0");

        var paths = Paths(Inputs(["/usr/lib/x86_64-linux-gnu/libc.so.6", libtorch]));

        var order = new[] { cu13, cu12, other, "/usr/local/cuda/lib64/libnvrtc.so", "/usr/local/cuda/targets/x86_64-linux/lib/libnvrtc.so",
            "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so" }.Select(p => paths.IndexOf(p)).ToArray();
        Assert.DoesNotContain(-1, order);
        Assert.Equal(order.Order(), order);
        Assert.DoesNotContain(paths, p => p.Contains("builtins"));
        Assert.Equal(paths.Count, paths.Distinct().Count());
    }

    [Fact]
    public void A_copy_bundled_in_torch_lib_is_tried_before_the_wheels()
    {
        var libtorch = Touch("site-packages", "torch", "lib", "libtorch.so");
        var bundled = Touch("site-packages", "torch", "lib", "libnvrtc-1a2b3c4d.so.12");
        var paths = Paths(Inputs([libtorch]));
        Assert.True(paths.IndexOf(bundled) >= 0 && paths.IndexOf(bundled) < paths.IndexOf(Path.Combine(SitePackages, "nvidia", "cu13", "lib", "libnvrtc.so.13")));
    }

    [Fact]
    public void LD_LIBRARY_PATH_folders_count_as_libtorch_folders_after_the_loaded_one()
    {
        var loadedTorch = Touch("a", "torch", "lib", "libtorch.so");
        var fromLoaded = Touch("a", "nvidia", "cu13", "lib", "libnvrtc.so.13");
        var fromPath = Touch("site-packages", "nvidia", "cu13", "lib", "libnvrtc.so.13");

        var paths = Paths(Inputs([loadedTorch], ("LD_LIBRARY_PATH", $"{TorchLib}/::/nowhere")));

        Assert.True(paths.IndexOf(fromLoaded) >= 0);
        Assert.True(paths.IndexOf(fromPath) > paths.IndexOf(fromLoaded));
        Assert.Equal([Path.GetDirectoryName(loadedTorch)!, TorchLib, "/nowhere"], TorchLibraryFolders(Inputs([loadedTorch], ("LD_LIBRARY_PATH", $"{TorchLib}/::/nowhere"))));
    }

    [Fact]
    public void A_toolkit_named_by_CUDA_HOME_comes_before_usr_local_cuda_with_the_newest_version_first()
    {
        var old = Touch("toolkit", "lib64", "libnvrtc.so.12");
        var newest = Touch("toolkit", "lib64", "libnvrtc.so.13");
        Touch("toolkit", "lib64", "libnvrtc.so.13.0.88");
        var paths = Paths(Inputs([], ("CUDA_HOME", Path.Combine(root, "toolkit"))));

        Assert.Equal(newest, paths[0]);
        Assert.Equal(old, paths[1]);
        Assert.DoesNotContain(Path.Combine(root, "toolkit", "lib64", "libnvrtc.so.13.0.88"), paths);
        Assert.True(paths.IndexOf("/usr/local/cuda/lib64/libnvrtc.so") > 1);
    }

    [Fact]
    public void AFTDSL_NVRTC_naming_a_file_is_the_only_candidate()
    {
        var file = Touch("custom", "libnvrtc.so.13");
        var libtorch = Touch("site-packages", "torch", "lib", "libtorch.so");
        Assert.Equal([file], Paths(Inputs([libtorch], (NvrtcVariable, file))));
    }

    [Fact]
    public void AFTDSL_NVRTC_naming_a_folder_tries_the_NVRTC_libraries_in_it()
    {
        var file = Touch("custom", "libnvrtc.so.13");
        Touch("custom", "libnvrtc-builtins.so.13.0");
        Assert.Equal([file], Paths(Inputs([], (NvrtcVariable, Path.Combine(root, "custom")))));
        Assert.Equal([Path.Combine(root, "empty", "libnvrtc.so")], Paths(Inputs([], (NvrtcVariable, Directory.CreateDirectory(Path.Combine(root, "empty")).FullName))));
    }

    [Fact]
    public void AFTDSL_NVRTC_naming_a_missing_file_fails_with_a_message_that_names_it_and_the_variable()
    {
        var missing = Path.Combine(root, "nowhere", "libnvrtc.so.13");
        var error = Assert.Throws<CudaException>(() => LoadNvrtc(Inputs([], (NvrtcVariable, missing))));
        Assert.Contains("NVRTC", error.Message);
        Assert.Contains($"{missing} — no such file", error.Message);
        Assert.Contains(NvrtcVariable, error.Message);
        Assert.Contains("nothing else was searched", error.Message);
    }

    [Fact]
    public void A_file_that_is_not_a_library_fails_with_the_loaders_reason()
    {
        var fake = Touch("fake", "libnvrtc.so.13");
        File.WriteAllText(fake, new string('x', 4096));
        var error = Assert.Throws<CudaException>(() => LoadNvrtc(Inputs([], (NvrtcVariable, fake))));
        Assert.Contains(fake, error.Message);
        Assert.Contains("invalid ELF header", error.Message);
        Assert.DoesNotContain("strace", error.Message);   // .NET's generic advice is cut; the loader's words are kept
    }

    [Fact]
    public void Without_NVRTC_anywhere_the_message_lists_every_place_tried_grouped_by_where_it_came_from()
    {
        var libtorch = Touch("site-packages", "torch", "lib", "libtorch.so");
        // Loader names replaced, and a real toolkit on this machine left out, so that nothing can load.
        var candidates = NvrtcCandidates(Inputs([libtorch]))
            .Where(c => c.IsLoaderName || c.PathOrName.StartsWith(root, StringComparison.Ordinal) || !File.Exists(c.PathOrName))
            .Select(c => c.IsLoaderName ? c with { PathOrName = "libnvrtc-that-does-not-exist.so.99" } : c).ToList();
        var error = Assert.Throws<CudaException>(() => Load("NVRTC (test)", candidates, "the hint"));

        Assert.Contains($"beside libtorch in {TorchLib}:", error.Message);
        Assert.Contains(Path.Combine(SitePackages, "nvidia", "cu13", "lib", "libnvrtc.so.13") + " — no such file", error.Message);
        Assert.All(candidates, c => Assert.Contains(c.PathOrName + " — ", error.Message));
        Assert.Contains("libnvrtc-that-does-not-exist.so.99 — ", error.Message);
        Assert.Contains("cannot open shared object file", error.Message);
        Assert.EndsWith("the hint", error.Message);
    }

    [Fact]
    public void The_libtorch_TorchSharp_loaded_is_found_in_the_process_memory_map()
    {
        using var x = TorchSharp.torch.ones(2);   // makes sure libtorch is loaded
        var folders = TorchLibraryFolders(SearchInputs.Current() with { Environment = _ => null });
        Assert.Contains(folders, f => File.Exists(Path.Combine(f, "libtorch.so")) || File.Exists(Path.Combine(f, "libtorch_cpu.so")));
    }

    [Fact]
    public void The_loaders_reason_is_cut_out_of_the_dotnet_message()
    {
        const string message = "Unable to load shared library '/x/libnvrtc.so.13' or one of its dependencies. In order to help diagnose loading problems, " +
            "consider using a tool like strace. If you're using glibc, consider setting the LD_DEBUG environment variable: \n/x/libnvrtc.so.13: file too short\n";
        Assert.Equal("/x/libnvrtc.so.13: file too short", AftDsl.Cuda.Native.NativeLoader.LoaderReason(message));
    }
}
