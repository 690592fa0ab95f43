#!/usr/bin/env bash
# Regenerates the results table of docs/results.md: the paper's three experiments at small scale, each AFT model
# against its multi-head-attention baseline with the same time budget, one after the other (so that no
# two runs share the CPU). Every line is the command of one row and seed; results land in runs/exp/<model>/seed-<n>/
# (results.json, metrics.csv, curves.png, tensorboard/, checkpoints/), and `aftlab summarize` then writes
# runs/exp/summary.md and summary.csv: each row's mean ± standard deviation over its seeds. About 85 minutes a
# seed on 2 cores.
#   MINUTES=5 (default) sets the budget of every run, SEEDS="1 2 3" (default) the seeds; pass model names to run only those.
set -euo pipefail
cd "$(dirname "$0")/../.."
minutes=${MINUTES:-5}
read -r -a seeds <<< "${SEEDS:-1 2 3}"
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(
  pixel-local pixel-simple pixel-full pixel-mha                        # (a) Fashion-MNIST pixels, bits/dim
  byte-local-8 byte-local-32 byte-local-128 byte-full byte-simple byte-mha  # (b) GCIDE bytes, bits/char; window sweep
  image-conv image-conv-global image-mha                                # (c) Fashion-MNIST classes, top-1 at 28×28 and padded to 32×32
)
dotnet build samples/AftLab -c Release -v quiet -nologo
for seed in "${seeds[@]}"; do                                         # a seed of every row before the next seed
  for model in "${models[@]}"; do
    rm -rf "runs/exp/$model/seed-$seed"                                 # each run is a fresh one
    dotnet run -c Release --no-build --project samples/AftLab -- \
      train --model "$model" --minutes "$minutes" --seed "$seed" --output "runs/exp/$model/seed-$seed" --sample-bytes 0
  done
done
dotnet run -c Release --no-build --project samples/AftLab -- summarize --runs runs/exp
