// Runs CUDA C kernels on the host, for tests on machines without a GPU: each CUDA thread is a host
// thread, each block runs on its own (blocks in index order, one after another, so a block may wait
// for any earlier block, as a decoupled look-back does), __syncthreads is a barrier of the block's
// threads, warp shuffles and votes are barriers of the warp's threads. It is slow and meant for small
// sizes; what it checks is the kernel's indexing and arithmetic, not its speed.
//
// Supported: threadIdx/blockIdx/blockDim/gridDim, __shared__ (static), dynamic shared memory through
// AFT_DYNAMIC_SHARED, __syncthreads, __syncwarp, __shfl(_up/_down/_xor)_sync, __ballot_sync,
// __any_sync, __all_sync, atomics (add, min, max, CAS) on int/unsigned/unsigned long long/float, __threadfence, and the
// fast-math intrinsics the kernels use. A kernel that needs more fails to compile here: add it.
#pragma once
#include <algorithm>
#include <atomic>
#include <barrier>
#include <cmath>
#include <math.h>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __launch_bounds__(...)
#define __restrict__ __restrict
#define __shared__ static
#define __constant__ static

struct dim3 { unsigned int x = 1, y = 1, z = 1; };
struct uint3 { unsigned int x = 0, y = 0, z = 0; };

namespace aft_emu {
struct Warp {
    explicit Warp(std::ptrdiff_t lanes) : barrier(lanes) {}
    std::barrier<> barrier;
    unsigned long long exchange[32] = {};
};
struct Block {
    explicit Block(std::ptrdiff_t threads) : barrier(threads) {}
    std::barrier<> barrier;
    std::vector<std::unique_ptr<Warp>> warps;
    std::vector<unsigned char> dynamicShared;
};
inline thread_local Block* block = nullptr;
inline thread_local Warp* warp = nullptr;
inline thread_local unsigned int lane = 0;
}

inline thread_local uint3 threadIdx;
inline thread_local uint3 blockIdx;
inline thread_local dim3 blockDim;
inline thread_local dim3 gridDim;
constexpr int warpSize = 32;

#define AFT_DYNAMIC_SHARED(type, name) type* name = reinterpret_cast<type*>(aft_emu::block->dynamicShared.data())

inline void __syncthreads() { aft_emu::block->barrier.arrive_and_wait(); }
inline void __syncwarp(unsigned = 0xffffffffu) { aft_emu::warp->barrier.arrive_and_wait(); }
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_block() { std::atomic_thread_fence(std::memory_order_seq_cst); }

namespace aft_emu {
template <class T> T exchange(T value, int source)
{
    static_assert(sizeof(T) <= 8, "warp exchange of at most 8 bytes");
    unsigned long long bits = 0;
    std::memcpy(&bits, &value, sizeof(T));
    warp->exchange[lane] = bits;
    warp->barrier.arrive_and_wait();
    unsigned long long got = warp->exchange[(source >= 0 && source < 32) ? source : lane];
    warp->barrier.arrive_and_wait();
    T result;
    std::memcpy(&result, &got, sizeof(T));
    return result;
}
}

template <class T> T __shfl_sync(unsigned, T v, int src, int width = 32) { return aft_emu::exchange(v, (int)(aft_emu::lane / width * width) + src % width); }
template <class T> T __shfl_up_sync(unsigned, T v, unsigned d, int width = 32)
{
    int l = (int)aft_emu::lane, base = l / width * width;
    return aft_emu::exchange(v, l - (int)d >= base ? l - (int)d : l);
}
template <class T> T __shfl_down_sync(unsigned, T v, unsigned d, int width = 32)
{
    int l = (int)aft_emu::lane, base = l / width * width;
    return aft_emu::exchange(v, l + (int)d < base + width ? l + (int)d : l);
}
template <class T> T __shfl_xor_sync(unsigned, T v, int mask, int width = 32)
{
    int l = (int)aft_emu::lane, target = l ^ mask;
    return aft_emu::exchange(v, target / width == l / width ? target : l);
}
inline unsigned __ballot_sync(unsigned, int predicate)
{
    unsigned result = 0;
    for (int i = 0; i < 32; i++) {
        int p = aft_emu::exchange(predicate ? 1 : 0, i);
        if (p) result |= 1u << i;
    }
    return result;
}
inline int __any_sync(unsigned m, int p) { return __ballot_sync(m, p) != 0; }
inline int __all_sync(unsigned m, int p)
{
    unsigned all = 0;
    for (int i = 0; i < 32; i++) all |= 1u << i;
    return __ballot_sync(m, p) == (all & __ballot_sync(m, 1));
}

