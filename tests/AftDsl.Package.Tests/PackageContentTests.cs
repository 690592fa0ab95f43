using AftDsl.Package.Tests.Support;
using Xunit;

namespace AftDsl.Package.Tests;

/// <summary>What the .nupkg carries: its own README, the generator and code fixes as analyzers, the build step, metadata.</summary>
[Collection(PackedLibraryCollection.Name)]
public sealed class PackageContentTests(PackedLibrary package)
{
    [Fact]
    public void The_package_readme_is_PACKAGE_md_not_the_repository_readme()
    {
        Assert.Equal("PACKAGE.md", package.Metadata("readme"));
        Assert.Contains("PACKAGE.md", package.Entries);
        Assert.DoesNotContain("README.md", package.Entries);
    }

    [Theory]
    [InlineData("lib/net10.0/AftDsl.dll")]
    [InlineData("lib/net10.0/AftDsl.xml")]
    [InlineData("analyzers/dotnet/cs/AftDsl.Generators.dll")]
    [InlineData("analyzers/dotnet/cs/AftDsl.CodeFixes.dll")]
    [InlineData("buildTransitive/AftDsl.targets")]
    [InlineData("buildTransitive/PatchLibTorchSharp.cs")]
    public void The_package_carries(string entry) => Assert.Contains(entry, package.Entries);

    [Theory]
    [InlineData("description")]
    [InlineData("tags")]
    [InlineData("releaseNotes")]
    [InlineData("projectUrl")]
    public void The_nuspec_has(string element) => Assert.False(string.IsNullOrWhiteSpace(package.Metadata(element)), $"no <{element}> in the nuspec");

    [Fact]
    public void It_depends_on_TorchSharp_cpu()
    {
        var dependencies = package.Nuspec.Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => (string?)e.Attribute("id")).ToList();
        Assert.Contains("TorchSharp-cpu", dependencies);
    }

    [Fact]
    public void The_package_readme_links_only_to_absolute_addresses()
    {
        // nuget.org shows the README without the repository: a relative link there leads nowhere.
        var readme = File.ReadAllText(Path.Combine(Dotnet.RepositoryRoot, "src", "AftDsl", "PACKAGE.md"));
        var targets = System.Text.RegularExpressions.Regex.Matches(readme, @"\]\(([^)]*)\)").Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(targets);
        Assert.All(targets, target => Assert.StartsWith("https://", target));
    }
}
