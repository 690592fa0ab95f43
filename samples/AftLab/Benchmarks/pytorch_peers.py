#!/usr/bin/env python3
"""PyTorch peers of `aftlab bench` on a CUDA host: the same mixers, shapes and passes in PyTorch eager.

Writes one CSV row per case with the columns of aftlab's results.csv, so that
`aftlab bench --device cuda --peers FILE` puts both side by side in one report:

  pytorch-eager  AFT written in PyTorch operations (the matmul form for AFT-full, global sums plus
                 band blocks for AFT-local, softmax / cumulative sums for AFT-simple, a depthwise
                 convolution for AFT-conv), differentiated by autograd
  pytorch-sdpa   torch.nn.functional.scaled_dot_product_attention, 8 heads x 64 (FlashAttention)

Times are medians over CUDA-event-timed iterations after warm-up; peak memory is
torch.cuda.max_memory_allocated above the inputs.

    python3 pytorch_peers.py --lengths 1024,4096,16384 --tokens 32768 --dtype bfloat16 --output peers.csv
"""
import argparse
import csv
import os
import math
import statistics
import time

import torch
import torch.nn.functional as F

WIDTH, RANK, CONV_HEADS, CONV_WINDOW = 512, 128, 32, 7


def full(q, k, v, u, w, causal):
    t = k.shape[1]
    bias = u[:t] @ w[:t].T
    if causal:
        shift = k.amax(2, keepdim=True)
        p = (k - shift).exp()
        scores = (bias.unsqueeze(0) + shift.transpose(1, 2)).masked_fill(
            torch.ones(t, t, dtype=torch.bool, device=k.device).triu(1), float("-inf"))
        e = (scores - scores.amax(2, keepdim=True)).exp()
        sums = e @ torch.cat([p * v, p], 2)
    else:
        p = (k - k.amax(1, keepdim=True)).exp()
        e = (bias - bias.amax(1, keepdim=True)).exp()
        sums = e @ torch.cat([p * v, p], 2)
    h = k.shape[2]
    return q.sigmoid() * sums[..., :h] / sums[..., h:]


