using AftDsl.Generators.Diagnostics;
using AftDsl.Generators.Model;
using AftDsl.Generators.Shapes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace AftDsl.Generators.Parsing;

/// <summary>
/// Reads an <c>[AftModel]</c> class: its input attribute and its stages (partial properties with stage
/// attributes, in declaration order), then hands them to <see cref="ShapeChecker"/>, which infers the shapes
/// through the stages and reports every edge that does not fit.
/// </summary>
internal static class ModelParser
{
    public const string AttributeName = AttributeNames.AftModel.Type;

    static readonly Dictionary<string, (string Type, string TypeName)> Stages = new()
    {
        [AttributeNames.Embedding.Type] = ("global::TorchSharp.Modules.Embedding", "TorchSharp.Modules.Embedding"),
        [AttributeNames.PatchEmbedding.Type] = ("global::AftDsl.Modules.PatchEmbedding", "AftDsl.Modules.PatchEmbedding"),
        [AttributeNames.PositionEmbedding.Type] = ("global::AftDsl.Modules.PositionEmbedding", "AftDsl.Modules.PositionEmbedding"),
        [AttributeNames.Blocks.Type] = ("global::AftDsl.Modules.BlockStack", "AftDsl.Modules.BlockStack"),
        [AttributeNames.FinalNorm.Type] = ("global::TorchSharp.Modules.LayerNorm", "TorchSharp.Modules.LayerNorm"),
        [AttributeNames.Logits.Type] = ("global::TorchSharp.Modules.Linear", "TorchSharp.Modules.Linear"),
        [AttributeNames.ClassifierHead.Type] = ("global::AftDsl.Modules.ClassifierHead", "AftDsl.Modules.ClassifierHead"),
    };

    public static ParseResult<ModelSpec> Parse(GeneratorAttributeSyntaxContext context) =>
        context.TargetNode is ClassDeclarationSyntax declaration && context.TargetSymbol is INamedTypeSymbol symbol
            ? Parse(declaration, symbol, context.Attributes[0])
            : new(null, EquatableArray<DiagnosticInfo>.Empty);

    /// <summary>One declaration's <c>[AftModel]</c>, checked: shared by the generator (spec) and the analyzer (diagnostics).</summary>
    public static ParseResult<ModelSpec> Parse(ClassDeclarationSyntax declaration, INamedTypeSymbol symbol, AttributeData model)
    {
        try
        {
            return Check(declaration, symbol, model);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var failure = DiagnosticInfo.Create(Descriptors.GeneratorFailure, declaration.Identifier.GetLocation(), symbol.Name, e.GetType().Name, e.Message);
            return new(null, new[] { failure }.ToEquatableArray());
        }
    }

