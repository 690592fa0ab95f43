// Shared by every AftDsl CUDA kernel. Compiled by NVRTC on the GPU (no CUDA headers needed) and, in
// tests, as C++ on the host under tests/AftDsl.Tests/Cuda/Emulation/cuda_host_emulation.h.
//
// Element type, chosen at compile time: -DAFT_BF16=1 for bfloat16 tensors, otherwise float32.
// Arithmetic is always float32; bfloat16 is only the storage format.

// Dynamic shared memory: AFT_DYNAMIC_SHARED(float, buffer); declares `buffer`. (The host emulation defines its own.)
#ifndef AFT_DYNAMIC_SHARED
#define AFT_DYNAMIC_SHARED(type, name) extern __shared__ type name[]
#endif

#if defined(AFT_BF16) && AFT_BF16
typedef unsigned short aft_elem;
#else
typedef float aft_elem;
#endif

__device__ __forceinline__ float aft_bf16_to_float(unsigned short x)
{
    return __uint_as_float(((unsigned int)x) << 16);
}

// Round to nearest even, as cvt.rn.bf16.f32 does; NaN stays NaN.
__device__ __forceinline__ unsigned short aft_float_to_bf16(float f)
{
#if defined(__CUDACC_RTC__) || defined(__CUDA_ARCH__)
    unsigned short r;
    asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(r) : "f"(f));
    return r;
#else
    unsigned int u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (unsigned short)(u >> 16);
#endif
}

__device__ __forceinline__ float aft_load(const aft_elem* p, long long i)
{
#if defined(AFT_BF16) && AFT_BF16
    return aft_bf16_to_float(p[i]);
#else
    return p[i];
#endif
}

__device__ __forceinline__ void aft_store(aft_elem* p, long long i, float v)
{
#if defined(AFT_BF16) && AFT_BF16
    p[i] = aft_float_to_bf16(v);
#else
    p[i] = v;
#endif
}

// v rounded to the storage type, as aft_store then aft_load would give it back.
__device__ __forceinline__ float aft_round(float v)
{
#if defined(AFT_BF16) && AFT_BF16
    return aft_bf16_to_float(aft_float_to_bf16(v));
#else
    return v;
#endif
}

__device__ __forceinline__ float aft_sigmoid(float x)
{
    return 1.0f / (1.0f + __expf(-x));
}
