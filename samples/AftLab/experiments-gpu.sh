#!/usr/bin/env bash
# Row (e) of docs/results.md: the byte LMs at the paper's width (12 blocks × 512) on a CUDA host, in bfloat16 on the
# fused CUDA kernels, each with the same time budget, peak GPU memory recorded. One model and seed an invocation, so
# that a row fits one call of a host with a per-command limit:
#   bash samples/AftLab/experiments-gpu.sh LAUNCHER OUT MODEL [SEED]
# LAUNCHER runs the app: `dotnet run -c Release --project samples/AftLab --`, or a gpu-bundle's `bash .gpu/run.sh`.
# MODEL: byte-wide-local-32, byte-wide-simple, byte-wide-full or byte-wide-mha. The run lands in OUT/MODEL/seed-N;
# `aftlab summarize --runs OUT` then tabulates the rows. DATA (default /usr/share/dictd/gcide.dict.dz) is the GCIDE
# text: a host without the dict-gcide package needs a copy, or the run falls back to the 1.2 MB excerpt.
# MINUTES (5), CONTEXT (1024) and BATCH (32: 32,768 tokens a step, as `aftlab throughput`) set the rest.
set -euo pipefail
launcher=$1 out=$2 model=$3 seed=${4:-1}
data=${DATA:-/usr/share/dictd/gcide.dict.dz}
[ -f "$data" ] || { echo "experiments-gpu.sh: no GCIDE text at $data: install dict-gcide or set DATA to a copy of gcide.dict.dz" >&2; exit 66; }
export PYTORCH_CUDA_ALLOC_CONF=backend:cudaMallocAsync        # peak GPU memory: the memory pool's high-water mark
rm -rf "$out/$model/seed-$seed"                               # each run is a fresh one
$launcher train --model "$model" --device cuda --dtype bfloat16 --data "$data" --context "${CONTEXT:-1024}" \
  --batch "${BATCH:-32}" --minutes "${MINUTES:-5}" --seed "$seed" --output "$out/$model/seed-$seed" --sample-bytes 0
