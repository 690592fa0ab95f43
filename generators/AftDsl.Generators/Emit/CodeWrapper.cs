namespace AftDsl.Generators.Emit;

/// <summary>
/// Breaks a generated line of code that is longer than the width as a careful person would: a base list onto
/// its own line, an argument or parameter list one item a line, a long string literal into concatenated
/// pieces. Brackets and string literals are tracked, so nothing breaks inside them.
/// </summary>
internal static class CodeWrapper
{
    const string Step = "    ";

    /// <summary>The lines that replace <paramref name="line"/>, written at <paramref name="indent"/> columns.</summary>
    public static IReadOnlyList<string> Wrap(string line, int indent, int width)
    {
        if (indent + line.Length <= width) return [line];
        if (ExpressionBody(line) is { } arrow)
        {
            var head = line.Substring(0, arrow).TrimEnd();
            return [.. Wrap(head, indent, width), .. Wrap("=> " + line.Substring(arrow + 2).TrimStart(), indent + Step.Length, width).Select(l => Step + l)];
        }
        if (BracedBody(line) is { } brace)
        {
            var inner = TopLevelSplit(line.Substring(brace + 1, line.Length - brace - 2), ';')
                .Select(part => part.Trim()).Where(part => part.Length > 0).Select(part => part + ";");
            return [.. Wrap(line.Substring(0, brace).TrimEnd(), indent, width), "{",
                    .. inner.SelectMany(part => Wrap(part, indent + Step.Length, width)).Select(l => Step + l), "}"];
        }
        if (ArgumentList(line) is { } list)
        {
            var (open, close) = list;
            var lines = new List<string> { line.Substring(0, open + 1) };
            var items = TopLevelSplit(line.Substring(open + 1, close - open - 1), ',');
            for (var i = 0; i < items.Count; i++)
            {
                var item = items[i].Trim() + (i < items.Count - 1 ? "," : line.Substring(close));
                foreach (var piece in Wrap(item, indent + Step.Length, width))
                    lines.Add(Step + piece);
            }
            return lines;
        }
        if (BaseList(line) is { } colon)
        {
            var bases = line.Substring(colon).TrimStart();
            if (indent + Step.Length + bases.Length <= width)
                return [line.Substring(0, colon).TrimEnd(), Step + bases];
            // Still too long: one base type a line, aligned after the colon.
            var types = TopLevelSplit(bases.Substring(1), ',').Select(t => t.Trim()).ToList();
            return [line.Substring(0, colon).TrimEnd(), .. types.Select((t, i) => Step + (i == 0 ? ": " : "  ") + t + (i < types.Count - 1 ? "," : ""))];
        }
        return StringLiteral(line, indent, width) ?? [line];
    }

    // The parenthesised list to break: the first at the top level that holds a comma, else the longest.
    static (int Open, int Close)? ArgumentList(string line)
    {
        var groups = new List<(int Open, int Close)>();
        var open = -1;
        foreach (var (i, c, depth) in Code(line))
        {
            if (c == '(' && depth == 0) open = i;
            else if (c == ')' && depth == 1 && open >= 0 && i > open + 1)
                groups.Add((open, i));
        }
        foreach (var group in groups)
            if (TopLevelSplit(line.Substring(group.Open + 1, group.Close - group.Open - 1), ',').Count > 1)
                return group;
        return groups.Count == 0 ? null : groups.OrderByDescending(g => g.Close - g.Open).First();
    }

    // The " => " of an expression-bodied member, outside any bracket (a lambda's arrow sits inside its call).
    static int? ExpressionBody(string line)
    {
        foreach (var (i, c, depth) in Code(line))
            if (c == '=' && depth == 0 && i > 0 && line[i - 1] == ' ' && i + 2 < line.Length && line[i + 1] == '>' && line[i + 2] == ' ')
                return i;
        return null;
    }

    // A member written on one line with its body in braces ("X { get => …; }"): the opening brace's position.
    static int? BracedBody(string line)
    {
        if (!line.EndsWith("}", StringComparison.Ordinal)) return null;
        int? brace = null;
        foreach (var (i, c, depth) in Code(line))
        {
            if (c == '{' && depth == 0 && brace is null && i > 0 && line[i - 1] == ' ') brace = i;
            if (i == line.Length - 1) return depth == 1 ? brace : null;       // the last '}' closes that brace
        }
        return null;
    }

    static int? BaseList(string line)
    {
        foreach (var (i, c, depth) in Code(line))
            if (c == ':' && depth == 0 && i > 0 && line[i - 1] == ' ' && i + 1 < line.Length && line[i + 1] == ' ')
                return i;
        return null;
    }

    // A line that ends in one long string literal (an argument): split at spaces into "…" + "…" pieces.
    static IReadOnlyList<string>? StringLiteral(string line, int indent, int width)
    {
        var start = line.IndexOf('"');
        var end = line.LastIndexOf('"');
        if (start < 0 || end <= start || line.Substring(start + 1, end - start - 1).Contains("\"")) return null;
        var (head, body, tail) = (line.Substring(0, start), line.Substring(start + 1, end - start - 1), line.Substring(end + 1));
        var room = width - indent - Step.Length - 5;            // quotes, the trailing space, " +"
        if (room < 20) return null;
        var pieces = new List<string>();
        var current = "";
        foreach (var word in body.Split(' '))
        {
            var next = current.Length == 0 ? word : current + " " + word;
            if (next.Length > room && current.Length > 0)
            {
                pieces.Add(current + " ");
                current = word;
            }
            else current = next;
        }
        pieces.Add(current);
        if (pieces.Count < 2) return null;
        var lines = new List<string>();
        if (head.Trim().Length > 0) lines.Add(head.TrimEnd());
        for (var i = 0; i < pieces.Count; i++)
            lines.Add((head.Trim().Length > 0 ? Step : "") + "\"" + pieces[i] + "\"" + (i < pieces.Count - 1 ? " +" : tail));
        return lines;
    }

    /// <summary>Splits at <paramref name="separator"/> outside brackets, generic arguments and string literals.</summary>
    static List<string> TopLevelSplit(string text, char separator)
    {
        var items = new List<string>();
        var start = 0;
        foreach (var (i, c, depth) in Code(text))
            if (c == separator && depth == 0)
            {
                items.Add(text.Substring(start, i - start));
                start = i + 1;
            }
        items.Add(text.Substring(start));
        return items;
    }

    // The characters outside string and character literals, with their positions and the bracket depth before each:
    // parentheses, brackets, braces and generic angle brackets (a '<' right after a name; not the '>' of "=>").
    static IEnumerable<(int Index, char Char, int Depth)> Code(string text)
    {
        var quote = '\0';
        var depth = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quote != '\0')
            {
                if (c == '\\') i++;
                else if (c == quote) quote = '\0';
                continue;
            }
            if (c is '"' or '\'')
            {
                quote = c;
                continue;
            }
            yield return (i, c, depth);
            if (c is '(' or '[' or '{' || c == '<' && i > 0 && (char.IsLetterOrDigit(text[i - 1]) || text[i - 1] == '_')) depth++;
            else if (c is ')' or ']' or '}' || c == '>' && depth > 0 && i > 0 && text[i - 1] != '=') depth--;
        }
    }
}
