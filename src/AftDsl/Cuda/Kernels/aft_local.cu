// AFT-local (paper Eq. 4), forward and backward, float32 or bfloat16 storage, float32 arithmetic.
//
//   Y_t = σ(Q_t) ⊙ Σ_t' e^{K_t' + ŵ_t,t'} V_t' / Σ_t' e^{K_t' + ŵ_t,t'},   ŵ = U_t·W_t' on the band, 0 off it.
//
// The band is t' ∈ [t − LO, t + HI] (LO = s − 1; HI = s − 1, or 0 when causal). Each row adds two parts:
//
// * Out of band, two running-max states per channel: the past t' ≤ t − LO − 1 (a prefix lagged by the
//   window) and, non-causal, the future t' ≥ t + HI + 1. Forward: aggregates of segments of FT elements
//   shifted by the lag (aft_local_segments), chained (aft_local_segment_chain), so that a tile of FT rows
//   walks FT elements, a row group's share each. Backward: a three-phase scan over chunks of TILE
//   (aft_local_chunks_backward, aft_local_chain and a walk inside each tile, aft_band_scan.cuh).
// * The band, factorised so that no exponential is taken per (row, source, channel):
//   e^{K_t',c + w_t,t'} = e^{μ_t} · E_t,t' · P_t',c with σ_t' = max_c K_t',c, P = e^{K − σ} ≤ 1, and
//   E_t,t' = e^{w_t,t' + σ_t' − μ_t} ≤ 1 where μ_t is the row's largest w + σ over its band, so the band sum
//   of a row is E·[P ⊙ V | P]. Causal: aft_local_fused_forward sums it from shared memory, E and X for FB
//   band entries at a time, in one kernel with the out-of-band walks and the output, and, for bands of up
//   to CFE entries, aft_local_fused_backward does the same for the transposed band and ∂w; a row skips the
//   entries past its band instead of multiplying later (maybe NaN) values by a zero weight. Not causal (a
//   band twice as wide, and nothing to skip) and the backward of wider bands: matrix products on the tensor
//   cores (cuBLAS through libtorch; host code AftLocalCuda.cs), which the forward's kernel then merges and
//   the backward's kernels read. The
//   shifts σ and μ depend on positions in the band only, so a causal row still reads nothing after it.
//
// A channel whose keys all lie far below the position's largest key gets terms below e^{−87}, which float32
// flushes: rows whose total, in units of e^{μ_t}, falls under e^{−60} are flagged and recomputed exactly
// by the host (ExactRows), so that what the factorised band drops is always below the float32 rounding of the rest.
//
// Backward (same band, transposed): with S = G ⊙ σ(Q), α = S / d, β = S ⊙ R / d and the forward's shift m
// (every weight e^{K_t' + ŵ − m_t} ≤ 1), and α̃ = α·e^{μ − m}, β̃ = β·e^{μ − m} (≤ α, β):
//   ∂V_t' = P_t' ⊙ Σ_t E_t,t' α̃_t,   ∂K_t' = V_t' ⊙ ∂V_t' − P_t' ⊙ Σ_t E_t,t' β̃_t,
//   ∂w_t,t' = E_t,t' Σ_{batch, channels} (α̃_t ⊙ P_t' ⊙ V_t' − β̃_t ⊙ P_t')   (band only),
// (on the products path: two more products, Eᵀ·[α̃ | −β̃] and [α̃ | −β̃]·[P ⊙ V | P]ᵀ), with the out-of-band targets as lagged
// running-max states of exponent −m_t. ∂U, ∂W follow row by row.
//
// Block layout of the backward's products (for a group of batch elements at a time, so that they stay small): every batch element's rows are padded to NBP = ⌈T / BR⌉ + ⌈(LO + HI) / BR⌉
// blocks of BR rows, so that one strided batch of NBP·B products covers them all; block i of batch b
// faces the SPAN = BR + LO + HI sources (or targets) from i·BR − LO (i·BR − HI) on, rows of a padded
// copy whose padding is zero.
//
// Compile-time constants: D (channels), RANK, LO, HI, CAUSAL; forward: FT (rows per block, the segments'
// length), FRY (threads per channel column), FB (band entries a causal block holds at a time); products
// backward: TILE (the scan's chunk), BT (source rows per block), RYB (threads per channel column), BR (rows
// per product block); causal backward: CFT, CFY (as FT, FRY), CFE (the widest band it takes), CFB (batch
// elements per block), CPR (band offsets a thread sums ∂w for). One warp spans 32 consecutive channels.

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

