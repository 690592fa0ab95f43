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

// ---- forward: one block per (tile of TILE rows, 32 channels, batch element) ----
extern "C" __global__ __launch_bounds__(CB * RY) void aft_local_forward(
    const aft_elem* q, const aft_elem* k, const aft_elem* v, const float* band,
    const float* chunkPrefix, const float* chunkSuffix,
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
    bool full = lastRow - firstRow + 1 == RPT;
    int everyFirst = lastRow - LO, everyLast = firstRow + HI;
    const float* biases = band + (long long)firstRow * (BAND - 1) + LO;   // biases[i * (BAND − 1) + source]: row firstRow + i
    for (int source = first; source <= last; source++) {
        long long at = base + (long long)source * D;
        float key = aft_load(k, at), value = aft_load(v, at);
        if (full && source >= everyFirst && source <= everyLast) {
#pragma unroll
            for (int i = 0; i < RPT; i++) aft_run_add(s[i], key + biases[i * (BAND - 1) + source], value, 1.0f);
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
    const aft_elem* k, const aft_elem* v, const float* band, const float* shift, const float* alpha, const float* beta,
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
        for (int target = first; target <= last; target++) {
            long long tat = (long long)batch * length * D + (long long)target * D + c;
            float m = valid ? shift[tat] : 0.0f, a = valid ? alpha[tat] : 0.0f, b = valid ? beta[tat] : 0.0f;
            if (full && target >= everyFirst && target <= everyLast) {          // uniform across the warp
                int j0 = firstSource - target + LO;
                const float* biases = band + (long long)target * BAND + j0;          // source firstSource + i at biases[i]
#if DW_PRIVATE
                float* cells = dbias + ((ry * RPB) * BAND + j0) * CB + cx;          // pair (row ry·RPB + i, j0 + i)
#endif
#pragma unroll
                for (int i = 0; i < RPB; i++) {
                    float contribution = 0.0f;
                    if (valid) {
                        float e = __expf(key[i] + biases[i] - m);
                        gradV[i] += e * a;
                        gradR[i] += e * b;
                        contribution = e * (a * value[i] - b);
                    }
#if DW_PRIVATE
                    cells[i * (BAND + 1) * CB] += contribution;
#else
                    for (int offset = 16; offset > 0; offset /= 2) contribution += __shfl_xor_sync(0xffffffffu, contribution, offset);
                    if (cx == 0) dbias[(ry * RPB + i) * BAND + j0 + i] += contribution;
#endif
                }
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
