namespace AftLab.Data;

/// <summary>
/// A data file is missing, truncated or not what its format says: the message names the file, the byte
/// offset, what was expected there and what was found, so that the fix is obvious without a debugger.
/// </summary>
public sealed class DataFormatException(string file, long offset, string expected, string found)
    : IOException($"{file}: at byte offset {offset:N0} expected {expected}, found {found}.")
{
    public string File { get; } = file;

    public long Offset { get; } = offset;

    public static DataFormatException Missing(string file, string what) =>
        new(file, 0, what, "no such file");
}
