// AFT-simple (paper Eq. 5) on [B, T, D] tensors: Y_t = σ(Q_t) ⊙ R_t, R_t = Σ_t' e^{K_t'} V_t' / Σ_t' e^{K_t'},
// the sums over t' ≤ t when causal, and its backward. Host code: src/AftDsl/Kernels/Cuda/AftSimpleCuda.cs.
//
// Compile-time constants (-D):
//   AFT_D       channel count d
//   AFT_BF16    1: bfloat16 tensors (arithmetic stays float32)
//   AFT_VEC     channels per thread (1, 2, 4 or 8), loaded as one aligned word when d is a multiple of it
//   AFT_CHT     threads along the channels of a block; consecutive threads take consecutive channels
//   AFT_SEG     threads along time in a block; each scans a run of AFT_RUN consecutive steps in registers
//   AFT_RUN     steps per thread
// Causal and non-causal kernels are in every module (chosen by name).
// A block covers a tile of AFT_SEG·AFT_RUN steps × AFT_CHT·AFT_VEC channels of one batch element.
//
// Causal scans carry a running-max state (m, n, d): n = Σ e^{x − m} u, d = Σ e^{x − m} w, m the largest
// key x seen, so no exponent is ever positive. The forward scans x = K, u = V, w = 1; the backward scans
// the suffix with x = −ℓ (ℓ = log-denominator), u = S = G ⊙ σ(Q), w = S ⊙ R. Tiles of one chain (one batch
// element and channel group) are chained by a decoupled look-back: each tile publishes its aggregate,
// then its inclusive prefix, behind a per-tile flag. The order tiles run in comes from an atomic ticket,
// never from blockIdx, so a tile only waits on tiles that have already started.
//
// Determinism: the prefix a tile starts from is always the left fold incl[p] ⊕ agg[p+1] ⊕ … ⊕ agg[j−1]
// from the nearest published inclusive prefix p, and incl[i] = incl[i−1] ⊕ agg[i] by construction, so the
// result is the same bits whichever p the look-back found. Nothing from a later position enters an
// earlier one, so causal outputs do not change when future inputs do, and the combine uses explicitly
// rounded operations so that the compiler cannot contract it differently in different places.
#include "aft_common.cuh"

#ifndef AFT_VEC
#define AFT_VEC 1
#endif
#ifndef AFT_CHT
#define AFT_CHT 64
#endif
#ifndef AFT_SEG
#define AFT_SEG 4
#endif
#ifndef AFT_RUN
#define AFT_RUN 16
#endif

// Tests only: tiles whose index is not a multiple of this leave their flag at "aggregate only" (their
// inclusive prefix is still stored), so later tiles must fold aggregates, across several look-back windows.
#ifndef AFT_INCLUSIVE_FLAG_EVERY
#define AFT_INCLUSIVE_FLAG_EVERY 1
#endif

#define AFT_FOLD_BATCH 8                              // aggregates the look-back loads at once
#define AFT_ELEMENTS 4                                // elements per thread of the element-wise kernels

#define AFT_CW (AFT_CHT * AFT_VEC)                    // channels of a tile
#define AFT_TT (AFT_SEG * AFT_RUN)                    // steps of a tile
#define AFT_THREADS (AFT_CHT * AFT_SEG)
#define AFT_CG ((AFT_D + AFT_CW - 1) / AFT_CW)        // channel groups

static_assert(AFT_THREADS % 32 == 0 && AFT_THREADS <= 1024, "a block is whole warps");
static_assert(AFT_VEC == 1 || AFT_VEC == 2 || AFT_VEC == 4 || AFT_VEC == 8, "1, 2, 4 or 8 channels per thread");

