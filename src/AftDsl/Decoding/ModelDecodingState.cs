using static TorchSharp.torch;

namespace AftDsl.Decoding;

/// <summary>
/// A causal model's decoding state: the states of its block stacks, and each row's position (which picks
/// the row of a position embedding). <c>BeginDecoding</c> of a generated model creates it; its <c>Step</c> uses it.
/// </summary>
public sealed class ModelDecodingState : DecodingState
{
    readonly DecodingState[] stages;

    /// <param name="owner">How errors name the model.</param>
    /// <param name="batch">Sequences decoded side by side.</param>
    /// <param name="stages">The states of the model's stages that keep one (its block stacks), in order; the model state owns them.</param>
    public ModelDecodingState(string owner, long batch, params DecodingState[] stages) : base(owner, batch) => this.stages = stages;

    /// <summary>
    /// A state at position 0 holding the states that <paramref name="stages"/> create, in order. The generated
    /// <c>BeginDecoding</c> calls it: when one stage's BeginDecoding throws, the states of the stages before it are
    /// disposed before the exception goes on, so a failed BeginDecoding leaves no tensors behind.
    /// </summary>
    /// <param name="owner">How errors name the model.</param>
    /// <param name="batch">Sequences decoded side by side.</param>
    /// <param name="stages">Each stage's BeginDecoding, in the order of the model's stages.</param>
    public static ModelDecodingState Begin(string owner, long batch, params Func<DecodingState>[] stages)
    {
        ArgumentNullException.ThrowIfNull(stages);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1, nameof(batch));
        return new(owner, batch, CreateAll(stages.Select(create => create())));
    }

    /// <summary>The stages' states, in the order of the model's stages.</summary>
    public IReadOnlyList<DecodingState> Stages => stages;

    /// <summary>The state of stage <paramref name="index"/> (counting stages that keep one), as a <typeparamref name="T"/>.</summary>
    public T Stage<T>(int index) where T : DecodingState => Expect<T>(stages[index], Owner);

    /// <inheritdoc/>
    public override long ByteCount => stages.Sum(s => s.ByteCount);

    /// <summary>
    /// Moves the rows that <paramref name="active"/> marks (all when null) one position on. The generated <c>Step</c>
    /// calls it once every stage has stepped; the stages' own states move on in their own steps.
    /// </summary>
    public void Advance(Tensor? active) => Advance(ActiveRows.From(active, Batch, Owner));

    /// <summary>
    /// Throws <see cref="DecodingLengthException"/> when a row that <paramref name="active"/> marks (all when null) is at
    /// <paramref name="bound"/> or beyond, before any stage steps: a stage that refused half-way would leave the stages
    /// before it a position ahead. <paramref name="boundedBy"/> says what sets the bound.
    /// </summary>
    public void CheckBound(Tensor? active, long bound, string boundedBy) =>
        CheckBound(ActiveRows.From(active, Batch, Owner), bound, boundedBy);

    /// <inheritdoc/>
    protected override void Clear()
    {
        foreach (var stage in stages)
            stage.Reset();
    }

    /// <inheritdoc/>
    protected override void Release()
    {
        foreach (var stage in stages)
            stage.Dispose();
    }
}
