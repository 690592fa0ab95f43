using System.Reflection;
using Xunit;

namespace AftDsl.Generators.Tests;

/// <summary>
/// The names the generator, analyzer and code fixes read the attributes by (<c>AttributeNames</c>, one source file
/// compiled into the runtime and linked into them) are the runtime attributes' own: every name exists on its
/// attribute, every argument an attribute takes is named, every attribute a user writes is covered, and the defaults
/// are the ones the attributes apply.
/// </summary>
public sealed class AttributeNamesTests
{
    // Read by reflection: the generator and the code fixes each compile their own internal copy, both visible to this
    // project, so the type cannot be named in C# here without being ambiguous.
    static readonly Type Names = typeof(AftLayerGenerator).Assembly.GetType("AftDsl.AttributeNames", throwOnError: true)!;
    static readonly Assembly Runtime = typeof(AftFullAttribute).Assembly;
    const BindingFlags Constants = BindingFlags.Public | BindingFlags.Static | BindingFlags.FlattenHierarchy;

    static Dictionary<string, object> ConstantsOf(Type names) =>
        names.GetFields(Constants).Where(f => f.IsLiteral).ToDictionary(f => f.Name, f => f.GetRawConstantValue()!);

    static IEnumerable<Type> AttributeClasses => Names.GetNestedTypes(BindingFlags.NonPublic | BindingFlags.Public)
        .Where(t => t.GetField("Type", Constants) is not null);

    public static TheoryData<string> Attributes => new(AttributeClasses.Select(t => t.Name));

    [Theory]
    [MemberData(nameof(Attributes))]
    public void The_names_of_an_attribute_are_its_own_and_name_every_argument(string attribute)
    {
        var names = ConstantsOf(Names.GetNestedType(attribute, BindingFlags.NonPublic)!);
        var type = Runtime.GetType((string)names["Type"], throwOnError: true)!;
        // Constructor parameters are camelCase, settable properties PascalCase: as a user writes them.
        var parameters = type.GetConstructors().SelectMany(c => c.GetParameters()).Select(p => p.Name!);
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is { IsPublic: true }).Select(p => p.Name);
        var arguments = names.Where(n => n.Value is string && n.Key is not ("Type" or "Base")).Select(n => (string)n.Value);
        Assert.Equal(parameters.Concat(properties).Distinct().Order(), arguments.Distinct().Order());
        if (names.TryGetValue("Base", out var baseName))
            Assert.True(type.IsSubclassOf(Runtime.GetType((string)baseName, throwOnError: true)!), $"{type.Name} derives from {baseName}");
    }

    [Fact]
    public void Every_attribute_a_user_writes_is_named()
    {
        var written = Runtime.GetExportedTypes().Where(t => t.IsSubclassOf(typeof(Attribute)) && !t.IsAbstract).Select(t => t.FullName!);
        var named = AttributeClasses.Select(t => (string)ConstantsOf(t)["Type"]);
        Assert.Equal(written.Order(), named.Order());
        var stage = Runtime.GetType((string)ConstantsOf(Names)["Stage"], throwOnError: true)!;
        Assert.True(stage.IsAbstract && typeof(Attribute).IsAssignableFrom(stage));
    }

    [Fact]
    public void The_defaults_are_the_ones_the_attributes_apply()
    {
        var rank = (int)ConstantsOf(Names.GetNestedType("PositionBias", BindingFlags.NonPublic)!)["DefaultFactorRank"];
        var ffn = (int)ConstantsOf(Names.GetNestedType("Blocks", BindingFlags.NonPublic)!)["DefaultFfn"];
        Assert.Equal(128, rank);                                   // the paper's d'
        Assert.Equal(rank, new AftFullAttribute(maxLength: 4 * rank).FactorRank);
        Assert.Equal(rank, new AftLocalAttribute(maxLength: 4 * rank, window: 8).FactorRank);
        Assert.Equal(rank / 2, new AftFullAttribute(maxLength: rank / 2).FactorRank);      // capped at maxLength
        Assert.Equal(ffn, new BlocksAttribute(depth: 1, mixer: typeof(object)).Ffn);
    }
}