// ---- exactly rounded arithmetic (no contraction, same bits wherever inlined) ----
#if defined(__CUDACC_RTC__) || defined(__CUDA_ARCH__)
__device__ __forceinline__ float aft_mul(float a, float b) { return __fmul_rn(a, b); }
__device__ __forceinline__ float aft_add(float a, float b) { return __fadd_rn(a, b); }
__device__ __forceinline__ int aft_lowest_bit(unsigned int x) { return __ffs((int)x) - 1; }
#else
__device__ __forceinline__ float aft_mul(float a, float b) { return a * b; }
__device__ __forceinline__ float aft_add(float a, float b) { return a + b; }
__device__ __forceinline__ int aft_lowest_bit(unsigned int x) { return __builtin_ctz(x); }
#endif

__device__ __forceinline__ float aft_neg_inf() { return __int_as_float((int)0xff800000u); }

// ---- the running-max state ----
struct AftState { float m, n, d; };

__device__ __forceinline__ AftState aft_identity() { AftState s; s.m = aft_neg_inf(); s.n = 0.0f; s.d = 0.0f; return s; }

// a ⊕ b, a before b in scan order. The identity is exactly neutral on either side.
__device__ __forceinline__ AftState aft_combine(AftState a, AftState b)
{
    AftState r;
    r.m = fmaxf(a.m, b.m);
    float sa = a.m == r.m ? 1.0f : __expf(a.m - r.m);
    float sb = b.m == r.m ? 1.0f : __expf(b.m - r.m);
    r.n = __fmaf_rn(a.n, sa, aft_mul(b.n, sb));
    r.d = __fmaf_rn(a.d, sa, aft_mul(b.d, sb));
    return r;
}

// Appends one element (key x, values u, w): one exponential, never of a positive number.
__device__ __forceinline__ void aft_step(AftState& s, float x, float u, float w)
{
    float e = __expf(-fabsf(x - s.m));
    if (x > s.m) { s.n = __fmaf_rn(s.n, e, u); s.d = __fmaf_rn(s.d, e, w); s.m = x; }
    else         { s.n = __fmaf_rn(u, e, s.n); s.d = __fmaf_rn(w, e, s.d); }
}

// ---- memory ----
// AFT_VEC consecutive channels as one aligned word: one vector load or store per thread and row.
struct alignas(AFT_VEC * sizeof(aft_elem)) AftPack { aft_elem e[AFT_VEC]; };

// Loads the AFT_VEC channels c0, c0 + 1, … (c0 < AFT_D) of the row starting at element `row`.
__device__ __forceinline__ void aft_load_vec(const aft_elem* p, long long row, int c0, float (&x)[AFT_VEC])
{
#if AFT_D % AFT_VEC == 0
    const AftPack pack = *reinterpret_cast<const AftPack*>(p + row + c0);
#pragma unroll
    for (int v = 0; v < AFT_VEC; v++) x[v] = aft_load(pack.e, v);
#else
#pragma unroll
    for (int v = 0; v < AFT_VEC; v++) x[v] = c0 + v < AFT_D ? aft_load(p, row + c0 + v) : 0.0f;
#endif
}

__device__ __forceinline__ void aft_store_vec(aft_elem* p, long long row, int c0, const float (&x)[AFT_VEC])
{
#if AFT_D % AFT_VEC == 0
    AftPack pack;
#pragma unroll
    for (int v = 0; v < AFT_VEC; v++) aft_store(pack.e, v, x[v]);
    *reinterpret_cast<AftPack*>(p + row + c0) = pack;
#else
#pragma unroll
    for (int v = 0; v < AFT_VEC; v++) if (c0 + v < AFT_D) aft_store(p, row + c0 + v, x[v]);
#endif
}

// Tile states: [chain][tile][kind: 0 aggregate, 1 inclusive prefix][field m, n, d][AFT_CW channels].
__device__ __forceinline__ long long aft_state_index(int chain, int tile, int tiles, int kind, int field, int c)
{
    return ((((long long)chain * tiles + tile) * 2 + kind) * 3 + field) * AFT_CW + c;
}

