using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace AftDsl.Cuda;

/// <summary>
/// Compiled kernels on disk, so that a process does not pay NVRTC's seconds per kernel variant again. One
/// file per (source, options, compiler version, GPU architecture), named by the SHA-256 of all four. Files
/// are written to a temporary name in the same folder and moved into place, so a reader never sees half a
/// file; each carries its length and hash and is checked on read, so a damaged file is recompiled and
/// replaced. The cache never makes a launch fail: an unreadable or unwritable folder only costs compile time.
/// </summary>
public sealed class CubinCache
{
    /// <summary>The environment variable naming the cache folder (<c>off</c> turns the disk cache off).</summary>
    public const string FolderVariable = "AFTDSL_CUDA_CACHE";

    // Layout: magic (8 bytes), payload length (int64, little-endian), SHA-256 of the payload (32 bytes), payload.
    static readonly byte[] Magic = "AFTCUBN1"u8.ToArray();
    const int HeaderLength = 8 + 8 + 32;

    /// <summary>The folder entries live in, or null when the disk cache is off.</summary>
    public string? Folder { get; }

    /// <summary>Why the last read or write failed (for logs), or null.</summary>
    public string? LastProblem { get; private set; }

    /// <summary>A cache in <paramref name="folder"/> (created on first write), or none when null.</summary>
    public CubinCache(string? folder) => Folder = folder;

    /// <summary>The cache where <c>AFTDSL_CUDA_CACHE</c> and the XDG base directories put it.</summary>
    public static CubinCache FromEnvironment() => new(DefaultFolder(Environment.GetEnvironmentVariable));

    /// <summary>
    /// <c>$AFTDSL_CUDA_CACHE</c> (null if it is <c>off</c>), else <c>$XDG_CACHE_HOME/aftdsl/cuda</c>, else
    /// <c>~/.cache/aftdsl/cuda</c>.
    /// </summary>
    public static string? DefaultFolder(Func<string, string?> environment)
    {
        var setting = environment(FolderVariable);
        if (!string.IsNullOrWhiteSpace(setting))
            return setting.Trim().Equals("off", StringComparison.OrdinalIgnoreCase) ? null : Path.GetFullPath(setting.Trim());
        var xdg = environment("XDG_CACHE_HOME");
        if (!string.IsNullOrWhiteSpace(xdg) && Path.IsPathRooted(xdg)) return Path.Combine(xdg, "aftdsl", "cuda");
        var home = environment("HOME") is { Length: > 0 } h ? h : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return string.IsNullOrEmpty(home) ? Path.Combine(Path.GetTempPath(), "aftdsl", "cuda") : Path.Combine(home, ".cache", "aftdsl", "cuda");
    }

    /// <summary>
    /// The key of one compiled kernel: SHA-256 over the source, every compiler option (the <c>-D</c> constants
    /// and the architecture among them), the compiler's version and the GPU architecture, each length-prefixed
    /// so that no two different inputs run together into the same text.
    /// </summary>
    public static string Key(string source, IEnumerable<string> options, string compilerVersion, string architecture)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Field(string text)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(length, bytes.Length);
            hash.AppendData(length);
            hash.AppendData(bytes);
        }
        Field("aftdsl-cubin-cache-1");
        Field(source);
        var list = options.ToList();
        Field(list.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var option in list) Field(option);
        Field(compilerVersion);
        Field(architecture);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>The file of entry <paramref name="key"/> for kernel source <paramref name="name"/> (named for people: the key alone decides).</summary>
    public string? PathOf(string name, string key) =>
        Folder is null ? null : Path.Combine(Folder, $"{SafeStem(name)}-{key}.cubin");

    /// <summary>The stored binary, or null if there is none or it is damaged (then it is deleted, to be rewritten).</summary>
    public byte[]? TryRead(string name, string key)
    {
        if (PathOf(name, key) is not { } path || !File.Exists(path)) return null;
        try
        {
            var bytes = File.ReadAllBytes(path);
            if (Decode(bytes) is { } payload) return payload;
            LastProblem = $"{path} was damaged (bad header, length or hash); recompiling it";
            TryDelete(path);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LastProblem = $"could not read {path}: {e.Message}";
            return null;
        }
    }

    /// <summary>Stores <paramref name="binary"/> atomically; returns false (and says why in <see cref="LastProblem"/>) if it could not.</summary>
    public bool TryWrite(string name, string key, byte[] binary)
    {
        if (PathOf(name, key) is not { } path) return false;
        var temporary = Path.Combine(Folder!, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            Directory.CreateDirectory(Folder!);
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                file.Write(Encode(binary));
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LastProblem = $"could not write {path}: {e.Message}";
            TryDelete(temporary);
            return false;
        }
    }

    /// <summary>Header and payload as stored.</summary>
    internal static byte[] Encode(byte[] payload)
    {
        var bytes = new byte[HeaderLength + payload.Length];
        Magic.CopyTo(bytes, 0);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8), payload.Length);
        SHA256.HashData(payload, bytes.AsSpan(16, 32));
        payload.CopyTo(bytes, HeaderLength);
        return bytes;
    }

    /// <summary>The payload of a stored entry, or null if the header, length or hash does not match.</summary>
    internal static byte[]? Decode(byte[] bytes)
    {
        if (bytes.Length < HeaderLength || !bytes.AsSpan(0, 8).SequenceEqual(Magic)) return null;
        var length = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(8));
        if (length != bytes.Length - HeaderLength) return null;
        var payload = bytes[HeaderLength..];
        return SHA256.HashData(payload).AsSpan().SequenceEqual(bytes.AsSpan(16, 32)) ? payload : null;
    }

    static string SafeStem(string name)
    {
        var stem = Path.GetFileNameWithoutExtension(name);
        var safe = new string(stem.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '_').ToArray());
        return safe.Length == 0 ? "kernel" : safe;
    }

    static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
