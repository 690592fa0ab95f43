// Compiled by MSBuild's RoslynCodeTaskFactory from AftDsl.targets (no task assembly to build first),
// and linked into the tests, which exercise ElfVersionNeeds on real and corrupted copies of the library.
//
// Why: TorchSharp 0.107's native shim libLibTorchSharp.so was linked against GCC 13's libstdc++ and
// asks for the symbol version GLIBCXX_3.4.32, which Debian 12's libstdc++ (GCC 12) lacks. The only
// symbol of that version is never bound, so marking the version requirement weak (VER_FLG_WEAK) turns
// the loader's fatal error into a warning. See ../shared/platform/libtorch-debian12.md and README.md.
#nullable enable
using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace AftDsl.Build
{
    /// <summary>Marks GLIBCXX_3.4.32 weak in every libLibTorchSharp.so under <see cref="Directories"/>.</summary>
    public sealed class PatchLibTorchSharp : Microsoft.Build.Utilities.Task
    {
        public const string LibraryName = "libLibTorchSharp.so";
        public const string MissingVersion = "GLIBCXX_3.4.32";

        /// <summary>Build or publish output folders to scan (recursively).</summary>
        [Required]
        public ITaskItem[] Directories { get; set; } = Array.Empty<ITaskItem>();

        /// <summary>Files that were changed by this run.</summary>
        [Output]
        public ITaskItem[] PatchedFiles { get; set; } = Array.Empty<ITaskItem>();

        public override bool Execute()
        {
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
                return true;
            var libstdcxx = LocalLibStdCxx.Find();
            if (libstdcxx != null && LocalLibStdCxx.Defines(libstdcxx, MissingVersion))
            {
                Log.LogMessage(MessageImportance.Low, "{0} defines {1}: {2} loads as it is.", libstdcxx, MissingVersion, LibraryName);
                return true;
            }

            var patched = new System.Collections.Generic.List<ITaskItem>();
            foreach (var directory in Directories.Select(d => d.ItemSpec).Where(Directory.Exists).Distinct())
            {
                foreach (var file in Directory.EnumerateFiles(directory, LibraryName, SearchOption.AllDirectories))
                {
                    try
                    {
                        var outcome = ElfVersionNeeds.MarkWeakInFile(file, MissingVersion);
                        if (outcome == WeakenOutcome.Patched)
                        {
                            patched.Add(new TaskItem(file));
                            Log.LogMessage(MessageImportance.Normal,
                                "AftDsl: marked {0} weak in {1} (the local libstdc++ lacks it).", MissingVersion, file);
                        }
                    }
                    catch (InvalidDataException e)
                    {
                        Log.LogWarning("AftDsl: left {0} unpatched: {1}", file, e.Message);
                    }
                }
            }
            PatchedFiles = patched.ToArray();
            return !Log.HasLoggedErrors;
        }
    }

    public enum WeakenOutcome
    {
        /// <summary>The version requirement was found and its weak flag set.</summary>
        Patched,
        /// <summary>The flag was already set: nothing written.</summary>
        AlreadyWeak,
        /// <summary>The file does not ask for that version at all.</summary>
        NotRequired,
    }

    /// <summary>Finds the libstdc++ the dynamic loader would use and reads the versions it defines.</summary>
    public static class LocalLibStdCxx
    {
        static readonly string[] Candidates =
        {
            "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/lib64/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
        };

        public static string? Find() => Candidates.FirstOrDefault(File.Exists);

        // Version names live in the library's dynamic string table; a byte search is exact enough
        // because the name is terminated by NUL and cannot occur as a prefix of another version.
        public static bool Defines(string path, string version)
        {
            var needle = Encoding.ASCII.GetBytes(version + "\0");
            var bytes = File.ReadAllBytes(path);
            return ElfVersionNeeds.IndexOf(bytes, needle) >= 0;
        }
    }

    /// <summary>
    /// Reads and edits the ELF64 little-endian section <c>.gnu.version_r</c> (SHT_GNU_verneed).
    /// Every offset is bounds-checked: a truncated or foreign file raises InvalidDataException
    /// naming the byte offset and what was expected there.
    /// </summary>
    public static class ElfVersionNeeds
    {
        const uint ShtGnuVerneed = 0x6ffffffe;
        const ushort VerFlgWeak = 0x2;

        /// <summary>Sets VER_FLG_WEAK on the requirement named <paramref name="version"/>; writes atomically.</summary>
        public static WeakenOutcome MarkWeakInFile(string path, string version)
        {
            var bytes = File.ReadAllBytes(path);
            var outcome = MarkWeak(bytes, version, path);
            if (outcome != WeakenOutcome.Patched)
                return outcome;
            // Write beside the original, then rename over it: a reader never sees half a library, and a
            // hard link into the NuGet cache (CreateHardLinksForCopyLocalIfPossible) is replaced, not edited.
            var temporary = path + ".aftdsl-" + Guid.NewGuid().ToString("N") + ".tmp";
            try
            {
                File.WriteAllBytes(temporary, bytes);
                File.Replace(temporary, path, destinationBackupFileName: null);
            }
            finally
            {
                if (File.Exists(temporary)) File.Delete(temporary);
            }
            return outcome;
        }

        /// <summary>Edits <paramref name="elf"/> in memory.</summary>
        public static WeakenOutcome MarkWeak(byte[] elf, string version, string fileName = "<memory>")
        {
            var reader = new Reader(elf, fileName);
            reader.Expect(0, new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F' }, "the ELF magic 7F 45 4C 46");
            reader.ExpectByte(4, 2, "ELFCLASS64 (2)");
            reader.ExpectByte(5, 1, "ELFDATA2LSB (1, little-endian)");

            var sectionTable = reader.U64(0x28, "e_shoff");
            var entrySize = reader.U16(0x3A, "e_shentsize");
            var count = reader.U16(0x3C, "e_shnum");
            if (entrySize < 64)
                throw reader.Error(0x3A, "e_shentsize of at least 64 for ELF64 section headers", entrySize.ToString());

            for (var i = 0; i < count; i++)
            {
                var header = checked((long)sectionTable + (long)i * entrySize);
                if (reader.U32(header + 4, "sh_type") != ShtGnuVerneed)
                    continue;
                var start = (long)reader.U64(header + 24, "sh_offset");
                var link = reader.U32(header + 40, "sh_link");
                var needs = reader.U32(header + 44, "sh_info");
                if (link >= count)
                    throw reader.Error(header + 40, $"sh_link below the section count {count}", link.ToString());
                var strings = (long)reader.U64(checked((long)sectionTable + (long)link * entrySize + 24), "string table sh_offset");
                return Weaken(reader, start, needs, strings, version);
            }
            return WeakenOutcome.NotRequired;
        }

        static WeakenOutcome Weaken(Reader reader, long start, uint needs, long strings, string version)
        {
            var need = start;
            for (var n = 0; n < needs; n++)
            {
                var auxCount = reader.U16(need + 2, "vn_cnt");
                var aux = need + reader.U32(need + 8, "vn_aux");
                for (var a = 0; a < auxCount; a++)
                {
                    var name = reader.CString(strings + reader.U32(aux + 8, "vna_name"));
                    if (name == version)
                    {
                        var flags = reader.U16(aux + 4, "vna_flags");
                        if ((flags & VerFlgWeak) != 0)
                            return WeakenOutcome.AlreadyWeak;
                        reader.WriteU16(aux + 4, (ushort)(flags | VerFlgWeak));
                        return WeakenOutcome.Patched;
                    }
                    aux += reader.U32(aux + 12, "vna_next");
                }
                need += reader.U32(need + 12, "vn_next");
            }
            return WeakenOutcome.NotRequired;
        }

        public static int IndexOf(byte[] haystack, byte[] needle)
        {
            for (var i = 0; i <= haystack.Length - needle.Length; i++)
            {
                var j = 0;
                while (j < needle.Length && haystack[i + j] == needle[j]) j++;
                if (j == needle.Length) return i;
            }
            return -1;
        }

        sealed class Reader
        {
            readonly byte[] bytes;
            readonly string file;

            public Reader(byte[] bytes, string file) { this.bytes = bytes; this.file = file; }

            public InvalidDataException Error(long offset, string expected, string found) =>
                new InvalidDataException($"{file}: at byte offset {offset} expected {expected}, found {found}.");

            void Need(long offset, int length, string what)
            {
                if (offset < 0 || offset + length > bytes.Length)
                    throw Error(offset, $"{length} bytes of {what}", $"the end of the file ({bytes.Length} bytes)");
            }

            public void Expect(long offset, byte[] expected, string what)
            {
                Need(offset, expected.Length, what);
                for (var i = 0; i < expected.Length; i++)
                    if (bytes[offset + i] != expected[i])
                        throw Error(offset, what, BitConverter.ToString(bytes, (int)offset, expected.Length));
            }

            public void ExpectByte(long offset, byte expected, string what)
            {
                Need(offset, 1, what);
                if (bytes[offset] != expected) throw Error(offset, what, bytes[offset].ToString());
            }

            public ushort U16(long offset, string what) { Need(offset, 2, what); return (ushort)(bytes[offset] | bytes[offset + 1] << 8); }

            public uint U32(long offset, string what) { Need(offset, 4, what); return (uint)(U16(offset, what) | U16(offset + 2, what) << 16); }

            public ulong U64(long offset, string what) { Need(offset, 8, what); return U32(offset, what) | (ulong)U32(offset + 4, what) << 32; }

            public void WriteU16(long offset, ushort value) { bytes[offset] = (byte)value; bytes[offset + 1] = (byte)(value >> 8); }

            public string CString(long offset)
            {
                Need(offset, 1, "a NUL-terminated version name");
                var end = offset;
                while (end < bytes.Length && bytes[end] != 0) end++;
                if (end == bytes.Length) throw Error(offset, "a NUL-terminated version name", "no NUL before the end of the file");
                return Encoding.ASCII.GetString(bytes, (int)offset, (int)(end - offset));
            }
        }
    }
}
