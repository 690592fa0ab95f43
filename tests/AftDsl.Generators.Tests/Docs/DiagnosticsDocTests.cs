using System.Text.RegularExpressions;
using Xunit;

namespace AftDsl.Generators.Tests.Docs;

/// <summary>
/// docs/diagnostics.md has one heading per diagnostic ID, for exactly the IDs of the catalogue and the release
/// notes, each with the title the compiler shows; every help link points at its heading there.
/// </summary>
public sealed partial class DiagnosticsDocTests
{
    static readonly MarkdownDocument Doc = MarkdownDocument.Read(AnalyzerTests.RepositoryRoot(), "docs/diagnostics.md");

    static readonly IReadOnlyList<Microsoft.CodeAnalysis.DiagnosticDescriptor> Catalogue = new AftDiagnosticAnalyzer().SupportedDiagnostics;

    static IReadOnlyList<string> DocumentedIds() =>
        [.. Doc.Headings.Where(h => h.Level == 3 && IdPattern().IsMatch(h.Text)).Select(h => h.Text)];

    [Fact]
    public void Every_ID_of_the_catalogue_and_the_release_notes_has_exactly_one_heading()
    {
        var root = AnalyzerTests.RepositoryRoot();
        var released = new[] { "AnalyzerReleases.Shipped.md", "AnalyzerReleases.Unshipped.md" }
            .SelectMany(file => File.ReadAllLines(Path.Combine(root, "generators/AftDsl.Generators", file)))
            .Select(line => line.Split(' ', '|')[0].Trim()).Where(id => IdPattern().IsMatch(id));
        var expected = Catalogue.Select(d => d.Id).Concat(released).Distinct().Order(StringComparer.Ordinal).ToList();
        var documented = DocumentedIds();

        Assert.Equal(documented.Distinct().Count(), documented.Count);
        Assert.Equal(expected, documented.Order(StringComparer.Ordinal).ToList());
    }

    [Fact]
    public void Every_help_link_points_at_its_heading_in_the_diagnostics_doc()
    {
        Assert.All(Catalogue, descriptor =>
        {
            var anchor = descriptor.Id.ToLowerInvariant();
            Assert.Equal($"https://github.com/aftdsl/aftdsl/blob/main/docs/diagnostics.md#{anchor}", descriptor.HelpLinkUri);
            Assert.Contains(anchor, Doc.Anchors);
        });
    }

    [Fact]
    public void Each_heading_gives_the_title_the_compiler_shows()
    {
        var text = File.ReadAllText(Path.Combine(AnalyzerTests.RepositoryRoot(), "docs/diagnostics.md")).Replace("\r\n", "\n");
        Assert.All(Catalogue, descriptor =>
        {
            var section = Regex.Match(text, $@"^### {descriptor.Id}\n\n\*\*(.+?)\*\* \((error|warning)\)$", RegexOptions.Multiline);
            Assert.True(section.Success, $"### {descriptor.Id} is not followed by '**title** (error|warning)'");
            Assert.Equal(descriptor.Title.ToString(System.Globalization.CultureInfo.InvariantCulture), section.Groups[1].Value);
            Assert.Equal(descriptor.DefaultSeverity.ToString().ToLowerInvariant(), section.Groups[2].Value);
        });
    }

    [GeneratedRegex(@"^AFT\d{4}$")]
    private static partial Regex IdPattern();
}
