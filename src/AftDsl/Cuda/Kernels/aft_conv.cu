// AFT-conv (paper Eq. 6), forward and backward, float32 or bfloat16 storage, float32 arithmetic.
// Channels-last: q, v [B, *grid, D], k [B, *grid, HEADS]; channel c belongs to head c / (D / HEADS) and
// shares that head's key and kernel. Per head, AFT-local with relative biases: a source at offset o from
// the target has bias w[tap(o)] inside the kernel, 0 outside it.
//
// SPATIAL == 1 (sequences, causal or not): the AFT-local scheme (aft_local.cu) with the band
// t' ∈ [t − LO, t + HI] and taps read from w: the band summed directly, out-of-band sources as lagged
// running-max prefix / suffix states, so nothing cancels and a causal row reads nothing after it.
//
// SPATIAL == 2 (grids, never causal): each head's keys are shifted by their maximum over the grid
// (allowed without causality; it cancels) and its kernel by ρ = max(0, max w), so every term is a plain
// positive sum. The sources outside target (y, x)'s window are the rows above and below its window rows
// (sums of row totals, aft_conv2_rows) plus, within its window rows, the columns left and right of the window
// (those near the window from the window kernels' own loads, the rest per run of positions from
// aft_conv2_segments_* and aft_conv2_run_states). No difference of sums is taken, so nothing cancels. The
// backward has the same structure over targets, with the window transposed.
//
// WINDOW == 1 (window connectivity: w = −∞ outside the window): the out-of-window sums are not added. Sequences
// start each row from the empty state instead of the lagged prefix / suffix states (the launcher runs no scan);
// grids add no outside sums (the launcher runs none of their kernels) and shift the taps by ρ = max w.
//
// Grids compute e^{K − M} once per (batch, position, head) (aft_conv2_exponentials); every channel and
// window tap reuses it, so the grid kernels take no exponential in their inner loops.
//
// ∂w is accumulated per thread (sequences: a shared column per channel; grids: a window row's taps in
// registers, then a shared column), summed over the block's threads of each head, then added to a
// float32 buffer with one atomic per block, head and tap (not bit-reproducible run to run). ∂K sums a head's channels in aft_conv_key_gradients.

#include "aft_common.cuh"
#include "aft_band_scan.cuh"

#define CB 32
#define HEAD_WIDTH (D / HEADS)

// Every kernel is compiled for both layouts (the launcher picks by SPATIAL); the other layout's constants default here.
#ifndef LO
#define LO 0
#endif
#ifndef HI
#define HI 0
#endif
#ifndef TAP0
#define TAP0 0
#endif
#ifndef CAUSAL
#define CAUSAL 0
#endif
#ifndef TILE
#define TILE 1
#endif
#ifndef RY
#define RY 1
#endif
#ifndef BT
#define BT 1
#endif
#ifndef RYB
#define RYB 1
#endif
#ifndef BEFORE
#define BEFORE 0
#endif
#ifndef WINDOW
#define WINDOW 0
#endif

// Adds a block's ∂w to dtaps with one atomic per (head, tap) the block covers. cells[j · columns + column]
// holds thread column's contribution to tap j (column = threadIdx.y · CB + threadIdx.x); the sums run in a
// fixed order inside the block. One atomic per thread and tap made the atomics the backward's cost: same-address
// atomics serialise in L2 (aft_conv1_backward took 12 ms at T = 16384, B = 2, 224 taps). Every thread of the
// block must call it; `taps` taps start at dtaps[head · stride + offset].
__device__ __forceinline__ void aft_conv_add_taps(float* cells, int taps, int columns, float* dtaps, int stride, int offset)
{
    const int tid = (int)(threadIdx.y * blockDim.x + threadIdx.x), threads = (int)(blockDim.x * blockDim.y);
    __syncthreads();
    for (int i = tid; i < taps * CB; i += threads) {             // the rows of threads of each channel column
        const int j = i / CB, cx = i % CB;
        float sum = 0.0f;
        for (int r = 0; r < columns / CB; r++) sum += cells[j * columns + r * CB + cx];
        cells[j * columns + cx] = sum;
    }
    __syncthreads();
    for (int i = tid; i < taps * CB; i += threads) {             // then each head's channels, from its first one in the block
        const int j = i / CB, cx = i % CB, c = (int)blockIdx.y * CB + cx;
        if (c >= D || (cx > 0 && (c - 1) / HEAD_WIDTH == c / HEAD_WIDTH)) continue;
        const int head = c / HEAD_WIDTH;
        float sum = 0.0f;
        for (int x = cx; x < CB && (int)blockIdx.y * CB + x < D && ((int)blockIdx.y * CB + x) / HEAD_WIDTH == head; x++)
            sum += cells[j * columns + x];
        atomicAdd(&dtaps[head * stride + offset + j], sum);
    }
}

