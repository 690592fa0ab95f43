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

    /// <summary>Writes a doc summary on one line where it fits in 120 characters, else over as many lines as it needs.</summary>
    public void Summary(string text)
    {
        const int Width = 120;
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
        const int Width = 120;
        var indent = writer.Indent * 4;
        var line = "";
        foreach (var word in Words(text))
        {
            if (line.Length > 0 && indent + 4 + line.Length + 1 + word.Length > Width)
            {
                Line("/// " + line);
                line = "";
            }
            line = line.Length == 0 ? word : line + " " + word;
        }
        if (line.Length > 0)
            Line("/// " + line);
    }

    // The text split at spaces, but not inside <c>…</c>: a shape such as [B, H, W, 384] stays on one line.
    static IEnumerable<string> Words(string text)
    {
        var start = 0;
        var code = false;
        for (var i = 0; i < text.Length; i++)
        {
            if (string.CompareOrdinal(text, i, "<c>", 0, 3) == 0) code = true;
            else if (string.CompareOrdinal(text, i, "</c>", 0, 4) == 0) code = false;
            else if (text[i] == ' ' && !code)
            {
                yield return text.Substring(start, i - start);
                start = i + 1;
            }
        }
        yield return text.Substring(start);
    }

    public void Line(string line = "")
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