// ---- scan phase 1 of the backward: one running-max aggregate per chunk of TILE steps ----
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

// ---- A row group's band sums from shared memory: rows r0 + u (u < ROWS) each add weights[r0 + u][d] times
// values[r0 + u + d] for offsets d < min(ENTRIES, entries), column cx; each value is read once, every weight
// is a broadcast (all lanes read the same word). ----
template <int ROWS, int ENTRIES, class Weights, class Values>
__device__ __forceinline__ void aft_local_band_sums(const Weights& weights, const Values& a, const Values& b, int r0, int cx, int entries,
    float (&sumA)[ROWS], float (&sumB)[ROWS])
{
#pragma unroll
    for (int m = 0; m < ROWS + ENTRIES - 1; m++) {
        float x = a[r0 + m][cx], y = b[r0 + m][cx];
#pragma unroll
        for (int u = 0; u < ROWS; u++) {
            int d = m - u;
            if (d >= 0 && d < ENTRIES && d < entries) {
                float e = weights[r0 + u][d];
                sumA[u] += e * x;
                sumB[u] += e * y;
            }
        }
    }
}

// ---- Forward, one pass over the band. A block takes FT rows of one batch element and 32 channels, with
// threads (32, FRY): RPT = FT / FRY consecutive rows a thread. ----
#define RPT (FT / FRY)

// Forward scan phase 1: row r of tile i needs the past up to i·FT + r − LO − 1, so the past's aggregates
// are of segments of FT elements shifted by −LO − 1, and (non-causal) the future's by +HI + 1: a tile
// then walks its own FT elements only.
extern "C" __global__ __launch_bounds__(CB) void aft_local_segments(const aft_elem* k, const aft_elem* v, float* past, float* future, int length)
{
    int c = blockIdx.y * CB + threadIdx.x;
    if (c >= D) return;
    long long base = (long long)blockIdx.z * length * D + c;
    aft_band_sources element{k, v, base, base, D, D};
    long long at = aft_run_index(blockIdx.z, blockIdx.x, gridDim.x, 0, D, c);
    aft_run_store(past, at, D, aft_run_segment(element, (int)blockIdx.x * FT - LO - 1, FT, length));
#if !CAUSAL
    aft_run_store(future, at, D, aft_run_segment(element, (int)blockIdx.x * FT + HI + 1, FT, length));
#endif
}

// Forward scan phase 2: exclusive prefix states of the past's segments and (non-causal) exclusive suffix
// states of the future's; one block per (32 channels, batch element).
extern "C" __global__ __launch_bounds__(CB) void aft_local_segment_chain(const float* past, const float* future,
    float* pastStates, float* futureStates, int chunks)
{
    int c = blockIdx.x * CB + threadIdx.x;
    if (c >= D) return;
    aft_run_chain_prefix(past, pastStates, blockIdx.y, chunks, D, c);
#if !CAUSAL
    aft_run_chain_suffix(future, futureStates, blockIdx.y, chunks, D, c);
#endif
}

