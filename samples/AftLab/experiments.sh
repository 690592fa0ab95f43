#!/usr/bin/env bash
# Regenerates the results table of docs/results.md: the paper's three experiments at small scale, each AFT model
# against its multi-head-attention baseline with the same time budget, one after the other (so that no
# two runs share the CPU). Every line is the command of one row and seed; results land in runs/exp/<model>/seed-<n>/
# (results.json, metrics.csv, curves.png, tensorboard/, checkpoints/), and `aftlab summarize` then writes
# runs/exp/summary.md and summary.csv: each row's mean ± standard deviation over its seeds. About 85 minutes a
# seed on 2 cores.
#   MINUTES=5 (default) sets the budget of every run, SEEDS="1 2 3" (default) the seeds, OUT (runs/exp) the folder of the
#   runs; pass model names to run only those.
# A run that TorchSharp 0.107's Scalar race stops (libtorch's "Unknown scalar type" or "Expected false to be true";
# results/experiments-ablation/README.md explains it) is run again from scratch with the same seed, up to RETRIES=2
# times, and said so on standard error and in OUT/retries.log; any other failure stops the script.
set -euo pipefail
cd "$(dirname "$0")/../.."
minutes=${MINUTES:-5} out=${OUT:-runs/exp}
read -r -a seeds <<< "${SEEDS:-1 2 3}"
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(
  pixel-local pixel-simple pixel-full pixel-mha                        # (a) Fashion-MNIST pixels, bits/dim
  byte-local-4 byte-local-8 byte-local-32 byte-local-128 byte-full byte-simple byte-mha  # (b) GCIDE bytes, bits/char; window sweep
  image-conv image-conv-global image-mha                                # (c) Fashion-MNIST classes, top-1 at 28×28 and padded to 32×32
)
dotnet build samples/AftLab -c Release -v quiet -nologo
retries=${RETRIES:-2}
mkdir -p "$out"
train() {                                                             # one row and seed; a fresh run each attempt
  local model=$1 seed=$2 attempt=0 errors
  errors=$(mktemp)
  while :; do
    rm -rf "$out/$model/seed-$seed"
    local status=0
    dotnet run -c Release --no-build --project samples/AftLab -- \
      train --model "$model" --minutes "$minutes" --seed "$seed" --output "$out/$model/seed-$seed" --sample-bytes 0 2> "$errors" || status=$?
    cat "$errors" >&2                                                   # the app's errors are one line, at the end
    if [ $status -eq 0 ]; then
      rm -f "$errors"
      return 0
    fi
    if [ $attempt -ge "$retries" ] || ! grep -qE "Unknown scalar type|Expected false to be true" "$errors"; then
      rm -f "$errors"
      return 1
    fi
    attempt=$((attempt + 1))
    echo "experiments.sh: $model seed $seed stopped by TorchSharp's Scalar race ($(grep -m1 -oE "Unknown scalar type|Expected false to be true" "$errors")); running it again ($attempt of $retries)" \
      | tee -a "$out/retries.log" >&2
  done
}
for seed in "${seeds[@]}"; do                                         # a seed of every row before the next seed
  for model in "${models[@]}"; do
    train "$model" "$seed"
  done
done
dotnet run -c Release --no-build --project samples/AftLab -- summarize --runs "$out"