__device__ __forceinline__ void aft_put_state(float* states, long long i, AftState s)
{
    volatile float* p = states + i;
    p[0] = s.m; p[AFT_CW] = s.n; p[2 * AFT_CW] = s.d;
}

__device__ __forceinline__ AftState aft_get_state(const float* states, long long i)
{
    const volatile float* p = states + i;
    AftState s; s.m = p[0]; s.n = p[AFT_CW]; s.d = p[2 * AFT_CW];
    return s;
}

// ---- the block-level scan shared by the kernels ----
struct AftShared
{
    float m[AFT_SEG][AFT_CW], n[AFT_SEG][AFT_CW], d[AFT_SEG][AFT_CW];
    float pm[AFT_CW], pn[AFT_CW], pd[AFT_CW];          // the tile's exclusive prefix
    int found;                                          // nearest tile with an inclusive prefix (−1: the identity)
};

__device__ __forceinline__ AftState aft_seg(const AftShared& sh, int s, int c)
{
    AftState r; r.m = sh.m[s][c]; r.n = sh.n[s][c]; r.d = sh.d[s][c]; return r;
}

__device__ __forceinline__ void aft_put_seg(AftShared& sh, int s, int c, AftState v)
{
    sh.m[s][c] = v.m; sh.n[s][c] = v.n; sh.d[s][c] = v.d;
}

// Thread layout of a block: channel slot ct (consecutive threads, consecutive channels), time segment seg.
__device__ __forceinline__ int aft_ct() { return (int)threadIdx.x % AFT_CHT; }
__device__ __forceinline__ int aft_segment() { return (int)threadIdx.x / AFT_CHT; }

