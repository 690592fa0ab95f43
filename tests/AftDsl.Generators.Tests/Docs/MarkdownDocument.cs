using System.Text;
using System.Text.RegularExpressions;

namespace AftDsl.Generators.Tests.Docs;

/// <summary>A fenced code block of a Markdown file: its info string, its text and the line its fence opens on.</summary>
public sealed record CodeBlock(string File, int Line, string Info, string Code)
{
    /// <summary>The language, the info string's first word (what GitHub highlights by).</summary>
    public string Language => Info.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";

    /// <summary>Where the block is, as a reader finds it: <c>docs/layers.md:12</c>.</summary>
    public override string ToString() => $"{File}:{Line}";
}

/// <summary>A link or image of a Markdown file, outside code: its target as written and its line.</summary>
public sealed record MarkdownLink(string File, int Line, string Target);

/// <summary>
/// Just enough of Markdown to check the repository's docs: fenced code blocks, links and images outside code, and
/// the anchors GitHub gives headings (and explicit <c>&lt;a id&gt;</c> anchors). Not a general parser: the docs keep
/// to fences of three backticks, inline links and ATX headings.
/// </summary>
public sealed partial class MarkdownDocument
{
    /// <summary>The path relative to the repository root, with forward slashes.</summary>
    public string File { get; }

    public IReadOnlyList<CodeBlock> CodeBlocks { get; }

    public IReadOnlyList<MarkdownLink> Links { get; }

    /// <summary>Every anchor a link into this file may name: heading slugs (with GitHub's -1, -2 for repeats) and ids.</summary>
    public IReadOnlySet<string> Anchors { get; }

    /// <summary>The headings' texts, in order, as written after the #s.</summary>
    public IReadOnlyList<(int Level, string Text)> Headings { get; }

    MarkdownDocument(string file, string text)
    {
        File = file;
        var blocks = new List<CodeBlock>();
        var links = new List<MarkdownLink>();
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var headings = new List<(int, string)>();
        var slugCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        var lines = text.Replace("\r\n", "\n").Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                var indent = line.Length - line.TrimStart().Length;
                var info = line.Trim()[3..].Trim();
                var code = new StringBuilder();
                var open = i + 1;
                for (i++; i < lines.Length && !lines[i].Trim().StartsWith("```", StringComparison.Ordinal); i++)
                    code.Append(lines[i].Length >= indent ? lines[i][indent..] : lines[i].TrimStart()).Append('\n');
                if (i == lines.Length)
                    throw new InvalidOperationException($"{file}:{open}: a code fence that is never closed");
                blocks.Add(new CodeBlock(file, open, info, code.ToString()));
                continue;
            }
            var heading = HeadingPattern().Match(line);
            if (heading.Success)
            {
                var headingText = heading.Groups[2].Value.Trim();
                headings.Add((heading.Groups[1].Length, headingText));
                var slug = Slug(headingText);
                anchors.Add(slugCounts.TryGetValue(slug, out var seen) ? $"{slug}-{seen}" : slug);
                slugCounts[slug] = seen + 1;
            }
            foreach (Match id in ExplicitAnchorPattern().Matches(line))
                anchors.Add(id.Groups[1].Value);
            foreach (Match link in LinkPattern().Matches(InlineCodePattern().Replace(line, "")))
                links.Add(new MarkdownLink(file, i + 1, link.Groups[1].Value));
        }
        CodeBlocks = blocks;
        Links = links;
        Anchors = anchors;
        Headings = headings;
    }

    /// <summary>Reads <paramref name="relativePath"/> under <paramref name="root"/>.</summary>
    public static MarkdownDocument Read(string root, string relativePath) =>
        Parse(relativePath.Replace('\\', '/'), System.IO.File.ReadAllText(Path.Combine(root, relativePath)));

    /// <summary>Markdown <paramref name="text"/>, named <paramref name="file"/> in what it reports.</summary>
    public static MarkdownDocument Parse(string file, string text) => new(file, text);

    /// <summary>README.md and every Markdown file under docs/: the documentation a user reads.</summary>
    public static IReadOnlyList<MarkdownDocument> UserDocs()
    {
        var root = AnalyzerTests.RepositoryRoot();
        var docs = Directory.GetFiles(Path.Combine(root, "docs"), "*.md", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(root, path)).Order(StringComparer.Ordinal);
        return [.. new[] { "README.md" }.Concat(docs).Select(path => Read(root, path))];
    }

    /// <summary>
    /// GitHub's anchor of a heading: the rendered text (code spans, emphasis and link targets dropped) in lower
    /// case, punctuation removed except hyphens and underscores, each space a hyphen.
    /// </summary>
    public static string Slug(string heading)
    {
        var text = MarkupPattern().Replace(LinkTextPattern().Replace(heading, "$1"), "");
        var slug = new StringBuilder();
        foreach (var c in text.ToLowerInvariant())
        {
            if (char.IsLetterOrDigit(c) || c is '-' or '_')
                slug.Append(c);
            else if (c == ' ')
                slug.Append('-');
        }
        return slug.ToString();
    }

    [GeneratedRegex(@"^(#{1,6})\s+(.*?)\s*#*\s*$")]
    private static partial Regex HeadingPattern();

    [GeneratedRegex(@"<a\s+(?:id|name)=""([^""]+)""")]
    private static partial Regex ExplicitAnchorPattern();

    // [text](target) and ![alt](target); a title after the target ("…") is not used in these docs.
    [GeneratedRegex(@"\]\(([^)\s]+)\)")]
    private static partial Regex LinkPattern();

    [GeneratedRegex(@"`[^`]*`")]
    private static partial Regex InlineCodePattern();

    [GeneratedRegex(@"\[([^\]]*)\]\([^)]*\)")]
    private static partial Regex LinkTextPattern();

    [GeneratedRegex(@"[`*]")]
    private static partial Regex MarkupPattern();
}
