# Device check of aft_local.cu / aft_conv.cu: NVRTC (through CuPy) compiles the sources as the library
# embeds them; launches mirror AftLocalCuda.cs / AftConvCuda.cs; correctness vs float64 torch; timings.
import math, os, re, sys, json, time
import torch, cupy as cp, numpy as np

SRC = 'src/AftDsl/Cuda/Kernels'
def source(name):
    text = open(os.path.join(SRC, name)).read()
    return re.sub(r'^[ \t]*#include[ \t]+"([^"]+)"[ \t]*$', lambda m: source(m.group(1)), text, flags=re.M)

_mods = {}
def module(name, **defs):
    key = (name, tuple(sorted(defs.items())))
    if key not in _mods:
        opts = ('-std=c++17', '--gpu-architecture=sm_90') + tuple(f'-D{k}={v}' for k, v in defs.items())
        t = time.time()
        m = cp.RawModule(code=source(name), options=opts, backend='nvrtc')
        m.compile()
        print(f'compiled {name} {defs} in {time.time()-t:.2f}s', flush=True)
        _mods[key] = m
    return _mods[key]

class I32(int): pass
class I64(int): pass
def launch(mod, kernel, grid, block, *args):
    f = mod.get_function(kernel)
    conv = []
    for a in args:
        if isinstance(a, torch.Tensor):
            assert a.is_contiguous() and a.is_cuda
            conv.append(np.uint64(a.data_ptr()))
        elif a is None: conv.append(np.uint64(0))
        elif isinstance(a, I64): conv.append(np.int64(a))
        else: conv.append(np.int32(a))
    grid = tuple(int(g) for g in grid)
    if any(g == 0 for g in grid): return
    if PROFILE is not None:
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        f(grid, tuple(int(b) for b in block), tuple(conv))
        b.record(); torch.cuda.synchronize()
        PROFILE.setdefault(kernel, []).append(a.elapsed_time(b))
        return
    f(grid, tuple(int(b) for b in block), tuple(conv))
PROFILE = None

def F(*shape): return torch.empty(*shape, dtype=torch.float32, device='cuda')
cdiv = lambda a, b: (a + b - 1) // b
SHARED = 47 * 1024

# ---------------- AFT-local ----------------
def local_forward(q, k, v, u, w, window, causal, tiles=(32, 8, 32, 8)):
    B, T, D = k.shape; rank = u.shape[1]
    reach = min(window - 1, T - 1); LO = reach; HI = 0 if causal else reach; BAND = LO + HI + 1
    Tile, RY, BT0, RYB = tiles
    BT = BT0
    while BT > 1 and BT * (6 * 32 + BAND * 32) * 4 > SHARED: BT //= 2
    private = BT * (6 * 32 + BAND * 32) * 4 <= SHARED and BT >= min(RYB, BT0)
    if not private:
        BT = BT0
        while BT > 1 and BT * (6 * 32 + BAND) * 4 > SHARED: BT //= 2
    RY = min(RY, Tile); RYB = min(RYB, BT)
    mod = module('aft_local.cu', AFT_BF16=int(q.dtype == torch.bfloat16), D=D, RANK=rank, LO=LO, HI=HI, CAUSAL=int(causal), TILE=Tile, RY=RY, BT=BT, RYB=RYB, DW_PRIVATE=int(private))
    band = F(T, BAND)
    launch(mod, 'aft_local_bias', (T,), (128,), u, w, band, T)
    chunks, cb = cdiv(T, Tile), cdiv(D, 32)
    agg, prefix = F(B, chunks, 3, D), F(B, chunks, 3, D)
    suffix = None if causal else F(B, chunks, 3, D)
    launch(mod, 'aft_local_chunks_forward', (chunks, cb, B), (32,), k, v, agg, T)
    launch(mod, 'aft_local_chain', (cb, B), (32,), agg, prefix, suffix, chunks)
    y = torch.empty_like(q); shift, den, ratio = F(B, T, D), F(B, T, D), F(B, T, D)
    launch(mod, 'aft_local_forward', (chunks, cb, B), (32, RY), q, k, v, band, prefix, suffix, y, shift, den, ratio, T)
    return y, (mod, q, k, v, u, w, band, shift, den, ratio, B, T, D, BAND, BT, RYB, chunks, cb)

