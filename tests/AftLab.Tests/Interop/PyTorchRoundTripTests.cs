using AftDsl.Tests.Shared;
using AftDsl.Interop;
using AftLab.Models;
using Xunit.Abstractions;

namespace AftLab.Tests.Interop;

/// <summary>
/// Every sample model moves to PyTorch and back: the export, loaded by the shipped aftdsl_torch.py under Debian's
/// PyTorch, computes what the C# model computes; and a state dict PyTorch saved after changing every weight, imported
/// into a fresh C# model, computes what PyTorch computed.
/// </summary>
public sealed class PyTorchRoundTripTests(RoundTripFixture fixture, ITestOutputHelper output) : IClassFixture<RoundTripFixture>
{
    public static TheoryData<string> Models => new(ModelCatalog.All.Select(m => m.Name));

    [Theory]
    [MemberData(nameof(Models))]
    public void PyTorch_computes_what_the_exported_model_computes(string name)
    {
        var item = fixture.Cases[name];
        output.WriteLine($"export of all models {fixture.ExportTime.TotalSeconds:F1} s; python {fixture.PythonTime.TotalSeconds:F1} s ({fixture.PythonReport})");
        output.WriteLine($"{name}: created, perturbed and run in {item.Create.TotalSeconds:F2} s, exported in {item.Export.TotalSeconds:F2} s");
        var pytorch = RawTensor.ReadFloats(Path.Combine(item.Folder, "pytorch-output.bin"));
        AssertClose(item.Output, pytorch, $"{name}: PyTorch's output against the C# model's");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void A_state_dict_saved_by_PyTorch_imports_to_the_same_outputs(string name)
    {
        var item = fixture.Cases[name];
        using var model = ModelCatalog.Find(name).Create();
        PyTorchImport.Load(model, Path.Combine(item.Folder, "perturbed.pt"));
        model.eval();
        using var imported = RoundTripFixture.Forward(model, item.Input);
        var pytorch = RawTensor.ReadFloats(Path.Combine(item.Folder, "perturbed-output.bin"));
        AssertClose(RawTensor.Floats(imported), pytorch, $"{name}: the imported model's output against PyTorch's");
        // PyTorch changed every weight before saving: had the import loaded nothing, the outputs would still match the export's.
        Assert.True(MaxDifference(item.Output, pytorch) > 100 * OutputAgreement.Bound(item.Output), $"{name}: PyTorch's perturbed weights should change the output");
    }

    [Fact]
    public void A_state_dict_saved_by_PyTorch_that_does_not_fit_is_refused_naming_all_three_keys()
    {
        var item = fixture.Cases[RoundTripFixture.BrokenModel];
        using var model = ModelCatalog.Find(RoundTripFixture.BrokenModel).Create();
        var path = Path.Combine(item.Folder, "broken.pt");

        var error = Assert.Throws<StateDictMismatchException>(() => PyTorchImport.Load(model, path));

        Assert.Equal(
            [
                (StateDictProblemKind.Missing, "embed.weight"),
                (StateDictProblemKind.Misshaped, "head.weight"),
                (StateDictProblemKind.Unexpected, "extra.scale"),
            ],
            error.Problems.Select(p => (p.Kind, p.Key)));
        Assert.Equal(
            $"{path} does not fit AftLab.Models.ByteLmLocal8: 1 missing key, 1 unexpected key, 1 mis-shaped key (nothing was loaded).\n" +
            "Missing from the file (the model needs them):\n  embed.weight [256, 128]\n" +
            "Unexpected (the file has them, the model does not):\n  extra.scale [3]\n" +
            "Mis-shaped:\n  head.weight: the model needs [256, 128], the file has [256, 127]",
            error.Message);
    }

    void AssertClose(float[] actual, float[] expected, string what)
    {
        output.WriteLine($"{what}: largest difference {MaxDifference(actual, expected):E2} over {expected.Length:N0} numbers, allowed {OutputAgreement.Bound(expected):E2}");
        var problem = OutputAgreement.Problem(what, expected, actual);     // fails on NaN and ∞, which the largest difference would hide
        Assert.True(problem is null, problem);
    }

    /// <summary>The largest |a − b|, for the log and for "the outputs differ"; NaN wherever a NaN is (Math.Max keeps NaN, unlike LINQ's Max).</summary>
    static double MaxDifference(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs((double)x - y)).Aggregate(0.0, Math.Max);
}