// Each thread has the aggregate of its run (`run`, per channel slot) and its segment's index in scan
// order (`seg`); returns in `start` the state its run starts from: the chain's prefix before this tile ⊕
// the runs of the segments before it in this tile. `tile` is the tile's index in scan order. The tile's
// aggregate and inclusive prefix are published in `states` behind its flag. Every thread must call it.
__device__ void aft_chain_scan(AftShared& sh, const AftState (&run)[AFT_VEC], int seg, AftState (&start)[AFT_VEC],
    float* states, int* flags, int chain, int tile, int tiles)
{
    const int tid = (int)threadIdx.x, ct = aft_ct();
    int* tileFlags = flags + 1 + (long long)chain * tiles;

#pragma unroll
    for (int v = 0; v < AFT_VEC; v++) aft_put_seg(sh, seg, ct * AFT_VEC + v, run[v]);
    __syncthreads();

    // The threads of segment 0 publish the tile's aggregate (the first tile's is its inclusive prefix).
    const bool publisher = aft_segment() == 0;
    AftState aggregate[AFT_VEC];
    if (publisher)
    {
#pragma unroll
        for (int v = 0; v < AFT_VEC; v++)
        {
            int c = ct * AFT_VEC + v;
            AftState a = aft_seg(sh, 0, c);
            for (int s = 1; s < AFT_SEG; s++) a = aft_combine(a, aft_seg(sh, s, c));
            aggregate[v] = a;
            aft_put_state(states, aft_state_index(chain, tile, tiles, 0, 0, c), a);
            if (tile == 0) aft_put_state(states, aft_state_index(chain, tile, tiles, 1, 0, c), a);
        }
        __threadfence();
    }
    __syncthreads();
    if (tid == 0) *(volatile int*)(tileFlags + tile) = tile == 0 ? 2 : 1;

    // Warp 0 finds the nearest earlier tile with an inclusive prefix, 32 flags at a time, having seen
    // every tile in between publish at least its aggregate.
    if (tile > 0 && tid < 32)
    {
        int base = tile - 1;
        for (;;)
        {
            int i = base - tid;
            int flag = i >= 0 ? *(volatile int*)(tileFlags + i) : 2;   // before the first tile: the identity
            unsigned int inclusive = __ballot_sync(0xffffffffu, flag == 2);
            unsigned int pending = __ballot_sync(0xffffffffu, flag == 0);
            if (inclusive != 0u)
            {
                int lane = aft_lowest_bit(inclusive);
                if ((pending & ((1u << lane) - 1u)) == 0u) { if (tid == 0) sh.found = base - lane; break; }
            }
            else if (pending == 0u) base -= 32;
        }
        __threadfence();
    }
    __syncthreads();

    // The same threads fold the prefix from there and publish the tile's inclusive prefix.
    if (publisher)
    {
#pragma unroll
        for (int v = 0; v < AFT_VEC; v++)
        {
            int c = ct * AFT_VEC + v;
            AftState prefix = aft_identity();
            if (tile > 0)
            {
                const int found = sh.found;
                if (found >= 0) prefix = aft_get_state(states, aft_state_index(chain, found, tiles, 1, 0, c));
                // Loads in batches, so that their latencies overlap; the fold's order stays the same.
                int i = found + 1;
                for (; i + AFT_FOLD_BATCH <= tile; i += AFT_FOLD_BATCH)
                {
                    AftState batch[AFT_FOLD_BATCH];
#pragma unroll
                    for (int u = 0; u < AFT_FOLD_BATCH; u++) batch[u] = aft_get_state(states, aft_state_index(chain, i + u, tiles, 0, 0, c));
#pragma unroll
                    for (int u = 0; u < AFT_FOLD_BATCH; u++) prefix = aft_combine(prefix, batch[u]);
                }
                for (; i < tile; i++)
                    prefix = aft_combine(prefix, aft_get_state(states, aft_state_index(chain, i, tiles, 0, 0, c)));
                aft_put_state(states, aft_state_index(chain, tile, tiles, 1, 0, c), aft_combine(prefix, aggregate[v]));
            }
            sh.pm[c] = prefix.m; sh.pn[c] = prefix.n; sh.pd[c] = prefix.d;
        }
        if (tile > 0) __threadfence();
    }
    __syncthreads();
    if (tid == 0 && tile > 0 && tile % AFT_INCLUSIVE_FLAG_EVERY == 0) *(volatile int*)(tileFlags + tile) = 2;

#pragma unroll
    for (int v = 0; v < AFT_VEC; v++)
    {
        int c = ct * AFT_VEC + v;
        AftState s; s.m = sh.pm[c]; s.n = sh.pn[c]; s.d = sh.pd[c];
        for (int i = 0; i < seg; i++) s = aft_combine(s, aft_seg(sh, i, c));
        start[v] = s;
    }
    __syncthreads();                                    // the shared state may be reused after this
}

// Where this thread's run and channel slot lie.
struct AftPlace { int b, c0, t0; bool channels; long long rowBase; };

__device__ __forceinline__ AftPlace aft_place(int chain, int tileInTime, int T)
{
    AftPlace p;
    p.b = chain / AFT_CG;
    p.c0 = (chain % AFT_CG) * AFT_CW + aft_ct() * AFT_VEC;
    p.channels = p.c0 < AFT_D;
    p.t0 = tileInTime * AFT_TT + aft_segment() * AFT_RUN;
    p.rowBase = (long long)p.b * T * AFT_D;
    return p;
}

__device__ __forceinline__ bool aft_valid(const AftPlace& p, int r, int T) { return p.channels && p.t0 + r < T; }
__device__ __forceinline__ long long aft_row(const AftPlace& p, int r) { return p.rowBase + (long long)(p.t0 + r) * AFT_D; }

