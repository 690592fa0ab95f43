// AFT-full (paper Eq. 2) with w = U·Wᵀ: the element-wise passes around the matrix products, which run in
// cuBLAS through libtorch (host code: src/AftDsl/Kernels/Cuda/AftFullCuda.cs; maths and stability scheme:
// Kernels/Operators/AftFullOperators.cs). Each kernel replaces a chain of libtorch operators with one pass.
//
// Compile-time constants (-D): AFT_BF16 (1: bfloat16 tensors; arithmetic stays float32).
// Layouts: [B, T, H] tensors; X = [P ⊙ V | P] and the products over it are [B, T, 2H] when causal (per-batch
// products) and [T, B, 2H] otherwise (one product with E shared by the batch).
#include "aft_common.cuh"

#define AFT_FULL_THREADS 256

__device__ __forceinline__ long long aft_full_pair_row(int b, int t, int B, int T, int causal)
{
    return causal ? (long long)b * T + t : (long long)t * B + b;
}

// X = [P ⊙ V | P], P = exp(K − shift): shift [B, T, 1] (causal: each position's max over channels) or
// [B, 1, H] (its channel's max over time), so that no exponent is positive. Grid-stride over B·T·H.
// Causal, a non-finite element (a NaN or infinite key or value) is stored as 0 and its position recorded:
// firstNonFinite[b] becomes the earliest such t (atomicMin; null in the backward, which only needs the zeros).
// The products then multiply only finite X by the causal mask's zeros, so nothing from a later position
// reaches an earlier row, and the rows from firstNonFinite[b] on are recomputed exactly by the host.
extern "C" __global__ __launch_bounds__(AFT_FULL_THREADS) void aft_full_stack(
    const aft_elem* __restrict__ k, const aft_elem* __restrict__ v, const aft_elem* __restrict__ shift,
    aft_elem* __restrict__ x, int* __restrict__ firstNonFinite, int B, int T, int H, int causal)
{
    const long long n = (long long)B * T * H;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
    {
        const int c = (int)(i % H);
        const long long bt = i / H;
        const int b = (int)(bt / T), t = (int)(bt % T);
        const float s = aft_load(shift, causal ? bt : (long long)b * H + c);
        float p = __expf(aft_load(k, i) - s);
        float pv = p * aft_load(v, i);
        if (causal && !(isfinite(p) && isfinite(pv)))
        {
            if (firstNonFinite != nullptr) atomicMin(firstNonFinite + b, t);
            p = 0.0f;
            pv = 0.0f;
        }
        const long long row = aft_full_pair_row(b, t, B, T, causal) * 2 * H;
        aft_store(x, row + c, pv);
        aft_store(x, row + H + c, p);
    }
}

// E = exp(scores − row max), in place, one block per row of `columns` scores. The forward stores each row's
// max (store = 1); the backward reads it back (store = 0) so that E is rebuilt bit for bit. Row r's max
// lives at (r / rowsPerBatch) · batchStride + offset + r % rowsPerBatch (a chunk's slice of [B, T] or [T]).
extern "C" __global__ __launch_bounds__(AFT_FULL_THREADS) void aft_full_exp_rows(
    aft_elem* __restrict__ scores, aft_elem* __restrict__ rowMax, int columns,
    int rowsPerBatch, int batchStride, int offset, int store)
{
    __shared__ float partial[AFT_FULL_THREADS / 32];
    __shared__ float shift;
    const int r = (int)blockIdx.x;
    aft_elem* row = scores + (long long)r * columns;
    const long long at = (long long)(r / rowsPerBatch) * batchStride + offset + r % rowsPerBatch;
    if (store)
    {
        float m = aft_bf16_to_float(0xff80u);                             // −∞
        for (int i = (int)threadIdx.x; i < columns; i += blockDim.x) m = fmaxf(m, aft_load(row, i));
        for (int o = 16; o > 0; o /= 2) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
        if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = m;
        __syncthreads();
        if (threadIdx.x == 0)
        {
            for (int w = 1; w < (int)(blockDim.x / 32); w++) m = fmaxf(m, partial[w]);
            aft_store(rowMax, at, m);                                     // a row's max is one of its values: exact in any dtype
        }
    }
    if (threadIdx.x == 0) shift = aft_load(rowMax, at);
    __syncthreads();
    const float m = shift;
    for (int i = (int)threadIdx.x; i < columns; i += blockDim.x) aft_store(row, i, __expf(aft_load(row, i) - m));
}

