"""AftDsl models in plain PyTorch: the reference twin of what the C# generator emits.

`aftlab export --format pytorch` (or AftDsl.Interop.PyTorchExport in C#) writes three files into a folder:

    model.pt           the state dict, as torch.save writes it (torch.load reads it)
    architecture.json  what this module needs to build the same network: stages, widths, mixers
    aftdsl_torch.py    this file

and then, with nothing but PyTorch installed:

    import aftdsl_torch
    model = aftdsl_torch.load("folder")         # an nn.Module with the weights loaded, in eval mode
    logits = model(tokens)                      # [B, T] int64 -> [B, T, vocab], as the C# model computes it

Every module here has the state-dict names of its C# counterpart (q_proj, pos_u, mixer_norm, ...), so a
state dict moves either way unchanged: torch.save(model.state_dict(), "model.pt") is what
`aftlab import` and AftDsl.Interop.PyTorchImport read.

The mathematics is Zhai et al. 2021, "An Attention Free Transformer" (arXiv 2105.14103), written for
clarity rather than speed. Every AFT variant is one function, aft_weighted_average: per target t and
channel, the softmax over the sources t' of the scores K_t' + w_t,t' (-inf for t' > t when causal), which
weighs the values V_t'. AFT-full takes w from its factorised bias, AFT-local keeps that bias inside the
window and sets it to 0 (not -inf) outside, AFT-simple has w = 0, and AFT-conv has per head the kernel
tap at each (target, source) offset and 0 outside the kernel. The softmax works in log-space, so the
outputs are finite for keys of any size (shifted exponentials can underflow to 0 / 0). The scores are a
[B, T, T, d] tensor, taken a chunk of target rows at a time; the C# kernels compute the same functions in
linear memory, and outputs agree to float32 rounding.
Works with PyTorch 1.13 and later.
"""

import json
import math
import os

import torch
from torch import nn

FORMAT = "aftdsl-pytorch"
FORMAT_VERSION = 1
ARCHITECTURE_FILE = "architecture.json"
WEIGHTS_FILE = "model.pt"

# AFT-conv's kernel normalisation: w = gamma * (w - mean) / (std + EPSILON) + beta (population std).
CONV_EPSILON = 1e-5


# How many scores [B, rows, T', H] one step of aft_weighted_average holds at most (64 MiB of float32): the
# target rows are taken in chunks so that long sequences stay in memory; the chunking changes no number.
SCORE_BUDGET = 1 << 24


