using System.Text.Json.Nodes;
using AftDsl.Package.Tests.Support;
using AftDsl.Tests.Shared;
using Xunit;

namespace AftDsl.Package.Tests;

/// <summary>
/// The package as a new user meets it in an editor: a project restored from the local feed, opened in a real
/// Roslyn language server (csharp-ls, analyzers enabled), shows the AFT error of a broken declaration on the argument
/// at fault, with no other error where the broken layer is used, and drops it once the declaration is fixed. The
/// analyzer here is the one the .nupkg carries, not the repository's build output.
/// </summary>
[Collection(PackedLibraryCollection.Name)]
public sealed class PackageEditorTests(PackedLibrary package)
{
    static readonly TimeSpan Restoring = TimeSpan.FromMinutes(5);
    static readonly TimeSpan Loading = TimeSpan.FromSeconds(150);
    static readonly TimeSpan Answer = TimeSpan.FromSeconds(30);

    const string Broken = "[AftConv(heads: 32, window: 7, Dim = 380)]";
    const string Fixed = "[AftConv(heads: 4, window: 7, Dim = 380)]";

    const string Layers = """
        using AftDsl;

        [AftConv(heads: 32, window: 7, Dim = 380)]
        public partial class PatchMixer;

        // Uses of the layer: its generated skeleton keeps them compiling while the declaration is broken.
        public static class Uses
        {
            public static long Heads => PatchMixer.Heads + PatchMixer.ParameterCount;
            public static PatchMixer Create() => new();
        }
        """;

    [Fact]
    public async Task A_broken_declaration_shows_its_AFT_error_on_its_argument_in_csharp_ls_and_goes_when_fixed()
    {
        var folder = package.ProjectFolder("editor");
        File.WriteAllText(Path.Combine(folder, "Editor.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="AftDsl" Version="{package.Version}" />
              </ItemGroup>
            </Project>
            """);
        var path = Path.Combine(folder, "Layers.cs");
        File.WriteAllText(path, Layers);
        Dotnet.Succeed("restore -nologo", folder, Restoring, package.Environment);

        var settings = new JsonObject { ["csharp"] = new JsonObject { ["analyzersEnabled"] = true } };
        using var server = LspClient.Start(CSharpLs.Path, "--loglevel info", folder, settings, package.Environment);
        await server.Initialize(folder, "Editor", settings, Answer);

        var uri = LspClient.Normalize(new Uri(path).AbsoluteUri);
        var version = 1;
        var text = Layers;
        server.Notify("textDocument/didOpen", new JsonObject
        {
            ["textDocument"] = new JsonObject { ["uri"] = uri, ["languageId"] = "csharp", ["version"] = version, ["text"] = text },
        });
        // Until the project has loaded the server may publish nothing useful: re-send the text to ask again.
        void Resend() => server.Notify("textDocument/didChange", new JsonObject
        {
            ["textDocument"] = new JsonObject { ["uri"] = uri, ["version"] = ++version },
            ["contentChanges"] = new JsonArray(new JsonObject { ["text"] = text }),
        });

        var shown = await server.WaitForDiagnostics(uri, d => Codes(d).Contains("AFT0201"), Loading, Resend);
        var error = Assert.Single(shown, d => (string?)d!["code"] == "AFT0201")!;
        Assert.Equal(1, (int?)error["severity"]);                                   // LSP: 1 is an error
        Assert.Contains("heads (32) must divide dim (380)", (string?)error["message"]);
        // On "heads: 32", line 2 (from 0), as the analyzer reports it.
        var start = Layers.Split('\n')[2].IndexOf("heads: 32", StringComparison.Ordinal);
        Assert.Equal((2, start, 2, start + "heads: 32".Length),
            ((int)error["range"]!["start"]!["line"]!, (int)error["range"]!["start"]!["character"]!,
             (int)error["range"]!["end"]!["line"]!, (int)error["range"]!["end"]!["character"]!));
        var unrelated = shown.Where(d => (int?)d!["severity"] == 1 && (string?)d["code"] != "AFT0201").ToList();
        Assert.True(unrelated.Count == 0, "errors beside AFT0201 in the editor: " + string.Join("; ", unrelated.Select(d => d!.ToJsonString())));

        // The user takes 4 heads, which divide 380: the error goes, and no other takes its place.
        text = text.Replace(Broken, Fixed);
        Assert.NotEqual(Layers, text);
        Resend();
        var after = await server.WaitForDiagnostics(uri, d => !Codes(d).Contains("AFT0201"), Answer, Resend);
        Assert.DoesNotContain(after, d => (int?)d!["severity"] == 1);

        try
        {
            await server.Request("shutdown", null, TimeSpan.FromSeconds(10));
            server.Notify("exit", null);
        }
        catch (TimeoutException)
        {
            // Dispose kills it; the assertions above are what this test is about.
        }
    }

    static IEnumerable<string> Codes(JsonArray diagnostics) => diagnostics.Select(d => (string?)d!["code"] ?? "");
}
