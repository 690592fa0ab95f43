// AFT-local (paper Eq. 4), forward and backward, float32 or bfloat16 storage, float32 arithmetic.
//
//   Y_t = σ(Q_t) ⊙ Σ_t' e^{K_t' + ŵ_t,t'} V_t' / Σ_t' e^{K_t' + ŵ_t,t'},   ŵ = U_t·W_t' on the band, 0 off it.
//
// The band is t' ∈ [t − LO, t + HI] (LO = s − 1; HI = s − 1, or 0 when causal). Each row sums its band
// directly and adds its out-of-band sources as two running-max states: the past t' ≤ t − LO − 1 (a
// prefix lagged by the window) and, non-causal, the future t' ≥ t + HI + 1. Every term is positive, so
// nothing cancels, and no term of a causal row comes from t' > t, shifts included. The prefix states come
// from a three-phase scan: chunk aggregates (aft_local_chunks_*), a chain over chunks
// (aft_local_chain), and a short walk inside each tile from its chunk's state (aft_band_scan.cuh).
//
// The bias band w_t,t' = U_t·W_t' is formed once per call by aft_local_bias ([T][BAND] floats, O(T·s)),
// shared by every batch element and channel; nothing of size T×T exists.
//
// Backward (same band, transposed): with S = G ⊙ σ(Q), α = S / d, β = S ⊙ R / d and the forward's row
// shift m (so every weight e^{K_t' + ŵ − m_t} ≤ 1):
//   ∂V_t' = Σ_t e^{K_t' + ŵ_t,t' − m_t} α_t,   ∂K_t' = V_t' ⊙ ∂V_t' − Σ_t e^{K_t' + ŵ_t,t' − m_t} β_t,
//   ∂w_t,t' = Σ_{batch, channels} e^{K_t' + w_t,t' − m_t} (α_t V_t' − β_t)   (band only),
// the out-of-band targets again as lagged running-max states, of exponent −m_t. ∂w is summed over the
// batch in shared memory, in a cell per (pair, channel) that is reduced over the block's 32 channels once
// at the end (DW_PRIVATE = 1, when the cells fit), or else reduced over the warp by shuffles at every
// pair; then over channel blocks by float atomics (so ∂U, ∂W are not bit-reproducible run to run; ∂Q,
// ∂K, ∂V are). ∂U, ∂W follow row by row.
//
// Compile-time constants: D (channels), RANK, LO, HI, CAUSAL, TILE (target rows per forward block and the
// scan's chunk), RY (threads per channel column, forward), BT (source rows per backward block), RYB
// (threads per column, backward), DW_PRIVATE (how ∂w is reduced, above). Blocks are (32, RY): one warp spans 32 consecutive channels.

#include "aft_common.cuh"
#include "aft_band_scan.cuh"

#define CB 32
#define BAND (LO + HI + 1)
#define RPT ((TILE + RY - 1) / RY)     // forward rows per thread
#define RPB ((BT + RYB - 1) / RYB)     // backward source rows per thread
// The product path factors e^{K + w − m} into exponentials of K and of w (and, backward, of m) whose exponents
// each lie within this range, so every product is a normal float and no term is lost to underflow.
#define AFT_PRODUCT_RANGE 20.0f

#if (RPB & (RPB - 1)) == 0
// Sums v[p] over the warp's 32 lanes for each of the RPB pairs p at once: log2(RPB) halving exchanges leave
// each lane one partial sum (of pair aft_spread_pair(lane), over the lanes that share its low bits), then
// the usual butterfly finishes it: RPB − 1 + log2(32 / RPB) shuffles instead of 5 per pair.
__device__ __forceinline__ float aft_warp_sum_spread(float (&v)[RPB], int lane)
{
#pragma unroll
    for (int step = 0, n = RPB; n > 1; step++, n /= 2) {
        bool upper = (lane >> step) & 1;
#pragma unroll
        for (int i = 0; i < n / 2; i++) {
            float send = upper ? v[i] : v[n / 2 + i], keep = upper ? v[n / 2 + i] : v[i];
            v[i] = keep + __shfl_xor_sync(0xffffffffu, send, 1 << step);
        }
    }
    float sum = v[0];
#pragma unroll
    for (int offset = RPB; offset < 32; offset *= 2) sum += __shfl_xor_sync(0xffffffffu, sum, offset);
    return sum;
}

