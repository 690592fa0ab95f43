using AftDsl.Tests.Shared;
using System.Text.Json.Nodes;
using Xunit;

namespace AftDsl.Generators.Tests.LanguageServer;

/// <summary>
/// AFT diagnostics where users meet them: in <c>dotnet build</c> of a consumer project, each once, and in a real
/// Roslyn language server (csharp-ls, analyzers enabled) over LSP, on their arguments, updated as the user edits.
/// </summary>
public sealed class LanguageServerTests(ConsumerProject consumer) : IClassFixture<ConsumerProject>
{
    static readonly TimeSpan Loading = TimeSpan.FromSeconds(100);
    static readonly TimeSpan Answer = TimeSpan.FromSeconds(30);

    [Fact]
    public void Dotnet_build_reports_each_AFT_mistake_once_on_its_argument()
    {
        var (code, output) = ProcessRunner.Run("dotnet", "build --no-restore -nologo", consumer.Directory, TimeSpan.FromMinutes(2));
        Assert.True(code != 0, "the consumer's errors must fail its build:\n" + output);
        var sarif = Path.Combine(consumer.Directory, "build.sarif");
        Assert.True(File.Exists(sarif), "the compiler wrote no SARIF log:\n" + output);
        var all = JsonNode.Parse(File.ReadAllText(sarif))!["runs"]![0]!["results"]!.AsArray()
            .Select(r => (Id: (string)r!["ruleId"]!, Level: (string)r["level"]!, Region: r["locations"]?[0]?["physicalLocation"]?["region"]))
            .ToList();
        var results = all.Where(r => r.Id.StartsWith("AFT", StringComparison.Ordinal)).ToList();
        // No cascade: the uses of the broken classes compile, so the compiler adds no error of its own.
        Assert.True(!all.Any(r => r.Level == "error" && !r.Id.StartsWith("AFT", StringComparison.Ordinal)),
            "compiler errors beside the AFT ones:\n" + output);

        // csc reports no analyzer diagnostic when the compilation has declaration errors: a cascade of compiler
        // errors (a stage property without its generated part) would hide every AFT diagnostic.
        Assert.True(ConsumerProject.Expected.Select(e => e.Id).Order().SequenceEqual(results.Select(r => r.Id).Order()),
            $"expected {string.Join(", ", ConsumerProject.Expected.Select(e => e.Id))} once each; the build said:\n{output}");
        foreach (var ((id, severity), span) in ConsumerProject.Expected.Zip(consumer.Spans))
        {
            var found = Assert.Single(results, r => r.Id == id);
            Assert.Equal(severity, found.Level);
            // SARIF counts lines and columns from 1.
            Assert.Equal((span.Start.Line + 1, span.Start.Character + 1, span.End.Line + 1, span.End.Character + 1),
                ((int)found.Region!["startLine"]!, (int)found.Region["startColumn"]!, (int)found.Region["endLine"]!, (int)found.Region["endColumn"]!));
        }
    }

    [Fact]
    public async Task Csharp_ls_shows_the_AFT_diagnostics_on_their_arguments_and_drops_one_when_it_is_fixed()
    {
        var settings = new JsonObject { ["csharp"] = new JsonObject { ["analyzersEnabled"] = true } };
        using var server = LspClient.Start(CSharpLs.Path, "--loglevel info", consumer.Directory, settings);
        await server.Initialize(consumer.Directory, "Consumer", settings, Answer);

        var uri = LspClient.Normalize(new Uri(consumer.LayersPath).AbsoluteUri);
        var version = 1;
        var text = consumer.Layers;
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

        var expectedIds = ConsumerProject.Expected.Select(e => e.Id).Order().ToList();
        var shown = Aft(await server.WaitForDiagnostics(uri, d => Aft(d).Select(x => x.Id).Order().SequenceEqual(expectedIds), Loading, Resend));
        foreach (var ((id, severity), span) in ConsumerProject.Expected.Zip(consumer.Spans))
        {
            var found = Assert.Single(shown, d => d.Id == id);
            Assert.Equal((span.Start.Line, span.Start.Character, span.End.Line, span.End.Character), found.Range);
            Assert.Equal(severity == "error" ? 1 : 2, found.Severity);                // LSP: 1 error, 2 warning
        }
        var all = await server.WaitForDiagnostics(uri, _ => true, Answer);
        var unrelated = all.Where(d => (int?)d!["severity"] == 1 && !((string?)d["code"] ?? "").StartsWith("AFT", StringComparison.Ordinal)).ToList();
        Assert.True(unrelated.Count == 0, "errors beside the AFT ones in the editor: " + string.Join("; ", unrelated.Select(d => d!.ToJsonString())));

        // The user fixes AFT0101 (maxLength: 0): it disappears, the others stay.
        text = text.Replace("[AftFull(maxLength: 0, Dim = 32)]", "[AftFull(maxLength: 64, Dim = 32)]");
        Assert.NotEqual(consumer.Layers, text);
        Resend();
        var remaining = expectedIds.Where(id => id != "AFT0101").ToList();
        var after = Aft(await server.WaitForDiagnostics(uri, d => Aft(d).Select(x => x.Id).Order().SequenceEqual(remaining), Answer, Resend));
        Assert.DoesNotContain(after, d => d.Id == "AFT0101");

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

    static List<(string Id, (int, int, int, int) Range, int Severity)> Aft(JsonArray diagnostics) =>
    [
        .. diagnostics.Select(d => (Id: (string?)d!["code"] ?? "", d))
            .Where(x => x.Id.StartsWith("AFT", StringComparison.Ordinal))
            .Select(x => (x.Id, ((int)x.d!["range"]!["start"]!["line"]!, (int)x.d["range"]!["start"]!["character"]!,
                (int)x.d["range"]!["end"]!["line"]!, (int)x.d["range"]!["end"]!["character"]!), (int?)x.d["severity"] ?? 0)),
    ];
}
