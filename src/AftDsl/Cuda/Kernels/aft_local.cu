// AFT-local (paper Eq. 4), forward and backward, float32 or bfloat16 storage, float32 arithmetic.
//
//   Y_t = σ(Q_t) ⊙ Σ_t' e^{K_t' + ŵ_t,t'} V_t' / Σ_t' e^{K_t' + ŵ_t,t'},   ŵ = U_t·W_t' on the band, 0 off it.
//
// The band is t' ∈ [t − LO, t + HI] (LO = s − 1; HI = s − 1, or 0 when causal). Each row adds two parts:
//
// * Out of band, two running-max states per channel: the past t' ≤ t − LO − 1 (a prefix lagged by the
//   window) and, non-causal, the future t' ≥ t + HI + 1, from a three-phase scan: chunk aggregates
//   (aft_local_chunks_*), a chain over chunks (aft_local_chain), and a short walk inside each tile from its
//   chunk's state (aft_band_scan.cuh).
// * The band, as matrix products on the tensor cores (cuBLAS through libtorch; host code AftLocalCuda.cs).
//   e^{K_t',c + w_t,t'} = e^{μ_t} · E_t,t' · P_t',c with σ_t' = max_c K_t',c, P = e^{K − σ} ≤ 1, and
//   E_t,t' = e^{w_t,t' + σ_t' − μ_t} ≤ 1 where μ_t is the row's largest w + σ over its band; so the band of
//   every row of a block of BR rows is one product E·[P ⊙ V | P]. The shifts σ and μ depend on positions in
//   the band only, so a causal row still reads nothing after it; and in the causal diagonal block, where a
//   product would multiply a later NaN by a zero weight, aft_local_diagonal sums the past entries itself.
//
// A channel whose keys all lie far below the position's largest key gets terms below e^{−87}, which float32
// flushes: rows whose total, in units of e^{μ_t}, falls under e^{−60} are flagged and recomputed exactly
// by the host (ExactRows), so that what a product drops is always below the float32 rounding of the rest.
//
// Backward (same band, transposed): with S = G ⊙ σ(Q), α = S / d, β = S ⊙ R / d and the forward's shift m
// (every weight e^{K_t' + ŵ − m_t} ≤ 1), and α̃ = α·e^{μ − m}, β̃ = β·e^{μ − m} (≤ α, β):
//   ∂V_t' = P_t' ⊙ Σ_t E_t,t' α̃_t,   ∂K_t' = V_t' ⊙ ∂V_t' − P_t' ⊙ Σ_t E_t,t' β̃_t,
//   ∂w_t,t' = E_t,t' Σ_{batch, channels} (α̃_t ⊙ P_t' ⊙ V_t' − β̃_t ⊙ P_t')   (band only),
// two more products (Eᵀ·[α̃ | −β̃] and [α̃ | −β̃]·[P ⊙ V | P]ᵀ), with the out-of-band targets as lagged
// running-max states of exponent −m_t. ∂U, ∂W follow row by row.
//
// Block layout of the products (for a group of batch elements at a time, so that they stay small): every batch element's rows are padded to NBP = ⌈T / BR⌉ + ⌈(LO + HI) / BR⌉
// blocks of BR rows, so that one strided batch of NBP·B products covers them all; block i of batch b
// faces the SPAN = BR + LO + HI sources (or targets) from i·BR − LO (i·BR − HI) on, rows of a padded
// copy whose padding is zero.
//
// Compile-time constants: D (channels), RANK, LO, HI, CAUSAL, TILE (target rows per forward block and the
// scan's chunk), RY (threads per channel column, forward), BT (source rows per backward block), RYB
// (threads per column, backward), BR (rows per product block). Blocks of the scan kernels are (32, RY): one
// warp spans 32 consecutive channels.

#include "aft_common.cuh"
#include "aft_band_scan.cuh"

#define CB 32
#define BAND (LO + HI + 1)
#define SPAN (BR + LO + HI)            // sources (targets) a product block faces

