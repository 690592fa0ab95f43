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
// (row totals chained over rows) plus, within its window rows, the columns left and right of the window
// (prefix and suffix sums of the window rows' column sums, aft_conv2_strips). No difference of sums is
// taken, so nothing cancels. The backward has the same structure over targets, with the window transposed.
//
// WINDOW == 1 (window connectivity: w = −∞ outside the window): the out-of-window sums are not added. Sequences
// start each row from the empty state instead of the lagged prefix / suffix states (the launcher runs no scan);
// grids add no strips or rows (the launcher runs neither kernel) and shift the taps by ρ = max w.
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

// The out-of-window sums come in three steps, each a plain sum of positive terms in a fixed order:
// aft_conv2_columns_* sum each column over a position's window rows (one thread per element, so the grid's
// loads are spread over all threads), aft_conv2_strips walks each row once each way adding the columns left
// and right of the window, and aft_conv2_rows sums the row totals of the rows above and below the window rows.
// The forward and backward kernels add the three.

// columns[b][y][x][c] = Σ of the elements at (r, x, c) over the window rows r ∈ [y − rowsBefore, y + rowsAfter].
// Grid (⌈width · D / blockDim⌉, height, batches): one thread per element of a row, 32-bit index arithmetic.
template <class Elements>
__device__ __forceinline__ void aft_conv2_column_sums(Elements elements, float* columnA, float* columnB,
    int height, int width, int rowsBefore, int rowsAfter)
{
    int inRow = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y, batch = blockIdx.z;
    if (inRow >= width * D) return;
    int c = inRow % D, x = inRow / D;
    long long positions = (long long)height * width;
    int top = aft_imax(0, y - rowsBefore), bottom = aft_imin(height - 1, y + rowsAfter);
    float a = 0.0f, b = 0.0f;
    for (int r = top; r <= bottom; r++) {
        float ea, eb;
        elements.at(batch, (long long)r * width + x, positions, c, ea, eb);
        a += ea;
        b += eb;
    }
    long long i = ((long long)batch * positions + (long long)y * width) * D + inRow;
    columnA[i] = a;
    columnB[i] = b;
}

extern "C" __global__ void aft_conv2_columns_forward(const float* exponentials, const aft_elem* v, float* columnA, float* columnB,
    int height, int width)
{
    aft_conv2_forward_elements elements{exponentials, v};
    aft_conv2_column_sums(elements, columnA, columnB, height, width, BEFORE, AFTER);
}

extern "C" __global__ void aft_conv2_columns_backward(const float* alpha, const float* beta, float* columnA, float* columnB,
    int height, int width)
{
    aft_conv2_backward_elements elements{alpha, beta};
    aft_conv2_column_sums(elements, columnA, columnB, height, width, AFTER, BEFORE);
}

// One thread per (batch, row, channel): outside[b][y][x][c] = the columns of the window rows left and right of
// x's window (colsBefore / colsAfter columns either side, swapped for the backward), and rowTotals[b][y][·][c],
// the row's own elements summed. One block per (row, 32 channels, batch element).
template <class Elements>
__device__ __forceinline__ void aft_conv2_strip(Elements elements, const float* __restrict__ columnA, const float* __restrict__ columnB,
    float* __restrict__ outsideA, float* __restrict__ outsideB, float* __restrict__ rowTotals, int height, int width, int colsBefore, int colsAfter)
{
    int c = blockIdx.y * CB + threadIdx.x, y = blockIdx.x, batch = blockIdx.z;
    if (c >= D) return;
    long long positions = (long long)height * width;
    long long row = ((long long)batch * height + y) * width;
    // Right of the window: columns ≥ x + colsAfter + 1, walking x downwards.
    float a = 0.0f, b = 0.0f;
#pragma unroll 4
    for (int x = width - 1; x >= 0; x--) {
        int added = x + colsAfter + 1;
        if (added < width) {
            a += columnA[(row + added) * D + c];
            b += columnB[(row + added) * D + c];
        }
        outsideA[(row + x) * D + c] = a;
        outsideB[(row + x) * D + c] = b;
    }
    // Left of the window: columns ≤ x − colsBefore − 1, walking x upwards.
    a = 0.0f;
    b = 0.0f;
#pragma unroll 4
    for (int x = 0; x < width; x++) {
        int added = x - colsBefore - 1;
        if (added >= 0) {
            a += columnA[(row + added) * D + c];
            b += columnB[(row + added) * D + c];
        }
        outsideA[(row + x) * D + c] += a;
        outsideB[(row + x) * D + c] += b;
    }
    float ta = 0.0f, tb = 0.0f;
    for (int x = 0; x < width; x++) {
        float ea, eb;
        elements.at(batch, (long long)y * width + x, positions, c, ea, eb);
        ta += ea;
        tb += eb;
    }
    long long at = (((long long)batch * height + y) * 2) * D + c;
    rowTotals[at] = ta;
    rowTotals[at + D] = tb;
}

extern "C" __global__ __launch_bounds__(CB) void aft_conv2_strips_forward(const float* exponentials, const aft_elem* v,
    const float* columnA, const float* columnB, float* outsideA, float* outsideB, float* rowTotals, int height, int width)
{
    aft_conv2_forward_elements elements{exponentials, v};
    aft_conv2_strip(elements, columnA, columnB, outsideA, outsideB, rowTotals, height, width, BEFORE, AFTER);
}

