using System.Reflection;
using AftLab.Data;
using AftLab.Runtime;
using AftLab.Training;
using AftDsl;
using Spectre.Console.Cli;

namespace AftLab.Commands;

/// <summary>
/// Every failure ends in one line and a documented exit code (<see cref="ExitCodes"/>); the stack trace only with
/// <c>--debug</c> or AFTLAB_DEBUG=1. An unknown option gets a "did you mean" from the verb's own options.
/// </summary>
public static class ErrorReport
{
    /// <summary>The global switch that asks for stack traces; taken off the command line before Spectre parses it.</summary>
    public const string DebugSwitch = "--debug";

    /// <summary>Prints <paramref name="exception"/> for a user and returns the exit code.</summary>
    public static int Handle(Exception exception, IReadOnlyList<string> arguments, bool debug)
    {
        var (code, prefix, message) = Classify(exception, arguments);
        // On standard error, and never wrapped: one line that a script can grep and a person can read.
        var (red, plain) = Console.IsErrorRedirected ? ("", "") : ("\e[31m", "\e[0m");
        Console.Error.WriteLine($"{red}{prefix}:{plain} {message.ReplaceLineEndings(" ")}");
        if (debug) Console.Error.WriteLine(exception.ToString());
        else if (code == ExitCodes.Internal) Console.Error.WriteLine($"(this is a bug in aftlab: run again with {DebugSwitch} or AFTLAB_DEBUG=1 for the stack trace)");
        return code;
    }

    static (int Code, string Prefix, string Message) Classify(Exception exception, IReadOnlyList<string> arguments) => exception switch
    {
        TrainingDivergedException => (ExitCodes.Diverged, "Stopped", exception.Message),
        AftLabException known => (known.ExitCode, "Error", exception.Message),
        CommandParseException or CommandRuntimeException => (ExitCodes.Usage, "Error", Usage(exception.Message, arguments)),
        DataFormatException => (ExitCodes.DataError, "Error", exception.Message),
        UnauthorizedAccessException => (ExitCodes.CannotCreate, "Error", exception.Message),
        AftShapeException or InvalidOperationException or ArgumentException or IOException or CommandAppException => (ExitCodes.Failure, "Error", exception.Message),
        _ => (ExitCodes.Internal, "Internal error", $"{exception.GetType().Name}: {FirstLine(exception.Message)}"),
    };

    static string FirstLine(string text) => text.Split('\n')[0].Trim();

    // Spectre's own wording, with the option's name where it leaves it out and a suggestion for a misspelt option.
    static string Usage(string message, IReadOnlyList<string> arguments)
    {
        message = FirstLine(message);
        if (message.StartsWith("Failed to convert", StringComparison.Ordinal))
            return $"{message.Replace("Nullable`1", "a number").Replace("Int32", "a whole number").Replace("Double", "a number")} Check the value after {LastOption(arguments)}.";
        if (message.StartsWith("Unknown option", StringComparison.Ordinal) && arguments.Count > 0 && Verbs.TryGetValue(arguments[0], out var settings))
        {
            var given = message.Split('\'').ElementAtOrDefault(1) ?? "";
            var known = OptionsOf(settings);
            var best = known.OrderBy(k => Distance(k, given)).FirstOrDefault();
            var suggestion = best is not null && Distance(best, given) <= Math.Max(2, given.Length / 3) ? $" Did you mean --{best}?" : "";
            return $"{message}{suggestion} (aftlab {arguments[0]} --help lists the options.)";
        }
        if (message.StartsWith("Unknown command", StringComparison.Ordinal) && !message.Contains("Did you mean", StringComparison.Ordinal))
        {
            var given = message.Split('\'').ElementAtOrDefault(1) ?? "";
            var best = Verbs.Keys.Append("models").OrderBy(v => Distance(v, given)).First();
            return $"{message}{(Distance(best, given) <= Math.Max(2, given.Length / 3) ? $" Did you mean {best}?" : "")} (aftlab --help lists the verbs.)";
        }
        return message;
    }

    static string LastOption(IReadOnlyList<string> arguments) => arguments.LastOrDefault(a => a.StartsWith("--", StringComparison.Ordinal)) ?? "the option";

    /// <summary>Each verb's settings type, for the names of its options.</summary>
    static readonly Dictionary<string, Type> Verbs = new()
    {
        ["train"] = typeof(TrainCommand.Settings), ["eval"] = typeof(RunSettings), ["sample"] = typeof(SampleCommand.Settings),
        ["bench"] = typeof(BenchCommand.Settings), ["throughput"] = typeof(ThroughputCommand.Settings),
        ["check-kernels"] = typeof(CheckKernelsCommand.Settings), ["check-cuda"] = typeof(CheckCudaCommand.Settings),
        ["export"] = typeof(ExportCommand.Settings), ["import"] = typeof(ImportCommand.Settings),
        ["check-data-parallel"] = typeof(CheckDataParallelCommand.Settings),
    };

    static IEnumerable<string> OptionsOf(Type settings) =>
        settings.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => p.GetCustomAttribute<CommandOptionAttribute>()).OfType<CommandOptionAttribute>()
            .SelectMany(o => o.LongNames);

    static int Distance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            previous = current;
        }
        return previous[b.Length];
    }
}
