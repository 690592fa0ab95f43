using System.Text;
using Microsoft.CodeAnalysis.CSharp;

namespace AftDsl.Generators.Model;

/// <summary>
/// Names as the generated source and the compiler's file names need them. Models keep names as the symbols give
/// them (<c>class</c>, not <c>@class</c>); the emitters escape keywords, and hint names keep only the characters
/// every host accepts.
/// </summary>
internal static class Identifiers
{
    /// <summary><c>@class</c> for a name that is a C# keyword; any other name as it is.</summary>
    public static string Escape(string name) => SyntaxFacts.GetKeywordKind(name) == SyntaxKind.None ? name : "@" + name;

    /// <summary>A dotted name (a namespace) with each part escaped.</summary>
    public static string EscapeDotted(string name) => string.Join(".", name.Split('.').Select(Escape));

    /// <summary>
    /// A hint name from a qualified type name: letters, digits, '.', '_' and '-' kept, anything else (a
    /// combining mark, a formatting character) replaced by '_', with a hash of the whole name appended then, so
    /// that two names differing only there do not claim one file. Roslyn compares hint names ignoring case, so a
    /// name with a part that starts in lower case (<c>l</c> beside <c>L</c>, <c>model</c> beside <c>Model</c>) gets
    /// the hash too; names in the usual casing keep their plain file names.
    /// </summary>
    public static string HintName(string qualifiedName)
    {
        var text = new StringBuilder(qualifiedName.Length);
        var replaced = false;
        foreach (var c in qualifiedName)
        {
            var kept = c < 128 ? char.IsLetterOrDigit(c) || c is '.' or '_' or '-' : char.IsLetterOrDigit(c);
            text.Append(kept ? c : '_');
            replaced |= !kept;
        }
        if (replaced || qualifiedName.Split('.').Any(part => part.TrimStart('@') is { Length: > 0 } p && char.IsLower(p[0])))
        {
            var hash = 2166136261u;                                      // FNV-1a: stable across runs and platforms
            foreach (var c in qualifiedName)
                hash = unchecked((hash ^ c) * 16777619u);
            text.Append('_').Append(hash.ToString("x8", System.Globalization.CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }
}
