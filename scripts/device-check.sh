#!/usr/bin/env bash
# The GPU checks of issues 7 (CUDA) and 8 (performance), as one script for a lent GPU machine,
# run through the device tool after scripts/device-bundle.sh prepared build-device-bundle/ here:
#
#   run(command: "bash scripts/device-check.sh", carry: ["build-device-bundle"], timeout_s: 540)
#
# It runs the bundled programs (built here for sm_90) against the machine's own CUDA 13, and
# writes at most 8 files under $OUT (the device tool's limit):
#   tests.txt        every test program, brief (failures in full); the CUDA tests run here
#   attention.txt / attention.json   bench attention --device cuda, T = 1024, 4096, 16384
#   pes.txt          bench attention --device cuda --pes all at T = 4096 (every PE's kernels)
#   train.txt / train.json           bench train --device cuda, paper and small presets
#   paper.txt        the paper model trained on POP909 on the GPU and on the CPU for a few steps
#                    (the loss curves must agree), the GPU's steps per second, and the GPU run's
#                    checkpoint through eval and harmonize on the GPU (if the GPU run fails, once
#                    more with STRIPES_CUDA_FUSED=0: the composed forms instead of the fused kernels)
#   train-composed.txt  bench train --device cuda, paper preset, with STRIPES_CUDA_FUSED=0: what
#                    the fused kernels gain over the composed forms they replace; then with the
#                    fused kernels and --causal chunked (the fused chunked kernel; the default,
#                    auto, runs the composed chunked product on the GPU): that kernel's own share
# Last, the paper's full 15-epoch training run on the GPU, timed, and its checkpoint evaluated on 64
# test windows (appended to paper.txt): issue 8's "under 10 minutes on one H100".
# Each part has its own time limit so that one slow part leaves the others their time.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/device-check}
mkdir -p "$OUT"
bundle=$PWD/build-device-bundle
[ -f "$bundle/programs.tar.xz" ] || { echo "device-check: no $bundle (run scripts/device-bundle.sh here first, and carry it)"; exit 1; }
start=$(date +%s)
elapsed() { echo "[$(($(date +%s) - start)) s] $*"; }

# The programs know this checkout as /work/main (tests read fixtures there, CLI tests run
# /work/main/build-device/stripes) and the data root as /work/shared/data.
if [ "$(cd /work/main 2>/dev/null && pwd -P)" != "$(pwd -P)" ]; then
  [ -e /work/main ] && { echo "device-check: /work/main exists and is not this checkout"; exit 1; }
  mkdir -p /work && ln -s "$(pwd -P)" /work/main