// ---- bias band: band[t][j] = U_t · W_{t − LO + j}, 0 where the source lies outside the sequence ----
// One block per row, a warp per band entry with its lanes over the rank, so that the loads of W are
// coalesced (a thread per entry walked a row of W each, RANK elements apart, and was L1-bound).
extern "C" __global__ void aft_local_bias(const aft_elem* u, const aft_elem* w, float* band, int length)
{
    __shared__ float row[RANK];
    int t = blockIdx.x, lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
    for (int r = threadIdx.x; r < RANK; r += blockDim.x) row[r] = aft_load(u, (long long)t * RANK + r);
    __syncthreads();
    for (int j = warp; j < BAND; j += warps) {
        int source = t - LO + j;
        float sum = 0.0f;
        if (source >= 0 && source < length)
            for (int r = lane; r < RANK; r += 32) sum += row[r] * aft_load(w, (long long)source * RANK + r);
        for (int offset = 16; offset > 0; offset /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, offset);
        if (lane == 0) band[(long long)t * BAND + j] = sum;
    }
}

// ---- scan phase 1: one running-max aggregate per chunk of TILE steps ----
extern "C" __global__ __launch_bounds__(CB) void aft_local_chunks_forward(const aft_elem* k, const aft_elem* v, float* aggregates, int length)
{
    aft_band_chunks_forward(k, v, aggregates, length, D, CB, TILE, D, 1);
}

// Backward's scanned elements are the targets: exponent −m_t, values (α_t, β_t).
extern "C" __global__ __launch_bounds__(CB) void aft_local_chunks_backward(const float* shift, const float* alpha, const float* beta, float* aggregates, int length)
{
    aft_band_chunks_backward(shift, alpha, beta, aggregates, length, D, CB, TILE);
}

// ---- scan phase 2: exclusive prefix (and suffix, when given) states per chunk ----
extern "C" __global__ __launch_bounds__(CB) void aft_local_chain(const float* aggregates, float* prefix, float* suffix, int chunks)
{
    aft_band_chain(aggregates, prefix, suffix, chunks, D, CB);
}

// ---- row (b, p) of a padded copy: every batch element's rowsPerBatch rows, its positions from row `front` on ----
__device__ __forceinline__ bool aft_local_position(long long row, int rowsPerBatch, int front, int length, int batches, int& b, int& p)
{
    b = (int)(row / rowsPerBatch);
    p = (int)(row % rowsPerBatch) - front;
    return b < batches && p >= 0 && p < length;
}

// ---- μ_t = max over the band of w_t,t' + σ_t' (one warp per row of the [B, T] rows) ----
extern "C" __global__ void aft_local_band_max(const float* band, const float* sigma, float* mu, int length, int rows)
{
    int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x % 32;
    if (row >= rows) return;                                           // the same for the whole warp
    int b = row / length, t = row % length;
    float m = AFT_EMPTY_MAX;
    for (int j = lane; j < BAND; j += 32) {
        int source = t - LO + j;
        if (source >= 0 && source < length) m = fmaxf(m, band[(long long)t * BAND + j] + sigma[(long long)b * length + source]);
    }
    for (int offset = 16; offset > 0; offset /= 2) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, offset));
    if (lane == 0) mu[row] = m;
}

// ---- E, [B·NBP][BR][SPAN]: block i's rows against the sources it faces (transposed: its sources against
// the targets they reach), E_t,t' = e^{w_t,t' + σ_t' − μ_t} on the band, 0 elsewhere ----
extern "C" __global__ void aft_local_band_weights(const float* band, const float* sigma, const float* mu, aft_elem* e,
    int length, int firstBatch, int batches, int blocksPerBatch, int transposed)
{
    const long long n = (long long)batches * blocksPerBatch * BR * SPAN;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        int column = (int)(i % SPAN), r = (int)(i / SPAN % BR);
        long long block = i / ((long long)SPAN * BR);
        int b = firstBatch + (int)(block / blocksPerBatch), first = (int)(block % blocksPerBatch) * BR;
        int target = transposed ? first - HI + column : first + r;
        int source = transposed ? first + r : first - LO + column;
        int j = source - target + LO;
        float weight = 0.0f;
        if (j >= 0 && j < BAND && target >= 0 && target < length && source >= 0 && source < length)
            weight = __expf(band[(long long)target * BAND + j] + sigma[(long long)b * length + source] - mu[(long long)b * length + target]);
        aft_store(e, i, weight);
    }
}

