using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using AftDsl.Interop;
using AftLab.Models;
using AftLab.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace AftLab.Tests.Interop;

/// <summary>What the C# side computed for one sample model, and where its export lies.</summary>
public sealed record RoundTripCase(string Name, string Folder, Tensor Input, float[] Output, long[] OutputShape, TimeSpan Create, TimeSpan Export);

/// <summary>
/// Exports every sample model, untrained but perturbed (so that AFT-conv's zero gains and every LayerNorm differ from
/// their initial values), runs it in C# on a fixed input, and then runs every export through PyTorch in one Python
/// process: the tests compare the outputs both ways.
/// </summary>
public sealed class RoundTripFixture : IDisposable
{
    public const int Seed = 20261201;

    /// <summary>The model for which PyTorch also saves a state dict that does not fit (broken.pt).</summary>
    public const string BrokenModel = "byte-local-8";

    readonly TemporaryFolder folder = new();

    public RoundTripFixture()
    {
        var clock = Stopwatch.StartNew();
        var cases = new Dictionary<string, RoundTripCase>();
        var jobs = new JsonArray();
        foreach (var (entry, index) in ModelCatalog.All.Select((e, i) => (e, i)))
        {
            var exportFolder = Path.Combine(folder.Path, entry.Name);
            torch.manual_seed(Seed + index);
            var step = Stopwatch.StartNew();
            using var model = entry.Create();
            Perturb(model);
            model.eval();
            var architecture = JsonNode.Parse(ArchitectureReader.Describe(model).ToJsonString())!.AsObject();   // as a reader sees it: numbers of any CLR type
            var input = Input(entry, architecture);
            using var output = Forward(model, input);
            var created = step.Elapsed;
            step.Restart();
            PyTorchExport.Write(model, exportFolder);
            RawTensor.Write(Path.Combine(exportFolder, "input.bin"), input);
            cases[entry.Name] = new(entry.Name, exportFolder, input, RawTensor.Floats(output), output.shape, created, step.Elapsed);
            jobs.Add(new JsonObject
            {
                ["name"] = entry.Name,
                ["folder"] = exportFolder,
                ["seed"] = Seed + index,
                ["input_dtype"] = input.dtype == ScalarType.Int64 ? "int64" : "float32",
                ["input_shape"] = JsonArrayOf(input.shape),
                ["broken"] = entry.Name == BrokenModel,
            });
        }
        ExportTime = clock.Elapsed;
        var jobsFile = folder.File("jobs.json");
        File.WriteAllText(jobsFile, jobs.ToJsonString());
        var script = folder.File(RoundTripScript.FileName);
        File.WriteAllText(script, RoundTripScript.Source);
        clock.Restart();
        PythonReport = PyTorchProcess.Run(script, TimeSpan.FromMinutes(10), jobsFile).Trim();
        PythonTime = clock.Elapsed;
        Cases = cases;
    }

    public IReadOnlyDictionary<string, RoundTripCase> Cases { get; }

    public TimeSpan ExportTime { get; }

    public TimeSpan PythonTime { get; }

    public string PythonReport { get; }

    /// <summary>The model's output on <paramref name="input"/>, in eval mode and without autograd.</summary>
    public static Tensor Forward(nn.Module<Tensor, Tensor> model, Tensor input)
    {
        using var noGrad = no_grad();
        return model.forward(input);
    }

    /// <summary>
    /// Adds N(0, 0.05²) to every weight, and N(0, 0.5²) to AFT-conv's gains and biases, which start at 0 (a new
    /// AFT-conv is AFT-simple): the kernel path must carry real numbers.
    /// </summary>
    static void Perturb(nn.Module model)
    {
        using var noGrad = no_grad();
        foreach (var (name, parameter) in model.named_parameters())
            parameter.add_(randn_like(parameter) * (name.EndsWith("pos_gamma", StringComparison.Ordinal) || name.EndsWith("pos_beta", StringComparison.Ordinal) ? 0.5 : 0.05));
    }

    /// <summary>
    /// Two sequences (one for the wide models) longer than every AFT-local window of the model (so that positions outside the band count), or two
    /// images: 28×28 for a fixed-size model, 12×16 (not square) for one that takes any size.
    /// </summary>
    static Tensor Input(ModelEntry entry, JsonObject architecture)
    {
        var input = architecture["input"]!.AsObject();
        if ((string?)input["kind"] == "tokens")
        {
            var batch = entry.ParameterCount > 10_000_000 ? 1 : 2;           // Debian's PyTorch uses the reference BLAS: keep the wide models' forward short
        var windows = architecture["stages"]!.AsArray().Select(s => s!["mixer"]?["window"]).Where(w => w is not null).Select(w => (long)w!);
            var length = Math.Min(entry.Context, Math.Max(40, windows.DefaultIfEmpty(0).Max() + 9));
            return randint(0, (long)input["vocab"]!, [batch, length], dtype: ScalarType.Int64);
        }
        var (height, width) = input["height"] is { } h ? ((long)h, (long)input["width"]!) : (12L, 16L);
        return randn([2, (long)input["channels"]!, height, width]);
    }

    static JsonArray JsonArrayOf(long[] values) => new(values.Select(v => (JsonNode)v).ToArray());

    public void Dispose()
    {
        foreach (var item in Cases.Values) item.Input.Dispose();
        folder.Dispose();
    }
}
