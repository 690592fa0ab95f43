using System.Reflection;
using AftLab.Models;
using TorchSharp;

namespace AftLab.Tests.Models;

/// <summary>The generated constants of every sample model (whole model and each stage) agree with TorchSharp's own count.</summary>
public sealed class ParameterCountTests
{
    public static TheoryData<string> Models => new(ModelCatalog.All.Select(m => m.Name));

    [Theory]
    [MemberData(nameof(Models))]
    public void Generated_counts_are_torchsharps(string name)
    {
        var entry = ModelCatalog.Find(name);
        using var model = entry.Create();
        Assert.Equal(entry.ParameterCount, model.parameters().Sum(p => p.numel()));

        var type = model.GetType();
        var stages = type.GetProperties().Where(p => typeof(torch.nn.Module).IsAssignableFrom(p.PropertyType)).ToList();
        Assert.NotEmpty(stages);
        foreach (var stage in stages)
        {
            var constant = type.GetField(stage.Name + "ParameterCount", BindingFlags.Public | BindingFlags.Static);
            Assert.NotNull(constant);
            var module = (torch.nn.Module)stage.GetValue(model)!;
            Assert.Equal((long)constant.GetRawConstantValue()!, module.parameters().Sum(p => p.numel()));
        }
    }
}
