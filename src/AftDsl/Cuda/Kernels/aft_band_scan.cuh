// Running-maximum sums shared by the banded AFT kernels (AFT-local, AFT-conv on sequences).
//
// A state summarises a run of elements (x_i, a_i, b_i) as (m, A, B) with m = max x_i,
// A = Σ e^{x_i − m} a_i and B = Σ e^{x_i − m} b_i: the RWKV / flash-attention recipe that keeps every
// exponential in (0, 1], so keys of any size neither overflow nor flush a whole row to zero. The empty
// state has m = AFT_EMPTY_MAX (finite, so that empty − empty is 0, never NaN) and A = B = 0.
//
// A NaN exponent never becomes the maximum (x > m is false) but poisons A and B, so it reaches exactly
// the rows whose sums contain it.

#define AFT_EMPTY_MAX (-3.0e38f)

struct aft_run
{
    float m, a, b;
};

__device__ __forceinline__ aft_run aft_run_empty()
{
    aft_run s;
    s.m = AFT_EMPTY_MAX;
    s.a = 0.0f;
    s.b = 0.0f;
    return s;
}

// Adds one element; one exponential either way.
__device__ __forceinline__ void aft_run_add(aft_run& s, float x, float a, float b)
{
    if (x > s.m) {
        float scale = __expf(s.m - x);
        s.a = s.a * scale + a;
        s.b = s.b * scale + b;
        s.m = x;
    } else {
        float p = __expf(x - s.m);
        s.a += p * a;
        s.b += p * b;
    }
}

__device__ __forceinline__ aft_run aft_run_merge(aft_run s, aft_run o)
{
    float m = fmaxf(s.m, o.m);
    float fs = __expf(s.m - m), fo = __expf(o.m - m);
    aft_run r;
    r.m = m;
    r.a = s.a * fs + o.a * fo;
    r.b = s.b * fs + o.b * fo;
    return r;
}

__device__ __forceinline__ int aft_imin(int a, int b) { return a < b ? a : b; }
__device__ __forceinline__ int aft_imax(int a, int b) { return a > b ? a : b; }

// Chunk states, [B][chunks][3][D] floats: component 0 is m, 1 is A, 2 is B; channels contiguous.
__device__ __forceinline__ long long aft_run_index(int batch, int chunk, int chunks, int component, int channels, int c)
{
    return (((long long)batch * chunks + chunk) * 3 + component) * channels + c;
}

__device__ __forceinline__ aft_run aft_run_load(const float* states, long long at, int channels)
{
    aft_run s;
    s.m = states[at];
    s.a = states[at + channels];
    s.b = states[at + 2 * (long long)channels];
    return s;
}

__device__ __forceinline__ void aft_run_store(float* states, long long at, int channels, aft_run s)
{
    states[at] = s.m;
    states[at + channels] = s.a;
    states[at + 2 * (long long)channels] = s.b;
}

// Chains chunk aggregates into exclusive prefix states (all chunks before). One thread per channel walks
// the chunks in order, so each prefix state depends on earlier chunks only (causal layers read nothing
// from their future).
__device__ __forceinline__ void aft_run_chain_prefix(const float* aggregates, float* prefix, int batch, int chunks, int channels, int c)
{
    const int ahead = 8;                                     // loads issued ahead of the chain of merges
    aft_run s = aft_run_empty();
    for (int first = 0; first < chunks; first += ahead) {
        aft_run next[ahead];
#pragma unroll
        for (int u = 0; u < ahead; u++)
            if (first + u < chunks) next[u] = aft_run_load(aggregates, aft_run_index(batch, first + u, chunks, 0, channels, c), channels);
#pragma unroll
        for (int u = 0; u < ahead; u++)
            if (first + u < chunks) {
                aft_run_store(prefix, aft_run_index(batch, first + u, chunks, 0, channels, c), channels, s);
                s = aft_run_merge(s, next[u]);
            }
    }
}

// The same backwards: exclusive suffix states (all chunks after).
__device__ __forceinline__ void aft_run_chain_suffix(const float* aggregates, float* suffix, int batch, int chunks, int channels, int c)
{
    const int ahead = 8;
    aft_run s = aft_run_empty();
    for (int first = chunks - 1; first >= 0; first -= ahead) {
        aft_run next[ahead];
#pragma unroll
        for (int u = 0; u < ahead; u++)
            if (first - u >= 0) next[u] = aft_run_load(aggregates, aft_run_index(batch, first - u, chunks, 0, channels, c), channels);
#pragma unroll
        for (int u = 0; u < ahead; u++)
            if (first - u >= 0) {
                aft_run_store(suffix, aft_run_index(batch, first - u, chunks, 0, channels, c), channels, s);
                s = aft_run_merge(s, next[u]);
            }
    }
}

