using Microsoft.CodeAnalysis.Text;

namespace AftDsl.Generators.Tests.Support;

/// <summary>
/// Source with the expected diagnostic span marked as <c>[|…|]</c>, as in Roslyn's own analyzer tests.
/// </summary>
public sealed record Markup(string Source, TextSpan Span)
{
    public static Markup Parse(string marked)
    {
        var start = marked.IndexOf("[|", StringComparison.Ordinal);
        var end = marked.IndexOf("|]", StringComparison.Ordinal);
        if (start < 0 || end < start) throw new ArgumentException("markup needs one [|…|] span", nameof(marked));
        var source = marked.Remove(end, 2).Remove(start, 2);
        return new Markup(source, TextSpan.FromBounds(start, end - 2));
    }

    public string SpanText => Source.Substring(Span.Start, Span.Length);
}