// ---- X = [P ⊙ V | P], P = e^{K − σ}, padded (positions from row LO of each batch element's rows; zeros elsewhere) ----
extern "C" __global__ void aft_local_stack(const aft_elem* k, const aft_elem* v, const float* sigma, aft_elem* x,
    int length, int firstBatch, int batches, int rowsPerBatch, long long rows)
{
    const long long n = rows * 2 * D;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        int column = (int)(i % (2 * D)), c = column % D, b, p;
        float value = 0.0f;
        if (aft_local_position(i / (2 * D), rowsPerBatch, LO, length, batches, b, p)) {
            b += firstBatch;
            long long at = ((long long)b * length + p) * D + c;
            float weight = __expf(aft_load(k, at) - sigma[(long long)b * length + p]);
            value = column < D ? weight * aft_load(v, at) : weight;
        }
        aft_store(x, i, value);
    }
}

// ---- Causal, the diagonal block of each block of rows: adds Σ_{t' = t0 … t} E_t,t' X_t' to the rows' band sums,
// reading past and present sources only (a later NaN never meets a zero weight). Grid: (⌈2D / 128⌉, B·⌈T / BR⌉),
// a thread per column of X, the block's triangle of E in shared memory and an accumulator per row in registers. ----
#define AFT_LOCAL_DIAGONAL_COLUMNS 128
extern "C" __global__ __launch_bounds__(AFT_LOCAL_DIAGONAL_COLUMNS) void aft_local_diagonal(
    const aft_elem* e, const aft_elem* x, aft_elem* sums, int length, int blocksPerBatch)
{
    __shared__ float weights[BR][BR];
    int blocks = (length + BR - 1) / BR;
    int b = (int)blockIdx.y / blocks, t0 = (int)blockIdx.y % blocks * BR;
    int rows = aft_imin(BR, length - t0);
    long long block = (long long)b * blocksPerBatch + t0 / BR, rowsPerBatch = (long long)blocksPerBatch * BR;
    for (int i = (int)threadIdx.x; i < BR * BR; i += blockDim.x) {
        int j = i / BR, t = i % BR;
        weights[j][t] = j < rows && t <= j ? aft_load(e, (block * BR + j) * SPAN + LO + t) : 0.0f;
    }
    __syncthreads();
    int c = (int)(blockIdx.x * AFT_LOCAL_DIAGONAL_COLUMNS + threadIdx.x);
    if (c >= 2 * D) return;
    aft_elem* out = sums + ((long long)b * rowsPerBatch + t0) * 2 * D + c;
    const aft_elem* source = x + ((long long)b * rowsPerBatch + LO + t0) * 2 * D + c;
    float acc[BR];
#pragma unroll
    for (int j = 0; j < BR; j++) acc[j] = j < rows ? aft_load(out, (long long)j * 2 * D) : 0.0f;
    for (int t = 0; t < rows; t++) {
        float value = aft_load(source, (long long)t * 2 * D);
#pragma unroll
        for (int j = 0; j < BR; j++)
            if (j >= t) acc[j] += weights[j][t] * value;                    // in order of t for every row: the same bits each run
    }
#pragma unroll
    for (int j = 0; j < BR; j++) if (j < rows) aft_store(out, (long long)j * 2 * D, acc[j]);
}