// ---- backward, element-wise part: ∂Q, and α = S / d, β = S ⊙ R / d ----
extern "C" __global__ void aft_conv_upstream(const aft_elem* q, const aft_elem* grad, const float* ratio, const float* denominator,
    aft_elem* dq, float* alpha, float* beta, long long count)
{
    aft_band_upstream(q, grad, ratio, denominator, dq, alpha, beta, count);
}

// ---- ∂K[b, p, h] = Σ over the head's channels of the per-channel parts ----
extern "C" __global__ void aft_conv_key_gradients(const float* perChannel, aft_elem* dk, long long positions)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= positions * HEADS) return;
    long long p = i / HEADS;
    int h = (int)(i % HEADS);
    const float* row = perChannel + p * D + h * HEAD_WIDTH;
    float sum = 0.0f;
    for (int c = 0; c < HEAD_WIDTH; c++) sum += row[c];
    aft_store(dk, i, sum);
}

// ======================= sequences: band t' ∈ [t − LO, t + HI], tap = t' − t + LO + TAP0 =======================
#define BAND (LO + HI + 1)

extern "C" __global__ __launch_bounds__(CB) void aft_conv1_chunks_forward(const aft_elem* k, const aft_elem* v, float* aggregates, int length)
{
    aft_band_chunks_forward(k, v, aggregates, length, D, CB, TILE, HEADS, HEAD_WIDTH);
}

extern "C" __global__ __launch_bounds__(CB) void aft_conv1_chunks_backward(const float* shift, const float* alpha, const float* beta, float* aggregates, int length)
{
    aft_band_chunks_backward(shift, alpha, beta, aggregates, length, D, CB, TILE);
}

extern "C" __global__ __launch_bounds__(CB) void aft_conv1_chain(const float* aggregates, float* prefix, float* suffix, int chunks)
{
    aft_band_chain(aggregates, prefix, suffix, chunks, D, CB);
}

