#!/usr/bin/env bash
# The whole test suite, the compiled-vs-eager probe and the benchmark on MLX's GPU backend.
#
# On the GPU machine, once MLX is installed there (../shared/gpu/README.md, step 3):
#     bash benchmarks/gpu.sh [OUT_DIR] [tests] [probe] [bench] [-- BENCH_ARGS...]
# With no section named, all three run. Results go to OUT_DIR (default benchmarks/results), each file
# named after the device (nvidia-smi's name, or MLX's device) and the date: DEVICE-tests-DATE.log/.xml,
# DEVICE-compiled-vs-eager-DATE.json/.log, DEVICE-DATE.json (the benchmark) and its log.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-benchmarks/results}
shift || true
sections=()
bench_args=()
while [ $# -gt 0 ]; do
    if [ "$1" = "--" ]; then shift; bench_args=("$@"); break; fi
    sections+=("$1"); shift
done
[ ${#sections[@]} -gt 0 ] || sections=(tests probe bench)
mkdir -p "$out"
# HYPOTHESIS_PROFILE=ci: no deadline (a GPU's first compiled call builds kernels for seconds), derandomized.
export PYTHONPATH="$PWD/src" PYTHONUNBUFFERED=1 HYPOTHESIS_PROFILE=ci
device=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1)
[ -n "$device" ] || device=$(python3 -c "import mlx.core as mx; print(mx.default_device())")
device=$(echo "$device" | tr 'A-Z ' 'a-z-' | tr -cd 'a-z0-9-')
stamp=$(date +%F)
echo "device: $device; MLX: $(python3 -c 'import mlx.core as mx; print(mx.__version__, mx.default_device())')"
status=0
for section in "${sections[@]}"; do
    case $section in
        tests)
            # worksteal (pytest-xdist >= 3.2): an idle worker takes tests queued on a busy one, so that a few
            # long compiles (NVRTC builds each new fused kernel for seconds) do not hold the end of the run
            dist=$(python3 -c 'import xdist; print("worksteal" if tuple(map(int, xdist.__version__.split(".")[:2])) >= (3, 2) else "load")')
            python3 -m pytest -n auto --dist "$dist" -q -p no:cacheprovider --durations=25 \
                --junitxml "$out/$device-tests-$stamp.xml" 2>&1 | tee "$out/$device-tests-$stamp.log"
            status=$((status | PIPESTATUS[0])) ;;
        probe)
            python3 benchmarks/compiled_vs_eager.py --json "$out/$device-compiled-vs-eager-$stamp.json" 2>&1 \
                | tee "$out/$device-compiled-vs-eager-$stamp.log"
            status=$((status | PIPESTATUS[0])) ;;
        bench)
            python3 benchmarks/bench.py --json "$out/$device-$stamp.json" "${bench_args[@]}" 2>&1 \
                | tee "$out/$device-bench-$stamp.log"
            status=$((status | PIPESTATUS[0])) ;;
        *) echo "unknown section $section (tests, probe, bench)"; exit 2 ;;
    esac
done
exit $status