// Loads K and V of this thread's run and returns its forward aggregate.
__device__ __forceinline__ void aft_forward_run(const aft_elem* k, const aft_elem* v, const AftPlace& p, int T,
    float (&kr)[AFT_RUN][AFT_VEC], float (&vr)[AFT_RUN][AFT_VEC], AftState (&run)[AFT_VEC])
{
#pragma unroll
    for (int c = 0; c < AFT_VEC; c++) run[c] = aft_identity();
#pragma unroll
    for (int r = 0; r < AFT_RUN; r++)
    {
#pragma unroll
        for (int c = 0; c < AFT_VEC; c++) { kr[r][c] = 0.0f; vr[r][c] = 0.0f; }
        if (aft_valid(p, r, T))
        {
            aft_load_vec(k, aft_row(p, r), p.c0, kr[r]);
            aft_load_vec(v, aft_row(p, r), p.c0, vr[r]);
#pragma unroll
            for (int c = 0; c < AFT_VEC; c++) aft_step(run[c], kr[r][c], vr[r][c], 1.0f);
        }
    }
}

__device__ __forceinline__ int aft_ticket(int* flags)
{
    __shared__ int ticket;
    if (threadIdx.x == 0) ticket = atomicAdd(flags, 1);
    __syncthreads();
    int t = ticket;
    __syncthreads();
    return t;
}

// ---- causal ----

// Forward, one pass. flags: [0] the ticket counter, then one flag per (chain, tile), all zero at launch.
// states: [chains, tiles, 2, 3, AFT_CW], kept for the backward, which restarts tile j from incl[j − 1].
extern "C" __global__ __launch_bounds__(AFT_THREADS) void aft_simple_causal_forward(
    const aft_elem* __restrict__ q, const aft_elem* __restrict__ k, const aft_elem* __restrict__ v,
    aft_elem* __restrict__ y, float* states, int* flags, int T, int chains, int tiles)
{
    __shared__ AftShared sh;
    const int ticket = aft_ticket(flags), chain = ticket % chains, tile = ticket / chains;
    const AftPlace p = aft_place(chain, tile, T);

    float kr[AFT_RUN][AFT_VEC], vr[AFT_RUN][AFT_VEC], qr[AFT_RUN][AFT_VEC];
    AftState s[AFT_VEC];
    aft_forward_run(k, v, p, T, kr, vr, s);
    // Q is loaded before the look-back, so that its latency overlaps the chain's.
#pragma unroll
    for (int r = 0; r < AFT_RUN; r++)
        if (aft_valid(p, r, T)) aft_load_vec(q, aft_row(p, r), p.c0, qr[r]);
    aft_chain_scan(sh, s, aft_segment(), s, states, flags, chain, tile, tiles);

#pragma unroll
    for (int r = 0; r < AFT_RUN; r++)
    {
        if (aft_valid(p, r, T))
        {
            float out[AFT_VEC];
#pragma unroll
            for (int c = 0; c < AFT_VEC; c++)
            {
                aft_step(s[c], kr[r][c], vr[r][c], 1.0f);
                out[c] = aft_sigmoid(qr[r][c]) * __fdividef(s[c].n, s[c].d);
            }
            aft_store_vec(y, aft_row(p, r), p.c0, out);
        }
    }
}