// One block per (tile of TILE rows, 32 channels, batch element); taps: [HEADS][S] float32.
extern "C" __global__ __launch_bounds__(CB * RY) void aft_conv1_forward(
    const aft_elem* q, const aft_elem* k, const aft_elem* v, const float* taps,
    const float* chunkPrefix, const float* chunkSuffix,
    aft_elem* y, float* savedShift, float* savedDenominator, float* savedRatio, int length)
{
#if !WINDOW
    __shared__ float pastM[TILE * CB], pastA[TILE * CB], pastB[TILE * CB];
#if !CAUSAL
    __shared__ float futureM[TILE * CB], futureA[TILE * CB], futureB[TILE * CB];
#endif
#endif
    int cx = threadIdx.x, ry = threadIdx.y;
    int c = blockIdx.y * CB + cx, batch = blockIdx.z, t0 = blockIdx.x * TILE;
    bool valid = c < D;
    int head = valid ? c / HEAD_WIDTH : 0;
    long long base = (long long)batch * length * D + c, keys = (long long)batch * length * HEADS + head;
#if !WINDOW
    int chunks = (length + TILE - 1) / TILE;
    aft_band_sources element{k, v, keys, base, HEADS, D};
    if (valid && ry == 0)
        aft_walk_prefix<8>(element, chunkPrefix, batch, chunks, TILE, D, c, t0, TILE, LO, length, pastM + cx, pastA + cx, pastB + cx, CB);
#if !CAUSAL
    if (valid && ry == RY - 1)
        aft_walk_suffix<8>(element, chunkSuffix, batch, chunks, TILE, D, c, t0, TILE, HI, length, futureM + cx, futureA + cx, futureB + cx, CB);
#endif
#endif
    __syncthreads();
    if (!valid) return;
    const float* w = taps + head * S + TAP0 + LO;          // w[o] for offsets o = t' − t ∈ [−LO, HI]
    for (int r = ry; r < TILE; r += RY) {
        int t = t0 + r;
        if (t >= length) break;
#if WINDOW
        aft_run s = aft_run_empty();                        // no out-of-band sources: the band is everything
#else
        aft_run s = aft_run_at(pastM, pastA, pastB, r * CB + cx);
#if !CAUSAL
        s = aft_run_merge(s, aft_run_at(futureM, futureA, futureB, r * CB + cx));
#endif
#endif
        int first = aft_imax(0, t - LO), last = aft_imin(length - 1, t + HI);
        for (int source = first; source <= last; source++)
            aft_run_add(s, aft_load(k, keys + (long long)source * HEADS) + w[source - t], aft_load(v, base + (long long)source * D), 1.0f);
        long long at = base + (long long)t * D;
        float ratio = s.a / s.b;
        aft_store(y, at, aft_sigmoid(aft_load(q, at)) * ratio);
        savedShift[at] = s.m;
        savedDenominator[at] = s.b;
        savedRatio[at] = ratio;
    }
}

// One block per (tile of BT source rows, 32 channels), looping over the batch. Writes ∂V, the per-channel
// part of ∂K, and adds ∂w into dtaps ([HEADS][S] float32).
extern "C" __global__ __launch_bounds__(CB * RYB) void aft_conv1_backward(
    const aft_elem* k, const aft_elem* v, const float* taps, const float* shift, const float* alpha, const float* beta,
    const float* chunkPrefix, const float* chunkSuffix, float* dkChannels, aft_elem* dv, float* dtaps, int length, int batches)
{
#if !WINDOW
    __shared__ float futureM[BT * CB], futureA[BT * CB], futureB[BT * CB];
#if !CAUSAL
    __shared__ float pastM[BT * CB], pastA[BT * CB], pastB[BT * CB];
#endif
    int chunks = (length + TILE - 1) / TILE;
#endif
    __shared__ float dw[BAND * CB * RYB];                     // a column per thread: no two threads share a cell
    int cx = threadIdx.x, ry = threadIdx.y;
    int c = blockIdx.y * CB + cx, t0 = blockIdx.x * BT;
    bool valid = c < D;
    int head = valid ? c / HEAD_WIDTH : 0;
    int column = ry * CB + cx;
    for (int j = 0; j < BAND; j++) dw[j * CB * RYB + column] = 0.0f;
    const float* w = taps + head * S + TAP0 + LO;

    for (int batch = 0; batch < batches; batch++) {
        long long base = (long long)batch * length * D + c, keys = (long long)batch * length * HEADS + head;
#if !WINDOW
        aft_band_targets element{shift, alpha, beta, base, D};
        __syncthreads();
        if (valid && ry == 0)
            aft_walk_suffix<1>(element, chunkSuffix, batch, chunks, TILE, D, c, t0, BT, LO, length, futureM + cx, futureA + cx, futureB + cx, CB);
#if !CAUSAL
        if (valid && ry == RYB - 1)
            aft_walk_prefix<1>(element, chunkPrefix, batch, chunks, TILE, D, c, t0, BT, HI, length, pastM + cx, pastA + cx, pastB + cx, CB);
#endif
        __syncthreads();
#endif
        if (!valid) continue;
        for (int r = ry; r < BT; r += RYB) {
            int source = t0 + r;
            if (source >= length) break;
            long long at = base + (long long)source * D;
            float key = aft_load(k, keys + (long long)source * HEADS), value = aft_load(v, at);
#if WINDOW
            aft_run s = aft_run_empty();                    // no out-of-band targets
#else
            aft_run s = aft_run_at(futureM, futureA, futureB, r * CB + cx);
#if !CAUSAL
            s = aft_run_merge(s, aft_run_at(pastM, pastA, pastB, r * CB + cx));
#endif
#endif
            float scale = __expf(key + s.m);
            float gradV = scale * s.a, gradR = scale * s.b;
            int first = aft_imax(0, source - HI), last = aft_imin(length - 1, source + LO);
            for (int target = first; target <= last; target++) {
                long long tat = base + (long long)(target - source) * D + (long long)source * D;
                float e = __expf(key + w[source - target] - shift[tat]);
                float a = alpha[tat], b = beta[tat];
                gradV += e * a;
                gradR += e * b;
                dw[(source - target + LO) * CB * RYB + column] += e * (a * value - b);
            }
            aft_store(dv, at, gradV);
            dkChannels[at] = value * gradV - gradR;
        }
    }
    aft_conv_add_taps(dw, BAND, CB * RYB, dtaps, S, TAP0);
}

