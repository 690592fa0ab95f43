using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AftLab.Training.Checkpoints;

/// <summary>One file of a checkpoint as it was written: its name inside the folder, its length and its SHA-256 (hex).</summary>
public sealed record ManifestFile(string Name, long Bytes, string Sha256);

/// <summary>One parameter of the saved model: its name in the state dict and its shape.</summary>
public sealed record ManifestParameter(string Name, long[] Shape);

/// <summary>
/// What a checkpoint folder holds, written last (and atomically) into <c>manifest.json</c>: a folder without one
/// is an interrupted write. Loading checks every file's length and SHA-256 against it, and the model's parameter
/// shapes, so that a damaged or foreign checkpoint is refused before any of it reaches a model.
/// </summary>
/// <param name="Checksum">SHA-256 of the manifest's own JSON written with no checksum: a damaged manifest (a changed
/// shape, size or hash) is caught like a damaged data file, instead of describing files that do not exist.</param>
public sealed record CheckpointManifest(string Format, int FormatVersion, string Model, int Step,
    IReadOnlyList<ManifestParameter> Parameters, IReadOnlyList<ManifestFile> Files, string? Checksum = null)
{
    /// <summary>The file name inside each checkpoint folder.</summary>
    public const string FileName = "manifest.json";

    /// <summary>The value of <see cref="Format"/>: tells a manifest apart from any other JSON file.</summary>
    public const string FormatName = "aftlab-checkpoint";

    /// <summary>The layout this build writes and reads; a different version is refused with both numbers.</summary>
    public const int CurrentVersion = 1;

    /// <summary>The files every checkpoint must list.</summary>
    public static readonly string[] RequiredFiles = ["model.dat", "optimizer.dat", "state.json"];

    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>The manifest of the files just written into <paramref name="folder"/>, hashed from the disk (what a reader will see).</summary>
    public static CheckpointManifest Describe(string folder, string model, int step, IEnumerable<ManifestParameter> parameters)
    {
        var manifest = new CheckpointManifest(FormatName, CurrentVersion, model, step, parameters.ToList(),
            RequiredFiles.Select(name => Measure(Path.Combine(folder, name))).ToList());
        return manifest with { Checksum = manifest.OwnChecksum() };
    }

    string OwnChecksum() => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(JsonSerializer.Serialize(this with { Checksum = null }, Json))));

    /// <summary>Length and SHA-256 of one file.</summary>
    public static ManifestFile Measure(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return new ManifestFile(Path.GetFileName(path), stream.Length, Convert.ToHexStringLower(SHA256.HashData(stream)));
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Parses a manifest; null with <paramref name="problem"/> set when the text is not one.</summary>
    public static CheckpointManifest? Parse(string text, out string? problem)
    {
        try
        {
            var manifest = JsonSerializer.Deserialize<CheckpointManifest>(text, Json);
            problem = manifest switch
            {
                null => "holds null, not a manifest",
                { Format: not FormatName } => $"has format '{manifest.Format}', not '{FormatName}'",
                { FormatVersion: not CurrentVersion } => $"has format version {manifest.FormatVersion}; this aftlab reads version {CurrentVersion}",
                { Model: null or "" } or { Parameters: null } or { Files: null } => "lacks the model, its parameters or its files",
                _ when manifest.Checksum != manifest.OwnChecksum() => "does not match its own checksum (the manifest was changed)",
                _ => null,
            };
            return problem is null ? manifest : null;
        }
        catch (JsonException e)
        {
            problem = $"is not valid JSON ({e.Message.Split('.')[0]})";
            return null;
        }
    }

    [JsonIgnore]
    public long TotalBytes => Files.Sum(f => f.Bytes);
}