// Causal E for the rows [start, start + count) of every batch element: E[b, j, i] = exp(score − μ) with
// score = bias[j, i] + shift[b, i] (rounded to the storage type, as a product's output would be) for sources
// i ≤ start + j, and 0 for later ones, which never enter the row's max μ. bias = U[start + j]·W[i] is
// [count, columns] and shared by the batch; shift [B, T] is each position's largest key. This replaces
// building per-batch scores with products, a mask and a separate exponential pass. One block per (b, j);
// the forward stores μ (store = 1), the backward reads it back so that E is rebuilt bit for bit.
extern "C" __global__ __launch_bounds__(AFT_FULL_THREADS) void aft_full_causal_exp_rows(
    const aft_elem* __restrict__ bias, const aft_elem* __restrict__ shift, aft_elem* __restrict__ e,
    aft_elem* __restrict__ rowMax, int columns, int count, int T, int start, int store)
{
    __shared__ float partial[AFT_FULL_THREADS / 32];
    __shared__ float rowShift;
    const int r = (int)blockIdx.x, b = r / count, j = r % count, last = start + j;
    const aft_elem* biasRow = bias + (long long)j * columns;
    const aft_elem* keyMax = shift + (long long)b * T;
    aft_elem* row = e + (long long)r * columns;
    const long long at = (long long)b * T + start + j;
    if (store)
    {
        float m = aft_bf16_to_float(0xff80u);                             // −∞
        for (int i = (int)threadIdx.x; i <= last; i += blockDim.x) m = fmaxf(m, aft_round(aft_load(biasRow, i) + aft_load(keyMax, i)));
        for (int o = 16; o > 0; o /= 2) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
        if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = m;
        __syncthreads();
        if (threadIdx.x == 0)
        {
            for (int w = 1; w < (int)(blockDim.x / 32); w++) m = fmaxf(m, partial[w]);
            aft_store(rowMax, at, m);                                     // one of the row's rounded scores: exact in any dtype
        }
    }
    if (threadIdx.x == 0) rowShift = aft_load(rowMax, at);
    __syncthreads();
    const float m = rowShift;
    for (int i = (int)threadIdx.x; i < columns; i += blockDim.x)
        aft_store(row, i, i <= last ? __expf(aft_round(aft_load(biasRow, i) + aft_load(keyMax, i)) - m) : 0.0f);
}

// For the rows [start, start + count) of every batch element: R = N / D from the products' [N | D]
// (sums: [B, count, 2H] causal, [count, B, 2H] otherwise), and Y = σ(Q) ⊙ R; keeps R and D for the backward.
extern "C" __global__ __launch_bounds__(AFT_FULL_THREADS) void aft_full_output(
    const aft_elem* __restrict__ sums, const aft_elem* __restrict__ q, aft_elem* __restrict__ ratio,
    aft_elem* __restrict__ denominator, aft_elem* __restrict__ y, int B, int T, int H, int start, int count, int causal)
{
    const long long n = (long long)B * count * H;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
    {
        const int c = (int)(i % H);
        const long long bi = i / H;
        const int b = (int)(bi / count), j = (int)(bi % count);
        const long long from = (causal ? (long long)b * count + j : (long long)j * B + b) * 2 * H;
        const float numerator = aft_load(sums, from + c), d = aft_load(sums, from + H + c);
        const long long to = ((long long)b * T + start + j) * H + c;
        const float r = numerator / d;
        aft_store(ratio, to, r);
        aft_store(denominator, to, d);
        aft_store(y, to, aft_sigmoid(aft_load(q, to)) * r);
    }
}

// ∂Q = G ⊙ R ⊙ σ'(Q) and the products' upstream [∂A | ∂D] = [h | −h ⊙ R], h = G ⊙ σ(Q) / D: [B, T, 2H].
extern "C" __global__ __launch_bounds__(AFT_FULL_THREADS) void aft_full_upstream(
    const aft_elem* __restrict__ q, const aft_elem* __restrict__ g, const aft_elem* __restrict__ ratio,
    const aft_elem* __restrict__ denominator, aft_elem* __restrict__ dq, aft_elem* __restrict__ upstream, int B, int T, int H)
{
    const long long n = (long long)B * T * H;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
    {
        const int c = (int)(i % H);
        const long long row = i / H * 2 * H;
        const float gate = aft_sigmoid(aft_load(q, i)), grad = aft_load(g, i), r = aft_load(ratio, i);
        const float h = grad * gate / aft_load(denominator, i);
        aft_store(dq, i, grad * r * gate * (1.0f - gate));
        aft_store(upstream, row + c, h);
        aft_store(upstream, row + H + c, -h * r);
    }
}

// ∂V = P ⊙ M_A and ∂K = P ⊙ (V ⊙ M_A + M_D), from M = Eᵀ·[∂A | ∂D] (layout as X) and P = exp(K − shift).
extern "C" __global__ __launch_bounds__(AFT_FULL_THREADS) void aft_full_key_value_gradients(
    const aft_elem* __restrict__ k, const aft_elem* __restrict__ v, const aft_elem* __restrict__ shift,
    const aft_elem* __restrict__ m, aft_elem* __restrict__ dk, aft_elem* __restrict__ dv, int B, int T, int H, int causal)
{
    const long long n = (long long)B * T * H;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
    {
        const int c = (int)(i % H);
        const long long bt = i / H;
        const int b = (int)(bt / T), t = (int)(bt % T);
        const float p = __expf(aft_load(k, i) - aft_load(shift, causal ? bt : (long long)b * H + c));
        const long long row = aft_full_pair_row(b, t, B, T, causal) * 2 * H;
        const float mA = aft_load(m, row + c), mD = aft_load(m, row + H + c);
        aft_store(dv, i, p * mA);
        aft_store(dk, i, p * (aft_load(v, i) * mA + mD));
    }
}

// ∂bias = E ⊙ products, in place on the products (both [rows, columns], contiguous); zero where E is.
extern "C" __global__ __launch_bounds__(AFT_FULL_THREADS) void aft_full_bias_gradient(
    const aft_elem* __restrict__ e, aft_elem* __restrict__ products, long long n)
{
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
    {
        const float weight = aft_load(e, i);
        aft_store(products, i, weight == 0.0f ? 0.0f : weight * aft_load(products, i));    // masked (future) entries stay 0
    }
}
