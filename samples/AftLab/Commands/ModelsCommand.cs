using AftLab.Models;
using Spectre.Console;
using Spectre.Console.Cli;

namespace AftLab.Commands;

/// <summary><c>aftlab models</c>: the sample models --model accepts, with their parameter counts.</summary>
public sealed class ModelsCommand : Command
{
    public override int Execute(CommandContext context, CancellationToken cancellationToken)
    {
        var table = new Table().AddColumn("--model").AddColumn("family").AddColumn(new TableColumn("parameters").RightAligned()).AddColumn("what");
        foreach (var model in ModelCatalog.All)
            table.AddRow(model.Name, model.Family.ToString(), model.ParameterCount.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), Markup.Escape(model.Description));
        AnsiConsole.Write(table);
        return 0;
    }
}