def local_backward(saved, grad):
    mod, q, k, v, u, w, band, shift, den, ratio, B, T, D, BAND, BT, RYB, chunks, cb = saved
    dq = torch.empty_like(q); alpha, beta = F(B, T, D), F(B, T, D)
    n = q.numel()
    launch(mod, 'aft_local_upstream', (cdiv(n, 256),), (256,), q, grad, ratio, den, dq, alpha, beta, I64(n))
    agg, prefix, suffix = F(B, chunks, 3, D), F(B, chunks, 3, D), F(B, chunks, 3, D)
    launch(mod, 'aft_local_chunks_backward', (chunks, cb, B), (32,), shift, alpha, beta, agg, T)
    launch(mod, 'aft_local_chain', (cb, B), (32,), agg, prefix, suffix, chunks)
    dk, dv = torch.empty_like(k), torch.empty_like(v)
    dband = torch.zeros(T, BAND, dtype=torch.float32, device='cuda')
    launch(mod, 'aft_local_backward', (cdiv(T, BT), cb), (32, RYB), k, v, band, shift, alpha, beta, prefix, suffix, dk, dv, dband, T, B)
    du, dw = torch.zeros_like(u), torch.zeros_like(w)
    launch(mod, 'aft_local_factor_gradients', (T,), (min(128, cdiv(u.shape[1], 32) * 32),), dband, u, w, du, dw, T)
    return dq, dk, dv, du, dw

def naive_full(q, k, v, bias, causal):
    scores = k.unsqueeze(1) + bias.unsqueeze(0).unsqueeze(3)
    if causal:
        T = k.shape[1]
        fut = torch.ones(T, T, dtype=torch.bool, device=k.device).triu(1)
        scores = scores.masked_fill(fut.unsqueeze(0).unsqueeze(3), float('-inf'))
    wts = scores.softmax(2)
    return q.sigmoid() * (wts * v.unsqueeze(1)).sum(2)

def naive_local(q, k, v, u, w, window, causal):
    T = k.shape[1]
    pos = torch.arange(T, device=k.device)
    mask = ((pos[:, None] - pos[None, :]).abs() < window).to(u.dtype)
    return naive_full(q, k, v, (u[:T] @ w[:T].t()) * mask, causal)

def rel(a, b):
    return ((a.double() - b.double()).abs().max() / b.double().abs().max().clamp_min(1e-300)).item()

def check_local(B, T, D, rank, window, causal, dtype):
    g = torch.Generator(device='cuda').manual_seed(1)
    x = [torch.randn(B, T, D, device='cuda', dtype=torch.float64, generator=g) for _ in range(3)] + \
        [torch.randn(T + 3, rank, device='cuda', dtype=torch.float64, generator=g) for _ in range(2)]
    x = [t.to(dtype).double() for t in x]
    y, saved = local_forward(*[t.to(dtype).contiguous() for t in x], window, causal)
    gout = torch.randn(B, T, D, device='cuda', dtype=torch.float64, generator=g).to(dtype)
    grads = local_backward(saved, gout)
    leaves = [t.clone().requires_grad_() for t in x]
    ref = naive_local(*leaves, window, causal)
    ref.backward(gout.double())
    errs = [rel(y, ref.detach())] + [rel(gr, l.grad) for gr, l in zip(grads, leaves)]
    print(f'local B={B} T={T} D={D} s={window} causal={causal} {dtype}: rel errors y,dq,dk,dv,du,dw = ' + ', '.join(f'{e:.1e}' for e in errs), flush=True)
    return errs

