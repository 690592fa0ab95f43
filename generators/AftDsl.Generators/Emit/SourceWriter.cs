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
