#!/usr/bin/env bash
# Per-attempt cost, side by side in one run on this machine. `flakebox bench` runs every row
# round-robin from one supervisor, by one clock: bare `true` and bubblewrap spawned and waited
# for, and whole flakebox attempts as a job runs them (cgroups, seccomp, overlay, teardown) over
# a 10-file and a 10,000-file checkout. RUNS sets the rounds (default 300).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
swift build -c release >/dev/null
bin=$(swift build -c release --show-bin-path)
export FLAKEBOX_SANDBOX_HELPER="$bin/flakebox-sandbox"
runs=${RUNS:-300}

work=$(mktemp -d /tmp/flakebox-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
mkdir -p "$work/small" "$work/large"
for i in $(seq 10); do echo "$i" > "$work/small/f$i"; done
for d in $(seq 100); do
  mkdir "$work/large/d$d"
  for f in $(seq 100); do echo "$f" > "$work/large/d$d/f$f"; done
done

echo "== $(uname -r), $(nproc) cores, $(id -un); bubblewrap $(bwrap --version | cut -d' ' -f2) =="
table=$("$bin/flakebox" bench --workspace "$work/small" --large-workspace "$work/large" --runs "$runs" \
  --baseline /usr/bin/true \
  --baseline "/usr/bin/bwrap --unshare-all --die-with-parent --ro-bind / / --dev /dev --proc /proc true")
echo "$table"
median() { grep -F "$1" <<<"$table" | awk -F'|' '{ gsub(/ /, "", $3); print $3 }'; }
awk -v f="$(median 'attempt, small')" -v l="$(median 'attempt, large')" -v b="$(median bwrap)" 'BEGIN {
  printf "\nflakebox / bubblewrap (median, small checkout): %.2f (target <= 1.00)\n", f / b
  printf "overlay cost 10,000 / 10 files (median): %.2f (target <= 1.20)\n", l / f
}'

echo
echo "== a 200-run job at parallelism 4: flakebox against the same command in one shared checkout =="
job="$work/job"
mkdir -p "$job"
cat > "$job/test_short.py" <<'PY'
import os, time
time.sleep(0.2)
assert int(os.environ.get("TEST_SEED", "1")) % 50 != 7
PY
git -C "$job" init -q -b main && git -C "$job" add -A && git -C "$job" -c user.name=b -c user.email=b@b commit -qm bench
cmd="/usr/bin/python3 test_short.py"  # both sides run the same interpreter (not a pyenv shim)
start=$(date +%s.%N)
seq 0 199 | xargs -P 4 -I{} sh -c "cd '$job' && TEST_SEED={} ATTEMPT={} $cmd >/dev/null 2>&1 || true"
shared=$(echo "$(date +%s.%N) - $start" | bc)
start=$(date +%s.%N)
"$bin/flakebox" run --repo "$job" --runs 200 --parallelism 4 --json -- "$cmd" > "$work/summary.json" || true
sandboxed=$(echo "$(date +%s.%N) - $start" | bc)
printf '| 200 runs, parallelism 4 | wall s |\n|---|---:|\n| shared checkout, unsandboxed (xargs -P4) | %.2f |\n| flakebox run (clone, setup probe, 200 sandboxes, summary) | %.2f |\n' "$shared" "$sandboxed"
awk -v f="$sandboxed" -v s="$shared" 'BEGIN { printf "flakebox / shared checkout: %.2f (target <= 1.10)\n", f / s }'
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print("failures found:", s["failures"], "of", s["total_runs"])' "$work/summary.json"

echo
echo "== supervisor memory: 1000 runs, each printing 10 MB =="
/usr/bin/time -v "$bin/flakebox" run --repo "$job" --runs "${FLOOD_RUNS:-1000}" --parallelism 4 --json \
  -- 'head -c 10000000 /dev/zero | tr "\\0" x' > /dev/null 2> "$work/time.txt" || true
rss=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$work/time.txt")
awk -v k="$rss" 'BEGIN { printf "supervisor peak RSS: %.1f MB (target <= 64)\n", k / 1024 }'