def aft_weighted_average(q, k, v, bias, causal):
    """sigmoid(Q_t) * sum_t' softmax_t'(K_t' + w_t,t') V_t'  (paper Eq. 2, the ratio of sums written as a softmax).

    q, k, v: [B, T, H]; bias: [T, T'] (row = target t, column = source t'), [T, T', H] for a bias per channel,
    or None for w = 0. Causal: the sums run over t' <= t only (w = -inf for t' > t).

    sum_t' exp(K_t' + w_t,t') V_t' / sum_t' exp(K_t' + w_t,t') is, per target and channel, the softmax of the
    scores K_t' + w_t,t' over the sources t'. torch.softmax computes it in log-space (it subtracts each row's own
    maximum), so it is exact and finite for keys and biases of any size; every row keeps its own source t' = t,
    so none is all -inf. Readable rather than fast: the scores are [B, T, T', H], taken a chunk of target rows
    at a time (SCORE_BUDGET).
    """
    batch, length, hidden = v.shape
    if bias is None:
        bias = k.new_zeros(length, length)
    if bias.dim() == 2:
        bias = bias.unsqueeze(2)                                                    # [T, T', 1]: one bias for every channel
    if causal:
        future = torch.ones(length, length, dtype=torch.bool, device=k.device).triu(1)
        bias = bias.masked_fill(future.unsqueeze(2), float("-inf"))
    rows = max(1, SCORE_BUDGET // (batch * length * hidden))
    mixed = []
    for start in range(0, length, rows):
        scores = k.unsqueeze(1) + bias[start:start + rows].unsqueeze(0)            # [B, rows, T', H]
        weights = torch.softmax(scores, dim=2)
        mixed.append((weights * v.unsqueeze(1)).sum(dim=2))                        # [B, rows, H]
    return torch.sigmoid(q) * torch.cat(mixed, dim=1)


class _Projections(nn.Module):
    """The four linear maps every mixer has: q_proj, k_proj, v_proj (dim -> hidden) and out_proj (hidden -> dim)."""

    def __init__(self, dim, hidden_dim, key_dim=None):
        super().__init__()
        self.q_proj = nn.Linear(dim, hidden_dim)
        self.k_proj = nn.Linear(dim, hidden_dim if key_dim is None else key_dim)
        self.v_proj = nn.Linear(dim, hidden_dim)
        self.out_proj = nn.Linear(hidden_dim, dim)


class AftFull(_Projections):
    """AFT-full (Eq. 2) with the factorised position bias w = pos_u . pos_w^T (Eq. 7), [max_length, factor_rank] each."""

    def __init__(self, dim, hidden_dim, max_length, factor_rank, causal):
        super().__init__(dim, hidden_dim)
        self.max_length, self.causal = max_length, causal
        self.pos_u = nn.Parameter(torch.zeros(max_length, factor_rank))
        self.pos_w = nn.Parameter(torch.zeros(max_length, factor_rank))

    def position_bias(self, length):
        """w[t, t'] = pos_u[t] . pos_w[t'] over the first T positions."""
        if length > self.max_length:
            raise ValueError(f"T = {length} exceeds max_length {self.max_length}")
        return self.pos_u[:length] @ self.pos_w[:length].t()

    def forward(self, x):
        q, k, v = self.q_proj(x), self.k_proj(x), self.v_proj(x)
        mixed = aft_weighted_average(q, k, v, self.position_bias(x.shape[1]), self.causal)
        return self.out_proj(mixed)


class AftLocal(AftFull):
    """AFT-local (Eq. 4): AFT-full whose bias is kept where |t - t'| < window and is 0 (not -inf) elsewhere."""

    def __init__(self, dim, hidden_dim, max_length, factor_rank, window, causal):
        super().__init__(dim, hidden_dim, max_length, factor_rank, causal)
        self.window = window

    def position_bias(self, length):
        positions = torch.arange(length, device=self.pos_u.device)
        inside = (positions.unsqueeze(1) - positions.unsqueeze(0)).abs() < self.window
        return super().position_bias(length) * inside.to(self.pos_u.dtype)


class AftSimple(_Projections):
    """AFT-simple (Eq. 5): AFT-full with w = 0, softmax of the keys over time; no position parameters."""

    def __init__(self, dim, hidden_dim, causal):
        super().__init__(dim, hidden_dim)
        self.causal = causal

    def forward(self, x):
        q, k, v = self.q_proj(x), self.k_proj(x), self.v_proj(x)
        return self.out_proj(aft_weighted_average(q, k, v, None, self.causal))


def conv_kernel(raw, gamma, beta, epsilon=CONV_EPSILON):
    """Eq. 8, per head: gamma * (raw - mean) / (std + epsilon) + beta over the head's taps (population std)."""
    flat = raw.flatten(1)
    mean = flat.mean(dim=1, keepdim=True)
    std = flat.std(dim=1, unbiased=False, keepdim=True)
    shape = [raw.shape[0]] + [1] * (raw.dim() - 1)
    return gamma.view(shape) * ((flat - mean) / (std + epsilon)).view(raw.shape) + beta.view(shape)


class AftConv(_Projections):
    """AFT-conv-h-s (Eq. 6): per head, a convolution with the kernel exp(w) - 1 plus global sums, which is
    AFT-local with a relative bias shared along the sequence or grid (see mix).

    Channels-last: a grid [B, H, W, dim] (kernel [heads, s, s], "same" padding) or a sequence [B, T, dim]
    (kernel [heads, s]; causal: the past only). K has one channel per head; each head's kernel is shared
    by its dim / heads channels. pos_w is the raw kernel, pos_gamma and pos_beta its per-head gain and bias;
    with reparameterise=False pos_w is the kernel itself and there is no gain or bias. connectivity "global"
    (the paper's) counts the sources outside the kernel with w = 0; "window" leaves them out (w = -inf).
    """

    def __init__(self, dim, heads, window, grid, causal, reparameterise=True, connectivity="global"):
        super().__init__(dim, dim, key_dim=heads)
        if connectivity not in ("global", "window"):
            raise ValueError(f"AFT-conv connectivity must be 'global' or 'window', not '{connectivity}'")
        self.heads, self.window, self.grid, self.causal = heads, window, grid, causal
        self.reparameterise, self.connectivity = reparameterise, connectivity
        self.pos_w = nn.Parameter(torch.zeros((heads, window, window) if grid else (heads, window)))
        if reparameterise:
            self.pos_gamma = nn.Parameter(torch.zeros(heads))
            self.pos_beta = nn.Parameter(torch.zeros(heads))

    def forward(self, x):
        q, k, v = self.q_proj(x), self.k_proj(x), self.v_proj(x)
        kernel = conv_kernel(self.pos_w, self.pos_gamma, self.pos_beta) if self.reparameterise else self.pos_w
        return self.out_proj(self.mix(q, k, v, kernel))

    def mix(self, q, k, v, kernel):
        """AFT-local over the flattened positions with one relative bias per head: the kernel tap at each
        (target, source) offset, 0 outside the kernel (not -inf: those sources still count with w = 0). That
        is Eq. 6 exactly, conv(exp(K) V, exp(w) - 1) + sum exp(K) V over conv(exp(K), exp(w) - 1) + sum exp(K),
        written as one softmax per target (aft_weighted_average) so that it stays finite for any keys."""
        batch, width, heads = q.shape[0], q.shape[-1], self.heads
        sides = list(q.shape[1:-1])
        positions = math.prod(sides)
        bias = relative_bias(sides, kernel, self.causal, outside=0.0 if self.connectivity == "global" else -math.inf)  # [heads, P, P']
        channel_bias = bias.permute(1, 2, 0).repeat_interleave(width // heads, dim=2)  # [P, P', width]
        channel_keys = k.reshape(batch, positions, heads).repeat_interleave(width // heads, dim=2)
        mixed = aft_weighted_average(
            q.reshape(batch, positions, width), channel_keys, v.reshape(batch, positions, width), channel_bias, self.causal)
        return mixed.reshape(q.shape)


def relative_bias(sides, kernel, causal, outside=0.0):
    """[heads, P, P'] over the row-major positions of a sequence [T] or grid [H, W]: for each target (row) and
    source (column), the kernel tap at their offset, or `outside` (0, or -inf for window connectivity) outside
    the kernel. Tap j sits at offset
    j - (s - 1) // 2 along each side (PyTorch's "same" padding), or j - (s - 1) when causal (the past only)."""
    size = kernel.shape[1]
    before = size - 1 if causal else (size - 1) // 2
    grids = torch.meshgrid(*[torch.arange(side, device=kernel.device) for side in sides], indexing="ij")
    coordinates = [g.reshape(-1) for g in grids]                                   # per side, [P]
    taps = [c.unsqueeze(0) - c.unsqueeze(1) + before for c in coordinates]         # per side, [P target, P' source]
    inside = torch.stack([(j >= 0) & (j < size) for j in taps]).all(dim=0)
    values = kernel[(slice(None),) + tuple(j.clamp(0, size - 1) for j in taps)]   # [heads, P, P']
    return torch.where(inside, values, torch.full_like(values, outside))


class MultiHeadAttention(_Projections):
    """The baseline: multi-head scaled dot-product attention, heads of dim / heads, optionally causal."""

    def __init__(self, dim, heads, causal):
        super().__init__(dim, dim)
        self.heads, self.causal = heads, causal

    def forward(self, x):
        batch, length, width = x.shape

        def split(t):
            return t.view(batch, length, self.heads, width // self.heads).transpose(1, 2)

        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        scores = q @ k.transpose(-2, -1) / math.sqrt(width // self.heads)
        if self.causal:
            future = torch.ones(length, length, dtype=torch.bool, device=x.device).triu(1)
            scores = scores.masked_fill(future, float("-inf"))
        mixed = (scores.softmax(dim=-1) @ v).transpose(1, 2).reshape(batch, length, width)
        return self.out_proj(mixed)


class PositionEmbedding(nn.Module):
    """Learned absolute positions: weight [max_length, dim] added to [B, T, dim], or [H, W, dim] to a grid."""

    def __init__(self, shape):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(shape))

    def forward(self, x):
        return x + (self.weight[: x.shape[1]] if x.dim() == 3 else self.weight)


class PatchEmbedding(nn.Module):
    """Non-overlapping patch x patch patches of [B, C, H, W] images -> channels-last grid [B, H/patch, W/patch, dim]."""

    def __init__(self, channels, patch, dim):
        super().__init__()
        self.projection = nn.Conv2d(channels, dim, patch, stride=patch)

    def forward(self, images):
        return self.projection(images).permute(0, 2, 3, 1).contiguous()


class PreNormBlock(nn.Module):
    """x + mixer(LN(x)), then x + FFN(LN(x)) with a GELU feed-forward network."""

    def __init__(self, mixer, dim, ffn_width):
        super().__init__()
        self.mixer_norm = nn.LayerNorm(dim)
        self.mixer = mixer
        self.ffn_norm = nn.LayerNorm(dim)
        self.ffn = nn.Sequential(nn.Linear(dim, ffn_width), nn.GELU(), nn.Linear(ffn_width, dim))

    def forward(self, x):
        mixed = x + self.mixer(self.mixer_norm(x))
        return mixed + self.ffn(self.ffn_norm(mixed))


class BlockStack(nn.Module):
    """Blocks in order. Sequence mixers given a grid [B, H, W, dim] mix its H*W positions row-major, as one sequence."""

    def __init__(self, blocks, grid_mixer):
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.grid_mixer = grid_mixer

    def forward(self, x):
        shape = x.shape
        flatten = x.dim() == 4 and not self.grid_mixer
        h = x.reshape(shape[0], shape[1] * shape[2], shape[3]) if flatten else x
        for block in self.blocks:
            h = block(h)
        return h.reshape(shape) if flatten else h


class ClassifierHead(nn.Module):
    """Global average pooling over every position, then a linear map to class logits [B, classes]."""

    def __init__(self, dim, classes):
        super().__init__()
        self.classifier = nn.Linear(dim, classes)

    def forward(self, x):
        return self.classifier(x.reshape(x.shape[0], -1, x.shape[-1]).mean(dim=1))


class AftModel(nn.Module):
    """A whole AftDsl model: its stages in order, each under the state-dict prefix the C# model uses."""

    def __init__(self, architecture):
        super().__init__()
        self.architecture = architecture
        self.stage_names = []
        for stage in architecture["stages"]:
            self.add_module(stage["name"], build_stage(stage))
            self.stage_names.append(stage["name"])

    def forward(self, x):
        for name in self.stage_names:
            x = getattr(self, name)(x)
        return x


def build_mixer(spec):
    """A token mixer from its architecture.json entry."""
    kind = spec["kind"]
    if kind == "aft_full":
        return AftFull(spec["dim"], spec["hidden_dim"], spec["max_length"], spec["factor_rank"], spec["causal"])
    if kind == "aft_local":
        return AftLocal(spec["dim"], spec["hidden_dim"], spec["max_length"], spec["factor_rank"], spec["window"], spec["causal"])
    if kind == "aft_simple":
        return AftSimple(spec["dim"], spec["hidden_dim"], spec["causal"])
    if kind == "aft_conv":
        return AftConv(spec["dim"], spec["heads"], spec["window"], spec["layout"] == "grid", spec["causal"],
                       spec.get("reparameterise", True), spec.get("connectivity", "global"))
    if kind == "multi_head_attention":
        return MultiHeadAttention(spec["dim"], spec["heads"], spec["causal"])
    raise ValueError(f"unknown mixer kind '{kind}' in {ARCHITECTURE_FILE}")


def build_stage(spec):
    """One stage of a model from its architecture.json entry."""
    kind = spec["kind"]
    if kind == "embedding":
        return nn.Embedding(spec["vocab"], spec["dim"])
    if kind == "position_embedding":
        return PositionEmbedding(spec["shape"])
    if kind == "patch_embedding":
        return PatchEmbedding(spec["channels"], spec["patch"], spec["dim"])
    if kind == "blocks":
        mixer = spec["mixer"]
        blocks = [PreNormBlock(build_mixer(mixer), spec["dim"], spec["ffn_width"]) for _ in range(spec["depth"])]
        return BlockStack(blocks, grid_mixer=mixer["kind"] == "aft_conv" and mixer["layout"] == "grid")
    if kind == "layer_norm":
        return nn.LayerNorm(spec["dim"], eps=spec["eps"])
    if kind == "linear":
        return nn.Linear(spec["in_features"], spec["out_features"])
    if kind == "classifier_head":
        return ClassifierHead(spec["dim"], spec["classes"])
    raise ValueError(f"unknown stage kind '{kind}' in {ARCHITECTURE_FILE}")


def build(architecture):
    """An AftModel with the layout an architecture.json describes (a dict, or a path to the file); weights uninitialised."""
    if isinstance(architecture, (str, os.PathLike)):
        with open(architecture, encoding="utf-8") as file:
            architecture = json.load(file)
    if architecture.get("format") != FORMAT or architecture.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"not an {FORMAT} architecture of version {FORMAT_VERSION}: "
            f"format '{architecture.get('format')}', version {architecture.get('format_version')}")
    return AftModel(architecture)


def load_state_dict(path, map_location="cpu"):
    """A state dict file, read as tensors only: unpickling it runs no code of the file's choosing (PyTorch 1.13 and later)."""
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except TypeError:                                   # PyTorch before 1.13: no weights_only
        return torch.load(path, map_location=map_location)


def load(folder, map_location="cpu"):
    """The model an export folder holds: built from its architecture.json, weights from its model.pt, in eval mode."""
    model = build(os.path.join(folder, ARCHITECTURE_FILE))
    state = load_state_dict(os.path.join(folder, WEIGHTS_FILE), map_location)
    model.load_state_dict(state, strict=True)
    return model.eval()
