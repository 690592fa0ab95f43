using AftDsl.Tests.Shared;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using AftDsl.Interop;
using AftDsl.Tests.Models;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace AftDsl.Tests.Interop;

/// <summary>
/// aftdsl_torch.py against the generated modules on small models that cover what the sample models do not: AFT-full and
/// AFT-local without the causal mask, causal AFT-conv over a sequence, AFT-simple over a flattened grid, a grid position
/// embedding, attention with a position embedding and no final norm; and every AFT variant, causal and not, with keys that
/// shifted exponentials cannot take. Each test runs its models in one Python process with PyTorch (Debian's
/// /usr/bin/python3 with python3-torch, or AFTDSL_PYTHON); the sample models' round trip is in AftLab.Tests.
/// </summary>
public sealed class PythonReferenceTests(ITestOutputHelper output)
{
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

    /// <summary>
    /// Keys that shifted exponentials cannot take, on every AFT variant with and without the causal mask: channels 120
    /// apart at every position (exp(−120) underflows float32, so a shift shared by the channels leaves 0 / 0), and keys
    /// a thousand times their size (a causal shift that looks at later positions leaves the early rows 0 / 0).
    /// </summary>
    static IEnumerable<(string Name, nn.Module<Tensor, Tensor> Model, Tensor Input)> ExtremeKeyCases()
    {
        yield return (nameof(FullEncoder), new FullEncoder(), randint(0, 13, [2, 19]));
        yield return (nameof(CausalFullLm), new CausalFullLm(), randint(0, 13, [2, 19]));
        yield return (nameof(LocalEncoder), new LocalEncoder(), randint(0, 13, [2, 19]));
        yield return (nameof(TinyLm), new TinyLm(), randint(0, 11, [2, 19]));
        yield return (nameof(TinyGridSimple), new TinyGridSimple(), randn(2, 1, 8, 8));
        yield return (nameof(CausalSimpleLm), new CausalSimpleLm(), randint(0, 13, [2, 19]));
        yield return (nameof(SequenceConvLm), new SequenceConvLm(), randint(0, 13, [2, 19]));
        yield return (nameof(TinyConvClassifier), new TinyConvClassifier(), randn(2, 2, 6, 10));
    }

    [Fact]
    public void The_reference_module_computes_what_each_generated_model_computes()
    {
        torch.manual_seed(11);
        var failures = Compare(Cases(), (_, _) => { });
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void Both_stay_finite_and_agree_when_key_channels_lie_far_apart_or_keys_are_huge()
    {
        torch.manual_seed(12);
        var apart = Compare(ExtremeKeyCases().Select(c => (c.Name + " (key channels 120 apart)", c.Model, c.Input)), (name, parameter) =>
        {
            if (name.EndsWith("k_proj.bias", StringComparison.Ordinal))
                parameter.add_(arange(parameter.shape[0], dtype: parameter.dtype).remainder(2) * 120.0);      // odd channels 120 above even ones, everywhere
        });
        var huge = Compare(ExtremeKeyCases().Select(c => (c.Name + " (keys × 1000)", c.Model, c.Input)), (name, parameter) =>
        {
            if (name.Contains("k_proj.", StringComparison.Ordinal))
                parameter.mul_(1000.0);
        });
        var failures = apart.Concat(huge).ToList();
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>
    /// Exports each model after perturbing its weights (and applying <paramref name="adjust"/> to each named parameter),
    /// runs every export in one Python process, and returns every model's disagreement, not only the first.
    /// </summary>
    List<string> Compare(IEnumerable<(string Name, nn.Module<Tensor, Tensor> Model, Tensor Input)> cases, Action<string, Tensor> adjust)
    {
        using var folder = new ExportFolder();
        var expected = new Dictionary<string, float[]>();
        var folders = new Dictionary<string, string>();
        var jobs = new JsonArray();
        foreach (var (name, model, input) in cases)
        {
            using (no_grad())
                foreach (var (parameterName, parameter) in model.named_parameters())
                {
                    var gain = parameterName.Contains("pos_gamma") || parameterName.Contains("pos_beta") ? 0.5 : 0.1;
                    parameter.add_(randn_like(parameter) * gain);      // AFT-conv starts as AFT-simple: give its kernel real numbers
                    adjust(parameterName, parameter);
                }
            model.eval();
            var export = Path.Combine(folder.Path, $"model-{folders.Count}");
            folders[name] = export;
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

        var failures = new List<string>();
        foreach (var (name, values) in expected)
        {
            var pytorch = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(folders[name], "output.bin"))).ToArray();
            if (values.Length == pytorch.Length)                        // the margin, for the log; NaN shows as NaN (Math.Max keeps it)
                output.WriteLine($"{name}: largest difference {values.Zip(pytorch, (a, b) => Math.Abs((double)a - b)).Aggregate(0.0, Math.Max):E2}, allowed {OutputAgreement.Bound(values):E2}");
            if (OutputAgreement.Problem($"{name}: PyTorch against C#", values, pytorch) is { } problem) failures.Add(problem);
        }
        return failures;
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
