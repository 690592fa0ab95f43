using System.Text;

namespace AftDsl.Interop;

/// <summary>
/// A state dict does not fit the model it is loaded into. The message names every missing, unexpected and mis-shaped
/// key, not only the first; <see cref="Problems"/> holds them one by one. Nothing was loaded.
/// </summary>
public sealed class StateDictMismatchException : Exception
{
    /// <summary>The file, the model and what does not fit.</summary>
    public StateDictMismatchException(string file, string model, IReadOnlyList<StateDictProblem> problems)
        : base(Describe(file, model, problems ?? throw new ArgumentNullException(nameof(problems))))
    {
        File = file;
        Model = model;
        Problems = problems;
    }

    /// <summary>The state-dict file.</summary>
    public string File { get; }

    /// <summary>The model's type name.</summary>
    public string Model { get; }

    /// <summary>Every key that does not fit.</summary>
    public IReadOnlyList<StateDictProblem> Problems { get; }

    /// <summary>
    /// The same in one line, for a command line's error report: <c>m.pt does not fit Lm: 1 missing key (a [2]); 1 unexpected
    /// key (d [5]); 1 mis-shaped key (b: the model needs [3], the file has [3, 1]).</c>
    /// </summary>
    public string OneLine
    {
        get
        {
            var parts = new[]
            {
                Part(StateDictProblemKind.Missing, "missing"), Part(StateDictProblemKind.Unexpected, "unexpected"),
                Part(StateDictProblemKind.Misshaped, "mis-shaped"), Part(StateDictProblemKind.WrongKind, "of the wrong kind"),
            }.Where(p => p is not null);
            return $"{File} does not fit {Model}: {string.Join("; ", parts)}.";
        }
    }

    string? Part(StateDictProblemKind kind, string word) =>
        Count(Problems, kind, word) is { } count ? $"{count} ({string.Join(", ", Problems.Where(p => p.Kind == kind))})" : null;

    static string Describe(string file, string model, IReadOnlyList<StateDictProblem> problems)
    {
        var counts = new[]
        {
            Count(problems, StateDictProblemKind.Missing, "missing"),
            Count(problems, StateDictProblemKind.Unexpected, "unexpected"),
            Count(problems, StateDictProblemKind.Misshaped, "mis-shaped"),
            Count(problems, StateDictProblemKind.WrongKind, "of the wrong kind"),
        }.Where(c => c is not null);
        var text = new StringBuilder($"{file} does not fit {model}: {string.Join(", ", counts)} (nothing was loaded).");
        Section(text, problems, StateDictProblemKind.Missing, "Missing from the file (the model needs them)");
        Section(text, problems, StateDictProblemKind.Unexpected, "Unexpected (the file has them, the model does not)");
        Section(text, problems, StateDictProblemKind.Misshaped, "Mis-shaped");
        Section(text, problems, StateDictProblemKind.WrongKind, "Of the wrong kind");
        return text.ToString();
    }

    static string? Count(IReadOnlyList<StateDictProblem> problems, StateDictProblemKind kind, string word) =>
        problems.Count(p => p.Kind == kind) is var n and > 0 ? $"{n} {word} key{(n == 1 ? "" : "s")}" : null;

    static void Section(StringBuilder text, IReadOnlyList<StateDictProblem> problems, StateDictProblemKind kind, string heading)
    {
        var matching = problems.Where(p => p.Kind == kind).ToList();
        if (matching.Count == 0) return;
        text.Append('\n').Append(heading).Append(':');
        foreach (var problem in matching)
            text.Append("\n  ").Append(problem);
    }
}
