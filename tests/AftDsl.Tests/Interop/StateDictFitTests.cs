using AftDsl.Interop;
using Xunit;

namespace AftDsl.Tests.Interop;

/// <summary>The comparison of a model's state dict with a file's reports every key that does not fit, each once.</summary>
public sealed class StateDictFitTests
{
    static List<KeyValuePair<string, StateDictEntry>> Entries(params (string Key, long[] Shape, bool Floating)[] entries) =>
        entries.Select(e => KeyValuePair.Create(e.Key, new StateDictEntry(e.Shape, e.Floating))).ToList();

    [Fact]
    public void A_fitting_file_has_no_problems()
    {
        var model = Entries(("a.weight", [2, 3], true), ("a.bias", [2], true));
        Assert.Empty(StateDictFit.Compare(model, Entries(("a.bias", [2], true), ("a.weight", [2, 3], true))));
    }

    [Fact]
    public void Every_missing_unexpected_misshaped_and_wrongly_typed_key_is_reported()
    {
        var model = Entries(("embed.weight", [11, 8], true), ("norm.weight", [8], true), ("norm.bias", [8], true), ("head.weight", [11, 8], true), ("steps", [1], false));
        var file = Entries(("embed.weight", [12, 8], true), ("head.weight", [11, 8], true), ("positions.weight", [32, 8], true), ("extra", [], true), ("steps", [1], true));

        var problems = StateDictFit.Compare(model, file);

        Assert.Equal(
            [
                (StateDictProblemKind.Misshaped, "embed.weight"),
                (StateDictProblemKind.Missing, "norm.weight"),
                (StateDictProblemKind.Missing, "norm.bias"),
                (StateDictProblemKind.WrongKind, "steps"),
                (StateDictProblemKind.Unexpected, "positions.weight"),
                (StateDictProblemKind.Unexpected, "extra"),
            ],
            problems.Select(p => (p.Kind, p.Key)).ToList());
        Assert.Equal("embed.weight: the model needs [11, 8], the file has [12, 8]", problems[0].ToString());
        Assert.Equal("norm.weight [8]", problems[1].ToString());
        Assert.Equal("extra []", problems[5].ToString());
    }

    [Fact]
    public void The_exception_message_names_every_problem_in_one_text()
    {
        var problems = StateDictFit.Compare(
            Entries(("a", [2], true), ("b", [3], true), ("c", [4], true)),
            Entries(("b", [3, 1], true), ("d", [5], true), ("e", [6], true)));

        var message = new StateDictMismatchException("weights.pt", "Models.Lm", problems).Message;

        Assert.Equal(
            "weights.pt does not fit Models.Lm: 2 missing keys, 2 unexpected keys, 1 mis-shaped key (nothing was loaded).\n" +
            "Missing from the file (the model needs them):\n  a [2]\n  c [4]\n" +
            "Unexpected (the file has them, the model does not):\n  d [5]\n  e [6]\n" +
            "Mis-shaped:\n  b: the model needs [3], the file has [3, 1]",
            message);
    }
}