// ---- forward: one block per (tile of TILE rows, 32 channels, batch element): the out-of-band states merged
// with the band's (μ_t, sums); flags[b·T + t] = 1 for a row whose total fell under e^{−60} in units of e^{μ_t} ----
extern "C" __global__ __launch_bounds__(CB * RY) void aft_local_forward(
    const aft_elem* q, const aft_elem* k, const aft_elem* v, const aft_elem* sums, const float* mu,
    const float* chunkPrefix, const float* chunkSuffix,
    aft_elem* y, float* savedShift, float* savedDenominator, float* savedRatio, float* flags, int length, int firstBatch, int blocksPerBatch)
{
    __shared__ float pastM[TILE * CB], pastA[TILE * CB], pastB[TILE * CB];
#if !CAUSAL
    __shared__ float futureM[TILE * CB], futureA[TILE * CB], futureB[TILE * CB];
#endif
    int cx = threadIdx.x, ry = threadIdx.y;
    int c = blockIdx.y * CB + cx, batch = firstBatch + blockIdx.z, t0 = blockIdx.x * TILE;
    int chunks = (length + TILE - 1) / TILE;
    bool valid = c < D;
    long long base = (long long)batch * length * D + c;
    aft_band_sources element{k, v, base, base, D, D};
    if (valid && ry == 0)
        aft_walk_prefix<8>(element, chunkPrefix, batch, chunks, TILE, D, c, t0, TILE, LO, length, pastM + cx, pastA + cx, pastB + cx, CB);
#if !CAUSAL
    if (valid && ry == RY - 1)
        aft_walk_suffix<8>(element, chunkSuffix, batch, chunks, TILE, D, c, t0, TILE, HI, length, futureM + cx, futureA + cx, futureB + cx, CB);
#endif
    __syncthreads();
    if (!valid) return;
    for (int r = ry; r < TILE && t0 + r < length; r += RY) {
        int t = t0 + r;
        aft_run s = aft_run_at(pastM, pastA, pastB, r * CB + cx);
#if !CAUSAL
        s = aft_run_merge(s, aft_run_at(futureM, futureA, futureB, r * CB + cx));
#endif
        long long row = (long long)batch * length + t, product = ((long long)blockIdx.z * blocksPerBatch * BR + t) * 2 * D + c;
        aft_run inBand;
        inBand.m = mu[row];
        inBand.a = aft_load(sums, product);
        inBand.b = aft_load(sums, product + D);
        s = aft_run_merge(s, inBand);
        if (logf(s.b) + s.m - inBand.m < -60.0f) flags[row] = 1.0f;           // every writer writes 1
        long long at = base + (long long)t * D;
        float ratio = s.a / s.b;
        aft_store(y, at, aft_sigmoid(aft_load(q, at)) * ratio);
        savedShift[at] = s.m;
        savedDenominator[at] = s.b;
        savedRatio[at] = ratio;
    }
}

// ---- backward, element-wise part: ∂Q, and α = S / d, β = S ⊙ R / d for the transposed band ----
extern "C" __global__ void aft_local_upstream(const aft_elem* q, const aft_elem* grad, const float* ratio, const float* denominator,
    aft_elem* dq, float* alpha, float* beta, long long count)
{
    aft_band_upstream(q, grad, ratio, denominator, dq, alpha, beta, count);
}

// ---- Ũ = [α̃ | −β̃], α̃ = α·e^{μ − m}, padded (positions from row HI of each batch element's rows) ----
extern "C" __global__ void aft_local_scaled_upstream(const float* alpha, const float* beta, const float* shift, const float* mu,
    aft_elem* scaled, int length, int firstBatch, int batches, int rowsPerBatch, long long rows)
{
    const long long n = rows * 2 * D;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        int column = (int)(i % (2 * D)), c = column % D, b, p;
        float value = 0.0f;
        if (aft_local_position(i / (2 * D), rowsPerBatch, HI, length, batches, b, p)) {
            b += firstBatch;
            long long at = ((long long)b * length + p) * D + c;
            float scale = __expf(mu[(long long)b * length + p] - shift[at]);
            value = column < D ? alpha[at] * scale : -beta[at] * scale;
        }
        aft_store(scaled, i, value);
    }
}