// ======================= grids: window rows [y − BEFORE, y + AFTER], columns likewise =======================
#define AFTER (S - 1 - BEFORE)
#ifndef GRID_RUN
#define GRID_RUN 8
#endif
#ifndef GRID_RUNS
#define GRID_RUNS 4
#endif

// Per (batch, head): the largest key over the grid. One block of 256 threads each.
extern "C" __global__ void aft_conv2_key_max(const aft_elem* k, float* keyMax, int positions)
{
    __shared__ float partial[256];
    int batch = blockIdx.x / HEADS, head = blockIdx.x % HEADS;
    float m = AFT_EMPTY_MAX;
    for (int p = threadIdx.x; p < positions; p += blockDim.x)
        m = fmaxf(m, aft_load(k, ((long long)batch * positions + p) * HEADS + head));
    partial[threadIdx.x] = m;
    __syncthreads();
    for (int half = blockDim.x / 2; half > 0; half /= 2) {
        if ((int)threadIdx.x < half) partial[threadIdx.x] = fmaxf(partial[threadIdx.x], partial[threadIdx.x + half]);
        __syncthreads();
    }
    if (threadIdx.x == 0) keyMax[blockIdx.x] = partial[0];
}

// e^{K − M} per (batch, position, head), once: every channel and window tap reuses it.
extern "C" __global__ void aft_conv2_exponentials(const aft_elem* k, const float* keyMax, float* exponentials, int positions, long long count)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= count) return;
    int head = (int)(i % HEADS), batch = (int)(i / HEADS / positions);
    exponentials[i] = __expf(aft_load(k, i) - keyMax[batch * HEADS + head]);
}

// The summed elements (a, b) at (batch, position, channel): forward (e^{K − M} V, e^{K − M}); backward (α, β).
struct aft_conv2_forward_elements
{
    const float* exponentials;                             // e^{K − M}: [B][positions][HEADS]
    const aft_elem* v;
    __device__ __forceinline__ void at(int batch, long long p, long long positions, int c, float& a, float& b) const
    {
        float e = exponentials[((long long)batch * positions + p) * HEADS + c / HEAD_WIDTH];
        a = e * aft_load(v, ((long long)batch * positions + p) * D + c);
        b = e;
    }
};

struct aft_conv2_backward_elements
{
    const float* alpha;
    const float* beta;
    __device__ __forceinline__ void at(int batch, long long p, long long positions, int c, float& a, float& b) const
    {
        long long i = ((long long)batch * positions + p) * D + c;
        a = alpha[i];
        b = beta[i];
    }
};

