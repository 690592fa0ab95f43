using TorchSharp;

namespace AftDsl.Interop;

/// <summary>What is wrong with one key of a state dict, compared with the model it is loaded into.</summary>
public enum StateDictProblemKind
{
    /// <summary>The model has the key; the file does not.</summary>
    Missing,

    /// <summary>The file has the key; the model does not.</summary>
    Unexpected,

    /// <summary>Both have the key, with different shapes.</summary>
    Misshaped,

    /// <summary>Both have the key, one holding floating-point numbers and the other not.</summary>
    WrongKind,
}

/// <summary>One key that does not fit, with the model's and the file's shape (null where that side lacks it).</summary>
public sealed record StateDictProblem(StateDictProblemKind Kind, string Key, long[]? ModelShape, long[]? FileShape, string? Detail = null)
{
    /// <summary>The problem in a few words: <c>body.blocks.0.mixer.pos_u: the model needs [256, 32], the file has [128, 32]</c>.</summary>
    public override string ToString() => Kind switch
    {
        StateDictProblemKind.Missing => $"{Key} {StateDictFit.Format(ModelShape!)}",
        StateDictProblemKind.Unexpected => $"{Key} {StateDictFit.Format(FileShape!)}",
        StateDictProblemKind.Misshaped => $"{Key}: the model needs {StateDictFit.Format(ModelShape!)}, the file has {StateDictFit.Format(FileShape!)}",
        _ => $"{Key}: {Detail}",
    };
}

/// <summary>One entry of a state dict, as the comparison sees it: its shape and whether it holds floating-point numbers.</summary>
public readonly record struct StateDictEntry(long[] Shape, bool IsFloatingPoint)
{
    /// <summary>The entry of <paramref name="tensor"/>.</summary>
    public static StateDictEntry Of(torch.Tensor tensor) => new(tensor.shape, tensor.is_floating_point());
}

/// <summary>Compares a model's state dict with a file's, key by key, and reports every key that does not fit at once.</summary>
public static class StateDictFit
{
    /// <summary>
    /// Every missing, unexpected, mis-shaped or wrongly typed key: missing and mis-shaped ones in the model's order,
    /// unexpected ones in the file's order. Empty when the file fits.
    /// </summary>
    public static IReadOnlyList<StateDictProblem> Compare(IReadOnlyList<KeyValuePair<string, StateDictEntry>> model, IReadOnlyList<KeyValuePair<string, StateDictEntry>> file)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(file);
        var found = file.ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        var wanted = model.Select(e => e.Key).ToHashSet(StringComparer.Ordinal);
        var problems = new List<StateDictProblem>();
        foreach (var (key, needed) in model)
        {
            if (!found.TryGetValue(key, out var present))
                problems.Add(new(StateDictProblemKind.Missing, key, needed.Shape, null));
            else if (!needed.Shape.SequenceEqual(present.Shape))
                problems.Add(new(StateDictProblemKind.Misshaped, key, needed.Shape, present.Shape));
            else if (needed.IsFloatingPoint != present.IsFloatingPoint)
                problems.Add(new(StateDictProblemKind.WrongKind, key, needed.Shape, present.Shape,
                    $"the model holds {(needed.IsFloatingPoint ? "floating-point numbers" : "integers or booleans")}, the file {(present.IsFloatingPoint ? "floating-point numbers" : "integers or booleans")}"));
        }
        problems.AddRange(file.Where(e => !wanted.Contains(e.Key)).Select(e => new StateDictProblem(StateDictProblemKind.Unexpected, e.Key, null, e.Value.Shape)));
        return problems;
    }

    /// <summary>A shape as the messages write it: <c>[256, 32]</c>, <c>[]</c> for a scalar.</summary>
    public static string Format(long[] shape) => $"[{string.Join(", ", shape)}]";
}
