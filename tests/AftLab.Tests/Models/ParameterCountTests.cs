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

    [Fact]
    public void Every_image_classifier_has_the_attention_baselines_parameter_count_within_2_percent()
    {
        var baseline = ModelCatalog.Find("image-mha").ParameterCount;
        var classifiers = ModelCatalog.All.Where(m => m.Family == ModelFamily.Classifier).ToList();
        Assert.True(classifiers.Count >= 8, "the ablation's classifiers are in the catalog");
        Assert.All(classifiers, m => Assert.InRange((double)m.ParameterCount / baseline, 0.98, 1.02));
    }
}
