using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace AftDsl.Tests.Shared;

/// <summary>
/// A minimal LSP client over a server's stdio (JSON-RPC with Content-Length framing): requests with timeouts,
/// notifications, answers to the server's own requests (workspace/configuration gets <paramref name="settings"/>),
/// and the latest published diagnostics per document. Keeps the server's last output for failure messages. Linked into
/// the test projects that open a consumer project in csharp-ls (the generator's and the package's).
/// </summary>
internal sealed class LspClient : IDisposable
{
    readonly Process process;
    readonly Stream input;
    readonly JsonObject settings;
    readonly ConcurrentDictionary<int, TaskCompletionSource<JsonNode?>> pending = new();
    readonly Dictionary<string, (int Count, JsonArray Diagnostics)> published = new(StringComparer.Ordinal);
    readonly Queue<string> transcript = new();
    readonly object gate = new();
    TaskCompletionSource changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    int nextId;

    LspClient(Process process, JsonObject settings)
    {
        this.process = process;
        this.settings = settings;
        input = process.StandardInput.BaseStream;
        _ = Task.Run(ReadLoop);
        _ = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync() is { } line)
                Remember("stderr: " + line);
        });
    }

    /// <param name="settings">The server's configuration sections by name, e.g. <c>{ "csharp": { "analyzersEnabled": true } }</c>.</param>
    /// <param name="environment">Variables to add or override, e.g. the packages folder a consumer was restored into.</param>
    public static LspClient Start(string executable, string arguments, string workingDirectory, JsonObject settings,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(executable, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["DOTNET_CLI_UI_LANGUAGE"] = "en";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        return new LspClient(Process.Start(start) ?? throw new InvalidOperationException($"could not start {executable}"), settings);
    }

    /// <summary>The last lines the server wrote and the messages it sent, for a failure message.</summary>
    public string Transcript
    {
        get { lock (gate) return string.Join("\n", transcript); }
    }

    public async Task<JsonNode?> Request(string method, JsonNode? parameters, TimeSpan timeout)
    {
        var id = Interlocked.Increment(ref nextId);
        var answer = new TaskCompletionSource<JsonNode?>(TaskCreationOptions.RunContinuationsAsynchronously);
        pending[id] = answer;
        Send(new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["method"] = method, ["params"] = parameters });
        var finished = await Task.WhenAny(answer.Task, Task.Delay(timeout));
        if (finished != answer.Task)
            throw new TimeoutException($"{method}: no answer from the language server within {timeout.TotalSeconds:0} s.\n{Transcript}");
        return await answer.Task;
    }

    /// <summary>
    /// The LSP handshake for a workspace of one folder: initialize (without the pull-diagnostics capability, so that the
    /// server pushes textDocument/publishDiagnostics), initialized, then <paramref name="settings"/> as the configuration.
    /// </summary>
    public async Task Initialize(string folder, string name, JsonObject settings, TimeSpan timeout)
    {
        var root = new Uri(folder + Path.DirectorySeparatorChar).AbsoluteUri;
        await Request("initialize", new JsonObject
        {
            ["processId"] = Environment.ProcessId,
            ["rootUri"] = root,
            ["rootPath"] = folder,
            ["workspaceFolders"] = new JsonArray(new JsonObject { ["uri"] = root, ["name"] = name }),
            ["capabilities"] = new JsonObject
            {
                ["workspace"] = new JsonObject { ["configuration"] = true, ["workspaceFolders"] = true },
                ["textDocument"] = new JsonObject { ["publishDiagnostics"] = new JsonObject(), ["synchronization"] = new JsonObject() },
            },
        }, timeout);
        Notify("initialized", new JsonObject());
        Notify("workspace/didChangeConfiguration", new JsonObject { ["settings"] = settings.DeepClone() });
    }

    public void Notify(string method, JsonNode? parameters) =>
        Send(new JsonObject { ["jsonrpc"] = "2.0", ["method"] = method, ["params"] = parameters });

    /// <summary>
    /// Waits until the diagnostics last published for <paramref name="uri"/> satisfy <paramref name="done"/>, calling
    /// <paramref name="nudge"/> every few seconds meanwhile (a server may publish before its project has loaded).
    /// </summary>
    public async Task<JsonArray> WaitForDiagnostics(string uri, Func<JsonArray, bool> done, TimeSpan timeout, Action? nudge = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        var nextNudge = DateTime.UtcNow + TimeSpan.FromSeconds(8);
        while (true)
        {
            Task signal;
            lock (gate)
            {
                if (published.TryGetValue(uri, out var latest) && done(latest.Diagnostics))
                    return latest.Diagnostics;
                signal = changed.Task;
            }
            if (process.HasExited)
                throw new InvalidOperationException($"the language server exited with code {process.ExitCode}.\n{Transcript}");
            var now = DateTime.UtcNow;
            if (now >= deadline)
            {
                var last = published.TryGetValue(uri, out var seen) ? $"{seen.Count} publications; the last: {seen.Diagnostics.ToJsonString()}" : "nothing published";
                throw new TimeoutException($"diagnostics for {uri} not as expected within {timeout.TotalSeconds:0} s ({last}).\n{Transcript}");
            }
            if (nudge is not null && now >= nextNudge)
            {
                nudge();
                nextNudge = now + TimeSpan.FromSeconds(8);
            }
            await Task.WhenAny(signal, Task.Delay(TimeSpan.FromSeconds(1)));
        }
    }

    void Send(JsonObject message)
    {
        var body = Encoding.UTF8.GetBytes(message.ToJsonString());
        var header = Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n");
        lock (input)
        {
            input.Write(header);
            input.Write(body);
            input.Flush();
        }
    }

    async Task ReadLoop()
    {
        var output = process.StandardOutput.BaseStream;
        try
        {
            while (await ReadMessage(output) is { } message)
                Handle(message);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or System.Text.Json.JsonException)
        {
            Remember("reader stopped: " + e.Message);
        }
        foreach (var waiting in pending.Values)
            waiting.TrySetException(new InvalidOperationException("the language server closed its output.\n" + Transcript));
    }

    static async Task<JsonObject?> ReadMessage(Stream stream)
    {
        var length = -1;
        while (true)
        {
            var line = await ReadHeaderLine(stream);
            if (line is null) return null;
            if (line.Length == 0) break;
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                length = int.Parse(line["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
        if (length < 0) throw new IOException("an LSP message without Content-Length");
        var body = new byte[length];
        await stream.ReadExactlyAsync(body);
        return JsonNode.Parse(body)?.AsObject();
    }

    static async Task<string?> ReadHeaderLine(Stream stream)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (true)
        {
            if (await stream.ReadAsync(one) == 0) return null;
            if (one[0] == '\n') return Encoding.ASCII.GetString([.. bytes]).TrimEnd('\r');
            bytes.Add(one[0]);
        }
    }

    void Handle(JsonObject message)
    {
        var method = (string?)message["method"];
        var id = message["id"];
        if (method is null && id is not null)
        {
            if (pending.TryRemove((int)id, out var answer))
            {
                if (message["error"] is { } error) answer.TrySetException(new InvalidOperationException($"LSP error: {error.ToJsonString()}"));
                else answer.TrySetResult(message["result"]?.DeepClone());
            }
            return;
        }
        if (method is null) return;
        if (id is not null)
        {
            Send(new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id.DeepClone(), ["result"] = Answer(method, message["params"]) });
            return;
        }
        switch (method)
        {
            case "textDocument/publishDiagnostics":
                var uri = Normalize((string)message["params"]!["uri"]!);
                lock (gate)
                {
                    var count = published.TryGetValue(uri, out var before) ? before.Count + 1 : 1;
                    published[uri] = (count, message["params"]!["diagnostics"]!.AsArray().DeepClone().AsArray());
                    changed.TrySetResult();
                    changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
                Remember($"diagnostics for {uri}: {message["params"]!["diagnostics"]!.AsArray().Count}");
                break;
            case "window/logMessage" or "window/showMessage":
                Remember("log: " + (string?)message["params"]?["message"]);
                break;
        }
    }

    // What the server asks of its client: the configuration sections; every other request is acknowledged.
    JsonNode? Answer(string method, JsonNode? parameters)
    {
        if (method != "workspace/configuration") return null;
        var items = parameters?["items"]?.AsArray() ?? [];
        return new JsonArray([.. items.Select(item => settings[(string?)item?["section"] ?? ""]?.DeepClone())]);
    }

    void Remember(string line)
    {
        lock (gate)
        {
            transcript.Enqueue(line.Length > 400 ? line[..400] + "…" : line);
            while (transcript.Count > 60) transcript.Dequeue();
        }
    }

    /// <summary>A file URI in one spelling, so that the server's and the test's forms of one path compare equal.</summary>
    public static string Normalize(string uri) => new Uri(Uri.UnescapeDataString(uri)).AbsoluteUri;

    public void Dispose()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        process.Dispose();
    }
}