// Backward: recomputes R and ℓ inside each tile from the forward's incl[tile − 1] (the same bits the
// forward used), then runs the reverse scan of (x = −ℓ, S, S ⊙ R), chained from the last tile to the first.
//   ∂Q = G ⊙ R ⊙ σ(Q)(1 − σ(Q));  ∂V_t' = e^{K_t' + μ} a;  ∂K_t' = V_t' ⊙ ∂V_t' − e^{K_t' + μ} b
// with (μ, a, b) the suffix state at t'; K_t' + μ = max_{t ≥ t'} (K_t' − ℓ_t) ≤ 0 up to rounding.
extern "C" __global__ __launch_bounds__(AFT_THREADS) void aft_simple_causal_backward(
    const aft_elem* __restrict__ q, const aft_elem* __restrict__ k, const aft_elem* __restrict__ v,
    const aft_elem* __restrict__ g, const float* __restrict__ forwardStates,
    aft_elem* __restrict__ dq, aft_elem* __restrict__ dk, aft_elem* __restrict__ dv,
    float* states, int* flags, int T, int chains, int tiles)
{
    __shared__ AftShared sh;
    const int ticket = aft_ticket(flags), chain = ticket % chains, order = ticket / chains;
    const int tile = tiles - 1 - order;                 // in time; `order` is its index in scan order
    const AftPlace p = aft_place(chain, tile, T);
    const int ct = aft_ct(), seg = aft_segment();

    float kr[AFT_RUN][AFT_VEC], vr[AFT_RUN][AFT_VEC], xr[AFT_RUN][AFT_VEC], ur[AFT_RUN][AFT_VEC], wr[AFT_RUN][AFT_VEC];
    AftState s[AFT_VEC];
    aft_forward_run(k, v, p, T, kr, vr, s);

    // The forward inside the tile, from the saved prefix.
#pragma unroll
    for (int c = 0; c < AFT_VEC; c++) aft_put_seg(sh, seg, ct * AFT_VEC + c, s[c]);
    __syncthreads();
#pragma unroll
    for (int c = 0; c < AFT_VEC; c++)
    {
        int ch = ct * AFT_VEC + c;
        s[c] = tile > 0 ? aft_get_state(forwardStates, aft_state_index(chain, tile - 1, tiles, 1, 0, ch)) : aft_identity();
        for (int i = 0; i < seg; i++) s[c] = aft_combine(s[c], aft_seg(sh, i, ch));
    }
    __syncthreads();

#pragma unroll
    for (int r = 0; r < AFT_RUN; r++)
    {
#pragma unroll
        for (int c = 0; c < AFT_VEC; c++) { xr[r][c] = 0.0f; ur[r][c] = 0.0f; wr[r][c] = 0.0f; }
        if (aft_valid(p, r, T))
        {
            float qr[AFT_VEC], gr[AFT_VEC], dqr[AFT_VEC];
            aft_load_vec(q, aft_row(p, r), p.c0, qr);
            aft_load_vec(g, aft_row(p, r), p.c0, gr);
#pragma unroll
            for (int c = 0; c < AFT_VEC; c++)
            {
                aft_step(s[c], kr[r][c], vr[r][c], 1.0f);
                float ratio = __fdividef(s[c].n, s[c].d);
                float gate = aft_sigmoid(qr[c]);
                float gated = gr[c] * gate;
                dqr[c] = gated * ratio * (1.0f - gate);
                xr[r][c] = -(s[c].m + __logf(s[c].d));
                ur[r][c] = gated;
                wr[r][c] = gated * ratio;
            }
            aft_store_vec(dq, aft_row(p, r), p.c0, dqr);
        }
    }

    // The reverse scan: each run's suffix aggregate; in scan order the segments run from the last to the first.
#pragma unroll
    for (int c = 0; c < AFT_VEC; c++) s[c] = aft_identity();
#pragma unroll
    for (int r = AFT_RUN - 1; r >= 0; r--)
        if (aft_valid(p, r, T))
#pragma unroll
            for (int c = 0; c < AFT_VEC; c++) aft_step(s[c], xr[r][c], ur[r][c], wr[r][c]);
    aft_chain_scan(sh, s, AFT_SEG - 1 - seg, s, states, flags, chain, order, tiles);

#pragma unroll
    for (int r = AFT_RUN - 1; r >= 0; r--)
    {
        if (aft_valid(p, r, T))
        {
            float dkr[AFT_VEC], dvr[AFT_VEC];
#pragma unroll
            for (int c = 0; c < AFT_VEC; c++)
            {
                aft_step(s[c], xr[r][c], ur[r][c], wr[r][c]);
                float weight = __expf(kr[r][c] + s[c].m);
                dvr[c] = weight * s[c].n;
                dkr[c] = vr[r][c] * dvr[c] - weight * s[c].d;
            }
            aft_store_vec(dv, aft_row(p, r), p.c0, dvr);
            aft_store_vec(dk, aft_row(p, r), p.c0, dkr);
        }
    }
}

