using System.Text.RegularExpressions;
using Xunit;

namespace AftDsl.Generators.Tests.Docs;

/// <summary>
/// docs/diagnostics.md has one heading per diagnostic ID, for every ID of the analyzers and the release notes, each
/// with the title the compiler shows; every help link points at its heading there.
/// </summary>
public sealed partial class DiagnosticsDocTests
{
    static readonly MarkdownDocument Doc = MarkdownDocument.Read(AnalyzerTests.RepositoryRoot(), "docs/diagnostics.md");

    // Every analyzer the generator assembly ships, not only AftDiagnosticAnalyzer: each ID a user can meet.
    static readonly IReadOnlyList<Microsoft.CodeAnalysis.DiagnosticDescriptor> Catalogue =
        [.. typeof(AftDiagnosticAnalyzer).Assembly.GetTypes()
            .Where(t => typeof(Microsoft.CodeAnalysis.Diagnostics.DiagnosticAnalyzer).IsAssignableFrom(t) && !t.IsAbstract)
            .SelectMany(t => ((Microsoft.CodeAnalysis.Diagnostics.DiagnosticAnalyzer)Activator.CreateInstance(t)!).SupportedDiagnostics)
            .DistinctBy(d => d.Id)];

    static IReadOnlyList<string> DocumentedIds() =>
        [.. Doc.Headings.Where(h => h.Level == 3 && IdPattern().IsMatch(h.Text)).Select(h => h.Text)];

    [Fact]
    public void Every_ID_of_the_analyzers_and_the_release_notes_has_exactly_one_heading()
    {
        var root = AnalyzerTests.RepositoryRoot();
        var released = new[] { "AnalyzerReleases.Shipped.md", "AnalyzerReleases.Unshipped.md" }
            .SelectMany(file => File.ReadAllLines(Path.Combine(root, "generators/AftDsl.Generators", file)))
            .Select(line => line.Split(' ', '|')[0].Trim()).Where(id => IdPattern().IsMatch(id));
        var expected = Catalogue.Select(d => d.Id).Concat(released).Distinct().Order(StringComparer.Ordinal).ToList();
        var documented = DocumentedIds();

        Assert.Equal(documented.Distinct().Count(), documented.Count);
        Assert.Empty(expected.Except(documented));
        Assert.Empty(documented.Except(expected));                 // no heading for a diagnostic that does not exist
    }

    [Fact]
    public void Every_help_link_points_at_its_heading_in_the_diagnostics_doc()
    {
        var wrong = Catalogue.Where(d => d.HelpLinkUri != $"https://github.com/aftdsl/aftdsl/blob/main/docs/diagnostics.md#{d.Id.ToLowerInvariant()}"
                || !Doc.Anchors.Contains(d.Id.ToLowerInvariant()))
            .Select(d => $"{d.Id}: {d.HelpLinkUri}").ToList();
        Assert.True(wrong.Count == 0, "help links without their heading:\n" + string.Join("\n", wrong));
    }

    [Fact]
    public void Each_heading_gives_the_title_the_compiler_shows()
    {
        var text = File.ReadAllText(Path.Combine(AnalyzerTests.RepositoryRoot(), "docs/diagnostics.md")).Replace("\r\n", "\n");
        var wrong = new List<string>();
        foreach (var descriptor in Catalogue)
        {
            var expected = $"**{descriptor.Title.ToString(System.Globalization.CultureInfo.InvariantCulture)}** ({descriptor.DefaultSeverity.ToString().ToLowerInvariant()})";
            var section = Regex.Match(text, $@"^### {descriptor.Id}\n\n(.*)$", RegexOptions.Multiline);
            if (!section.Success || section.Groups[1].Value != expected)
                wrong.Add($"### {descriptor.Id} must be followed by a blank line and {expected}, not '{(section.Success ? section.Groups[1].Value : "(no heading)")}'");
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    [GeneratedRegex(@"^AFT\d{4}$")]
    private static partial Regex IdPattern();
}