// ---- backward: one block per (tile of BT source rows, 32 channels), looping over the batch: the out-of-band
// targets' states, plus the band's products G = Eᵀ·Ũ ([B·NBP·BR][2D], source rows) ----
extern "C" __global__ __launch_bounds__(CB * RYB) void aft_local_backward(
    const aft_elem* k, const aft_elem* v, const float* sigma, const float* shift, const float* alpha, const float* beta,
    const float* chunkPrefix, const float* chunkSuffix, const aft_elem* products, aft_elem* dk, aft_elem* dv,
    int length, int firstBatch, int batches, int blocksPerBatch)
{
    __shared__ float futureM[BT * CB], futureA[BT * CB], futureB[BT * CB];
#if !CAUSAL
    __shared__ float pastM[BT * CB], pastA[BT * CB], pastB[BT * CB];
#endif
    int cx = threadIdx.x, ry = threadIdx.y;
    int c = blockIdx.y * CB + cx, t0 = blockIdx.x * BT;
    int chunks = (length + TILE - 1) / TILE;
    bool valid = c < D;
    for (int batch = firstBatch; batch < firstBatch + batches; batch++) {
        long long base = (long long)batch * length * D + c;
        aft_band_targets element{shift, alpha, beta, base, D};
        __syncthreads();   // the previous batch element's rows are done with the shared states
        // Targets t whose band misses source t': t ≥ t' + LO + 1 (the future) and t ≤ t' − HI − 1.
        if (valid && ry == 0)
            aft_walk_suffix<1>(element, chunkSuffix, batch, chunks, TILE, D, c, t0, BT, LO, length, futureM + cx, futureA + cx, futureB + cx, CB);
#if !CAUSAL
        if (valid && ry == RYB - 1)
            aft_walk_prefix<1>(element, chunkPrefix, batch, chunks, TILE, D, c, t0, BT, HI, length, pastM + cx, pastA + cx, pastB + cx, CB);
#endif
        __syncthreads();
        if (!valid) continue;
        for (int r = ry; r < BT && t0 + r < length; r += RYB) {
            int source = t0 + r;
            long long at = base + (long long)source * D;
            float key = aft_load(k, at), value = aft_load(v, at);
            aft_run s = aft_run_at(futureM, futureA, futureB, r * CB + cx);
#if !CAUSAL
            s = aft_run_merge(s, aft_run_at(pastM, pastA, pastB, r * CB + cx));
#endif
            float scale = __expf(key + s.m);                // ≤ 1: every out-of-band target's shift covers this key
            float weight = __expf(key - sigma[(long long)batch * length + source]);
            long long product = ((long long)(batch - firstBatch) * blocksPerBatch * BR + source) * 2 * D + c;
            float gradV = scale * s.a + weight * aft_load(products, product);
            float gradR = scale * s.b - weight * aft_load(products, product + D);
            aft_store(dv, at, gradV);
            aft_store(dk, at, value * gradV - gradR);
        }
    }
}

// ---- ∂w[t][j] += Σ_batch E ⊙ ([α̃ | −β̃]·[P ⊙ V | P]ᵀ) at the band entry (t, j); products and E in E's layout ----
extern "C" __global__ void aft_local_band_gradient(const aft_elem* e, const aft_elem* products, float* dband,
    int length, int batches, int blocksPerBatch)
{
    const long long n = (long long)length * BAND;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        int t = (int)(i / BAND), j = (int)(i % BAND), r = t % BR;
        long long first = (long long)(t / BR) * BR + r;                  // the row's place in its batch element's blocks
        float sum = 0.0f;
        for (int b = 0; b < batches; b++) {
            long long at = ((long long)b * blocksPerBatch * BR + first) * SPAN + r + j;
            float weight = aft_load(e, at);
            if (weight != 0.0f) sum += weight * aft_load(products, at);    // off the band (weight 0) a product may be inf
        }
        dband[i] += sum;                                                  // one launch per group of batch elements
    }
}

// ---- ∂U_t = Σ_j ∂w[t][j] W_{t − LO + j},  ∂W_t' = Σ_t ∂w[t][t' − t + LO] U_t  (one block per row) ----
extern "C" __global__ void aft_local_factor_gradients(const float* dband, const aft_elem* u, const aft_elem* w,
    aft_elem* du, aft_elem* dw, int length)
{
    int t = blockIdx.x;
    for (int r = threadIdx.x; r < RANK; r += blockDim.x) {
        float gu = 0.0f, gw = 0.0f;
        for (int j = 0; j < BAND; j++) {
            int source = t - LO + j;
            if (source >= 0 && source < length) gu += dband[(long long)t * BAND + j] * aft_load(w, (long long)source * RANK + r);
            int target = t - j + LO;
            if (target >= 0 && target < length) gw += dband[(long long)target * BAND + j] * aft_load(u, (long long)target * RANK + r);
        }
        aft_store(du, (long long)t * RANK + r, gu);
        aft_store(dw, (long long)t * RANK + r, gw);
    }
}