// The pair whose sum aft_warp_sum_spread leaves in `lane`: each exchange kept the upper half where the lane's bit is set.
__device__ __forceinline__ int aft_spread_pair(int lane)
{
    int pair = 0;
#pragma unroll
    for (int step = 0, n = RPB; n > 1; step++, n /= 2) pair += ((lane >> step) & 1) * (n / 2);
    return pair;
}
#endif

// ---- bias band: band[t][j] = U_t · W_{t − LO + j}, 0 where the source lies outside the sequence ----
// One block per row, a warp per band entry with its lanes over the rank (so the loads of W are coalesced),
// then the row's shift ω_t = max_j w_t,j and the band's exponentials e^{w_t,j − ω_t} for the product path.
// A row whose biases spread by more than AFT_PRODUCT_RANGE is marked for the per-pair exponentials instead.
extern "C" __global__ void aft_local_bias(const aft_elem* u, const aft_elem* w, float* band, float* bandExp,
    float* rowShift, float* rowProduct, int length)
{
    __shared__ float row[RANK];
    __shared__ float highs[32], lows[32];
    int t = blockIdx.x, lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
    for (int r = threadIdx.x; r < RANK; r += blockDim.x) row[r] = aft_load(u, (long long)t * RANK + r);
    __syncthreads();
    float high = AFT_EMPTY_MAX, low = -AFT_EMPTY_MAX;
    for (int j = warp; j < BAND; j += warps) {
        int source = t - LO + j;
        bool inside = source >= 0 && source < length;
        float sum = 0.0f;
        if (inside)
            for (int r = lane; r < RANK; r += 32) sum += row[r] * aft_load(w, (long long)source * RANK + r);
        for (int offset = 16; offset > 0; offset /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, offset);
        if (lane == 0) band[(long long)t * BAND + j] = sum;
        if (inside) {
            high = fmaxf(high, sum);
            low = fminf(low, sum);
        }
    }
    if (lane == 0) {
        highs[warp] = high;
        lows[warp] = low;
    }
    __syncthreads();                                           // also publishes the block's band entries
    float omega = AFT_EMPTY_MAX, least = -AFT_EMPTY_MAX;
    for (int i = 0; i < warps; i++) {
        omega = fmaxf(omega, highs[i]);
        least = fminf(least, lows[i]);
    }
    for (int j = threadIdx.x; j < BAND; j += blockDim.x) {
        int source = t - LO + j;
        bool inside = source >= 0 && source < length;
        bandExp[(long long)t * BAND + j] = inside ? __expf(band[(long long)t * BAND + j] - omega) : 0.0f;
    }
    if (threadIdx.x == 0) {
        rowShift[t] = omega;
        rowProduct[t] = omega - least <= AFT_PRODUCT_RANGE ? 1.0f : 0.0f;
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

// ---- forward: one block per (tile of TILE rows, 32 channels, batch element) ----
extern "C" __global__ __launch_bounds__(CB * RY) void aft_local_forward(
    const aft_elem* q, const aft_elem* k, const aft_elem* v, const float* band, const float* bandExp,
    const float* rowShift, const float* rowProduct, const float* chunkPrefix, const float* chunkSuffix,
    aft_elem* y, float* savedShift, float* savedDenominator, float* savedRatio, int length)
{
    __shared__ float pastM[TILE * CB], pastA[TILE * CB], pastB[TILE * CB];
#if !CAUSAL
    __shared__ float futureM[TILE * CB], futureA[TILE * CB], futureB[TILE * CB];
#endif
    int cx = threadIdx.x, ry = threadIdx.y;
    int c = blockIdx.y * CB + cx, batch = blockIdx.z, t0 = blockIdx.x * TILE;
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
    // RPT consecutive rows per thread: each source's key and value are loaded once for all of them.
    int firstRow = t0 + ry * RPT;
    if (firstRow >= length || ry * RPT >= TILE) return;
    int lastRow = aft_imin(aft_imin(length, t0 + TILE) - 1, firstRow + RPT - 1);
    aft_run s[RPT];
#pragma unroll
    for (int i = 0; i < RPT; i++) {
        int r = ry * RPT + i;
        s[i] = aft_run_at(pastM, pastA, pastB, r * CB + cx);
#if !CAUSAL
        s[i] = aft_run_merge(s[i], aft_run_at(futureM, futureA, futureB, r * CB + cx));
#endif
    }
    int first = aft_imax(0, firstRow - LO), last = aft_imin(length - 1, lastRow + HI);
    // Sources in every row's band (a full group of rows) need no per-row test.
    int everyFirst = lastRow - LO, everyLast = firstRow + HI;
    bool full = lastRow - firstRow + 1 == RPT && everyFirst <= everyLast;
    const float* biases = band + (long long)firstRow * (BAND - 1) + LO;   // biases[i * (BAND − 1) + source]: row firstRow + i
    const float* exps = bandExp + (long long)firstRow * (BAND - 1) + LO;
    // Product path for those sources: e^{K + w − m} = e^{K − κ} e^{w − ω_t} with κ the largest of their keys,
    // one exponential per source for all RPT rows instead of one per pair. Rows with widely spread biases,
    // and keys far below κ, take the per-pair exponentials. Non-causal only: causal rows on the H200 came
    // out a rounding apart when later inputs changed (check-kernels, 2026-12-01), which the host emulation
    // does not reproduce; until that is understood, causal rows keep the per-pair exponentials, bit-causal.
    float kappa = AFT_EMPTY_MAX;
    bool product[RPT];
    float pa[RPT], pb[RPT];
#pragma unroll
    for (int i = 0; i < RPT; i++) {
        product[i] = !CAUSAL && full && rowProduct[firstRow + i] != 0.0f;   // uniform across the warp: biases are per row
        pa[i] = 0.0f;
        pb[i] = 0.0f;
    }
    bool every = full;                                     // every row takes the product path
#pragma unroll
    for (int i = 0; i < RPT; i++) every = every && product[i];
    if (full && !CAUSAL)
        for (int source = aft_imax(first, everyFirst); source <= aft_imin(last, everyLast); source++) kappa = fmaxf(kappa, aft_load(k, base + (long long)source * D));
    // Unrolled so that the loads of several sources are in flight at once: the loop is latency-bound otherwise.
#pragma unroll 4
    for (int source = first; source <= last; source++) {
        long long at = base + (long long)source * D;
        float key = aft_load(k, at), value = aft_load(v, at);
        if (full && source >= everyFirst && source <= everyLast) {
            float e = __expf(key - kappa);
            bool near = key - kappa >= -AFT_PRODUCT_RANGE;       // false for a NaN key, which then poisons s
            if (every && near) {                                 // the common case: no per-pair exponential at all
#pragma unroll
                for (int i = 0; i < RPT; i++) {
                    float p = exps[i * (BAND - 1) + source] * e;
                    pa[i] += p * value;
                    pb[i] += p;
                }
            } else {
#pragma unroll
                for (int i = 0; i < RPT; i++) {
                    int pair = i * (BAND - 1) + source;
                    if (product[i] && near) {
                        float p = exps[pair] * e;
                        pa[i] += p * value;
                        pb[i] += p;
                    } else {
                        aft_run_add(s[i], key + biases[pair], value, 1.0f);
                    }
                }
            }
        } else {
#pragma unroll
            for (int i = 0; i < RPT; i++) {
                int t = firstRow + i, j = source - t + LO;       // each row sees its band's sources in increasing order
                if (t <= lastRow && j >= 0 && j < BAND) aft_run_add(s[i], key + band[(long long)t * BAND + j], value, 1.0f);
            }
        }
    }
#pragma unroll
    for (int i = 0; i < RPT; i++) {
        if (!(pb[i] == 0.0f)) {                                // skipped when empty; a NaN still merges
            aft_run part;
            part.m = kappa + rowShift[firstRow + i];
            part.a = pa[i];
            part.b = pb[i];
            s[i] = aft_run_merge(s[i], part);
        }
    }
#pragma unroll
    for (int i = 0; i < RPT; i++) {
        int t = firstRow + i;
        if (t > lastRow) break;
        long long at = base + (long long)t * D;
        float ratio = s[i].a / s[i].b;
        aft_store(y, at, aft_sigmoid(aft_load(q, at)) * ratio);
        savedShift[at] = s[i].m;
        savedDenominator[at] = s[i].b;
        savedRatio[at] = ratio;
    }
}

// ---- backward, element-wise part: ∂Q, and α = S / d, β = S ⊙ R / d for the transposed band ----
extern "C" __global__ void aft_local_upstream(const aft_elem* q, const aft_elem* grad, const float* ratio, const float* denominator,
    aft_elem* dq, float* alpha, float* beta, long long count)
{
    aft_band_upstream(q, grad, ratio, denominator, dq, alpha, beta, count);
}

// ---- backward: one block per (tile of BT source rows, 32 channels), looping over the batch ----
extern "C" __global__ __launch_bounds__(CB * RYB) void aft_local_backward(
    const aft_elem* k, const aft_elem* v, const float* band, const float* bandExp, const float* rowShift, const float* rowProduct,
    const float* shift, const float* alpha, const float* beta,
    const float* chunkPrefix, const float* chunkSuffix, aft_elem* dk, aft_elem* dv, float* dband, int length, int batches)
{
    __shared__ float futureM[BT * CB], futureA[BT * CB], futureB[BT * CB];
#if !CAUSAL
    __shared__ float pastM[BT * CB], pastA[BT * CB], pastB[BT * CB];
#endif
#if DW_PRIVATE
    __shared__ float dbias[BT * BAND * CB];                  // a cell per (pair, lane): summed over lanes once, at the end
#else
    __shared__ float dbias[BT * BAND];
#endif
    int cx = threadIdx.x, ry = threadIdx.y;
    int c = blockIdx.y * CB + cx, t0 = blockIdx.x * BT;
    int chunks = (length + TILE - 1) / TILE;
    bool valid = c < D;
    for (int i = ry * CB + cx; i < BT * BAND * (DW_PRIVATE ? CB : 1); i += CB * RYB) dbias[i] = 0.0f;

    for (int batch = 0; batch < batches; batch++) {
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
        // RPB consecutive source rows per thread: each target's shift, α and β are loaded once for all of them.
        int firstSource = t0 + ry * RPB;
        if (firstSource >= length || ry * RPB >= BT) continue;            // the same for the whole warp
        int lastSource = aft_imin(aft_imin(length, t0 + BT) - 1, firstSource + RPB - 1);
        float key[RPB], value[RPB], gradV[RPB], gradR[RPB];
#pragma unroll
        for (int i = 0; i < RPB; i++) {
            int r = ry * RPB + i, source = firstSource + i;
            key[i] = 0.0f;
            value[i] = 0.0f;
            gradV[i] = 0.0f;
            gradR[i] = 0.0f;
            if (valid && source <= lastSource) {
                long long at = base + (long long)source * D;
                key[i] = aft_load(k, at);
                value[i] = aft_load(v, at);
                aft_run s = aft_run_at(futureM, futureA, futureB, r * CB + cx);
#if !CAUSAL
                s = aft_run_merge(s, aft_run_at(pastM, pastA, pastB, r * CB + cx));
#endif
                float scale = __expf(key[i] + s.m);    // ≤ 1: every out-of-band target's shift covers this key
                gradV[i] = scale * s.a;
                gradR[i] = scale * s.b;
            }
        }
        int first = aft_imax(0, firstSource - HI), last = aft_imin(length - 1, lastSource + LO);
        // Targets whose band holds every source of a full group need no per-source test.
        bool full = lastSource - firstSource + 1 == RPB;
        int everyFirst = lastSource - HI, everyLast = firstSource + LO;
        // Product path for those targets: e^{K_t' + w − m_t} = e^{K_t' − κ} · e^{w − ω_t} · e^{κ + ω_t − m_t}, κ the
        // largest of the group's keys: one exponential per target for all RPB sources. Since m_t covers every
        // term of its row, the last factor is at most e^{spread of w_t}; outside the range, per-pair exponentials.
        float kappa = AFT_EMPTY_MAX, sourceExp[RPB];
        bool near = true;
#pragma unroll
        for (int i = 0; i < RPB; i++) kappa = fmaxf(kappa, key[i]);
#pragma unroll
        for (int i = 0; i < RPB; i++) {
            sourceExp[i] = __expf(key[i] - kappa);
            near = near && key[i] - kappa >= -AFT_PRODUCT_RANGE;
        }
#pragma unroll 2
        for (int target = first; target <= last; target++) {
            long long tat = (long long)batch * length * D + (long long)target * D + c;
            float m = valid ? shift[tat] : 0.0f, a = valid ? alpha[tat] : 0.0f, b = valid ? beta[tat] : 0.0f;
            if (full && target >= everyFirst && target <= everyLast) {          // uniform across the warp
                int j0 = firstSource - target + LO;
                const float* biases = band + (long long)target * BAND + j0;          // source firstSource + i at biases[i]
                const float* exps = bandExp + (long long)target * BAND + j0;
                float exponent = kappa + rowShift[target] - m;
                bool product = near && rowProduct[target] != 0.0f && exponent <= AFT_PRODUCT_RANGE && exponent >= -AFT_PRODUCT_RANGE;
                float weight[RPB];
                if (product) {                                  // a branch, not a select: the other side costs RPB exponentials
                    float targetExp = __expf(exponent);
#pragma unroll
                    for (int i = 0; i < RPB; i++) weight[i] = sourceExp[i] * exps[i] * targetExp;
                } else {
#pragma unroll
                    for (int i = 0; i < RPB; i++) weight[i] = __expf(key[i] + biases[i] - m);
                }
#if DW_PRIVATE
                float* cells = dbias + ((ry * RPB) * BAND + j0) * CB + cx;          // pair (row ry·RPB + i, j0 + i)
#endif
                float contributions[RPB];
#pragma unroll
                for (int i = 0; i < RPB; i++) {
                    float contribution = 0.0f;
                    if (valid) {
                        float e = weight[i];
                        gradV[i] += e * a;
                        gradR[i] += e * b;
                        contribution = e * (a * value[i] - b);
                    }
                    contributions[i] = contribution;
#if DW_PRIVATE
                    cells[i * (BAND + 1) * CB] += contribution;
#elif (RPB & (RPB - 1)) != 0
                    for (int offset = 16; offset > 0; offset /= 2) contribution += __shfl_xor_sync(0xffffffffu, contribution, offset);
                    if (cx == 0) dbias[(ry * RPB + i) * BAND + j0 + i] += contribution;
#endif
                }
#if !DW_PRIVATE && (RPB & (RPB - 1)) == 0
                float sum = aft_warp_sum_spread(contributions, cx);
                if (cx < RPB) {
                    int i = aft_spread_pair(cx);
                    dbias[(ry * RPB + i) * BAND + j0 + i] += sum;
                }
#endif
                continue;
            }
#pragma unroll
            for (int i = 0; i < RPB; i++) {
                int source = firstSource + i, j = source - target + LO;
                if (source > lastSource || j < 0 || j >= BAND) continue;   // uniform across the warp
                float contribution = 0.0f;
                if (valid) {
                    float e = __expf(key[i] + band[(long long)target * BAND + j] - m);
                    gradV[i] += e * a;
                    gradR[i] += e * b;
                    contribution = e * (a * value[i] - b);
                }
                int r = ry * RPB + i;
#if DW_PRIVATE
                dbias[(r * BAND + j) * CB + cx] += contribution;
#else
                for (int offset = 16; offset > 0; offset /= 2) contribution += __shfl_xor_sync(0xffffffffu, contribution, offset);
                if (cx == 0) dbias[r * BAND + j] += contribution;
#endif
            }
        }
        if (valid) {
#pragma unroll
            for (int i = 0; i < RPB; i++) {
                int source = firstSource + i;
                if (source > lastSource) break;
                long long at = base + (long long)source * D;
                aft_store(dv, at, gradV[i]);
                aft_store(dk, at, value[i] * gradV[i] - gradR[i]);
            }
        }
    }
    __syncthreads();
    for (int i = ry * CB + cx; i < BT * BAND; i += CB * RYB) {
        int r = i / BAND, j = i % BAND, source = t0 + r, target = source - j + LO;
#if DW_PRIVATE
        float sum = 0.0f;
        for (int lane = 0; lane < CB; lane++) sum += dbias[i * CB + (lane + cx) % CB];   // staggered: no bank conflicts
#else
        float sum = dbias[i];
#endif
        if (source < length && target >= 0 && target < length) atomicAdd(&dband[(long long)target * BAND + j], sum);
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