fi
cd /work/main
mkdir -p build-device /work/shared /tmp/stripes-bundle
tar -C /tmp/stripes-bundle -xJf "$bundle/programs.tar.xz"
for program in /tmp/stripes-bundle/bin/*; do ln -sf "$program" "build-device/$(basename "$program")"; done
export LD_LIBRARY_PATH="/tmp/stripes-bundle/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
export STRIPES_CACHE=/work/main/build-device/cache OMP_WAIT_POLICY=PASSIVE
# (a machine that already has the data, such as the one the bundle was made on, keeps its own)
[ -d /work/shared/data/pop909 ] || tar -C /work/shared -xJf "$bundle/data.tar.xz"
[ -f build-device/cache/pop909-songs.h5 ] || tar -C build-device -xJf "$bundle/cache.tar.xz"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
if ldd build-device/stripes | grep -q 'libcublas.*not found'; then  # CUDA's libraries elsewhere (pip wheels)
  cublas=$(find / -name 'libcublas.so.13' -not -path '/proc/*' 2>/dev/null | head -n 1)
  [ -n "$cublas" ] && export LD_LIBRARY_PATH="$(dirname "$cublas"):$LD_LIBRARY_PATH"
fi
missing=$(ldd build-device/stripes | grep 'not found')
[ -z "$missing" ] || { echo "device-check: libraries missing: $missing"; exit 1; }
elapsed "setup done"

# 1. Tests: every program; the CUDA ones are the point here, the rest guard the bundle.
for program in test_tensor test_autograd test_nn test_attention test_data test_experiments; do
  timeout 100 "build-device/$program" --gtest_brief=1 2>&1 | tail -n 60
  echo "$program: exit ${PIPESTATUS[0]}"
done >"$OUT/tests.txt" 2>&1
grep -E "exit|PASSED|FAILED|SKIPPED \]" "$OUT/tests.txt" | grep -v "^\[       OK" | tail -n 30
elapsed "tests done"

# 2. Causal attention kernels on the GPU beside their floors (issue 8: forward within 2x of the
#    memory-bandwidth floor at T >= 4096).
timeout 120 build-device/stripes bench attention --device cuda --T 1024,4096,16384 --bh 8 --min-time 0.2 \
  --kinds softmax,linear-prefix,linear-chunked,linear-chunked-composed \
  --json "$OUT/attention.json" >"$OUT/attention.txt" 2>&1
echo "bench attention: exit $?"; tail -n 25 "$OUT/attention.txt"
# The paper model's shape: batch 8 × 8 heads = 64 sequences (the table's rows, appended).
timeout 60 build-device/stripes bench attention --device cuda --T 1024,4096 --bh 64 --min-time 0.2 \
  --kinds linear-chunked,linear-chunked-composed >>"$OUT/attention.txt" 2>&1
echo "bench attention --bh 64: exit $?"; tail -n 9 "$OUT/attention.txt"
timeout 75 build-device/stripes bench attention --device cuda --T 4096 --pes all --kinds linear-prefix,linear-chunked,linear-chunked-composed \
  --modes forward+backward --min-time 0.1 --min-runs 1 >"$OUT/pes.txt" 2>&1
echo "bench attention --pes all: exit $?"; tail -n 15 "$OUT/pes.txt"
elapsed "attention benchmarks done"

# 3. One training step of the harmonization model on the GPU.
timeout 90 build-device/stripes bench train --device cuda --preset paper,small --steps 5 \
  --json "$OUT/train.json" >"$OUT/train.txt" 2>&1
echo "bench train: exit $?"; grep -E "preset|step |memory" "$OUT/train.txt"
elapsed "train benchmark done"

# 4. The paper model on POP909: the same first steps on the GPU and the CPU (issue 7: loss curves
#    equal to float32 tolerance), then the GPU's rate over more steps (issue 8: 15 epochs < 10 min).
{
  timeout 60 build-device/stripes train --preset paper --pe ropepool --context BIN --steps 4 --device cpu -q \
    --run-dir /tmp/paper-cpu --overwrite
  timeout 120 build-device/stripes train --preset paper --pe ropepool --context BIN --steps 60 --device cuda -q \
    --run-dir /tmp/paper-gpu --overwrite ||
    { echo "GPU run failed: again with the composed forms (STRIPES_CUDA_FUSED=0)"
      STRIPES_CUDA_FUSED=0 timeout 120 build-device/stripes train --preset paper --pe ropepool --context BIN --steps 60 \
        --device cuda -q --run-dir /tmp/paper-gpu --overwrite; }
  echo "first losses, cpu then gpu:"
  head -n 5 /tmp/paper-cpu/train_log.csv
  head -n 5 /tmp/paper-gpu/train_log.csv
  cat /tmp/paper-gpu/train_summary.json
  # The GPU run's checkpoint through the other GPU commands: eval and harmonize.
  timeout 60 build-device/stripes eval /tmp/paper-gpu --device cuda --max-windows 8 --max-val-windows 8 -q
  timeout 60 build-device/stripes harmonize --song 108 --model /tmp/paper-gpu --device cuda -o /tmp/paper-gpu/h.mid
} >"$OUT/paper.txt" 2>&1
tail -n 30 "$OUT/paper.txt"
elapsed "paper training done"

# 5. The fused GPU kernels against the composed forms they replace, on the paper model's step.
STRIPES_CUDA_FUSED=0 timeout 60 build-device/stripes bench train --device cuda --preset paper --steps 5 \
  >"$OUT/train-composed.txt" 2>&1
echo "bench train, composed forms: exit $?"; grep -E "preset|step |memory" "$OUT/train-composed.txt"
# The fused kernels with the fused chunked product too (the default, auto, takes the composed one
# on the GPU): the chunked kernel's share.
timeout 60 build-device/stripes bench train --device cuda --preset paper --steps 5 --causal chunked \
  >>"$OUT/train-composed.txt" 2>&1
echo "bench train, --causal chunked: exit $?"; grep -E "preset|step |memory" "$OUT/train-composed.txt" | tail -n 3
elapsed "composed-forms benchmarks done"

# 6. Issue 8's target: the paper's full training run (15 epochs, paper preset) on the GPU, timed,
#    then its checkpoint evaluated on part of the test windows (appended to paper.txt).
{
  echo "== full paper run: 15 epochs on the GPU"
  full_start=$(date +%s)
  timeout 420 build-device/stripes train --preset paper --pe ropepool --context BIN --device cuda -q \
    --run-dir /tmp/paper-full --overwrite
  echo "full run: exit $?, $(( $(date +%s) - full_start )) s wall (the process: data, model, 15 epochs, checkpoint)"
  cat /tmp/paper-full/train_summary.json
  tail -n 3 /tmp/paper-full/train_log.csv
  timeout 90 build-device/stripes eval /tmp/paper-full --device cuda --max-windows 64 --max-val-windows 64 -q
} >>"$OUT/paper.txt" 2>&1
tail -n 25 "$OUT/paper.txt"
elapsed "full paper run done"
