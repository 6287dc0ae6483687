#!/usr/bin/env bash
# What a user with a fast test sees, in one run on this machine (issue 17's rows): a 200-run job
# of `true` at parallelism 1 (clone and setup included) against 200 sequential bubblewrap sandboxes
# from a shell loop, and 200 runs of a ~12 ms Python test at parallelism 1 and 4 against the same
# command run unsandboxed in one shared checkout (`xargs -P`). Called by scripts/bench.sh with the
# release binaries; `BIN=DIR scripts/bench-jobs.sh` measures another build.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-$(swift build -c release --show-bin-path)}
export FLAKEBOX_SANDBOX_HELPER="$bin/flakebox-sandbox"
runs=${JOB_RUNS:-200}
work=$(mktemp -d /tmp/flakebox-bench-jobs.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
repo="$work/repo"
mkdir -p "$repo"
# A test that passes: the rows measure attempts, not the replays and reruns a failure brings.
cat > "$repo/t.py" <<'PY'
import os
assert int(os.environ.get("TEST_SEED", "1")) >= 0
PY
git -C "$repo" init -q -b main && git -C "$repo" add -A && git -C "$repo" -c user.name=b -c user.email=b@b commit -qm bench
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }

start=$(now)
"$bin/flakebox" run --repo "$repo" --runs "$runs" --parallelism 1 --no-cache --json -- true > /dev/null
flakebox_true=$(since "$start")
start=$(now)
for _ in $(seq "$runs"); do bwrap --unshare-all --die-with-parent --ro-bind / / --dev /dev --proc /proc true; done
bwrap_true=$(since "$start")

py="/usr/bin/python3 t.py"
declare -A shared sandboxed
for p in 1 4; do
  start=$(now)
  seq 0 $((runs - 1)) | xargs -P "$p" -I{} sh -c "cd '$repo' && TEST_SEED={} ATTEMPT={} $py >/dev/null 2>&1 || true"
  shared[$p]=$(since "$start")
  start=$(now)
  "$bin/flakebox" run --repo "$repo" --runs "$runs" --parallelism "$p" --no-cache --json -- "$py" > /dev/null || true
  sandboxed[$p]=$(since "$start")
done

printf '| %s runs | baseline s | flakebox run s | ratio | target |\n|---|---:|---:|---:|---|\n' "$runs"
awk -v f="$flakebox_true" -v b="$bwrap_true" 'BEGIN {
  printf "| `true`, parallelism 1, against sequential `bwrap --unshare-all … true` | %.2f | %.2f | %.2f | < 1.00 |\n", b, f, f / b }'
for p in 1 4; do
  awk -v f="${sandboxed[$p]}" -v s="${shared[$p]}" -v p="$p" 'BEGIN {
    printf "| `python3 t.py` (~12 ms), parallelism %d, against `xargs -P%d` unsandboxed | %.2f | %.2f | %.2f | <= 1.25 |\n", p, p, s, f, f / s }'
done