// The forward: the band's sums (causal: from shared memory, FB band entries at a time, E of the tile's
// rows and X of the sources those entries reach; not causal: read from the products of a group of batch elements, blockIdx.z
// counting from firstBatch), merged with the out-of-band past and future, which each row group walks over
// its RPT elements from the chained state and the shares of the groups before it. Outputs y, and for the
// backward the shift m, denominator and ratio; flags[b·T + t] = 1 for a row whose total fell under e^{−60}
// in units of e^{μ_t}.
extern "C" __global__ __launch_bounds__(CB * FRY) void aft_local_fused_forward(
    const aft_elem* q, const aft_elem* k, const aft_elem* v, const float* band, const float* sigma, const float* mu,
    const float* pastStates, const float* futureStates, const aft_elem* sums,
    aft_elem* y, float* savedShift, float* savedDenominator, float* savedRatio, float* flags, int length, int firstBatch, int blocksPerBatch)
{
    __shared__ float shareM[FRY * CB], shareA[FRY * CB], shareB[FRY * CB];
    int cx = threadIdx.x, g = threadIdx.y, thread = g * CB + cx;
    int c = blockIdx.y * CB + cx, batch = firstBatch + blockIdx.z, t0 = blockIdx.x * FT, r0 = g * RPT;
    bool valid = c < D;
    long long rows = (long long)batch * length, base = rows * D + c;
    aft_band_sources element{k, v, base, base, D, D};

    float sumA[RPT], sumB[RPT];
#pragma unroll
    for (int u = 0; u < RPT; u++) sumA[u] = sumB[u] = 0.0f;
#if CAUSAL
    // The band, FB entries at a time: E_t,d of the tile's rows for entries d0 … d0 + FB − 1, and X of the
    // FT + FB − 1 sources they reach, from t0 − LO + d0 on; row r, entry d0 + d reads source r + d of them.
    __shared__ float weights[FT][FB];
    __shared__ float sourceA[FT + FB - 1][CB], sourceB[FT + FB - 1][CB];
    for (int d0 = 0; d0 < BAND; d0 += FB) {
        int s0 = t0 - LO + d0;
        __syncthreads();                                       // the previous entries have been read
        for (int i = thread; i < FT * FB; i += CB * FRY) {
            int r = i / FB, d = d0 + i % FB, t = t0 + r, source = s0 + r + i % FB;
            float e = 0.0f;
            if (t < length && source >= 0 && d < BAND)
                e = __expf(band[(long long)t * BAND + d] + sigma[rows + source] - mu[rows + t]);
            weights[r][i % FB] = e;
        }
        for (int j = g; j < FT + FB - 1; j += FRY) {
            int source = s0 + j;
            float a = 0.0f, b = 0.0f;
            if (valid && source >= 0 && source < length) {
                long long at = base + (long long)source * D;
                b = __expf(aft_load(k, at) - sigma[rows + source]);
                a = b * aft_load(v, at);
            }
            sourceA[j][cx] = a;
            sourceB[j][cx] = b;
        }
        __syncthreads();
        aft_local_band_sums<RPT, FB>(weights, sourceA, sourceB, r0, cx, BAND - d0, sumA, sumB);   // past the band: later sources (maybe NaN), skipped
    }
#else
    // Not causal: the band's sums come from the products, [group's blocks · BR][2D] (see the header).
    if (valid) {
#pragma unroll
        for (int u = 0; u < RPT; u++) {
            int t = aft_imin(t0 + r0 + u, length - 1);
            long long product = ((long long)blockIdx.z * blocksPerBatch * BR + t) * 2 * D + c;
            sumA[u] = aft_load(sums, product);
            sumB[u] = aft_load(sums, product + D);
        }
    }
#endif

    aft_run total[RPT];                                        // the band's state: exponent μ_t
#pragma unroll
    for (int u = 0; u < RPT; u++) {
        total[u].m = mu[rows + aft_imin(t0 + r0 + u, length - 1)];
        total[u].a = sumA[u];
        total[u].b = sumB[u];
    }

    // The out-of-band past of row r0 + u: elements up to p0 + u.
    int p0 = t0 + r0 - LO - 1;
    aft_run share = aft_run_segment(element, p0, valid ? RPT : 0, length);
    shareM[thread] = share.m;
    shareA[thread] = share.a;
    shareB[thread] = share.b;
    __syncthreads();
    aft_run s = valid ? aft_run_load(pastStates, aft_run_index(batch, blockIdx.x, gridDim.x, 0, D, c), D) : aft_run_empty();
    for (int h = 0; h < g; h++) s = aft_run_merge(s, aft_run_at(shareM, shareA, shareB, h * CB + cx));
#pragma unroll
    for (int u = 0; u < RPT; u++) {
        int i = p0 + u;
        if (valid && i >= 0 && i < length) {
            float x, a, b;
            element(i, x, a, b);
            aft_run_add(s, x, a, b);
        }
        total[u] = aft_run_merge(total[u], s);
    }
#if !CAUSAL
    // The out-of-band future of row r0 + u: elements from q0 + u on, walked backwards.
    int q0 = t0 + r0 + HI + 1;
    share = aft_run_segment(element, q0, valid ? RPT : 0, length);
    __syncthreads();                                           // every group has read the past's shares
    shareM[thread] = share.m;
    shareA[thread] = share.a;
    shareB[thread] = share.b;
    __syncthreads();
    s = valid ? aft_run_load(futureStates, aft_run_index(batch, blockIdx.x, gridDim.x, 0, D, c), D) : aft_run_empty();
    for (int h = FRY - 1; h > g; h--) s = aft_run_merge(s, aft_run_at(shareM, shareA, shareB, h * CB + cx));
#pragma unroll
    for (int u = RPT - 1; u >= 0; u--) {
        int i = q0 + u;
        if (valid && i < length) {
            float x, a, b;
            element(i, x, a, b);
            aft_run_add(s, x, a, b);
        }
        total[u] = aft_run_merge(total[u], s);
    }
#endif

    if (!valid) return;
#pragma unroll
    for (int u = 0; u < RPT; u++) {
        int t = t0 + r0 + u;
        if (t < length) {
            long long row = rows + t, at = base + (long long)t * D;
            aft_run r = total[u];
            if (logf(r.b) + r.m - mu[row] < -60.0f) flags[row] = 1.0f;       // every writer writes 1
            float ratio = r.a / r.b;
            aft_store(y, at, aft_sigmoid(aft_load(q, at)) * ratio);
            savedShift[at] = r.m;
            savedDenominator[at] = r.b;
            savedRatio[at] = ratio;
        }
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

// ---- Causal backward in one kernel, after two short scans of the targets, for bands of up to CFE entries (the
// host sends wider ones to the products: summed here with float32 FMAs, s = 256 took twice their time on an
// H200). A block takes CFT source rows and 32 channels of CFB consecutive batch elements, with threads
// (32, CFY): CRPT consecutive rows a thread. For source t', the band's targets are t = t' + d, d ∈ [0, LO]
// (entry j = LO − d of row t); the later ones, t ≥ t' + LO + 1, are the out-of-band future: lagged
// running-max suffix states (exponent −m_t). ----
#define CRPT (CFT / CFY)

// Scan phase 1: aggregates of the targets of segments of CFT elements shifted by +LO + 1, so that a tile
// walks its own CFT elements only (the forward's future segments, mirrored for the backward).
extern "C" __global__ __launch_bounds__(CB) void aft_local_target_segments(const float* shift, const float* alpha, const float* beta,
    float* segments, int length)
{
    int c = blockIdx.y * CB + threadIdx.x;
    if (c >= D) return;
    aft_band_targets element{shift, alpha, beta, (long long)blockIdx.z * length * D + c, D};
    long long at = aft_run_index(blockIdx.z, blockIdx.x, gridDim.x, 0, D, c);
    aft_run_store(segments, at, D, aft_run_segment(element, (int)blockIdx.x * CFT + LO + 1, CFT, length));
}

// Scan phase 2: exclusive suffix states of the segments; one block per (32 channels, batch element).
extern "C" __global__ __launch_bounds__(CB) void aft_local_target_chain(const float* segments, float* states, int chunks)
{
    int c = blockIdx.x * CB + threadIdx.x;
    if (c >= D) return;
    aft_run_chain_suffix(segments, states, blockIdx.y, chunks, D, c);
}

// The backward: per batch element, the band from shared memory (E of the tile's sources, α̃ and β̃ of the
// CFT + CFE − 1 targets they reach), then the out-of-band future, each row group walking its CRPT targets
// from the chained state and the shares of the groups after it; writes ∂K and ∂V. ∂w of a band entry is E
// times a sum over channels and batch elements: the block sums its 32 channels from shared memory, a thread
// CPR offsets of one row, over its batch elements in registers, and adds the sums to dband with one atomic each.
extern "C" __global__ __launch_bounds__(CB * CFY) void aft_local_fused_backward(
    const aft_elem* k, const aft_elem* v, const float* band, const float* sigma, const float* mu,
    const float* shift, const float* alpha, const float* beta, const float* futureStates,
    aft_elem* dk, aft_elem* dv, float* dband, int length, int batches)
{
#if BAND <= CFE                                                  // (wider bands take the products: empty here)
    __shared__ float weights[CFT][CFE];                          // E_{t' + d, t'} of source row t0 + r
    __shared__ float targetA[CFT + CFE - 1][CB + 1], targetB[CFT + CFE - 1][CB + 1];   // α̃, β̃ of targets from t0 on
    __shared__ float sourceA[CFT][CB + 1], sourceB[CFT][CB + 1];                       // P ⊙ V, P of the tile's sources
    __shared__ float shareM[CFY * CB], shareA[CFY * CB], shareB[CFY * CB];
    // (The rows of 33 floats put the ∂w sums' reads of different rows in different banks.)
    int cx = threadIdx.x, g = threadIdx.y, thread = g * CB + cx;
    int c = blockIdx.y * CB + cx, t0 = blockIdx.x * CFT, r0 = g * CRPT;
    bool valid = c < D;
    const int groupsPerRow = CFE / CPR;                           // the ∂w sums: row wr, offsets wd … wd + CPR − 1
    int wr = thread / groupsPerRow, wd = thread % groupsPerRow * CPR;
    bool summing = wr < CFT;
    float dw[CPR];
#pragma unroll
    for (int i = 0; i < CPR; i++) dw[i] = 0.0f;
    int firstBatch = blockIdx.z * CFB, lastBatch = aft_imin(firstBatch + CFB, batches);
    for (int batch = firstBatch; batch < lastBatch; batch++) {
        long long rows = (long long)batch * length, base = rows * D + c;
        float key[CRPT], value[CRPT], p[CRPT], gradA[CRPT], gradB[CRPT];
#pragma unroll
        for (int u = 0; u < CRPT; u++) {
            int source = t0 + r0 + u;
            key[u] = value[u] = p[u] = gradA[u] = gradB[u] = 0.0f;
            if (valid && source < length) {
                long long at = base + (long long)source * D;
                key[u] = aft_load(k, at);
                value[u] = aft_load(v, at);
                p[u] = __expf(key[u] - sigma[rows + source]);
            }
            sourceA[r0 + u][cx] = p[u] * value[u];
            sourceB[r0 + u][cx] = p[u];
        }
        for (int i = thread; i < CFT * CFE; i += CB * CFY) {
            int r = i / CFE, d = i % CFE, source = t0 + r, target = source + d;
            float e = 0.0f;
            if (d < BAND && target < length)
                e = __expf(band[(long long)target * BAND + LO - d] + sigma[rows + source] - mu[rows + target]);
            weights[r][i % CFE] = e;
        }
        for (int j = g; j < CFT + BAND - 1; j += CFY) {
            int target = t0 + j;
            float a = 0.0f, b = 0.0f;
            if (valid && target < length) {
                long long at = base + (long long)target * D;
                float scale = __expf(mu[rows + target] - shift[at]);     // ≤ 1: m_t covers the band's shift μ_t
                a = alpha[at] * scale;
                b = beta[at] * scale;
            }
            targetA[j][cx] = a;
            targetB[j][cx] = b;
        }
        __syncthreads();
        aft_local_band_sums<CRPT, BAND>(weights, targetA, targetB, r0, cx, BAND, gradA, gradB);
        if (summing) {
            float sum[CPR];
#pragma unroll
            for (int i = 0; i < CPR; i++) sum[i] = 0.0f;
            for (int x = 0; x < CB; x++) {
                float pv = sourceA[wr][x], pk = sourceB[wr][x];
#pragma unroll
                for (int i = 0; i < CPR; i++) sum[i] += targetA[wr + wd + i][x] * pv - targetB[wr + wd + i][x] * pk;
            }
#pragma unroll
            for (int i = 0; i < CPR; i++) {
                float e = weights[wr][wd + i];
                if (e != 0.0f) dw[i] += e * sum[i];          // off the band (e = 0) a sum may be inf or NaN
            }
        }

        // The out-of-band future of source r0 + u: targets from q0 + u on, walked backwards.
        aft_band_targets element{shift, alpha, beta, base, D};
        int q0 = t0 + r0 + LO + 1;
        aft_run share = aft_run_segment(element, q0, valid ? CRPT : 0, length);
        shareM[thread] = share.m;
        shareA[thread] = share.a;
        shareB[thread] = share.b;
        __syncthreads();
        aft_run s = valid ? aft_run_load(futureStates, aft_run_index(batch, blockIdx.x, gridDim.x, 0, D, c), D) : aft_run_empty();
        for (int h = CFY - 1; h > g; h--) s = aft_run_merge(s, aft_run_at(shareM, shareA, shareB, h * CB + cx));
#pragma unroll
        for (int u = CRPT - 1; u >= 0; u--) {
            int i = q0 + u, source = t0 + r0 + u;
            if (valid && i < length) {
                float x, a, b;
                element(i, x, a, b);
                aft_run_add(s, x, a, b);
            }
            if (valid && source < length) {
                float scale = __expf(key[u] + s.m);              // ≤ 1: every out-of-band target's shift covers this key
                float gradV = scale * s.a + p[u] * gradA[u];
                float gradR = scale * s.b + p[u] * gradB[u];
                long long at = base + (long long)source * D;
                aft_store(dv, at, gradV);
                aft_store(dk, at, value[u] * gradV - gradR);
            }
        }
        __syncthreads();                                         // every group has read the shares and the sources
    }
    int source = t0 + wr;
#pragma unroll
    for (int i = 0; i < CPR; i++) {
        int d = wd + i, target = source + d;
        if (summing && d < BAND && target < length) atomicAdd(&dband[(long long)target * BAND + LO - d], dw[i]);
    }
#endif
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
