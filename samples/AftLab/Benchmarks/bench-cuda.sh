#!/usr/bin/env bash
# The CUDA suite, on a host with an NVIDIA GPU and PyTorch: the fused kernels' correctness checks, the
# fallback to the libtorch-operator kernels, the kernel benchmark side by side with PyTorch in one job,
# and whole-model training throughput.
#   bash samples/AftLab/Benchmarks/bench-cuda.sh LAUNCHER OUT [STAGES]
# LAUNCHER runs the app with its arguments: `dotnet run -c Release --project samples/AftLab --` where
# .NET is installed, or the run.sh of a bundle made by ../shared/tools/gpu-bundle.
# STAGES (default "check fallback bfloat16 float32 throughput"), any of:
#   check       aftlab check-kernels --device cuda (float32, bfloat16)  → OUT/kernel-check.md
#   fallback    the same for AFT-simple with NVRTC made unfindable: it must say so and still pass → OUT/fallback.md
#   bfloat16    PyTorch eager and SDPA, then aftlab bench on cuda with them merged → OUT/bfloat16/summary.md
#   float32     the same in float32 → OUT/float32/
#   throughput  aftlab throughput --device cuda --dtype bfloat16 → OUT/throughput/summary.md
#   profile     ncu kernel durations (one metric, the first launches only, so it takes about a minute a case) of
#               bf16 AFT-simple and AFT-local s = 32 at T = 1024, AFT-conv at 16384 and AFT-full at 1024 → OUT/profile/*.csv
#               (not in the default stages; ncu fixes the SM clock near 1.5 GHz, about 1.3× the benchmark's durations)
# Each stage runs even when an earlier one failed; the script's exit code is that of the first failure.
set -uo pipefail
launcher=$1 out=$2 stages=${3:-check fallback bfloat16 float32 throughput}
here=$(cd "$(dirname "$0")" && pwd)
lengths=${AFTLAB_BENCH_LENGTHS:-1024,4096,16384} iterations=${AFTLAB_BENCH_ITERATIONS:-10}
mkdir -p "$out"
status=0
run() { echo "== $*"; "$@" || { rc=$?; echo "== failed ($rc): $*"; [ $status -ne 0 ] || status=$rc; }; }
for stage in $stages; do
  case $stage in
    check) run $launcher check-kernels --device cuda --output "$out/kernel-check.md" ;;
    fallback)
      # It must say that the fused kernels are unavailable, and pass on the libtorch-operator kernels.
      run env AFTDSL_NVRTC=/nonexistent/libnvrtc.so.13 $launcher check-kernels --device cuda --cases simple --output "$out/fallback.md" > "$out/fallback.log" 2>&1
      cat "$out/fallback.log"
      run grep -q "fused CUDA kernels are unavailable" "$out/fallback.log" ;;
    bfloat16|float32)
      mkdir -p "$out/$stage"
      run python3 "$here/pytorch_peers.py" --dtype "$stage" --lengths "$lengths" --iterations "$iterations" --output "$out/$stage/peers.csv"
      # The stream-ordered allocator lets the app read peak memory off the device's memory pool.
      run env PYTORCH_CUDA_ALLOC_CONF=backend:cudaMallocAsync $launcher bench --device cuda --dtype "$stage" --lengths "$lengths" --iterations "$iterations" \
        --peers "$out/$stage/peers.csv" --output "$out/$stage" ;;
    throughput) run $launcher throughput --device cuda --dtype bfloat16 --output "$out/throughput" ;;
    profile)
      # ncu prints its table when the app exits, so each case is a short bench of one variant and length.
      mkdir -p "$out/profile"
      for profiled in "simple 1024 32 40" "local 1024 32 60" "conv 16384 32 70" "full 1024 32 60"; do
        read -r variant length window launches <<< "$profiled"
        run ncu --kernel-name regex:aft_ --launch-count "$launches" --metrics gpu__time_duration.sum --csv --print-units base \
          $launcher bench --device cuda --dtype bfloat16 --iterations 1 --variants "$variant" --lengths "$length" --windows "$window" \
          --output "$out/profile/$variant-bench" > "$out/profile/$variant-$length.csv"
      done ;;
    *) echo "unknown stage '$stage': use check, fallback, bfloat16, float32, throughput or profile" >&2; exit 2 ;;
  esac
done
exit $status