// The sources (targets, backward) outside a position's window are the rows above and below its window rows and,
// within those rows, the columns left and right of its window. A thread of the window kernels takes a run of
// GRID_RUN positions of a row and, for each window row, loads the GRID_RUN + S − 1 columns from its first
// position's window to its last one's; a column in that span but outside one position's window counts for that
// position with the outside weight e^{−ρ}. The rest lies beyond the span and is the same for every position of the
// run: `segments` gives it per run and `rowsOutside` per row. Every term is a plain sum of positive terms.

// segments[b][y][k][0..5][c] for run k of row y: the columns [k·R − colsBefore, +R) summed over the window rows
// (a, b), the columns [(k + 1)·R + colsAfter, +R) likewise (a, b), and row y's own elements at [k·R, (k + 1)·R)
// (a, b); R = GRID_RUN, columns off the grid count nothing. Grid (⌈runs · D / blockDim⌉, height, batches).
template <class Elements>
__device__ __forceinline__ void aft_conv2_segment_sums(Elements elements, float* segments,
    int height, int width, int rowsBefore, int rowsAfter, int colsBefore, int colsAfter)
{
    const int runs = (width + GRID_RUN - 1) / GRID_RUN;
    const int inRow = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y, batch = blockIdx.z;
    if (inRow >= runs * D) return;
    const int c = inRow % D, k = inRow / D;
    const long long positions = (long long)height * width;
    float la = 0.0f, lb = 0.0f, ra = 0.0f, rb = 0.0f, oa = 0.0f, ob = 0.0f;
    for (int r = aft_imax(0, y - rowsBefore); r <= aft_imin(height - 1, y + rowsAfter); r++) {
#pragma unroll
        for (int i = 0; i < GRID_RUN; i++) {
            float ea, eb;
            const int left = k * GRID_RUN - colsBefore + i, right = (k + 1) * GRID_RUN + colsAfter + i;
            if (left >= 0 && left < width) {
                elements.at(batch, (long long)r * width + left, positions, c, ea, eb);
                la += ea;
                lb += eb;
            }
            if (right < width) {
                elements.at(batch, (long long)r * width + right, positions, c, ea, eb);
                ra += ea;
                rb += eb;
            }
        }
    }
#pragma unroll
    for (int i = 0; i < GRID_RUN; i++) {
        const int x = k * GRID_RUN + i;
        if (x >= width) break;
        float ea, eb;
        elements.at(batch, (long long)y * width + x, positions, c, ea, eb);
        oa += ea;
        ob += eb;
    }
    float* at = segments + (((long long)batch * height + y) * runs + k) * 6 * D + c;
    at[0] = la;
    at[D] = lb;
    at[2 * D] = ra;
    at[3 * D] = rb;
    at[4 * D] = oa;
    at[5 * D] = ob;
}

extern "C" __global__ void aft_conv2_segments_forward(const float* exponentials, const aft_elem* v, float* segments, int height, int width)
{
    aft_conv2_forward_elements elements{exponentials, v};
    aft_conv2_segment_sums(elements, segments, height, width, BEFORE, AFTER, BEFORE, AFTER);
}

extern "C" __global__ void aft_conv2_segments_backward(const float* alpha, const float* beta, float* segments, int height, int width)
{
    aft_conv2_backward_elements elements{alpha, beta};
    aft_conv2_segment_sums(elements, segments, height, width, AFTER, BEFORE, AFTER, BEFORE);
}