// ---- non-causal ----

// Per (batch, channel) reductions over time, tile by tile (partial states [chains, tiles, 1, 3,
// AFT_CW]), folded in tile order by aft_simple_fold, then one element-wise pass.

// The block's reduction of its tile: runs, then segments in order; thread slot ct of segment 0 writes it.
__device__ __forceinline__ void aft_reduce_tile(AftShared& sh, const AftState (&run)[AFT_VEC], float* partials,
    int chain, int tile, int tiles)
{
    const int ct = aft_ct();
#pragma unroll
    for (int v = 0; v < AFT_VEC; v++) aft_put_seg(sh, aft_segment(), ct * AFT_VEC + v, run[v]);
    __syncthreads();
    if (aft_segment() == 0)
#pragma unroll
        for (int v = 0; v < AFT_VEC; v++)
        {
            int c = ct * AFT_VEC + v;
            AftState a = aft_seg(sh, 0, c);
            for (int s = 1; s < AFT_SEG; s++) a = aft_combine(a, aft_seg(sh, s, c));
            aft_put_state(partials, aft_state_index(chain, tile, tiles, 0, 0, c), a);
        }
}

// Forward reduction: per span of `span` consecutive tiles, (max K, Σ e^{K − m} V, Σ e^{K − m}), one partial
// state each (`partials` of them per chain). Grid: chains · partials blocks.
extern "C" __global__ __launch_bounds__(AFT_THREADS) void aft_simple_reduce_forward(
    const aft_elem* __restrict__ k, const aft_elem* __restrict__ v, float* partials, int T, int chains, int count, int span)
{
    __shared__ AftShared sh;
    const int chain = (int)blockIdx.x % chains, part = (int)blockIdx.x / chains;
    AftState run[AFT_VEC];
#pragma unroll
    for (int c = 0; c < AFT_VEC; c++) run[c] = aft_identity();
    for (int tile = part * span; tile < (part + 1) * span; tile++)
    {
        const AftPlace p = aft_place(chain, tile, T);
#pragma unroll
        for (int r = 0; r < AFT_RUN; r++)
        {
            if (aft_valid(p, r, T))
            {
                float kr[AFT_VEC], vr[AFT_VEC];
                aft_load_vec(k, aft_row(p, r), p.c0, kr);
                aft_load_vec(v, aft_row(p, r), p.c0, vr);
#pragma unroll
                for (int c = 0; c < AFT_VEC; c++) aft_step(run[c], kr[c], vr[c], 1.0f);
            }
        }
    }
    aft_reduce_tile(sh, run, partials, chain, part, count);
}

// Backward reduction: per span of tiles, Σ S with S = G ⊙ σ(Q) (key 0: a plain sum in the n field).
extern "C" __global__ __launch_bounds__(AFT_THREADS) void aft_simple_reduce_backward(
    const aft_elem* __restrict__ q, const aft_elem* __restrict__ g, float* partials, int T, int chains, int count, int span)
{
    __shared__ AftShared sh;
    const int chain = (int)blockIdx.x % chains, part = (int)blockIdx.x / chains;
    AftState run[AFT_VEC];
#pragma unroll
    for (int c = 0; c < AFT_VEC; c++) { run[c].m = 0.0f; run[c].n = 0.0f; run[c].d = 0.0f; }
    for (int tile = part * span; tile < (part + 1) * span; tile++)
    {
        const AftPlace p = aft_place(chain, tile, T);
#pragma unroll
        for (int r = 0; r < AFT_RUN; r++)
        {
            if (aft_valid(p, r, T))
            {
                float qr[AFT_VEC], gr[AFT_VEC];
                aft_load_vec(q, aft_row(p, r), p.c0, qr);
                aft_load_vec(g, aft_row(p, r), p.c0, gr);
#pragma unroll
                for (int c = 0; c < AFT_VEC; c++) run[c].n = aft_add(run[c].n, gr[c] * aft_sigmoid(qr[c]));
            }
        }
    }
    aft_reduce_tile(sh, run, partials, chain, part, count);
}

