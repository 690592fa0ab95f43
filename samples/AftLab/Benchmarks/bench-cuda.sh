#!/usr/bin/env bash
# The CUDA benchmark, side by side with PyTorch in one job, on a host with an NVIDIA GPU and PyTorch.
#   bash samples/AftLab/Benchmarks/bench-cuda.sh LAUNCHER OUT [DTYPES]
# LAUNCHER runs the app with its arguments: `dotnet run -c Release --project samples/AftLab --` where
# .NET is installed, or the run.sh of a bundle made by ../shared/tools/gpu-bundle. For each dtype it
# times the PyTorch eager matmul-form reference and SDPA (flash) at the app's shapes, then runs the
# app's benchmark on cuda with those results merged: OUT/<dtype>/summary.md, results.csv, plots.
# DTYPES (default "bfloat16 float32") picks the dtypes, e.g. to rerun one of them.
set -euo pipefail
launcher=$1 out=$2 dtypes=${3:-bfloat16 float32}
here=$(cd "$(dirname "$0")" && pwd)
lengths=1024,4096,16384 iterations=10
for dtype in $dtypes; do
  mkdir -p "$out/$dtype"
  python3 "$here/pytorch_peers.py" --dtype "$dtype" --lengths "$lengths" --iterations "$iterations" --output "$out/$dtype/peers.csv"
  $launcher bench --device cuda --dtype "$dtype" --lengths "$lengths" --iterations "$iterations" \
    --peers "$out/$dtype/peers.csv" --output "$out/$dtype"
done