// In place, per run k of row y: slots 0, 1 become the window rows' columns entirely left of the run's first window
// (the left segments of the runs before k), slots 2, 3 those entirely right of its last window (the right segments of
// k and after); rowTotals[b][y][·][c] = the row's own elements. One thread per (batch, row, channel).
extern "C" __global__ __launch_bounds__(CB) void aft_conv2_run_states(float* segments, float* rowTotals, int height, int width)
{
    const int c = blockIdx.y * CB + threadIdx.x, y = blockIdx.x, batch = blockIdx.z;
    if (c >= D) return;
    const int runs = (width + GRID_RUN - 1) / GRID_RUN;
    float* row = segments + ((long long)batch * height + y) * runs * 6 * D + c;
    float a = 0.0f, b = 0.0f, ta = 0.0f, tb = 0.0f;
    for (int k = 0; k < runs; k++) {
        float* run = row + (long long)k * 6 * D;
        const float la = run[0], lb = run[D];
        run[0] = a;
        run[D] = b;
        a += la;
        b += lb;
        ta += run[4 * D];
        tb += run[5 * D];
    }
    a = 0.0f;
    b = 0.0f;
    for (int k = runs - 1; k >= 0; k--) {
        float* run = row + (long long)k * 6 * D;
        a += run[2 * D];
        b += run[3 * D];
        run[2 * D] = a;
        run[3 * D] = b;
    }
    const long long at = (((long long)batch * height + y) * 2) * D + c;
    rowTotals[at] = ta;
    rowTotals[at + D] = tb;
}

// rowsOutside[b][y][·][c] = the row totals of the rows entirely above (r < y − rowsBefore) and below
// (r > y + rowsAfter) row y's window rows, summed in row order. One thread per (batch, row, channel): the
// row totals are small and cached, and a walk per (batch, channel) alone would leave most of the GPU idle.
extern "C" __global__ __launch_bounds__(CB) void aft_conv2_rows(const float* __restrict__ rowTotals, float* __restrict__ rowsOutside,
    int height, int backward)
{
    int c = blockIdx.y * CB + threadIdx.x, y = blockIdx.x, batch = blockIdx.z;
    if (c >= D) return;
    int rowsBefore = backward ? AFTER : BEFORE, rowsAfter = backward ? BEFORE : AFTER;
    const float* totals = rowTotals + (long long)batch * height * 2 * D + c;
    float a = 0.0f, b = 0.0f;
    for (int r = 0; r < y - rowsBefore; r++) {
        a += totals[(long long)r * 2 * D];
        b += totals[(long long)r * 2 * D + D];
    }
    for (int r = y + rowsAfter + 1; r < height; r++) {
        a += totals[(long long)r * 2 * D];
        b += totals[(long long)r * 2 * D + D];
    }
    long long at = (((long long)batch * height + y) * 2) * D + c;
    rowsOutside[at] = a;
    rowsOutside[at + D] = b;
}

// Per head: ρ = max(0, max w) (WINDOW: max w) and the shifted taps e^{w − ρ}: [HEADS][S·S], and e^{−ρ}: [HEADS].
extern "C" __global__ void aft_conv2_taps(const float* taps, float* shifted, float* outsideScale)
{
    int head = blockIdx.x;
    __shared__ float rho;
    if (threadIdx.x == 0) {
        float m = WINDOW ? AFT_EMPTY_MAX : 0.0f;
        for (int j = 0; j < S * S; j++) m = fmaxf(m, taps[head * S * S + j]);
        rho = m;
        outsideScale[head] = __expf(-m);
    }
    __syncthreads();
    for (int j = threadIdx.x; j < S * S; j += blockDim.x) shifted[head * S * S + j] = __expf(taps[head * S * S + j] - rho);
}

// What lies outside the windows of run k's positions beyond the run's own loads: the rows above and below the window
// rows plus the window rows' columns beyond the run's outer window edges (zero for window connectivity).
__device__ __forceinline__ void aft_conv2_run_outside(const float* segments, const float* rowsOutside,
    int batch, int y, int k, int height, int runs, int c, float& a, float& b)
{
#if WINDOW
    a = 0.0f;
    b = 0.0f;
#else
    const float* run = segments + (((long long)batch * height + y) * runs + k) * 6 * D + c;
    const long long rows = (((long long)batch * height + y) * 2) * D + c;
    a = rowsOutside[rows] + run[0] + run[2 * D];
    b = rowsOutside[rows + D] + run[D] + run[3 * D];
#endif
}

