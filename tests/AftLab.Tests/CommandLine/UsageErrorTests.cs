using AftLab.Tests.Support;

namespace AftLab.Tests.CommandLine;

/// <summary>
/// Mistakes on the command line end at once with exit code 64 and one line that names the option, the valid range
/// and what was given; nothing is trained and nothing is written.
/// </summary>
public sealed class UsageErrorTests : IDisposable
{
    readonly TemporaryFolder folder = new();

    (int, string) Run(params string[] arguments) => AftLabProcess.Run(folder.Path, TrainedRun.Environment(folder.Path), arguments);

    [Theory]
    [InlineData("Unknown option 'bogus'", "train", "--bogus", "3")]
    [InlineData("Did you mean --steps?", "train", "--step", "5")]
    [InlineData("Did you mean --temperature?", "sample", "--temprature", "0.5")]
    [InlineData("Did you mean train?", "trian")]
    [InlineData("--minutes must be a finite number above 0 up to 525600, got Infinity", "train", "--minutes", "Infinity")]
    [InlineData("--minutes must be a finite number above 0 up to 525600, got 1E+20", "train", "--minutes", "1e20")]
    [InlineData("--minutes must be a finite number above 0 up to 525600, got NaN", "train", "--minutes", "NaN")]
    [InlineData("--lr must be a finite number above 0 up to 1, got -1", "train", "--lr", "-1")]
    [InlineData("--checkpoint-minutes must be a finite number above 0", "train", "--checkpoint-minutes", "NaN")]
    [InlineData("--steps must be a whole number from 1 to", "train", "--steps", "0")]
    [InlineData("Failed to convert 'abc' to a number. Check the value after --batch", "train", "--batch", "abc")]
    [InlineData("--batch must be a whole number from 1 to 4,096, got 20000000", "train", "--batch", "20000000")]
    [InlineData("--context must be a whole number from 2 to 256, got 1000", "train", "--context", "1000")]
    [InlineData("--context applies to byte models only: pixel-simple models sequences of exactly 784 pixels", "train", "--model", "pixel-simple", "--context", "64")]
    [InlineData("--context applies to byte models only: image-conv", "eval", "--model", "image-conv", "--context", "64")]
    [InlineData("--output must name a folder, got an empty string", "train", "--output", "")]
    [InlineData("--temperature must be a finite number from 0.01 to 100, got NaN", "sample", "--temperature", "NaN")]
    [InlineData("--temperature must be a finite number from 0.01 to 100, got 1E-40", "sample", "--temperature", "1e-40")]
    [InlineData("--count must be a whole number from 1 to 100,000, got 0", "sample", "--count", "0")]
    [InlineData("--iterations must be a whole number from 1 to 10,000, got 1000000000", "bench", "--iterations", "1000000000")]
    [InlineData("--lengths must be whole numbers from 2 to 1,048,576, comma-separated, got '256,1e9'", "bench", "--lengths", "256,1e9")]
    [InlineData("--tokens must be a whole number from 1 to 268,435,456, got 99999999999", "throughput", "--tokens", "99999999999")]
    [InlineData("--dtype must be float32 or bfloat16, got 'float16'", "train", "--dtype", "float16")]
    [InlineData("--dtype must be float32 or bfloat16, got 'BFloat16'", "train", "--model", "pixel-simple", "--dtype", "BFloat16")]
    [InlineData("--dtype must be float32 or bfloat16, got 'fp16'", "throughput", "--dtype", "fp16")]
    public void A_command_line_mistake_is_one_line_with_exit_code_64(string message, params string[] arguments)
    {
        Outcome.Fails(64, message, Run(arguments));
        Assert.Empty(Directory.GetDirectories(folder.Path));                 // no run folder was made
    }

    [Fact]
    public void The_stack_trace_appears_only_under_debug()
    {
        var plain = Run("eval", "--model", "byte-simple", "--output", folder.File("nothing"));
        Outcome.Fails(66, "No checkpoint in", plain);

        var (code, output) = Run("eval", "--model", "byte-simple", "--output", folder.File("nothing"), "--debug");
        Assert.Equal(66, code);
        Assert.Contains("   at AftLab.", output);
        Assert.Contains("CheckpointException", output);
    }

    public void Dispose() => folder.Dispose();
}
