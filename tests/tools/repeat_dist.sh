#!/usr/bin/env bash
# Rerun the 2-process CPU train of tests/tools/test_dist_train.py (tools/dist_train.sh,
# torchrun, gloo) N times in a row, to measure a rare failure such as the gloo abort at
# exit ("terminate called without an active exception") that the cpu_distributed shim fixed.
# Keeps the whole output of every failing run, and its core dump where the system writes
# one into the working directory (kernel.core_pattern "core"; open it with
# `gdb .venv/bin/python CORE -ex "thread apply all bt"`).
#
# Usage: bash tests/tools/repeat_dist.sh [N] [OUT_DIR]
#   N        runs (default 50)
#   OUT_DIR  default work_dirs/repeat_dist: summary.txt (a line a run, then the total),
#            fail_<i>.log and core_<i>_* of failing runs, the generated data and config
#   PORT_BASE (environment) first of the 100 rendezvous ports cycled through (29700)
# Example: nice -n 5 bash tests/tools/repeat_dist.sh 50
set -uo pipefail
case "${1:-}" in -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0;; esac
N=${1:-50}
cd "$(dirname "$0")/../.."
REPO=$(pwd)
OUT=$(mkdir -p "${2:-work_dirs/repeat_dist}" && cd "${2:-work_dirs/repeat_dist}" && pwd)
PY=${PYTHON:-$REPO/.venv/bin/python}
# the test's data (8 train, 4 val images) and its batch-2 parity config
CFG=$("$PY" - "$OUT" <<'EOF'
import pathlib, sys
sys.path.insert(0, 'tests/tools')
from test_dist_train import parity_config
from yolox_kpt.data_tools.synthetic_driving import generate_synthetic_driving
out = pathlib.Path(sys.argv[1])
if not (out / 'data').exists():
    generate_synthetic_driving(out / 'data', num_train=8, num_val=4, seed=2)
print(parity_config(out, out / 'data', 2))
EOF
) || exit 1
CFG=$(echo "$CFG" | tail -n 1)
ulimit -c unlimited 2>/dev/null || true
: > "$OUT/summary.txt"
fails=0
start=$(date +%s)
for i in $(seq 1 "$N"); do
  work=$(mktemp -d "$OUT/run.XXXX")
  touch "$OUT/.run_start"
  t0=$(date +%s)
  PYTHONFAULTHANDLER=1 PYTHON="$PY" PORT=$((${PORT_BASE:-29700} + i % 100)) \
    bash tools/dist_train.sh "$CFG" 2 --work-dir "$work" > "$OUT/current.log" 2>&1
  rc=$?
  if [ $rc -ne 0 ]; then
    fails=$((fails + 1))
    mv "$OUT/current.log" "$OUT/fail_$i.log"
    for core in $(find "$REPO" -maxdepth 1 -type f -name 'core*' -newer "$OUT/.run_start"); do
      mv "$core" "$OUT/core_${i}_$(basename "$core")"
    done
  fi
  rm -rf "$work"
  echo "run $i exit $rc $(( $(date +%s) - t0 ))s failures $fails" | tee -a "$OUT/summary.txt"
done
rm -f "$OUT/current.log" "$OUT/.run_start"
echo "$N runs, $fails failed, $(( $(date +%s) - start ))s: bash tools/dist_train.sh $CFG 2" \
  | tee -a "$OUT/summary.txt"
echo "wrote $OUT/summary.txt"
[ $fails -eq 0 ]
