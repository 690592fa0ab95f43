using System.IO.Compression;
using System.Security;
using System.Xml.Linq;

namespace AftDsl.Package.Tests.Support;

/// <summary>
/// src/AftDsl packed once (from its build output, which the test project's reference builds first) into a local
/// feed, with a nuget.config that restores AftDsl only from that feed, everything else from a local mirror, into a
/// packages folder that starts empty: so nothing of AftDsl can come from a cache.
/// </summary>
public sealed class PackedLibrary : IDisposable
{
    static readonly TimeSpan Packing = TimeSpan.FromMinutes(3);

    readonly TempFolder root = new("package");

    public PackedLibrary()
    {
        Feed = root.Sub("feed");
        Packages = root.Sub("packages");
        var project = Path.Combine(Dotnet.RepositoryRoot, "src", "AftDsl", "AftDsl.csproj");
        // The nuspec goes to the temp folder too: nothing is written into the repository's obj folder.
        PackOutput = Dotnet.Succeed(
            $"pack \"{project}\" -c {Dotnet.Configuration} --no-build -o \"{Feed}\" -p:NuspecOutputPath=\"{root.Sub("nuspec")}\" -nologo",
            Dotnet.RepositoryRoot, Packing);
        Nupkg = Directory.GetFiles(Feed, "AftDsl.*.nupkg").Single();
        using (var archive = ZipFile.OpenRead(Nupkg))
        {
            Entries = [.. archive.Entries.Select(e => e.FullName)];
            using var nuspec = archive.GetEntry("AftDsl.nuspec")!.Open();
            Nuspec = XDocument.Load(nuspec);
        }
        Version = Metadata("version") ?? throw new InvalidDataException("the nuspec has no <version>");
        NuGetConfig = root.Write("nuget.config", ConfigText(Feed, Mirror(), Packages));
    }

    /// <summary>The folder holding the .nupkg: the consumers' package source for AftDsl.</summary>
    public string Feed { get; }

    public string Nupkg { get; }

    /// <summary>The consumers' global packages folder, empty before the first restore.</summary>
    public string Packages { get; }

    public string NuGetConfig { get; }

    public string Version { get; }

    public string PackOutput { get; }

    /// <summary>Every path inside the .nupkg.</summary>
    public IReadOnlyList<string> Entries { get; }

    public XDocument Nuspec { get; }

    /// <summary>A <c>metadata</c> element of the nuspec, or null.</summary>
    public string? Metadata(string name) =>
        Nuspec.Root!.Elements().Single(e => e.Name.LocalName == "metadata").Elements().FirstOrDefault(e => e.Name.LocalName == name)?.Value;

    /// <summary>The variables under which a consumer restores and builds: the fresh packages folder.</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string> { ["NUGET_PACKAGES"] = Packages };

    /// <summary>
    /// The packages folder this machine already restored into (the solution's restore put TorchSharp-cpu and libtorch
    /// there): its {id}/{version}/{id}.{version}.nupkg layout is a valid local feed, which spares the consumers
    /// downloading about 270 MB of libtorch again.
    /// </summary>
    static string Mirror()
    {
        var output = Dotnet.Succeed("nuget locals global-packages --list", Path.GetTempPath(), TimeSpan.FromMinutes(1));
        var line = output.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith("global-packages:", StringComparison.Ordinal));
        return line["global-packages:".Length..].Trim();
    }

    // Source mapping sends AftDsl to the feed only, so that a copy of it in the mirror could never be restored instead.
    static string ConfigText(string feed, string mirror, string packages) => $"""
        <?xml version="1.0" encoding="utf-8"?>
        <configuration>
          <config>
            <add key="globalPackagesFolder" value="{SecurityElement.Escape(packages)}" />
          </config>
          <packageSources>
            <clear />
            <add key="aftdsl-feed" value="{SecurityElement.Escape(feed)}" />
            <add key="mirror" value="{SecurityElement.Escape(mirror)}" />
          </packageSources>
          <packageSourceMapping>
            <packageSource key="aftdsl-feed">
              <package pattern="AftDsl" />
            </packageSource>
            <packageSource key="mirror">
              <package pattern="*" />
            </packageSource>
          </packageSourceMapping>
          <fallbackPackageFolders>
            <clear />
          </fallbackPackageFolders>
        </configuration>
        """;

    /// <summary>A new folder for a consumer project, under the nuget.config, so that it restores as configured there.</summary>
    public string ProjectFolder(string name) => root.Sub(name);

    public void Dispose() => root.Dispose();
}