    static ParseResult<ModelSpec> Check(ClassDeclarationSyntax declaration, INamedTypeSymbol symbol, AttributeData model)
    {
        var name = $"AftModel '{symbol.Name}'";
        var diagnostics = new List<DiagnosticInfo>();
        var modelArguments = new AttributeArguments(model);
        if (GeneratingAttributes.DeclaredEarlier(symbol, model) is { } first)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.DeclaredTwice, modelArguments.Location, name, symbol.Name, first));
            // Generated as a layer: its stage properties still need parts. (After an earlier [AftModel], that one has them.)
            var layerTarget = first == "AftModel" ? null : TargetTypeParser.Parse(declaration, symbol, name, []);
            return new(null, diagnostics.ToEquatableArray())
            {
                Skeleton = layerTarget is null ? null : SkeletonBuilder.Model(layerTarget, name, symbol, modelArguments, diagnostics) with { StagesOnly = true },
            };
        }
        var target = TargetTypeParser.Parse(declaration, symbol, name, diagnostics);
        var causal = modelArguments.Named<bool>(AttributeNames.AftModel.Causal);
        if (modelArguments.Named<bool>(AttributeNames.AftModel.Decoding) is { Value: true } decoding && causal?.Value != true)
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.DecodingNeedsCausal, decoding.Location, name));
        // In error but able to take a generated part: a skeleton keeps the stage properties and the code using the model compiling.
        ParseResult<ModelSpec> Broken() => new(null, diagnostics.ToEquatableArray())
        {
            Skeleton = target is null ? null : SkeletonBuilder.Model(target, name, symbol, modelArguments, diagnostics),
        };

        var input = ReadInput(symbol, name, modelArguments.Location, diagnostics);
        var stages = ReadStages(symbol, name, diagnostics);
        if (stages is not null)
            GeneratedMembers.Check(symbol, name, GeneratedMembers.Model(stages.Select(s => (s.Property.Name, StageSpec.SnakeCase(s.Property.Name)))),
                [], StageProperties(symbol), diagnostics);
        if (input is null || stages is null || target is null || diagnostics.Count > 0 || modelArguments.HasErrors)
            return Broken();

        var checker = new ShapeChecker(name, causal?.Value ?? false, diagnostics);
        var spec = checker.Check(target, input.Value.Spec, input.Value.Location, stages);
        if (spec is { Decodes: true })
            GeneratedMembers.Check(symbol, name, GeneratedMembers.Decoding(model: true), [], StageProperties(symbol), diagnostics);
        if (spec is null || diagnostics.Any(d => d.Descriptor.DefaultSeverity == DiagnosticSeverity.Error))
            return Broken();
        return new(spec, diagnostics.ToEquatableArray());
    }

    static (InputSpec Spec, Location Location)? ReadInput(INamedTypeSymbol symbol, string name, Location modelLocation, List<DiagnosticInfo> diagnostics)
    {
        var inputs = symbol.GetAttributes()
            .Where(a => a.AttributeClass?.ToDisplayString() is AttributeNames.TokenInput.Type or AttributeNames.ImageInput.Type).ToList();
        if (inputs.Count != 1)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.ModelInput, inputs.Count == 0 ? modelLocation : new AttributeArguments(inputs[1]).Location,
                name, inputs.Count == 0 ? "has no input attribute" : "has more than one input attribute"));
            return null;
        }
        var arguments = new AttributeArguments(inputs[0]);
        if (arguments.HasErrors)
            return null;
        var checks = new SizeChecks(name, diagnostics);
        if (inputs[0].AttributeClass!.ToDisplayString() == AttributeNames.TokenInput.Type)
        {
            var vocab = arguments.Constructor<int>(AttributeNames.TokenInput.Vocab);
            var maxLength = arguments.Constructor<int>(AttributeNames.TokenInput.MaxLength);
            checks.Positive(vocab, AttributeNames.TokenInput.Vocab, "it is the number of distinct token ids, e.g. vocab: 256 for bytes");
            checks.Positive(maxLength, AttributeNames.TokenInput.MaxLength, "it is the longest input sequence, e.g. maxLength: 1024");
            if (vocab is null || maxLength is null) return null;
            return (new InputSpec(true, vocab.Value.Value, maxLength.Value.Value, 0, 0, 0), arguments.Location);
        }
        var channels = arguments.Constructor<int>(AttributeNames.ImageInput.Channels);
        var height = arguments.Named<int>(AttributeNames.ImageInput.Height);
        var width = arguments.Named<int>(AttributeNames.ImageInput.Width);
        checks.Positive(channels, AttributeNames.ImageInput.Channels, "it is the number of image channels, e.g. channels: 3");
        checks.Positive(height, AttributeNames.ImageInput.Height, "it fixes the image height; leave it out to accept any");
        checks.Positive(width, AttributeNames.ImageInput.Width, "it fixes the image width; leave it out to accept any");
        if (channels is null) return null;
        if ((height is null) != (width is null))
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.HalfFixedGrid, (height ?? width)!.Value.Location, name, height is null ? AttributeNames.ImageInput.Height : AttributeNames.ImageInput.Width, height is null ? AttributeNames.ImageInput.Width : AttributeNames.ImageInput.Height));
            return null;
        }
        return (new InputSpec(false, 0, 0, channels.Value.Value, height?.Value ?? 0, width?.Value ?? 0), arguments.Location);
    }

    // Members the generated part declares: a stage of the same name (or whose field would be "forward") would clash.
    static readonly string[] Generated = ["ModelName", "InputShape", "OutputShape", "Causal", "Vocab", "MaxLength", "Channels", "Dim", "ParameterCount", "Forward",
        "BeginDecoding", "Step", "MaxDecodingLength"];

    static string? ReservedBy(string property, string model) =>
        property == model ? "the model's constructor"
        : Generated.Contains(property) ? $"the generated member {(property == "Forward" ? "forward" : property)}"
        : property.EndsWith("ParameterCount", StringComparison.Ordinal) ? "the generated per-stage constants {Stage}ParameterCount"
        : null;

    // Every property carrying a stage attribute, valid or not: its own diagnostics say what is wrong with it.
    static HashSet<string> StageProperties(INamedTypeSymbol symbol) =>
        new(symbol.GetMembers().OfType<IPropertySymbol>()
            .Where(p => p.GetAttributes().Any(a => a.AttributeClass is { } c && Stages.ContainsKey(c.ToDisplayString())))
            .Select(p => p.Name));

    /// <summary>
    /// A stage as written: its attribute (the metadata name, which says the kind), property and attribute arguments.
    /// </summary>
    internal sealed record WrittenStage(string Attribute, IPropertySymbol Property, string ExpectedType, string Accessibility, AttributeArguments Arguments);

    static List<WrittenStage>? ReadStages(INamedTypeSymbol symbol, string name, List<DiagnosticInfo> diagnostics)
    {
        var stages = new List<WrittenStage>();
        var declared = 0;                                   // stage attributes seen, whether or not the stage is valid
        var ordered = symbol.GetMembers().OfType<IPropertySymbol>()
            .Select(p => (Property: p, Syntax: p.DeclaringSyntaxReferences.FirstOrDefault()))
            .Where(p => p.Syntax is not null)
            .OrderBy(p => p.Syntax!.SyntaxTree.FilePath, StringComparer.Ordinal).ThenBy(p => p.Syntax!.Span.Start);
        foreach (var (property, reference) in ordered)
        {
            var stageAttributes = property.GetAttributes().Where(a => a.AttributeClass is { } c && Stages.ContainsKey(c.ToDisplayString())).ToList();
            if (stageAttributes.Count == 0)
                continue;
            var attribute = stageAttributes[0];
            declared++;
            if (stageAttributes.Count > 1)
            {
                // One property, one stage: a second attribute would otherwise be dropped without a word.
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.SeveralStages, new AttributeArguments(stageAttributes[1]).Location, name, property.Name,
                    string.Join(" and ", stageAttributes.Select(a => "[" + a.AttributeClass!.Name.Replace("Attribute", "") + "]"))));
                continue;
            }
            var attributeName = attribute.AttributeClass!.ToDisplayString();
            var (type, typeName) = Stages[attributeName];
            var arguments = new AttributeArguments(attribute);
            if (arguments.HasErrors)
                return null;
            var syntax = reference!.GetSyntax() as PropertyDeclarationSyntax;
            if (syntax is null || !syntax.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.StageNotPartial, syntax?.Identifier.GetLocation() ?? arguments.Location, name, property.Name, typeName));
                continue;
            }
            if (property.IsStatic)
            {
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.StaticStage, syntax.Identifier.GetLocation(), name, property.Name));
                continue;
            }
            if (syntax.AccessorList?.Accessors.FirstOrDefault(a => a.Keyword.Kind() is SyntaxKind.SetKeyword or SyntaxKind.InitKeyword) is { } setter)
            {
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.StageAccessor, setter.GetLocation(), name, property.Name, setter.Keyword.Text));
                continue;
            }
            if (property.Type.ToDisplayString() != typeName)
            {
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.StageType, syntax.Type.GetLocation(), name, property.Name,
                    attribute.AttributeClass.Name.Replace("Attribute", ""), typeName, property.Type.ToDisplayString()));
                continue;
            }
            if (ReservedBy(property.Name, symbol.Name) is { } member)
            {
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.StageNameTaken, syntax.Identifier.GetLocation(), name, property.Name, member));
                continue;
            }
            var accessibility = string.Join(" ", syntax.Modifiers.Where(m => !m.IsKind(SyntaxKind.PartialKeyword)).Select(m => m.Text));
            stages.Add(new WrittenStage(attributeName, property, type, accessibility, arguments));
        }
        if (declared == 0)
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.NoStages, symbol.Locations.FirstOrDefault(), name));
        return stages;
    }
}