def bench(fn, iters=20):
    for _ in range(3): fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(iters):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record(); fn(); b.record(); torch.cuda.synchronize()
        times.append(a.elapsed_time(b))
    return sorted(times)[len(times) // 2]

def bench_local(T, window, causal, dtype, D=512, rank=64, tiles=(32, 8, 32, 8)):
    B = 32768 // T
    q, k, v = [torch.randn(B, T, D, device='cuda', dtype=dtype) for _ in range(3)]
    u, w = [(torch.randn(T, rank, device='cuda') * 0.1).to(dtype) for _ in range(2)]
    gout = torch.randn(B, T, D, device='cuda', dtype=dtype)
    fwd = bench(lambda: local_forward(q, k, v, u, w, window, causal, tiles))
    both = bench(lambda: local_backward(local_forward(q, k, v, u, w, window, causal, tiles)[1], gout))
    return fwd, both

def bench_sdpa(T, dtype, D=512, heads=8):
    B = 32768 // T
    q, k, v = [torch.randn(B, heads, T, D // heads, device='cuda', dtype=dtype, requires_grad=True) for _ in range(3)]
    g = torch.randn(B, heads, T, D // heads, device='cuda', dtype=dtype)
    f = lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    fwd = bench(lambda: f())
    both = bench(lambda: f().backward(g))
    return fwd, both

# ---------------- AFT-conv, grids ----------------
def conv2_forward(q, k, v, w):
    B, H, W, D = q.shape; heads = k.shape[-1]; S = w.shape[1]
    mod = module('aft_conv.cu', AFT_BF16=int(q.dtype == torch.bfloat16), D=D, HEADS=heads, SPATIAL=2, S=S, BEFORE=(S - 1) // 2)
    taps = w.float().contiguous()
    keyMax = F(B, heads)
    launch(mod, 'aft_conv2_key_max', (B * heads,), (256,), k, keyMax, H * W)
    shifted, scale = F(*taps.shape), F(heads)
    launch(mod, 'aft_conv2_taps', (heads,), (64,), taps, shifted, scale)
    oa, ob = outside(mod, B, H, W, D, 'aft_conv2_strips_forward', [k, v, keyMax], 0)
    y = torch.empty_like(q); den, ratio = F(B, H, W, D), F(B, H, W, D)
    n = q.numel()
    launch(mod, 'aft_conv2_forward', (cdiv(n, 256),), (256,), q, k, v, keyMax, shifted, scale, oa, ob, y, den, ratio, H, W, B)
    return y, (mod, q, k, v, w, keyMax, shifted, scale, den, ratio)

def outside(mod, B, H, W, D, kernel, args, backward):
    oa, ob = F(B, H, W, D), F(B, H, W, D); rows = F(B, H, 2, D)
    grid = (H, cdiv(D, 32), B)
    launch(mod, kernel, grid, (32,), *args, oa, ob, rows, H, W)
    launch(mod, 'aft_conv2_rows', grid, (32,), rows, oa, ob, H, W, backward)
    return oa, ob

def conv2_backward(saved, grad):
    mod, q, k, v, w, keyMax, shifted, scale, den, ratio = saved
    B, H, W, D = q.shape; heads = k.shape[-1]
    dq = torch.empty_like(q); alpha, beta = F(B, H, W, D), F(B, H, W, D)
    n = q.numel()
    launch(mod, 'aft_conv_upstream', (cdiv(n, 256),), (256,), q, grad, ratio, den, dq, alpha, beta, I64(n))
    oa, ob = outside(mod, B, H, W, D, 'aft_conv2_strips_backward', [alpha, beta], 1)
    dkc = F(B, H, W, D); dv = torch.empty_like(v)
    dtaps = torch.zeros(w.shape, dtype=torch.float32, device='cuda')
    launch(mod, 'aft_conv2_backward', (H, cdiv(D, 32), B), (32,), k, v, keyMax, shifted, scale, oa, ob, alpha, beta, dkc, dv, dtaps, H, W)
    dk = torch.empty_like(k)
    launch(mod, 'aft_conv_key_gradients', (cdiv(k.numel(), 256),), (256,), dkc, dk, I64(k.numel() // heads))
    return dq, dk, dv, dtaps.to(w.dtype)

def naive_conv2(q, k, v, w):
    B, H, W, D = q.shape; heads = k.shape[-1]; S = w.shape[1]; hw = D // heads; P = H * W
    before = (S - 1) // 2
    ys, xs = torch.meshgrid(torch.arange(H, device='cuda'), torch.arange(W, device='cuda'), indexing='ij')
    ys, xs = ys.flatten(), xs.flatten()
    dy = ys[None, :] - ys[:, None] + before; dx = xs[None, :] - xs[:, None] + before   # [target, source]
    inside = (dy >= 0) & (dy < S) & (dx >= 0) & (dx < S)
    idx = (dy.clamp(0, S - 1) * S + dx.clamp(0, S - 1))
    outs = []
    for h in range(heads):
        bias = w[h].flatten()[idx] * inside
        kk = k.reshape(B, P, heads)[:, :, h:h + 1].expand(B, P, hw)
        outs.append(naive_full(q.reshape(B, P, D)[:, :, h * hw:(h + 1) * hw], kk, v.reshape(B, P, D)[:, :, h * hw:(h + 1) * hw], bias, False))
    return torch.cat(outs, 2).reshape(q.shape)

def check_conv2(B, H, W, D, heads, S, dtype):
    g = torch.Generator(device='cuda').manual_seed(2)
    x = [torch.randn(B, H, W, D, device='cuda', dtype=torch.float64, generator=g), torch.randn(B, H, W, heads, device='cuda', dtype=torch.float64, generator=g),
         torch.randn(B, H, W, D, device='cuda', dtype=torch.float64, generator=g), torch.randn(heads, S, S, device='cuda', dtype=torch.float64, generator=g)]
    x = [t.to(dtype).double() for t in x]
    y, saved = conv2_forward(*[t.to(dtype).contiguous() for t in x])
    gout = torch.randn(B, H, W, D, device='cuda', dtype=torch.float64, generator=g).to(dtype)
    grads = conv2_backward(saved, gout)
    leaves = [t.clone().requires_grad_() for t in x]
    ref = naive_conv2(*leaves)
    ref.backward(gout.double())
    errs = [rel(y, ref.detach())] + [rel(gr, l.grad) for gr, l in zip(grads, leaves)]
    print(f'conv2 B={B} {H}x{W} D={D} heads={heads} S={S} {dtype}: rel errors y,dq,dk,dv,dw = ' + ', '.join(f'{e:.1e}' for e in errs), flush=True)

def bench_conv2(side, dtype, D=512, heads=32, S=7):
    B = 32768 // (side * side)
    q, v = [torch.randn(B, side, side, D, device='cuda', dtype=dtype) for _ in range(2)]
    k = torch.randn(B, side, side, heads, device='cuda', dtype=dtype)
    w = torch.randn(heads, S, S, device='cuda', dtype=dtype)
    gout = torch.randn_like(q)
    fwd = bench(lambda: conv2_forward(q, k, v, w))
    both = bench(lambda: conv2_backward(conv2_forward(q, k, v, w)[1], gout))
    return fwd, both

if __name__ == '__main__':
    parts = sys.argv[1:] or ['check', 'bench']
    print(torch.cuda.get_device_name(), torch.__version__, cp.__version__, flush=True)
    if 'check' in parts:
        for dtype in (torch.float32, torch.bfloat16):
            for causal in (True, False):
                check_local(2, 200, 72, 5, 33, causal, dtype)
            check_local(2, 40, 64, 3, 100, True, dtype)
            check_conv2(2, 9, 11, 64, 4, 5, dtype)
    if 'profile' in parts:
        for dtype in (torch.bfloat16,):
            for (T, s_) in ((1024, 32), (16384, 32), (1024, 256)):
                bench_local(T, s_, True, dtype)
                PROFILE = {}
                bench_local(T, s_, True, dtype)
                print(f'PROFILE local causal T={T} s={s_}: ' + ', '.join(f'{k} {sorted(v)[len(v)//2]:.3f}' for k, v in PROFILE.items()), flush=True)
                PROFILE = None
            bench_conv2(32, dtype)
            PROFILE = {}
            bench_conv2(32, dtype)
            print('PROFILE conv2 32x32: ' + ', '.join(f'{k} {sorted(v)[len(v)//2]:.3f}' for k, v in PROFILE.items()), flush=True)
            PROFILE = None
    if 'quick' in parts:
        for dtype in (torch.bfloat16,):
            for T in (1024, 16384):
                sd = bench_sdpa(T, dtype)
                for s in (32, 256):
                    for tiles in ((32, 8, 32, 8), (64, 8, 32, 8), (32, 4, 16, 4)):
                        f, b = bench_local(T, s, True, dtype, tiles=tiles)
                        print(f'BENCH local causal {dtype} T={T} s={s} tiles={tiles}: fwd {f:.3f} ms, fwd+bwd {b:.3f} ms | sdpa causal fwd {sd[0]:.3f} fwd+bwd {sd[1]:.3f}', flush=True)
    if 'bench' in parts:
        for dtype in (torch.bfloat16, torch.float32):
            for T in (1024, 4096, 16384):
                sd = bench_sdpa(T, dtype)
                for s in (32, 256):
                    f, b = bench_local(T, s, True, dtype)
                    print(f'BENCH local causal {dtype} T={T} s={s}: fwd {f:.3f} ms, fwd+bwd {b:.3f} ms | sdpa causal fwd {sd[0]:.3f} fwd+bwd {sd[1]:.3f}', flush=True)
            for side in (32, 64, 128):
                f, b = bench_conv2(side, dtype)
                print(f'BENCH conv2 7x7 32 heads {dtype} {side}x{side}: fwd {f:.3f} ms, fwd+bwd {b:.3f} ms', flush=True)
