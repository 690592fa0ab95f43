#!/usr/bin/env bash
# Data-parallel training on several GPUs of one host (issue 15): one process per GPU in a torchrun-style
# environment (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT; NCCL's unique id goes over TCP), no MPI.
#   bash samples/AftLab/Benchmarks/scaling-cuda.sh LAUNCHER OUT GPUS [STAGES]
# LAUNCHER runs the app with its arguments (`bash .gpu/run.sh` for a bundle of ../shared/tools/gpu-bundle).
# STAGES (default "check scaling kill"), any of:
#   check    aftlab check-data-parallel --device cuda on GPUS ranks            → OUT/check.log
#   scaling  aftlab throughput in bfloat16 on 1 GPU, then on GPUS (same batch per GPU), and the efficiency
#            tokens/s(GPUS) / (GPUS × tokens/s(1))                                → OUT/scaling.md, OUT/1/, OUT/GPUS/
#   kill     aftlab train on GPUS ranks, rank 1 killed with SIGKILL after 90 s: how long rank 0 takes to stop,
#            then --resume from the last verified checkpoint                      → OUT/kill.log (needs GPUS ≥ 2)
# Each stage runs even when an earlier one failed; the exit code is that of the first failure.
set -uo pipefail
launcher=$1 out=$2 gpus=$3 stages=${4:-check scaling kill}
models=${AFTLAB_SCALING_MODELS:-byte-wide-local-32,byte-wide-simple,byte-wide-mha}
lengths=${AFTLAB_SCALING_LENGTHS:-1024,4096}
export NCCL_NVLS_ENABLE=0 AFTDSL_COLLECTIVE_TIMEOUT=${AFTDSL_COLLECTIVE_TIMEOUT:-30}
mkdir -p "$out"
status=0
fail() { echo "== failed ($1): $2"; [ $status -ne 0 ] || status=$1; }

# Starts `ranks` copies of the app in the background, one per GPU, with the environment a torchrun would give
# (a fresh port each call); rank r's output goes to LOG.r. Sets `pids`.
start_ranks() {
  local ranks=$1 log=$2; shift 2
  local port=$((29500 + RANDOM % 1000))
  pids=()
  for ((r = 0; r < ranks; r++)); do
    RANK=$r LOCAL_RANK=$r WORLD_SIZE=$ranks MASTER_ADDR=127.0.0.1 MASTER_PORT=$port $launcher "$@" > "$log.$r" 2>&1 &
    pids+=($!)
  done
}

# Waits for every rank; the first non-zero exit code, or 0.
wait_ranks() {
  local rc=0 code
  for pid in "${pids[@]}"; do wait "$pid"; code=$?; [ $rc -ne 0 ] || rc=$code; done
  return $rc
}

for stage in $stages; do
  case $stage in
    check)
      echo "== check-data-parallel on $gpus GPU(s)"
      start_ranks "$gpus" "$out/check.log" check-data-parallel --device cuda --steps 5
      wait_ranks || fail $? "check-data-parallel"
      cat "$out/check.log.0" ;;
    scaling)
      for ranks in $(printf "%s\n" 1 "$gpus" | sort -un); do
        echo "== throughput on $ranks GPU(s)"
        mkdir -p "$out/$ranks"
        if [ "$ranks" -eq 1 ]; then
          $launcher throughput --device cuda --dtype bfloat16 --models "$models" --lengths "$lengths" --output "$out/1" > "$out/1/log" 2>&1 || fail $? "throughput on 1 GPU"
        else
          start_ranks "$ranks" "$out/$ranks/log" throughput --device cuda --dtype bfloat16 --models "$models" --lengths "$lengths" --output "$out/$ranks"
          wait_ranks || fail $? "throughput on $ranks GPUs"
        fi
      done
      # model,length,batch,dtype,median_step_ms,tokens_per_second,status,ranks
      {
        echo "| model | T | batch per GPU | tokens/s, 1 GPU | tokens/s, $gpus GPUs | scaling efficiency |"
        echo "|---|---|---|---|---|---|"
        join -t, <(tail -n +2 "$out/1/throughput.csv" | awk -F, '{print $1"@"$2","$3","$6}' | sort) \
                 <(tail -n +2 "$out/$gpus/throughput.csv" | awk -F, '{print $1"@"$2","$6}' | sort) |
          awk -F, -v n="$gpus" '{split($1, k, "@"); e = ($3 > 0) ? $4 / (n * $3) : 0; printf "| %s | %s | %s | %.0f | %.0f | %.1f %% |\n", k[1], k[2], $2, $3, $4, 100 * e}'
      } > "$out/scaling.md" 2>/dev/null || fail 1 "scaling table"
      cat "$out/scaling.md" ;;
    kill)
      if [ "$gpus" -lt 2 ]; then echo "== kill: needs 2 GPUs or more, skipped"; continue; fi
      run="$out/kill-run"
      echo "== train on $gpus GPUs, rank 1 killed after 90 s" | tee "$out/kill.log"
      start_ranks "$gpus" "$out/kill-train.log" train --model byte-wide-simple --device cuda --minutes 10 --checkpoint-minutes 0.5 --sample-bytes 0 --output "$run"
      sleep 90
      kill -9 "${pids[1]}"
      killed=$(date +%s)
      wait_ranks
      echo "rank 0 stopped $(( $(date +%s) - killed )) s after rank 1 was killed (collective timeout $AFTDSL_COLLECTIVE_TIMEOUT s)" | tee -a "$out/kill.log"
      tail -3 "$out/kill-train.log.0" | tee -a "$out/kill.log"
      echo "== resume on $gpus GPUs" | tee -a "$out/kill.log"
      start_ranks "$gpus" "$out/kill-resume.log" train --model byte-wide-simple --device cuda --resume --minutes 2.5 --sample-bytes 0 --output "$run"
      wait_ranks || fail $? "resume after kill"
      head -8 "$out/kill-resume.log.0" | tee -a "$out/kill.log" ;;
    *) echo "unknown stage '$stage': use check, scaling or kill" >&2; exit 2 ;;
  esac
done
exit $status