def local(q, k, v, u, w, window, causal):
    """Global sums plus the band correction (e^w - 1) P X on blocks of b rows facing windows of span sources."""
    b_, t, h = k.shape
    block = max(64, (2 * window + 15) // 16 * 16)
    blocks = -(-t // block)
    tail = (1 if causal else 2) * (window - 1)
    span = block + tail
    p = (k - k.amax(1, keepdim=True)).exp()
    x = torch.cat([p * v, p], 2)

    def source_blocks(y):
        total = (blocks + 1) * block
        y = F.pad(y, (0, 0, window - 1, total - t - (window - 1)))
        return y.view(y.shape[0], blocks + 1, block, y.shape[2])

    def windows(y):
        s = source_blocks(y)
        return torch.cat([s[:, :blocks], s[:, 1:, :tail]], 2)

    rows = F.pad(u[:t], (0, 0, 0, blocks * block - t)).view(blocks, block, -1)
    bias = rows @ windows(w[:t].unsqueeze(0)).squeeze(0).transpose(1, 2)
    offsets = torch.arange(span, device=k.device).unsqueeze(0) - (window - 1) - torch.arange(block, device=k.device).unsqueeze(1)
    inside = offsets.abs() < window
    if causal:
        inside &= offsets <= 0
    position = torch.arange(blocks, device=k.device).unsqueeze(1) * block + torch.arange(span, device=k.device) - (window - 1)
    inside = inside.unsqueeze(0) & ((position >= 0) & (position < t)).unsqueeze(1)
    factors = (bias.exp() - 1) * inside
    src = source_blocks(x)
    sums = factors[..., :block] @ src[:, :blocks] + factors[..., block:] @ src[:, 1:, :tail]
    sums = sums.reshape(b_, blocks * block, 2 * h)[:, :t]
    sums = sums + (x.cumsum(1) if causal else x.sum(1, keepdim=True))
    return q.sigmoid() * sums[..., :h] / sums[..., h:]


def simple(q, k, v, causal):
    if causal:
        p = (k - k.amax(1, keepdim=True)).exp()
        return q.sigmoid() * (p * v).cumsum(1) / p.cumsum(1)
    return q.sigmoid() * (k.softmax(1) * v).sum(1, keepdim=True)


def conv(q, k, v, w, causal):
    b, heads, width = k.shape[0], k.shape[-1], v.shape[-1]
    grid = k.shape[1:-1]
    positions = math.prod(grid)
    kf = k.reshape(b, positions, heads)
    p = (kf - kf.amax(1, keepdim=True)).exp()
    pv = (p.unsqueeze(3) * v.reshape(b, positions, heads, width // heads)).reshape(b, positions, width)
    x = torch.cat([pv, p], 2)
    taps = w.exp() - 1
    weight = torch.cat([taps.repeat_interleave(width // heads, 0), taps], 0).unsqueeze(1)
    size = w.shape[1]
    before, after = (size - 1, 0) if causal else ((size - 1) // 2, size - 1 - (size - 1) // 2)
    first = x.transpose(1, 2).reshape(b, width + heads, *grid)
    if len(grid) == 1:
        out = F.conv1d(F.pad(first, (before, after)), weight, groups=width + heads)
    else:
        out = F.conv2d(F.pad(first, (before, after, before, after)), weight, groups=width + heads)
    sums = out.reshape(b, width + heads, positions).transpose(1, 2) + (x.cumsum(1) if causal else x.sum(1, keepdim=True))
    ratio = sums[..., :width].reshape(b, positions, heads, width // heads) / sums[..., width:].unsqueeze(3)
    return q.sigmoid() * ratio.reshape(q.shape)


def cases(lengths, tokens, windows, dtype):
    for t in lengths:
        b = max(1, tokens // t)
        for causal in (False, True):
            for backward in (False, True):
                yield "full", "pytorch-eager", t, b, causal, backward, lambda t=t, b=b: full_inputs(b, t), \
                    lambda x, c=causal: full(*x, c)
                for s in windows:
                    if s < t:
                        yield f"local-{s}", "pytorch-eager", t, b, causal, backward, lambda t=t, b=b: full_inputs(b, t), \
                            lambda x, c=causal, s=s: local(*x, s, c)
                yield "simple", "pytorch-eager", t, b, causal, backward, lambda t=t, b=b: full_inputs(b, t)[:3], \
                    lambda x, c=causal: simple(*x, c)
                side = round(math.sqrt(t))
                if causal or (side * side == t and side <= 128):
                    grid = (t,) if causal else (side, side)
                    kernel = (CONV_HEADS, CONV_WINDOW) if causal else (CONV_HEADS, CONV_WINDOW, CONV_WINDOW)
                    yield f"conv-{CONV_HEADS}h-{CONV_WINDOW}", "pytorch-eager", t, b, causal, backward, \
                        lambda b=b, grid=grid, kernel=kernel: [torch.randn(b, *grid, WIDTH), torch.randn(b, *grid, CONV_HEADS),
                                                               torch.randn(b, *grid, WIDTH), torch.randn(*kernel) * 0.5], \
                        lambda x, c=causal: conv(*x, c)
                yield "mha-8x64", "pytorch-sdpa", t, b, causal, backward, \
                    lambda t=t, b=b: [torch.randn(b, 8, t, WIDTH // 8) for _ in range(3)], \
                    lambda x, c=causal: sdpa(x, c)


def sdpa(x, causal):
    """scaled_dot_product_attention on the fastest backend that takes these inputs: flash, then memory-efficient, then math."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    for backend in (SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH):
        try:
            with sdpa_kernel(backend):
                out = F.scaled_dot_product_attention(*x, is_causal=causal)
            sdpa.backend = backend.name.lower().replace("_attention", "")
            return out
        except RuntimeError:
            continue
    raise RuntimeError("no SDPA backend takes these inputs")


def full_inputs(b, t):
    return [torch.randn(b, t, WIDTH), torch.randn(b, t, WIDTH), torch.randn(b, t, WIDTH),
            torch.randn(t, RANK) * 0.1, torch.randn(t, RANK) * 0.1]


def measure(make, op, backward, dtype, iterations):
    torch.manual_seed(17)
    leaves = [x.to("cuda", dtype).requires_grad_(backward) for x in make()]
    upstream = None
    if backward:
        with torch.no_grad():
            upstream = torch.randn_like(op(leaves))

    def run():
        if backward:
            torch.autograd.grad(op(leaves), leaves, upstream)
        else:
            with torch.no_grad():
                op(leaves)

    run()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    run()
    torch.cuda.synchronize()
    peak = (torch.cuda.max_memory_allocated() - base) / 2**20
    times, host = [], []
    for _ in range(iterations):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        queued = time.perf_counter()
        run()
        host.append((time.perf_counter() - queued) * 1e3)      # the CPU's time to queue the run
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    quartiles = statistics.quantiles(times, n=4) if len(times) > 1 else [times[0]] * 3
    return statistics.median(times), quartiles[0], quartiles[2], len(times), peak, statistics.median(host)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", default="1024,4096,16384")
    parser.add_argument("--tokens", type=int, default=32768)
    parser.add_argument("--windows", default="32,256")
    parser.add_argument("--dtype", default="bfloat16", choices=["float32", "bfloat16"])
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--variants", default="",
                        help="only these variants, comma-separated prefixes (simple, local, conv, full); SDPA always runs, as every target compares with it")
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    wanted = [x for x in args.variants.split(",") if x]
    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}[args.dtype]
    lengths = [int(x) for x in args.lengths.split(",")]
    windows = [int(x) for x in args.windows.split(",")]
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w", newline="") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow("variant,implementation,T,B,causal,pass,dtype,median_ms,q1_ms,q3_ms,samples,peak_mib,status,host_ms".split(","))
        for variant, implementation, t, b, causal, backward, make, op in cases(lengths, args.tokens, windows, dtype):
            if wanted and variant != "mha-8x64" and not any(variant.startswith(w) for w in wanted):
                continue
            row = [variant, implementation, t, b, "true" if causal else "false", "fwd+bwd" if backward else "fwd", args.dtype]
            try:
                median, q1, q3, n, peak, host = measure(make, op, backward, dtype, args.iterations)
                status = f"ok ({sdpa.backend})" if variant == "mha-8x64" else "ok"
                row += [f"{median:.4f}", f"{q1:.4f}", f"{q3:.4f}", n, f"{peak:.1f}", status, f"{host:.4f}"]
            except torch.cuda.OutOfMemoryError as error:
                row += ["", "", "", 0, "", "skipped: out of memory", ""]
                torch.cuda.empty_cache()
            out.writerow(row)
            handle.flush()
            print(",".join(str(x) for x in row), flush=True)


if __name__ == "__main__":
    main()