// The window kernels: a window row's GRID_RUN + S − 1 sources (targets) are loaded once and serve every position
// of the run (a position alone would load S · S of them). Within a window row the loops unroll (S and GRID_RUN are
// compile-time), so the row's taps sit in registers and each (column, position) pair's weight, a tap or the outside
// weight, is chosen at compile time; the window rows themselves are a plain loop, which keeps the code small enough
// to unroll the rest.

// Grid (⌈runs · D / blockDim⌉, height, batches): one thread per (run, channel) of a row.
extern "C" __global__ void aft_conv2_forward(const aft_elem* q, const float* exponentials, const aft_elem* v,
    const float* shifted, const float* outsideScale, const float* segments, const float* rowsOutside,
    aft_elem* y, float* savedDenominator, float* savedRatio, int height, int width)
{
    const int runs = (width + GRID_RUN - 1) / GRID_RUN;
    const int inRow = blockIdx.x * blockDim.x + threadIdx.x, row = blockIdx.y, batch = blockIdx.z;
    if (inRow >= runs * D) return;
    const int c = inRow % D, k = inRow / D, x0 = k * GRID_RUN, head = c / HEAD_WIDTH;
    const long long positions = (long long)height * width, rowStart = (long long)batch * positions + (long long)row * width;
#if WINDOW
    const float scale = 0.0f;
#else
    const float scale = outsideScale[head];
#endif
    float a[GRID_RUN], b[GRID_RUN];
#pragma unroll
    for (int o = 0; o < GRID_RUN; o++) {
        a[o] = 0.0f;
        b[o] = 0.0f;
    }
    const float* w = shifted + head * S * S;
#pragma unroll 1
    for (int dy = 0; dy < S; dy++) {
        int r = row - BEFORE + dy;
        if (r < 0 || r >= height) continue;
        float taps[S];
#pragma unroll
        for (int dx = 0; dx < S; dx++) taps[dx] = w[dy * S + dx];
        const long long sourceRow = (long long)batch * positions + (long long)r * width;
#pragma unroll
        for (int j = 0; j < GRID_RUN + S - 1; j++) {             // source column x0 − BEFORE + j
            int x = x0 - BEFORE + j;
            if (x < 0 || x >= width) continue;
            float e = exponentials[(sourceRow + x) * HEADS + head];
            float ev = e * aft_load(v, (sourceRow + x) * D + c);
#pragma unroll
            for (int o = 0; o < GRID_RUN; o++) {                  // output x0 + o meets this source at tap dx = j − o
                const bool tap = j - o >= 0 && j - o < S;
                if (WINDOW && !tap) continue;
                const float weight = tap ? taps[j - o] : scale;
                a[o] += weight * ev;
                b[o] += weight * e;
            }
        }
    }
    float outA, outB;
    aft_conv2_run_outside(segments, rowsOutside, batch, row, k, height, runs, c, outA, outB);
#pragma unroll
    for (int o = 0; o < GRID_RUN; o++) {
        if (x0 + o >= width) break;
        long long at = (rowStart + x0 + o) * D + c;
        const float numerator = a[o] + scale * outA, denominator = b[o] + scale * outB;
        float ratio = numerator / denominator;
        aft_store(y, at, aft_sigmoid(aft_load(q, at)) * ratio);
        savedDenominator[at] = denominator;
        savedRatio[at] = ratio;
    }
}

