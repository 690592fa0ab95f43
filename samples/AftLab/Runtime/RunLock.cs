namespace AftLab.Runtime;

/// <summary>
/// One writer per run folder: <c>run.lock</c> held open with <see cref="FileShare.None"/>, which .NET turns into an
/// exclusive advisory lock (flock) on Linux and a sharing lock on Windows. The OS releases it when the process
/// ends, however it ends, so a crash never leaves a stale lock. The holder's process id and command go into
/// <c>run.lock.owner</c> beside it (the lock file itself cannot be read while it is held), for the message the next
/// trainer prints. The lock file stays: deleting it would let two processes lock two different files of one name.
/// </summary>
public sealed class RunLock : IDisposable
{
    public const string FileName = "run.lock";
    public const string OwnerFileName = "run.lock.owner";

    readonly FileStream handle;
    readonly string ownerPath;

    RunLock(FileStream handle, string ownerPath) => (this.handle, this.ownerPath) = (handle, ownerPath);

    /// <summary>Takes the lock of <paramref name="folder"/>, or throws an <see cref="AftLabException"/> naming the process that holds it.</summary>
    public static RunLock Take(string folder)
    {
        var path = Path.Combine(folder, FileName);
        var ownerPath = Path.Combine(folder, OwnerFileName);
        FileStream handle;
        try
        {
            handle = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException) when (File.Exists(path))
        {
            var owner = File.Exists(ownerPath) ? ReadOwner(ownerPath) : "another process (it has not written its id yet)";
            throw new AftLabException(
                $"{Path.GetFullPath(folder)} is being written by {owner}: two trainers on one run would mix their checkpoints and metrics. " +
                "Wait for it to end (or stop it), or choose another --output.", ExitCodes.Busy);
        }
        AtomicFile.WriteAllText(ownerPath,
            $"process {Environment.ProcessId} on {Environment.MachineName}, started {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss} UTC: aftlab {string.Join(" ", Environment.GetCommandLineArgs().Skip(1))}");
        return new RunLock(handle, ownerPath);
    }

    static string ReadOwner(string path)
    {
        try { return File.ReadAllText(path).Trim(); }
        catch (IOException) { return "another process"; }
    }

    public void Dispose()
    {
        try { File.Delete(ownerPath); }
        catch (IOException) { /* the next holder overwrites it */ }
        handle.Dispose();
    }
}
