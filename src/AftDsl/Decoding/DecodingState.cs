using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Decoding;

/// <summary>
/// What a causal layer or model carries from one decoding step to the next, for a batch of sequences.
/// Each row has its own position (the number of tokens it has consumed): rows left out of a step by its
/// <c>active</c> mask keep their state and position, so sequences of different lengths share one batch.
/// The tensors live on the device and in the dtype of the layer that began decoding; dispose the state
/// to free them.
/// </summary>
public abstract class DecodingState : IDisposable
{
    readonly long[] positions;
    bool disposed;

    /// <param name="owner">How errors name the layer or model, e.g. <c>AftSimple 'TextMixer'</c>.</param>
    /// <param name="batch">Number of sequences decoded side by side; at least 1.</param>
    protected DecodingState(string owner, long batch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1, nameof(batch));
        Owner = owner;
        Batch = batch;
        positions = new long[batch];
    }

    /// <summary>How errors name the layer or model that began decoding.</summary>
    public string Owner { get; }

    /// <summary>Number of sequences (rows) in the batch.</summary>
    public long Batch { get; }

    /// <summary>
    /// The position the next step gives its token: the number of tokens consumed so far. When rows have
    /// advanced differently (through <c>active</c> masks), the largest of <see cref="Positions"/>.
    /// </summary>
    public long Position => positions.Max();

    /// <summary>Each row's position: the number of tokens that row has consumed.</summary>
    public IReadOnlyList<long> Positions => positions;

    /// <summary>Bytes of tensor memory the state holds for the whole batch.</summary>
    public abstract long ByteCount { get; }

    /// <summary>Forgets every row's tokens: the next step is at position 0 again, as after <c>BeginDecoding</c>.</summary>
    public void Reset()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        Array.Clear(positions);
        Clear();
    }

    /// <summary>Frees the state's tensors.</summary>
    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        Release();
        GC.SuppressFinalize(this);
    }

    /// <summary>Returns the tensors to their state at position 0.</summary>
    protected abstract void Clear();

    /// <summary>Disposes the tensors.</summary>
    protected abstract void Release();

    /// <summary>Throws when the state is disposed or its batch differs from <paramref name="rows"/>.</summary>
    internal void CheckUsable(long rows)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (rows != Batch)
            throw new ArgumentException($"{Owner}: the step has {rows} rows, but decoding began with batch {Batch}.");
    }

    /// <summary>Moves the rows that took part in a step (all rows when <paramref name="active"/> is null) one position on.</summary>
    internal void Advance(ActiveRows active)
    {
        for (var row = 0; row < positions.Length; row++)
            if (active.Includes(row))
                positions[row]++;
    }

    /// <summary>
    /// Throws when a row taking part in the next step would reach <paramref name="bound"/> or beyond;
    /// <paramref name="boundedBy"/> says what limits it, e.g. "its position biases pos_u and pos_w".
    /// </summary>
    internal void CheckBound(ActiveRows active, long bound, string boundedBy)
    {
        for (var row = 0; row < positions.Length; row++)
            if (active.Includes(row) && positions[row] >= bound)
                throw new DecodingLengthException(Owner, positions[row], bound, boundedBy);
    }

    /// <summary>The position every row is at, or null when rows are at different positions.</summary>
    internal long? SharedPosition => positions.All(p => p == positions[0]) ? positions[0] : null;

    /// <summary>The rows' positions as an int64 tensor <c>[B]</c> on <paramref name="device"/>.</summary>
    internal Tensor PositionTensor(Device device) => tensor(positions, device: device);

    /// <summary>Replaces <paramref name="field"/> by <paramref name="value"/>, which the state then owns past any dispose scope.</summary>
    internal static void Keep(ref Tensor field, Tensor value)
    {
        if (ReferenceEquals(field, value))
            return;
        value.DetachFromDisposeScope();
        field.Dispose();
        field = value;
    }

    /// <summary>A tensor of <paramref name="shape"/> filled with <paramref name="value"/>, like <paramref name="like"/>, owned by the state.</summary>
    internal static Tensor Owned(long[] shape, double value, Tensor like)
    {
        var created = full(shape, value, dtype: like.dtype, device: like.device);
        created.DetachFromDisposeScope();
        return created;
    }

    /// <summary>
    /// Creates the states that <paramref name="create"/> yields, in order. When one throws, the ones already created are
    /// disposed before the exception goes on: a BeginDecoding that fails part-way leaves no tensors behind.
    /// </summary>
    internal static DecodingState[] CreateAll(IEnumerable<DecodingState> create)
    {
        var created = new List<DecodingState>();
        try
        {
            foreach (var state in create)
                created.Add(state);
            return [.. created];
        }
        catch
        {
            foreach (var state in created)
                state.Dispose();
            throw;
        }
    }

    /// <summary>Throws unless <paramref name="state"/> is a <typeparamref name="T"/>: one layer's state passed to another.</summary>
    public static T Expect<T>(DecodingState state, string layer) where T : DecodingState =>
        state as T ?? throw new ArgumentException(
            $"{layer}: Step needs the {typeof(T).Name} its own BeginDecoding returns, not {(state is null ? "null" : $"a {state.GetType().Name} of {state.Owner}")}.",
            nameof(state));
}
