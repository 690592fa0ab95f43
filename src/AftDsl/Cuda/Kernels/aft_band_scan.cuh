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

// Chains chunk aggregates into exclusive prefix states (all chunks before) and, when suffix is not null,
// exclusive suffix states (all chunks after). One thread per channel walks the chunks in order, so each
// prefix state depends on earlier chunks only (causal layers read nothing from their future).
__device__ __forceinline__ void aft_run_chain(const float* aggregates, float* prefix, float* suffix,
    int batch, int chunks, int channels, int c)
{
    aft_run s = aft_run_empty();
    for (int i = 0; i < chunks; i++) {
        long long at = aft_run_index(batch, i, chunks, 0, channels, c);
        aft_run_store(prefix, at, channels, s);
        s = aft_run_merge(s, aft_run_load(aggregates, at, channels));
    }
    if (suffix == 0) return;
    s = aft_run_empty();
    for (int i = chunks - 1; i >= 0; i--) {
        long long at = aft_run_index(batch, i, chunks, 0, channels, c);
        aft_run_store(suffix, at, channels, s);
        s = aft_run_merge(s, aft_run_load(aggregates, at, channels));
    }
}

// One aggregate per chunk of `chunk` consecutive elements (x_i, a_i, b_i) = element(i), i < length.
template <class Element>
__device__ __forceinline__ aft_run aft_run_chunk(Element element, int first, int chunk, int length)
{
    aft_run s = aft_run_empty();
    int last = aft_imin(length, first + chunk);
    for (int i = first; i < last; i++) {
        float x, a, b;
        element(i, x, a, b);
        aft_run_add(s, x, a, b);
    }
    return s;
}

// For rows r = 0..rows-1 of a tile that starts at t0: the state of elements i ≤ t0 + r − lag − 1 (the
// out-of-band past of row r), written to (m, a, b)[r * stride]. Starts from the chained state of the chunk
// that holds the first such element and walks forward, so row r reads elements up to its own bound only.
template <class Element>
__device__ __forceinline__ void aft_walk_prefix(Element element, const float* chunkPrefix, int batch, int chunks,
    int chunk, int channels, int c, int t0, int rows, int lag, int length,
    float* m, float* a, float* b, int stride)
{
    aft_run s = aft_run_empty();
    int p = t0 - lag - 1;
    if (p >= 0 && p < length) {
        int k = p / chunk;
        s = aft_run_load(chunkPrefix, aft_run_index(batch, k, chunks, 0, channels, c), channels);
        for (int i = k * chunk; i <= p; i++) {
            float x, ea, eb;
            element(i, x, ea, eb);
            aft_run_add(s, x, ea, eb);
        }
    }
    for (int r = 0; r < rows; r++) {
        if (r > 0) {
            p++;
            if (p >= 0 && p < length) {
                float x, ea, eb;
                element(p, x, ea, eb);
                aft_run_add(s, x, ea, eb);
            }
        }
        m[r * stride] = s.m;
        a[r * stride] = s.a;
        b[r * stride] = s.b;
    }
}

// For rows r of a tile that starts at t0: the state of elements i ≥ t0 + r + lag + 1 (the out-of-band
// future of row r), walking backwards from the chained state of the chunk after the last one needed.
template <class Element>
__device__ __forceinline__ void aft_walk_suffix(Element element, const float* chunkSuffix, int batch, int chunks,
    int chunk, int channels, int c, int t0, int rows, int lag, int length,
    float* m, float* a, float* b, int stride)
{
    aft_run s = aft_run_empty();
    int q = t0 + rows - 1 + lag + 1;
    if (q < length) {
        int k = q / chunk;
        s = aft_run_load(chunkSuffix, aft_run_index(batch, k, chunks, 0, channels, c), channels);
        for (int i = aft_imin(length, (k + 1) * chunk) - 1; i >= q; i--) {
            float x, ea, eb;
            element(i, x, ea, eb);
            aft_run_add(s, x, ea, eb);
        }
    }
    for (int r = rows - 1; r >= 0; r--) {
        if (r < rows - 1) {
            q--;
            if (q < length) {
                float x, ea, eb;
                element(q, x, ea, eb);
                aft_run_add(s, x, ea, eb);
            }
        }
        m[r * stride] = s.m;
        a[r * stride] = s.a;
        b[r * stride] = s.b;
    }
}