// Exclusive prefix states and, when suffix is not null, exclusive suffix states of the same aggregates.
__device__ __forceinline__ void aft_run_chain(const float* aggregates, float* prefix, float* suffix,
    int batch, int chunks, int channels, int c)
{
    aft_run_chain_prefix(aggregates, prefix, batch, chunks, channels, c);
    if (suffix != 0) aft_run_chain_suffix(aggregates, suffix, batch, chunks, channels, c);
}

// Adds elements from, from + step, …, to (step ±1) to s in that order, calling record(i, s) after each.
// A walk is a chain of dependent adds, so its loads are issued Prefetch elements ahead rather than one
// latency per element; each prefetched element costs three registers for the whole kernel, so kernels
// whose occupancy matters more than their walk's latency take 1.
template <int Prefetch, class Element, class Record>
__device__ __forceinline__ void aft_walk(Element element, aft_run& s, int from, int to, int step, Record record)
{
    int count = (to - from) * step + 1;
    for (int first = 0; first < count; first += Prefetch) {
        float x[Prefetch], a[Prefetch], b[Prefetch];
#pragma unroll
        for (int u = 0; u < Prefetch; u++)
            if (first + u < count) element(from + (first + u) * step, x[u], a[u], b[u]);
#pragma unroll
        for (int u = 0; u < Prefetch; u++)
            if (first + u < count) {
                aft_run_add(s, x[u], a[u], b[u]);
                record(from + (first + u) * step, s);
            }
    }
}

// One aggregate per chunk of `chunk` consecutive elements (x_i, a_i, b_i) = element(i), i < length.
template <class Element>
__device__ __forceinline__ aft_run aft_run_chunk(Element element, int first, int chunk, int length)
{
    aft_run s = aft_run_empty();
    aft_walk<8>(element, s, first, aft_imin(length, first + chunk) - 1, 1, [](int, const aft_run&) {});
    return s;
}

// The aggregate of elements first … first + count − 1 that lie in [0, length) (empty when none do).
template <class Element>
__device__ __forceinline__ aft_run aft_run_segment(Element element, int first, int count, int length)
{
    aft_run s = aft_run_empty();
    aft_walk<8>(element, s, aft_imax(first, 0), aft_imin(length, first + count) - 1, 1, [](int, const aft_run&) {});
    return s;
}

// For rows r = 0..rows-1 of a tile that starts at t0: the state of elements i ≤ t0 + r − lag − 1 (the
// out-of-band past of row r), written to (m, a, b)[r * stride]. Starts from the chained state of the chunk
// that holds the first such element and walks forward, so row r reads elements up to its own bound only.
template <int Prefetch, class Element>
__device__ __forceinline__ void aft_walk_prefix(Element element, const float* chunkPrefix, int batch, int chunks,
    int chunk, int channels, int c, int t0, int rows, int lag, int length,
    float* m, float* a, float* b, int stride)
{
    auto put = [&](int r, const aft_run& s) {
        m[r * stride] = s.m;
        a[r * stride] = s.a;
        b[r * stride] = s.b;
    };
    int p0 = t0 - lag - 1;                                  // row r's last element: p0 + r
    aft_run s = aft_run_empty();
    for (int r = 0; r < rows && p0 + r < 0; r++) put(r, s);
    int start = 0;
    if (p0 >= 0 && p0 < length) {
        int k = p0 / chunk;
        s = aft_run_load(chunkPrefix, aft_run_index(batch, k, chunks, 0, channels, c), channels);
        start = k * chunk;
    }
    if (p0 < length)
        aft_walk<Prefetch>(element, s, start, aft_imin(p0 + rows - 1, length - 1), 1, [&](int i, const aft_run& state) {
            if (i >= p0) put(i - p0, state);
        });
    for (int r = aft_imax(0, length - p0); r < rows; r++) put(r, s);   // rows past the end (never read)
}

// For rows r of a tile that starts at t0: the state of elements i ≥ t0 + r + lag + 1 (the out-of-band
// future of row r), walking backwards from the chained state of the chunk after the last one needed.
template <int Prefetch, class Element>
__device__ __forceinline__ void aft_walk_suffix(Element element, const float* chunkSuffix, int batch, int chunks,
    int chunk, int channels, int c, int t0, int rows, int lag, int length,
    float* m, float* a, float* b, int stride)
{
    auto put = [&](int r, const aft_run& s) {
        m[r * stride] = s.m;
        a[r * stride] = s.a;
        b[r * stride] = s.b;
    };
    int q0 = t0 + lag + 1, last = q0 + rows - 1;            // row r's first element: q0 + r
    aft_run s = aft_run_empty();
    for (int r = rows - 1; r >= 0 && q0 + r >= length; r--) put(r, s);
    int start = length - 1;
    if (last < length) {
        int k = last / chunk;
        s = aft_run_load(chunkSuffix, aft_run_index(batch, k, chunks, 0, channels, c), channels);
        start = aft_imin(length, (k + 1) * chunk) - 1;
    }
    aft_walk<Prefetch>(element, s, start, q0, -1, [&](int i, const aft_run& state) {
        if (i <= last) put(i - q0, state);
    });
}