extern "C" __global__ __launch_bounds__(CB) void aft_conv2_strips_backward(const float* alpha, const float* beta,
    const float* columnA, const float* columnB, float* outsideA, float* outsideB, float* rowTotals, int height, int width)
{
    aft_conv2_backward_elements elements{alpha, beta};
    aft_conv2_strip(elements, columnA, columnB, outsideA, outsideB, rowTotals, height, width, AFTER, BEFORE);
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

// The three out-of-window sums at element i (row y) of batch element `batch`, scaled by e^{−ρ}; zero for window connectivity.
__device__ __forceinline__ void aft_conv2_outside(const float* outsideA, const float* outsideB, const float* rowsOutside,
    float scale, long long i, int batch, int y, int height, int c, float& a, float& b)
{
#if WINDOW
    a = 0.0f;
    b = 0.0f;
#else
    long long rows = (((long long)batch * height + y) * 2) * D + c;
    a = scale * (outsideA[i] + rowsOutside[rows]);
    b = scale * (outsideB[i] + rowsOutside[rows + D]);
#endif
}

// The window kernels take a run of GRID_RUN consecutive positions of a row per thread: a window row's
// GRID_RUN + S − 1 sources (targets) are loaded once and serve every position of the run (a position alone
// would load S · S of them). Within a window row the loops unroll (S and GRID_RUN are compile-time), so the
// row's taps sit in registers and their indices fold into constants; the window rows themselves are a plain
// loop, which keeps the code small enough to unroll the rest.

// Grid (⌈runs · D / blockDim⌉, height, batches): one thread per (run, channel) of a row. The window summed with
// e^{w − ρ} on top of the outside sums; for each output the sum runs over dy, then dx, ascending.
extern "C" __global__ void aft_conv2_forward(const aft_elem* q, const float* exponentials, const aft_elem* v,
    const float* shifted, const float* outsideScale, const float* outsideA, const float* outsideB, const float* rowsOutside,
    aft_elem* y, float* savedDenominator, float* savedRatio, int height, int width)
{
    const int runs = (width + GRID_RUN - 1) / GRID_RUN;
    const int inRow = blockIdx.x * blockDim.x + threadIdx.x, row = blockIdx.y, batch = blockIdx.z;
    if (inRow >= runs * D) return;
    const int c = inRow % D, x0 = (inRow / D) * GRID_RUN, head = c / HEAD_WIDTH;
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
        if (x0 + o < width) aft_conv2_outside(outsideA, outsideB, rowsOutside, scale, (rowStart + x0 + o) * D + c, batch, row, height, c, a[o], b[o]);
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
                if (j - o < 0 || j - o >= S) continue;
                a[o] += taps[j - o] * ev;
                b[o] += taps[j - o] * e;
            }
        }
    }
#pragma unroll
    for (int o = 0; o < GRID_RUN; o++) {
        if (x0 + o >= width) break;
        long long at = (rowStart + x0 + o) * D + c;
        float ratio = a[o] / b[o];
        aft_store(y, at, aft_sigmoid(aft_load(q, at)) * ratio);
        savedDenominator[at] = b[o];
        savedRatio[at] = ratio;
    }
}

// One block per (row, GRID_RUNS runs of sources, 32 channels, batch element); threadIdx.y picks the run. ∂V, the
// per-channel part of ∂K, and ∂w: a window row's S taps accumulate in registers, then go to the thread's own
// column of shared cells, which the block sums per head before one atomic per tap (aft_conv_add_taps).
extern "C" __global__ __launch_bounds__(CB * GRID_RUNS) void aft_conv2_backward(const float* exponentials, const aft_elem* v,
    const float* shifted, const float* outsideScale, const float* outsideA, const float* outsideB, const float* rowsOutside,
    const float* alpha, const float* beta, float* dkChannels, aft_elem* dv, float* dtaps, int height, int width)
{
    __shared__ float dw[S * S * CB * GRID_RUNS];
    const int column = threadIdx.y * CB + threadIdx.x;
    for (int j = 0; j < S * S; j++) dw[j * CB * GRID_RUNS + column] = 0.0f;
    const int runs = (width + GRID_RUN - 1) / GRID_RUN, blocksPerRow = (runs + GRID_RUNS - 1) / GRID_RUNS;
    const int row = blockIdx.x / blocksPerRow, x0 = ((blockIdx.x % blocksPerRow) * GRID_RUNS + threadIdx.y) * GRID_RUN;
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
        long long at = (rowStart + x0 + o) * D + c;
        e[o] = exponentials[(rowStart + x0 + o) * HEADS + head];
        value[o] = aft_load(v, at);
        aft_conv2_outside(outsideA, outsideB, rowsOutside, scale, at, batch, row, height, c, sa[o], sb[o]);
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
                if (dx < 0 || dx >= S || o >= sources) continue;
                sa[o] += taps[dx] * ta;
                sb[o] += taps[dx] * tb;
                dwRow[dx] += taps[dx] * e[o] * (ta * value[o] - tb);
            }
        }
#pragma unroll
        for (int dx = 0; dx < S; dx++) dw[(dy * S + dx) * CB * GRID_RUNS + column] += dwRow[dx];
    }
#pragma unroll
    for (int o = 0; o < GRID_RUN; o++) {
        if (o >= sources) break;
        long long at = (rowStart + x0 + o) * D + c;
        aft_store(dv, at, e[o] * sa[o]);
        dkChannels[at] = e[o] * (value[o] * sa[o] - sb[o]);
    }
    aft_conv_add_taps(dw, S * S, CB * GRID_RUNS, dtaps, S * S, 0);
}
