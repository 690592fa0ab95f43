using AftLab.Commands;
using Spectre.Console;
using Spectre.Console.Cli;

// Redirected output (CI logs, files) has no terminal width: keep lines whole instead of wrapping at 80.
if (Console.IsOutputRedirected)
    AnsiConsole.Profile.Width = 240;

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("aftlab");
    config.AddCommand<TrainCommand>("train")
        .WithDescription("Train a small causal AFT-full byte-level language model on text the app carries, then generate a continuation.")
        .WithExample("train", "--minutes", "3");
    config.AddCommand<BenchCommand>("bench")
        .WithDescription("Time and memory of the AFT kernels against autograd, the naive form and attention; CSV, summary and plots.")
        .WithExample("bench", "--lengths", "256,1024,4096");
});
return app.Run(args);
