using AftDsl.Generators.Model;
using Microsoft.CodeAnalysis.CSharp;

namespace AftDsl.Generators.Emit;

/// <summary>
/// Writes the generated part of a declaration in error: the members of a valid one, constructors that build
/// nothing, and a forward and stage properties that throw with the diagnostic's ID and message. It exists so that
/// one AFT mistake does not bring a cascade of compiler errors where the class is used.
/// </summary>
internal static class SkeletonEmitter
{
    const string Tensor = "global::TorchSharp.torch.Tensor";

    public static string Emit(SkeletonSpec spec) => TargetTypeEmitter.Emit(spec.Target, writer => Class(writer, spec));

    static void Class(SourceWriter w, SkeletonSpec spec)
    {
        var name = spec.Target.Identifier;
        // One constant holds the message, so each throwing member stays one short line.
        const string failure = "throw new global::System.InvalidOperationException(AftDslNotGenerated)";
        var message = $"private const string AftDslNotGenerated = {SymbolDisplay.FormatLiteral(spec.Message, quote: true)};";
        if (spec.StagesOnly)
        {
            using (w.Block($"partial class {name}{spec.Target.TypeParameters}"))
            {
                w.Line(message);
                Stages(w, spec, failure);
            }
            return;
        }
        w.Line("/// <summary>");
        w.Line($"/// Not generated: {Escape(spec.DisplayName)} is declared with an error ({Escape(spec.Reason)}).");
        w.Line(spec.IsModule
            ? "/// Only its members are declared, so that the code using it compiles; forward throws until the declaration is fixed."
            : "/// Only its constants, members and stages are declared (it cannot be a module as declared), so that the code using it compiles.");
        w.Line("/// </summary>");
        w.GeneratedCodeAttribute();
        // A static class cannot derive from a class (CS0713), nor can a part name a base class other than the user's (CS0263):
        // then the skeleton is a plain partial part, without a forward to override.
        var module = spec.IsModule ? $" : global::TorchSharp.torch.nn.Module<{Tensor}, {Tensor}>" : "";
        using (w.Block($"partial class {name}{spec.Target.TypeParameters}{module}"))
        {
            w.Line(message);
            foreach (var constant in spec.Constants)
                w.Line($"public const {constant.Type} {constant.Name} = {constant.Value};");
            foreach (var member in spec.Members)
                w.Line(member);
            Stages(w, spec, failure);
            foreach (var constructor in spec.Constructors)
                w.Line($"public {name}({constructor.Parameters}) : base(nameof({name}{spec.Target.TypeParameters})) {{ {constructor.Body}}}");
            if (spec.IsModule)
                w.Line($"public override {Tensor} forward({Tensor} input) => {failure};");
        }
    }

    static void Stages(SourceWriter w, SkeletonSpec spec, string failure)
    {
        foreach (var stage in spec.Stages)
            w.Line($"{stage.Modifiers}{(stage.Modifiers.Length > 0 ? " " : "")}partial {stage.Type} {stage.Name} {{ {string.Join(" ", stage.Accessors.Select(a => $"{a} => {failure};"))} }}");
    }

    static string Escape(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
