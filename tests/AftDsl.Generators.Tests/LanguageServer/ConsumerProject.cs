using AftDsl.Tests.Shared;
using Microsoft.CodeAnalysis.Text;

namespace AftDsl.Generators.Tests.LanguageServer;

/// <summary>
/// A consumer project on disk, as a user has it: a csproj referencing the built AftDsl and TorchSharp assemblies and
/// the generator assembly as its analyzer (what the package puts in place), an .editorconfig that lowers one AFT
/// error to a warning, and a file of broken declarations. Restored once; outside the repository, so that none of its
/// build files apply.
/// </summary>
public sealed class ConsumerProject : IDisposable
{
    /// <summary>The broken file, with each expected diagnostic's span marked <c>[|…|]</c>, in the order of <see cref="Expected"/>.</summary>
    public const string MarkedLayers = """
        using AftDsl;
        using AftDsl.Modules;
        using TorchSharp.Modules;

        namespace Consumer;

        [AftConv([|heads: 32|], window: 7, Dim = 380)] public partial class Bad;
        [AftFull([|maxLength: 0|], Dim = 32)] public partial class Empty;
        [AftLocal(maxLength: 64, window: 8, Dim = 32)] public class [|NotPartial|];
        [AftConv(heads: 4, [|window: 6|], Dim = 32)] public partial class EvenWindow;
        [AftSimple(Dim = 64)] public partial class Wide;

        [AftModel, TokenInput(vocab: 256, maxLength: 64)]
        public partial class Lm
        {
            [Embedding(dim: 32)] public partial Embedding Embed { get; }
            [Blocks(depth: 2, [|mixer: typeof(Wide)|])] public partial BlockStack Body { get; }
        }

        // Uses of the broken layers and model: with skeletons generated for them, none of these is an error.
        public static class Uses
        {
            public static long Sizes() => Bad.Heads + Bad.ParameterCount + Empty.MaxLength + EvenWindow.Window + Lm.ParameterCount + Lm.EmbedParameterCount;
            public static object[] Modules(Lm lm) => [new Bad(), new Empty(), new EvenWindow(), new Lm(), lm.Embed, lm.Body];
        }
        """;

    /// <summary>The AFT diagnostics of <see cref="MarkedLayers"/>, in source order; AFT0202 is a warning by the .editorconfig.</summary>
    public static readonly (string Id, string Severity)[] Expected =
        [("AFT0201", "error"), ("AFT0101", "error"), ("AFT0001", "error"), ("AFT0202", "warning"), ("AFT0303", "error")];

    public string Directory { get; }

    public string LayersPath => Path.Combine(Directory, "Layers.cs");

    public string Layers { get; }

    /// <summary>The marked spans, as line and character positions in <see cref="Layers"/>.</summary>
    public IReadOnlyList<LinePositionSpan> Spans { get; }

    public ConsumerProject()
    {
        (Layers, var spans) = Unmark(MarkedLayers);
        var text = SourceText.From(Layers);
        Spans = [.. spans.Select(text.Lines.GetLinePositionSpan)];
        Directory = Path.Combine(Path.GetTempPath(), "aftdsl-consumer-" + Guid.NewGuid().ToString("N")[..8]);
        var lib = Path.Combine(Directory, "lib");
        System.IO.Directory.CreateDirectory(lib);
        // Copies, so that a running server never holds the test's own output open.
        foreach (var assembly in new[] { "AftDsl.dll", "TorchSharp.dll", "AftDsl.Generators.dll" })
            File.Copy(Path.Combine(AppContext.BaseDirectory, assembly), Path.Combine(lib, assembly));
        File.WriteAllText(Path.Combine(Directory, "Consumer.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <!-- Every diagnostic the compiler reports, as SARIF: counted by the build test. -->
                <ErrorLog>$(MSBuildProjectDirectory)/build.sarif,version=2.1</ErrorLog>
              </PropertyGroup>
              <ItemGroup>
                <Reference Include="AftDsl" HintPath="lib/AftDsl.dll" />
                <Reference Include="TorchSharp" HintPath="lib/TorchSharp.dll" />
                <Analyzer Include="lib/AftDsl.Generators.dll" />
                <!-- What the package's build targets declare (else AFT9002 says they are not imported). -->
                <CompilerVisibleProperty Include="AftDslRuntimeGuards" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(Directory, ".editorconfig"), """
            root = true

            [*.cs]
            dotnet_diagnostic.AFT0202.severity = warning
            """);
        File.WriteAllText(LayersPath, Layers);
        var (code, output) = ProcessRunner.Run("dotnet", "restore", Directory, TimeSpan.FromMinutes(2));
        if (code != 0)
            throw new InvalidOperationException($"dotnet restore of the consumer project failed ({code}):\n{output}");
    }

    static (string Text, List<TextSpan> Spans) Unmark(string marked)
    {
        var spans = new List<TextSpan>();
        var text = marked;
        while (text.IndexOf("[|", StringComparison.Ordinal) is var start and >= 0)
        {
            var end = text.IndexOf("|]", start, StringComparison.Ordinal);
            text = text.Remove(end, 2).Remove(start, 2);
            spans.Add(TextSpan.FromBounds(start, end - 2));
        }
        return (text, spans);
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
