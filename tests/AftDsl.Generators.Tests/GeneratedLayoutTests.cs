using System.Runtime.CompilerServices;
using Xunit;

namespace AftDsl.Generators.Tests;

/// <summary>Generated code reads like code a careful person wrote: short lines, no version baked into the snapshots.</summary>
public class GeneratedLayoutTests
{
    static IEnumerable<string> Snapshots([CallerFilePath] string here = "") =>
        Directory.GetFiles(Path.Combine(Path.GetDirectoryName(here)!, "_snapshots"), "*.verified.cs");

    [Fact]
    public void Every_generated_line_fits_in_120_characters()
    {
        var snapshots = Snapshots().ToList();
        Assert.True(snapshots.Count > 40, $"only {snapshots.Count} snapshots found");
        var long_ = snapshots
            .SelectMany(file => File.ReadLines(file).Select((line, i) => (File: Path.GetFileName(file), Line: i + 1, Text: line)))
            .Where(l => l.Text.Length > 120)
            .Select(l => $"{l.File}:{l.Line}: {l.Text.Length} characters")
            .ToList();
        Assert.True(long_.Count == 0, string.Join("\n", long_));
    }

    [Fact]
    public void Snapshots_name_the_generator_version_only_as_a_placeholder()
    {
        foreach (var file in Snapshots())
        {
            var text = File.ReadAllText(file);
            Assert.Contains("GeneratedCode(\"AftDsl.Generators\", \"{version}\")", text);
        }
    }
}
