using System.Text.Json;

namespace AftLab.Runtime;

/// <summary>
/// A training run's folder (<c>--output</c>): recognised by its marker file <c>aftlab-run.json</c>, so that a folder
/// of other files is never written into; locked for one writer (<see cref="RunLock"/>); and removed again when a
/// new run fails before its first checkpoint, so that a failed start leaves nothing behind.
/// </summary>
public sealed class RunFolder : IDisposable
{
    public const string MarkerFileName = "aftlab-run.json";

    readonly RunLock runLock;
    readonly string? created;
    readonly HashSet<string> entriesBefore;

    RunFolder(string path, RunLock runLock, string? created, HashSet<string> entriesBefore) =>
        (Path, this.runLock, this.created, this.entriesBefore) = (path, runLock, created, entriesBefore);

    public string Path { get; }

    /// <summary>True when this process made the folder or found it empty: a run that starts here from nothing.</summary>
    public bool IsNew => created is not null || entriesBefore.Count == 0;

    /// <summary>Opens (creating it if needed) and locks the run folder at <paramref name="path"/> for a trainer of <paramref name="model"/>.</summary>
    public static RunFolder Open(string path, string model)
    {
        if (File.Exists(path))
            throw new AftLabException($"--output {path} is a file, not a folder.", ExitCodes.CannotCreate);
        var existed = Directory.Exists(path);
        var created = TopmostMissing(System.IO.Path.GetFullPath(path));
        var before = existed ? Directory.EnumerateFileSystemEntries(path).Select(System.IO.Path.GetFileName).OfType<string>().ToHashSet() : [];
        var marker = System.IO.Path.Combine(path, MarkerFileName);
        if (before.Count > 0 && !File.Exists(marker))
            throw new AftLabException(
                $"--output {System.IO.Path.GetFullPath(path)} is a folder that is not an aftlab run (it has no {MarkerFileName}) and is not empty " +
                $"({string.Join(", ", before.Order().Take(3))}{(before.Count > 3 ? ", …" : "")}): choose a new or empty folder, so that nothing of yours is overwritten.",
                ExitCodes.CannotCreate);
        try
        {
            Directory.CreateDirectory(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AftLabException($"Cannot create the run folder {System.IO.Path.GetFullPath(path)}: {e.Message}", ExitCodes.CannotCreate, e);
        }
        RunLock runLock;
        try
        {
            runLock = RunLock.Take(path);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new AftLabException($"Cannot write into the run folder {System.IO.Path.GetFullPath(path)}: {e.Message}", ExitCodes.CannotCreate, e);
        }
        if (!File.Exists(marker))
            AtomicFile.WriteAllText(marker, JsonSerializer.Serialize(new { format = "aftlab-run", version = 1, model, created = DateTime.UtcNow }));
        return new RunFolder(path, runLock, created, before);
    }

    // The outermost folder that Open is about to create (runs/ of runs/byte-full), so that a failed start removes all of it.
    static string? TopmostMissing(string path)
    {
        string? missing = null;
        for (var folder = path; folder is not null && !Directory.Exists(folder) && !File.Exists(folder); folder = System.IO.Path.GetDirectoryName(folder))
            missing = folder;
        return missing;
    }

    /// <summary>Removes what this run created, for a new run that failed before its first checkpoint.</summary>
    public void RemoveWhatThisRunCreated()
    {
        runLock.Dispose();
        try
        {
            if (created is not null)
            {
                // The run folder itself, then the parents this run made, each only while empty: another trainer may
                // have started a run of its own in one of them meanwhile.
                Directory.Delete(Path, recursive: true);
                var stop = System.IO.Path.GetDirectoryName(created);
                for (var parent = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path));
                     parent is not null && parent != stop && !Directory.EnumerateFileSystemEntries(parent).Any();
                     parent = System.IO.Path.GetDirectoryName(parent))
                    Directory.Delete(parent);
            }
            else
                foreach (var entry in Directory.EnumerateFileSystemEntries(Path).Where(e => !entriesBefore.Contains(System.IO.Path.GetFileName(e))).ToList())
                    if (Directory.Exists(entry)) Directory.Delete(entry, recursive: true);
                    else File.Delete(entry);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* best effort: the error that brought us here matters more */ }
    }

    public void Dispose() => runLock.Dispose();
}
