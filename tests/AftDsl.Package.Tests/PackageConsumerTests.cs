using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AftDsl.Package.Tests.Support;
using Xunit;

namespace AftDsl.Package.Tests;

/// <summary>
/// A new user's first steps with the .nupkg: a console project restores AftDsl from the local feed (into an empty
/// packages folder), builds, and runs PACKAGE.md's example, a layer forward and backward, on TorchSharp made
/// loadable by the package's build step; a broken declaration fails the build with its AFT error and nothing else.
/// </summary>
[Collection(PackedLibraryCollection.Name)]
public sealed class PackageConsumerTests(PackedLibrary package)
{
    static readonly TimeSpan Restoring = TimeSpan.FromMinutes(5);
    static readonly TimeSpan Building = TimeSpan.FromMinutes(4);

    string Project(string outputType, string? properties = null) => $"""
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <OutputType>{outputType}</OutputType>
            <TargetFramework>net10.0</TargetFramework>
            <Nullable>enable</Nullable>
            <ImplicitUsings>enable</ImplicitUsings>{properties}
          </PropertyGroup>
          <ItemGroup>
            <PackageReference Include="AftDsl" Version="{package.Version}" />
          </ItemGroup>
        </Project>
        """;

    /// <summary>The first C# block of PACKAGE.md: the example users read is the one that runs here.</summary>
    static string ReadmeExample()
    {
        var readme = File.ReadAllText(Path.Combine(Dotnet.RepositoryRoot, "src", "AftDsl", "PACKAGE.md"));
        var match = Regex.Match(readme, @"```csharp\n(.*?)```", RegexOptions.Singleline);
        Assert.True(match.Success, "PACKAGE.md has no ```csharp block");
        return match.Groups[1].Value;
    }

    [Fact]
    public void The_readme_example_restores_from_the_feed_builds_and_runs_forward_and_backward()
    {
        var folder = package.ProjectFolder("consumer");
        File.WriteAllText(Path.Combine(folder, "Consumer.csproj"), Project("Exe"));
        File.WriteAllText(Path.Combine(folder, "Program.cs"), ReadmeExample());

        Dotnet.Succeed("restore -nologo", folder, Restoring, package.Environment);
        AssertRestoredFromTheFeed();

        // Normal verbosity shows the build step's message when it patches TorchSharp's native library.
        var build = Dotnet.Succeed("build --no-restore -c Release -v n -nologo", folder, Building, package.Environment);
        Assert.DoesNotContain("AFT9002", build);
        if (LibStdCxxLacksGlibcxx3432())
            Assert.Contains("AftDsl: marked GLIBCXX_3.4.32 weak", build);

        var run = Dotnet.Succeed(Path.Combine("bin", "Release", "net10.0", "Consumer.dll"), folder, Building, package.Environment);
        // 4 projections of 256 × 256 + 256, and the position-bias factors pos_u and pos_w of [1024, 128] each.
        Assert.Contains("TextMixer: 525312 parameters, output [2, 64, 256], input gradient [2, 64, 256]", run);
    }

    [Fact]
    public void A_broken_declaration_fails_the_build_with_its_AFT_error_only()
    {
        var folder = package.ProjectFolder("broken");
        File.WriteAllText(Path.Combine(folder, "Broken.csproj"), Project("Library"));
        File.WriteAllText(Path.Combine(folder, "Layers.cs"), """
            using AftDsl;

            [AftConv(heads: 32, window: 7, Dim = 380)]
            public partial class PatchMixer;

            // A use of the broken layer: its generated skeleton keeps this compiling, so no compiler error joins AFT0201.
            public static class Uses
            {
                public static long Heads => PatchMixer.Heads;
            }
            """);

        Dotnet.Succeed("restore -nologo", folder, Restoring, package.Environment);
        var (code, build) = Dotnet.Run("build --no-restore -c Release -nologo", folder, Building, package.Environment);

        Assert.True(code != 0, "the broken declaration must fail the build:\n" + build);
        var errors = Regex.Matches(build, @"\berror ([A-Z]+[0-9]+):").Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.True(errors.SequenceEqual(["AFT0201"]), $"expected only AFT0201, got {string.Join(", ", errors)}:\n{build}");
        Assert.Contains("heads (32) must divide dim (380)", build);
    }

    /// <summary>AftDsl came from the feed, as the very file packed there: the packages folder was empty before.</summary>
    void AssertRestoredFromTheFeed()
    {
        var folder = Path.Combine(package.Packages, "aftdsl", package.Version.ToLowerInvariant());
        var metadata = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, ".nupkg.metadata")))!;
        Assert.Equal(Path.TrimEndingDirectorySeparator(package.Feed), Path.TrimEndingDirectorySeparator((string)metadata["source"]!));
        using var nupkg = File.OpenRead(package.Nupkg);
        Assert.Equal(Convert.ToBase64String(SHA512.HashData(nupkg)), (string)metadata["contentHash"]!);
    }

    // Where the local libstdc++ lacks GCC 13's symbol version, TorchSharp loads only if the package's build step ran.
    static bool LibStdCxxLacksGlibcxx3432()
    {
        const string libstdcxx = "/lib/x86_64-linux-gnu/libstdc++.so.6";
        if (!OperatingSystem.IsLinux() || !File.Exists(libstdcxx))
            return false;
        var needle = "GLIBCXX_3.4.32\0"u8.ToArray();
        return File.ReadAllBytes(libstdcxx).AsSpan().IndexOf(needle) < 0;
    }
}
