using Xunit;

namespace AftDsl.Generators.Tests.Docs;

/// <summary>
/// Every relative link and image in README.md and docs/ resolves: the file exists in the repository, and an
/// anchor (<c>#…</c>) names a heading or an explicit anchor of the Markdown file it points into.
/// </summary>
public sealed class DocsLinkTests
{
    [Fact]
    public void Every_relative_link_resolves_to_a_file_and_its_anchor_to_a_heading()
    {
        var root = AnalyzerTests.RepositoryRoot();
        var docs = MarkdownDocument.UserDocs();
        var broken = new List<string>();
        var checkedLinks = 0;
        foreach (var link in docs.SelectMany(d => d.Links))
        {
            if (link.Target.Contains("://", StringComparison.Ordinal) || link.Target.StartsWith("mailto:", StringComparison.Ordinal))
                continue;
            checkedLinks++;
            var hash = link.Target.IndexOf('#', StringComparison.Ordinal);
            var pathPart = hash < 0 ? link.Target : link.Target[..hash];
            var anchor = hash < 0 ? null : link.Target[(hash + 1)..];
            var linkingDir = Path.GetDirectoryName(Path.Combine(root, link.File))!;
            var target = pathPart.Length == 0 ? Path.Combine(root, link.File) : Path.GetFullPath(Path.Combine(linkingDir, Uri.UnescapeDataString(pathPart)));
            if (!target.StartsWith(root, StringComparison.Ordinal))
                broken.Add($"{link.File}:{link.Line}: {link.Target} leaves the repository");
            else if (!File.Exists(target) && !Directory.Exists(target))
                broken.Add($"{link.File}:{link.Line}: {link.Target}: no such file ({Path.GetRelativePath(root, target)})");
            else if (anchor is not null)
            {
                if (!target.EndsWith(".md", StringComparison.Ordinal))
                    broken.Add($"{link.File}:{link.Line}: {link.Target}: an anchor into a file that is not Markdown");
                else if (!MarkdownDocument.Read(root, Path.GetRelativePath(root, target)).Anchors.Contains(anchor))
                    broken.Add($"{link.File}:{link.Line}: {link.Target}: no heading or anchor '#{anchor}' in {Path.GetRelativePath(root, target)}");
            }
        }
        Assert.True(broken.Count == 0, "broken links:\n" + string.Join("\n", broken));
        // The docs link into results and into each other: a parser that finds no links would pass vacuously.
        Assert.True(checkedLinks > 20, $"only {checkedLinks} relative links found");
    }

    [Fact]
    public void Links_in_code_are_not_links_and_repeated_headings_get_numbered_anchors()
    {
        var doc = MarkdownDocument.Parse("x.md", "# A\n\nsee [b](b.md), `[c](c.md)`, ![d](d.png)\n\n```text\n[e](e.md)\n```\n\n## A\n<a id=\"f\"></a>\n");
        Assert.Equal(["b.md", "d.png"], doc.Links.Select(l => l.Target));
        Assert.Equal(new HashSet<string> { "a", "a-1", "f" }, doc.Anchors);
    }

    [Theory]
    [InlineData("The main job: `aftlab`", "the-main-job-aftlab")]
    [InlineData("Results: the paper's three experiments at small scale", "results-the-papers-three-experiments-at-small-scale")]
    [InlineData("AFT0101", "aft0101")]
    [InlineData("Running on a CUDA host", "running-on-a-cuda-host")]
    [InlineData("TorchSharp on Debian 12", "torchsharp-on-debian-12")]
    public void Heading_anchors_are_GitHubs(string heading, string anchor) =>
        Assert.Equal(anchor, MarkdownDocument.Slug(heading));
}
