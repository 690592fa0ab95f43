using System.CodeDom.Compiler;
using System.Globalization;

namespace AftDsl.Generators.Emit;

/// <summary>
/// Writes C# text with indentation, LF line endings and the invariant culture, so that the same
/// model always yields the same bytes, whatever the machine's locale.
/// </summary>
internal sealed class SourceWriter
{
    readonly StringWriter text = new(CultureInfo.InvariantCulture) { NewLine = "\n" };
    readonly IndentedTextWriter writer;

    public SourceWriter() => writer = new IndentedTextWriter(text, "    ") { NewLine = "\n" };

    /// <summary>The generator's version, as <c>[GeneratedCode]</c> states it (the package's version).</summary>
    public static readonly string GeneratorVersion =
        typeof(SourceWriter).Assembly.GetName().Version is { } version ? version.ToString(3) : "0.0.0";

    /// <summary>Writes the <c>[GeneratedCode]</c> attribute that marks a generated type.</summary>
    public void GeneratedCodeAttribute() =>
        Line($"[global::System.CodeDom.Compiler.GeneratedCode(\"AftDsl.Generators\", \"{GeneratorVersion}\")]");

    /// <summary>A number as C# source, independent of the current culture.</summary>
    public static string Literal(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A boolean as C# source.</summary>
    public static string Literal(bool value) => value ? "true" : "false";

    /// <summary>A number for documentation, with the invariant culture's digit separators: 46,208.</summary>
    public static string Grouped(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>Text made safe inside an XML doc comment.</summary>
    public static string XmlText(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

    /// <summary>
    /// Writes a constant with a summary that shows its value, so that a hover shows it: a number with digit separators and
    /// <paramref name="unit"/> ("46,208 parameters"), a string or boolean as code. The value goes where the summary says
    /// <c>{value}</c>, else after it ("Image channels: 3.").
    /// </summary>
    public void Constant(string summary, string type, string name, string value, string? unit = null)
    {
        var shown = type switch
        {
            "long" => Grouped(long.Parse(value, CultureInfo.InvariantCulture)) + (unit is null ? "" : " " + unit),
            "string" => "<c>" + XmlText(value.Substring(1, value.Length - 2).Replace("\\\"", "\"").Replace("\\\\", "\\")) + "</c>",
            _ => "<c>" + value + "</c>",
        };
        Summary(summary.Contains("{value}") ? summary.Replace("{value}", shown) : summary.TrimEnd('.') + ": " + shown + ".");
        Line($"public const {type} {name} = {value};");
    }

    /// <summary>The longest line the generated code has, indentation included.</summary>
    public const int Width = 120;

    /// <summary>Writes a doc summary on one line where it fits in 120 characters, else over as many lines as it needs.</summary>
    public void Summary(string text)
    {
        var indent = writer.Indent * 4;
        var single = $"/// <summary>{text}</summary>";
        if (indent + single.Length <= Width)
        {
            Line(single);
            return;
        }
        Line("/// <summary>");
        Doc(text);
        Line("/// </summary>");
    }

    /// <summary>Writes documentation text as <c>///</c> lines of at most 120 characters, broken at spaces.</summary>
    public void Doc(string text)
    {
        foreach (var line in DocLines(text, writer.Indent * 4))
            Raw(line);
    }

    static IEnumerable<string> DocLines(string text, int indent)
    {
        var line = "";
        foreach (var word in Words(text).SelectMany(w => Unbreakable(w, indent)))
        {
            if (line.Length > 0 && indent + 4 + line.Length + 1 + word.Length > Width)
            {
                yield return "/// " + line;
                line = "";
            }
            line = line.Length == 0 ? word : line + " " + word;
        }
        if (line.Length > 0)
            yield return "/// " + line;
    }

    // A <c>…</c> span too long for a line of its own (an attribute with many options) is broken at its spaces
    // after all; the element may span lines. Every shorter word stays whole.
    static IEnumerable<string> Unbreakable(string word, int indent) =>
        indent + 4 + word.Length > Width && word.Contains("<c>") ? word.Split(' ') : [word];

    // The text split at spaces, but not inside <c>…</c> (a shape such as [B, H, W, 384] stays on one line) nor
    // inside a tag (<exception cref="…">).
    static IEnumerable<string> Words(string text)
    {
        var start = 0;
        var code = false;
        var tag = false;
        for (var i = 0; i < text.Length; i++)
        {
            if (string.CompareOrdinal(text, i, "<c>", 0, 3) == 0) code = true;
            else if (string.CompareOrdinal(text, i, "</c>", 0, 4) == 0) code = false;
            else if (text[i] == '<') tag = true;
            else if (text[i] == '>') tag = false;
            else if (text[i] == ' ' && !code && !tag)
            {
                yield return text.Substring(start, i - start);
                start = i + 1;
            }
        }
        yield return text.Substring(start);
    }

    /// <summary>
    /// Writes a line at the current indentation; one longer than <see cref="Width"/> is broken: documentation at
    /// spaces, code by <see cref="CodeWrapper"/>.
    /// </summary>
    public void Line(string line = "")
    {
        var indent = writer.Indent * 4;
        if (line.Length == 0 || indent + line.Length <= Width) Raw(line);
        else if (line.StartsWith("/// <summary>", StringComparison.Ordinal) && line.EndsWith("</summary>", StringComparison.Ordinal))
            Summary(line.Substring(13, line.Length - 13 - 10));
        else if (line.StartsWith("/// ", StringComparison.Ordinal)) Doc(line.Substring(4));
        else foreach (var piece in CodeWrapper.Wrap(line, indent, Width)) Raw(piece);
    }

    void Raw(string line)
    {
        if (line.Length == 0) writer.WriteLineNoTabs("");
        else writer.WriteLine(line);
    }

    /// <summary>Writes <paramref name="header"/> and an opening brace; disposing closes the block.</summary>
    public Scope Block(string header)
    {
        Line(header);
        Line("{");
        writer.Indent++;
        return new Scope(this);
    }

    public override string ToString() => text.ToString();

    internal readonly struct Scope(SourceWriter owner) : IDisposable
    {
        public void Dispose()
        {
            owner.writer.Indent--;
            owner.Line("}");
        }
    }
}
