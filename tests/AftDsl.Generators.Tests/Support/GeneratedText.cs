using System.Text.RegularExpressions;

namespace AftDsl.Generators.Tests.Support;

/// <summary>Generated code read as one line, for assertions on what it says rather than where its lines break.</summary>
public static class GeneratedText
{
    /// <summary>
    /// Joins broken lines with single spaces (dropping the <c>///</c> of continued comments) and rejoins string
    /// literals split into <c>"…" + "…"</c> pieces; a braced body broken over lines reads <c>{ get => …; }</c>.
    /// </summary>
    public static string Flat(string source) =>
        Regex.Replace(Regex.Replace(source, "\"\\s*\\+\\s*\"", ""), @"\s*\n\s*(///\s*)?", " ");
}