template <class T> T atomicAdd(T* p, T v) { return std::atomic_ref<T>(*p).fetch_add(v); }
inline float atomicAdd(float* p, float v)
{
    std::atomic_ref<float> a(*p);
    float old = a.load();
    while (!a.compare_exchange_weak(old, old + v)) {}
    return old;
}
template <class T> T atomicMax(T* p, T v)
{
    std::atomic_ref<T> a(*p);
    T old = a.load();
    while (old < v && !a.compare_exchange_weak(old, v)) {}
    return old;
}
template <class T> T atomicMin(T* p, T v)
{
    std::atomic_ref<T> a(*p);
    T old = a.load();
    while (v < old && !a.compare_exchange_weak(old, v)) {}
    return old;
}
template <class T> T atomicCAS(T* p, T expected, T desired)
{
    std::atomic_ref<T>(*p).compare_exchange_strong(expected, desired);
    return expected;
}
template <class T> T atomicExch(T* p, T v) { return std::atomic_ref<T>(*p).exchange(v); }

inline float __uint_as_float(unsigned int u) { float f; std::memcpy(&f, &u, 4); return f; }
inline unsigned int __float_as_uint(float f) { unsigned int u; std::memcpy(&u, &f, 4); return u; }
inline int __float_as_int(float f) { int u; std::memcpy(&u, &f, 4); return u; }
inline float __int_as_float(int u) { float f; std::memcpy(&f, &u, 4); return f; }
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __frcp_rn(float a) { return 1.0f / a; }
inline float __saturatef(float a) { return a < 0 ? 0 : a > 1 ? 1 : a; }
inline float rsqrtf(float a) { return 1.0f / std::sqrt(a); }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
template <class T> T __ldg(const T* p) { return *p; }
using std::isinf; using std::isnan; using std::isfinite;   // expf, fmaxf and the other C functions come from math.h

namespace aft_emu {
inline thread_local std::string lastError;

template <class... P, std::size_t... I>
void invoke(void (*kernel)(P...), void** args, std::index_sequence<I...>)
{
    kernel(*static_cast<std::remove_reference_t<P>*>(args[I])...);
}

// Runs the whole grid; returns 0, or 1 with lastError set.
template <class... P>
int launch(void (*kernel)(P...), dim3 grid, dim3 blockSize, unsigned sharedBytes, void** args)
{
    try {
        unsigned threads = blockSize.x * blockSize.y * blockSize.z;
        if (threads == 0 || threads > 1024) { lastError = "block of " + std::to_string(threads) + " threads (1 to 1024 allowed)"; return 1; }
        for (unsigned bz = 0; bz < grid.z; bz++)
        for (unsigned by = 0; by < grid.y; by++)
        for (unsigned bx = 0; bx < grid.x; bx++) {
            Block shared((std::ptrdiff_t)threads);
            shared.dynamicShared.assign(sharedBytes + 16, 0);
            for (unsigned w = 0; w < (threads + 31) / 32; w++)
                shared.warps.push_back(std::make_unique<Warp>((std::ptrdiff_t)std::min(32u, threads - w * 32)));
            std::vector<std::thread> pool;
            std::exception_ptr failure;
            for (unsigned t = 0; t < threads; t++)
                pool.emplace_back([&, t] {
                    block = &shared; warp = shared.warps[t / 32].get(); lane = t % 32;
                    threadIdx = {t % blockSize.x, t / blockSize.x % blockSize.y, t / (blockSize.x * blockSize.y)};
                    blockIdx = {bx, by, bz}; blockDim = blockSize; gridDim = grid;
                    invoke(kernel, args, std::index_sequence_for<P...>{});
                });
            for (auto& thread : pool) thread.join();
        }
        return 0;
    } catch (const std::exception& e) { lastError = e.what(); return 1; }
}
}

// The registration block the test harness appends after a kernel source: one AFT_EMU_KERNEL per kernel.
#define AFT_EMU_BEGIN extern "C" int aft_emu_launch(const char* name, unsigned gx, unsigned gy, unsigned gz, \
    unsigned bx, unsigned by, unsigned bz, unsigned shared, void** args) { dim3 g{gx, gy, gz}, b{bx, by, bz};
#define AFT_EMU_KERNEL(k) if (std::strcmp(name, #k) == 0) return aft_emu::launch(k, g, b, shared, args);
#define AFT_EMU_END aft_emu::lastError = std::string("no kernel named ") + name; return 2; } \
    extern "C" const char* aft_emu_last_error() { return aft_emu::lastError.c_str(); }