// One block per (row, GRID_RUNS runs of sources, 32 channels, batch element); threadIdx.y picks the run. ∂V, the
// per-channel part of ∂K, and ∂w: a window row's S taps accumulate in registers, then go to the thread's own
// column of shared cells, which the block sums per head before one atomic per tap (aft_conv_add_taps).
extern "C" __global__ __launch_bounds__(CB * GRID_RUNS) void aft_conv2_backward(const float* exponentials, const aft_elem* v,
    const float* shifted, const float* outsideScale, const float* segments, const float* rowsOutside,
    const float* alpha, const float* beta, float* dkChannels, aft_elem* dv, float* dtaps, int height, int width)
{
    __shared__ float dw[S * S * CB * GRID_RUNS];
    const int column = threadIdx.y * CB + threadIdx.x;
    for (int j = 0; j < S * S; j++) dw[j * CB * GRID_RUNS + column] = 0.0f;
    const int runs = (width + GRID_RUN - 1) / GRID_RUN, blocksPerRow = (runs + GRID_RUNS - 1) / GRID_RUNS;
    const int row = blockIdx.x / blocksPerRow, k = (blockIdx.x % blocksPerRow) * GRID_RUNS + threadIdx.y, x0 = k * GRID_RUN;
    int c = blockIdx.y * CB + threadIdx.x, batch = blockIdx.z;
    const int sources = c < D ? aft_imax(0, aft_imin(GRID_RUN, width - x0)) : 0;   // a thread past the grid or the channels
    if (c >= D) c = D - 1;                                   // walks nothing (but still takes part in the block's ∂w sum)
    const long long positions = (long long)height * width, rowStart = (long long)batch * positions + (long long)row * width;
    const int head = c / HEAD_WIDTH;
#if WINDOW
    const float scale = 0.0f;
#else
    const float scale = outsideScale[head];
#endif
    const float* w = shifted + head * S * S;
    float e[GRID_RUN], value[GRID_RUN], sa[GRID_RUN], sb[GRID_RUN];
#pragma unroll
    for (int o = 0; o < GRID_RUN; o++) {
        e[o] = value[o] = sa[o] = sb[o] = 0.0f;
        if (o >= sources) continue;
        e[o] = exponentials[(rowStart + x0 + o) * HEADS + head];
        value[o] = aft_load(v, (rowStart + x0 + o) * D + c);
    }
    // Targets whose window holds source x0 + o: row + BEFORE − dy, column x0 + o + BEFORE − dx.
#pragma unroll 1
    for (int dy = 0; dy < S; dy++) {
        int r = row + BEFORE - dy;
        if (sources == 0 || r < 0 || r >= height) continue;
        float taps[S], dwRow[S];
#pragma unroll
        for (int dx = 0; dx < S; dx++) {
            taps[dx] = w[dy * S + dx];
            dwRow[dx] = 0.0f;
        }
        const long long targetRow = (long long)batch * positions + (long long)r * width;
#pragma unroll
        for (int j = 0; j < GRID_RUN + S - 1; j++) {             // target column x0 + BEFORE − (S − 1) + j
            int x = x0 + BEFORE - (S - 1) + j;
            if (x < 0 || x >= width) continue;
            long long t = (targetRow + x) * D + c;
            float ta = alpha[t], tb = beta[t];
#pragma unroll
            for (int o = 0; o < GRID_RUN; o++) {                  // source x0 + o meets this target at tap dx = o + S − 1 − j
                const int dx = o + S - 1 - j;
                const bool tap = dx >= 0 && dx < S;
                if ((WINDOW && !tap) || o >= sources) continue;
                const float weight = tap ? taps[dx] : scale;
                sa[o] += weight * ta;
                sb[o] += weight * tb;
                if (tap) dwRow[dx] += taps[dx] * e[o] * (ta * value[o] - tb);
            }
        }
#pragma unroll
        for (int dx = 0; dx < S; dx++) dw[(dy * S + dx) * CB * GRID_RUNS + column] += dwRow[dx];
    }
    float outA = 0.0f, outB = 0.0f;
    if (sources > 0) aft_conv2_run_outside(segments, rowsOutside, batch, row, k, height, runs, c, outA, outB);
#pragma unroll
    for (int o = 0; o < GRID_RUN; o++) {
        if (o >= sources) break;
        long long at = (rowStart + x0 + o) * D + c;
        const float gradA = sa[o] + scale * outA, gradB = sb[o] + scale * outB;
        aft_store(dv, at, e[o] * gradA);
        dkChannels[at] = e[o] * (value[o] * gradA - gradB);
    }
    aft_conv_add_taps(dw, S * S, CB * GRID_RUNS, dtaps, S * S, 0);
}
