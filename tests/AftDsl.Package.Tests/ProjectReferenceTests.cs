using AftDsl.Package.Tests.Support;
using Xunit;

namespace AftDsl.Package.Tests;

/// <summary>
/// <c>&lt;AftDslRuntimeGuards&gt;false&lt;/AftDslRuntimeGuards&gt;</c> in a project that references AftDsl by project
/// reference, as README describes: without AftDsl.targets the property cannot reach the generator, and AFT9002 says
/// what to import; with the import the guards are gone. Builds a real consumer outside the repository against the
/// repository's build output (built by this test project's reference; not rebuilt here).
/// </summary>
public sealed class ProjectReferenceTests : IDisposable
{
    static readonly TimeSpan Building = TimeSpan.FromMinutes(4);

    readonly TempFolder consumer = new("project-reference");

    static string Repository(string relative) => Path.Combine(Dotnet.RepositoryRoot, relative);

    [Fact]
    public void Runtime_guards_turn_off_with_the_targets_imported_and_AFT9002_says_so_without_them()
    {
        consumer.Write("Consumer.csproj", $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <AftDslRuntimeGuards>false</AftDslRuntimeGuards>
                <EmitCompilerGeneratedFiles>true</EmitCompilerGeneratedFiles>
                <CompilerGeneratedFilesOutputPath>generated</CompilerGeneratedFilesOutputPath>
              </PropertyGroup>
              <ItemGroup>
                <ProjectReference Include="{Repository("src/AftDsl/AftDsl.csproj")}" />
                <ProjectReference Include="{Repository("generators/AftDsl.Generators/AftDsl.Generators.csproj")}"
                                  OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
              </ItemGroup>
              <Import Project="{Repository("src/AftDsl/buildTransitive/AftDsl.targets")}" Condition="'$(ImportAftDslTargets)' == 'true'" />
            </Project>
            """);
        consumer.Write("Mixer.cs", """
            using AftDsl;

            [AftSimple(Dim = 8)]
            public partial class Mixer;
            """);
        // Only the consumer is restored and built: the referenced projects' obj and bin folders stay as they are.
        Dotnet.Succeed("restore --no-dependencies -nologo", consumer.Path, Building);

        var without = Build(importTargets: false);
        Assert.Contains("warning AFT9002", without.Output);
        Assert.Contains("<Import Project=\"path/to/src/AftDsl/buildTransitive/AftDsl.targets\" />", without.Output);
        Assert.True(without.Generated.Contains("global::AftDsl.ShapeGuard.", StringComparison.Ordinal),
            "without the targets the property cannot reach the generator, so the guard is still generated:\n" + without.Generated);

        var with = Build(importTargets: true);
        Assert.DoesNotContain("AFT9002", with.Output);
        Assert.False(with.Generated.Contains("ShapeGuard", StringComparison.Ordinal),
            "with the targets imported, AftDslRuntimeGuards=false must drop the guard:\n" + with.Generated);
    }

    (string Output, string Generated) Build(bool importTargets)
    {
        var generated = Path.Combine(consumer.Path, "generated");
        if (Directory.Exists(generated))
            Directory.Delete(generated, recursive: true);
        var output = Dotnet.Succeed(
            $"build --no-restore -c {Dotnet.Configuration} -p:BuildProjectReferences=false -p:ImportAftDslTargets={importTargets} -nologo",
            consumer.Path, Building);
        var file = Directory.GetFiles(generated, "Mixer.g.cs", SearchOption.AllDirectories);
        Assert.True(file.Length == 1, "the generator wrote no Mixer.g.cs:\n" + output);
        return (output, File.ReadAllText(file[0]));
    }

    public void Dispose() => consumer.Dispose();
}