echo
echo "== the RunPod worker against a stand-in platform (scripts/runpod-standin.py) =="
port=$((20000 + RANDOM % 20000))
: > "$work/jobs.jsonl"
python3 scripts/runpod-standin.py "$port" "$work/jobs.jsonl" 1 > "$work/standin.log" &
standin=$!
base="http://127.0.0.1:$port/v2/EP"
sleep 0.5
RUNPOD_WEBHOOK_GET_JOB="$base/job-take/\$ID?gpu=EMULATED" \
  RUNPOD_WEBHOOK_POST_OUTPUT="$base/job-done/\$RUNPOD_POD_ID/\$ID?gpu=EMULATED" \
  RUNPOD_WEBHOOK_PING="$base/ping/\$RUNPOD_POD_ID?gpu=EMULATED" RUNPOD_PING_INTERVAL=10000 \
  RUNPOD_AI_API_KEY=bench RUNPOD_POD_ID=bench \
  "$bin/flakebox" worker --allow-local-repos > "$work/worker.log" 2>&1 &
worker=$!
trap 'kill $worker $standin 2>/dev/null; rm -rf "$work"' EXIT
sleep 5  # started, probed, long-polling: idle
idle=$(awk '/^VmRSS/ { print $2 }' "/proc/$worker/status")
awk -v k="$idle" 'BEGIN { printf "worker idle RSS (taking jobs, heartbeat on): %.1f MB (target <= 30)\n", k / 1024 }'
awk '/^RssAnon|^RssFile/ { printf "  %s %.1f MB\n", $1, $2 / 1024 }' "/proc/$worker/status"

# One job, alternately as `flakebox run` and through the worker; the worker's time runs from the
# platform handing the job over to the platform receiving its result.
rounds=${WORKER_ROUNDS:-5}
job_runs=${WORKER_JOB_RUNS:-40}
: > "$work/cli.txt"
for round in $(seq "$rounds"); do
  start=$(date +%s.%N)
  "$bin/flakebox" run --repo "$job" --runs "$job_runs" --parallelism 4 --json -- "$cmd" > /dev/null || true
  echo "$(date +%s.%N) - $start" | bc >> "$work/cli.txt"
  python3 -c 'import json,sys; print(json.dumps({"id": sys.argv[1], "input": {"repo": sys.argv[2],
    "test_command": sys.argv[3], "runs": int(sys.argv[4]), "parallelism": 4}}))' \
    "bench-$round" "$job" "$cmd" "$job_runs" >> "$work/jobs.jsonl"
  until grep -q "job-done/bench/bench-$round?.*\"output\": {\"advice" "$work/standin.log"; do sleep 0.2; done
done
python3 - "$work/standin.log" "$work/cli.txt" "$job_runs" <<'PY'
import json, statistics, sys
events = [json.loads(line) for line in open(sys.argv[1])]
taken = {}
worker = []
for e in events:
    if e["method"] == "GET" and "/job-take/" in e["path"] and e["status"] == 200:
        taken[len(taken) + 1] = e["t"]
    if e["method"] == "POST" and "/job-done/" in e["path"] and "status" not in e.get("body", {}):
        worker.append(e["t"] - taken[len(worker) + 1])
cli = [float(line) for line in open(sys.argv[2])]
progress = sum(1 for e in events if e["method"] == "POST" and e.get("body", {}).get("status") == "IN_PROGRESS")
w, c = statistics.median(worker), statistics.median(cli)
print(f"| {sys.argv[3]} runs, parallelism 4, {len(cli)} rounds each | median wall s |")
print("|---|---:|")
print(f"| flakebox run (clone, setup probe, sandboxes, summary) | {c:.2f} |")
print(f"| flakebox worker: job handed over → result received ({progress} progress posts) | {w:.2f} |")
print(f"worker / flakebox run: {w / c:.3f} (target <= 1.05)")
PY
kill -TERM "$worker"
wait "$worker" || true