// Folds the tiles' partial states in order, one thread per (batch, channel): the forward's ratio
// R = n / d and log-denominator ℓ = m + log d (kind 0), or the backward's Σ S (kind 1, in `first`).
// Grid: ceil(B · AFT_D / 256) blocks of 256.
extern "C" __global__ __launch_bounds__(256) void aft_simple_fold(
    const float* __restrict__ partials, float* __restrict__ first, float* __restrict__ second, int batch, int tiles, int kind)
{
    const int i = (int)(blockIdx.x * blockDim.x + threadIdx.x);
    if (i >= batch * AFT_D) return;
    const int b = i / AFT_D, channel = i % AFT_D, chain = b * AFT_CG + channel / AFT_CW, c = channel % AFT_CW;
    AftState s = aft_get_state(partials, aft_state_index(chain, 0, tiles, 0, 0, c));
    for (int j = 1; j < tiles; j++) s = aft_combine(s, aft_get_state(partials, aft_state_index(chain, j, tiles, 0, 0, c)));
    if (kind == 0) { first[i] = __fdividef(s.n, s.d); second[i] = s.m + __logf(s.d); }
    else first[i] = s.n;
}

// Y = σ(Q) ⊙ R. Grid: (ceil(T · AFT_D / (256 · AFT_ELEMENTS)), B) blocks of 256; T · AFT_D < 2³¹.
extern "C" __global__ __launch_bounds__(256) void aft_simple_output(
    const aft_elem* __restrict__ q, const float* __restrict__ ratio, aft_elem* __restrict__ y, int T)
{
    const int n = T * AFT_D;
    const long long batch = (long long)blockIdx.y * n;
    const float* r = ratio + blockIdx.y * AFT_D;
#pragma unroll
    for (int e = 0; e < AFT_ELEMENTS; e++)
    {
        const int i = (int)(blockIdx.x * AFT_ELEMENTS + e) * 256 + (int)threadIdx.x;
        if (i < n) aft_store(y, batch + i, aft_sigmoid(aft_load(q, batch + i)) * r[i % AFT_D]);
    }
}

// ∂Q = G ⊙ R ⊙ σ'(Q);  ∂V = softmax_t(K) · ΣS;  ∂K = softmax_t(K) · ΣS · (V − R). Grid as aft_simple_output.
extern "C" __global__ __launch_bounds__(256) void aft_simple_gradients(
    const aft_elem* __restrict__ q, const aft_elem* __restrict__ k, const aft_elem* __restrict__ v,
    const aft_elem* __restrict__ g, const float* __restrict__ ratio, const float* __restrict__ logDenominator,
    const float* __restrict__ total, aft_elem* __restrict__ dq, aft_elem* __restrict__ dk, aft_elem* __restrict__ dv, int T)
{
    const int n = T * AFT_D;
    const long long batch = (long long)blockIdx.y * n;
    const int bc = blockIdx.y * AFT_D;
#pragma unroll
    for (int e = 0; e < AFT_ELEMENTS; e++)
    {
        const int i = (int)(blockIdx.x * AFT_ELEMENTS + e) * 256 + (int)threadIdx.x;
        if (i >= n) continue;
        const long long at = batch + i;
        const int c = bc + i % AFT_D;
        const float gate = aft_sigmoid(aft_load(q, at)), r = ratio[c];
        const float weight = __expf(aft_load(k, at) - logDenominator[c]) * total[c];
        aft_store(dq, at, aft_load(g, at) * r * gate * (1.0f - gate));
        aft_store(dv, at, weight);
        aft_store(dk, at, weight * (aft_load(v, at) - r));
    }
}
