using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using AftDsl.Interop;
using AftDsl.Tests.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Interop;

/// <summary>
/// aftdsl_torch.py against the generated modules on small models that cover what the sample models do not: AFT-full and
/// AFT-local without the causal mask, causal AFT-conv over a sequence, AFT-simple over a flattened grid, a grid position
/// embedding, attention with a position embedding and no final norm. All run in one Python process with PyTorch
/// (Debian's /usr/bin/python3 with python3-torch, or AFTDSL_PYTHON); the sample models' round trip is in AftLab.Tests.
/// </summary>
public sealed class PythonReferenceTests
{
    const double Tolerance = 1e-5;

    const string Script = """
        import importlib.util, json, os, sys
        import torch
        for job in json.load(open(sys.argv[1], encoding="utf-8")):
            spec = importlib.util.spec_from_file_location("aftdsl_torch", os.path.join(job["folder"], "aftdsl_torch.py"))
            aftdsl_torch = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(aftdsl_torch)
            model = aftdsl_torch.load(job["folder"])
            dtype = torch.int64 if job["tokens"] else torch.float32
            with open(os.path.join(job["folder"], "input.bin"), "rb") as file:
                x = torch.frombuffer(bytearray(file.read()), dtype=dtype).reshape(job["shape"])
            with torch.no_grad(), open(os.path.join(job["folder"], "output.bin"), "wb") as file:
                file.write(model(x).contiguous().numpy().tobytes())
        """;

    static IEnumerable<(string Name, nn.Module<Tensor, Tensor> Model, Tensor Input)> Cases()
    {
        yield return (nameof(FullEncoder), new FullEncoder(), randint(0, 13, [2, 19]));
        yield return (nameof(LocalEncoder), new LocalEncoder(), randint(0, 13, [2, 19]));
        yield return (nameof(SequenceConvLm), new SequenceConvLm(), randint(0, 13, [2, 19]));
        yield return (nameof(TinyGridSimple), new TinyGridSimple(), randn(2, 1, 8, 8));
        yield return (nameof(TinyAttentionLm), new TinyAttentionLm(), randint(0, 11, [2, 17]));
        yield return (nameof(TinyConvClassifier), new TinyConvClassifier(), randn(2, 2, 6, 10));
    }

    [Fact]
    public void The_reference_module_computes_what_each_generated_model_computes()
    {
        using var folder = new ExportFolder();
        torch.manual_seed(11);
        var expected = new Dictionary<string, float[]>();
        var jobs = new JsonArray();
        foreach (var (name, model, input) in Cases())
        {
            using (no_grad())
                foreach (var (parameter, gain) in model.named_parameters().Select(p => (p.parameter, p.name.Contains("pos_gamma") || p.name.Contains("pos_beta") ? 0.5 : 0.1)))
                    parameter.add_(randn_like(parameter) * gain);      // AFT-conv starts as AFT-simple: give its kernel real numbers
            model.eval();
            var export = Path.Combine(folder.Path, name);
            PyTorchExport.Write(model, export);
            File.WriteAllBytes(Path.Combine(export, "input.bin"), input.dtype == ScalarType.Int64
                ? MemoryMarshal.AsBytes(input.data<long>().ToArray().AsSpan()).ToArray()
                : MemoryMarshal.AsBytes(input.data<float>().ToArray().AsSpan()).ToArray());
            using (no_grad())
                expected[name] = model.forward(input).data<float>().ToArray();
            jobs.Add(new JsonObject { ["folder"] = export, ["tokens"] = input.dtype == ScalarType.Int64, ["shape"] = new JsonArray(input.shape.Select(s => (JsonNode)s).ToArray()) });
        }
        File.WriteAllText(folder.File("jobs.json"), jobs.ToJsonString());
        File.WriteAllText(folder.File("reference.py"), Script);

        RunPython(folder.File("reference.py"), folder.File("jobs.json"));

        var failures = new List<string>();                                 // every model's verdict, not only the first
        foreach (var (name, values) in expected)
        {
            var pytorch = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(folder.Path, name, "output.bin"))).ToArray();
            Assert.Equal(values.Length, pytorch.Length);
            var scale = Math.Max(1.0, pytorch.Max(v => Math.Abs((double)v)));
            var difference = values.Zip(pytorch, (a, b) => Math.Abs((double)a - b)).Max();
            if (difference > Tolerance * scale) failures.Add($"{name}: PyTorch differs from C# by up to {difference:E3}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    static void RunPython(string script, string jobs)
    {
        var python = Environment.GetEnvironmentVariable("AFTDSL_PYTHON") is { Length: > 0 } chosen ? chosen : "/usr/bin/python3";
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(jobs);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), $"{python} ran for more than 2 minutes");
        Assert.True(process.ExitCode == 0,
            $"{python} {script} exited {process.ExitCode} (PyTorch comes from Debian's python3-torch: apt-get install -y python3-torch):\n{output}{error.Result}");
    }
}