// ---- shared kernel bodies of the banded layers (aft_local.cu, aft_conv.cu on sequences) ----
// Channels-last [B][length][channels]; blocks of `lanes` consecutive channels, one thread per channel.

// The forward's scanned elements are the sources: exponent K (element i's key at k[keys + i · keyStride]),
// values (V, 1).
struct aft_band_sources
{
    const aft_elem* k;
    const aft_elem* v;
    long long keys, base;                                  // k's index of element 0's key, v's of element 0
    int keyStride, stride;
    __device__ __forceinline__ void operator()(int i, float& x, float& a, float& b) const
    {
        x = aft_load(k, keys + (long long)i * keyStride);
        a = aft_load(v, base + (long long)i * stride);
        b = 1.0f;
    }
};

// The backward's scanned elements are the targets: exponent −m_t, values (α_t, β_t).
struct aft_band_targets
{
    const float* shift;
    const float* alpha;
    const float* beta;
    long long base;
    int stride;
    __device__ __forceinline__ void operator()(int i, float& x, float& a, float& b) const
    {
        long long at = base + (long long)i * stride;
        x = -shift[at];
        a = alpha[at];
        b = beta[at];
    }
};

// The state stored at index `at` of shared (m, a, b) arrays.
__device__ __forceinline__ aft_run aft_run_at(const float* m, const float* a, const float* b, int at)
{
    aft_run s;
    s.m = m[at];
    s.a = a[at];
    s.b = b[at];
    return s;
}

// Scan phase 1: one running-max aggregate per chunk of `tile` steps; one block per (chunk, lanes channels, batch element).
template <class Element>
__device__ __forceinline__ void aft_band_chunk(Element element, float* aggregates, int length, int channels, int c, int tile)
{
    aft_run s = aft_run_chunk(element, blockIdx.x * tile, tile, length);
    aft_run_store(aggregates, aft_run_index(blockIdx.z, blockIdx.x, gridDim.x, 0, channels, c), channels, s);
}

// keyStride keys per step, one per keyWidth consecutive channels (AFT-local: D and 1; AFT-conv: HEADS and D / HEADS).
__device__ __forceinline__ void aft_band_chunks_forward(const aft_elem* k, const aft_elem* v, float* aggregates, int length,
    int channels, int lanes, int tile, int keyStride, int keyWidth)
{
    int c = blockIdx.y * lanes + threadIdx.x;
    if (c >= channels) return;
    long long rows = (long long)blockIdx.z * length;
    aft_band_sources element{k, v, rows * keyStride + c / keyWidth, rows * channels + c, keyStride, channels};
    aft_band_chunk(element, aggregates, length, channels, c, tile);
}

__device__ __forceinline__ void aft_band_chunks_backward(const float* shift, const float* alpha, const float* beta, float* aggregates,
    int length, int channels, int lanes, int tile)
{
    int c = blockIdx.y * lanes + threadIdx.x;
    if (c >= channels) return;
    aft_band_targets element{shift, alpha, beta, (long long)blockIdx.z * length * channels + c, channels};
    aft_band_chunk(element, aggregates, length, channels, c, tile);
}

// Scan phase 2: exclusive prefix (and suffix, when given) states per chunk; one block per (lanes channels, batch element).
__device__ __forceinline__ void aft_band_chain(const float* aggregates, float* prefix, float* suffix, int chunks, int channels, int lanes)
{
    int c = blockIdx.x * lanes + threadIdx.x;
    if (c >= channels) return;
    aft_run_chain(aggregates, prefix, suffix, blockIdx.y, chunks, channels, c);
}

// Backward, element-wise part: ∂Q, and α = S / d, β = S ⊙ R / d (S = G ⊙ σ(Q)); one thread per element.
__device__ __forceinline__ void aft_band_upstream(const aft_elem* q, const aft_elem* grad, const float* ratio, const float* denominator,
    aft_elem* dq, float* alpha, float* beta, long long count)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= count) return;
    float gate = aft_sigmoid(aft_load(q, i)), g = aft_load(grad, i), r = ratio[i], d = denominator[i];
    aft_store(dq, i, g * r * gate * (1.0f - gate));
    float s = g * gate / d;
    alpha[i] = s;
    beta[i] = s * r;
}
