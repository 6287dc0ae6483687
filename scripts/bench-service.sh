#!/usr/bin/env bash
# `flakebox serve` measured beside `flakebox run`, in one run on this machine: the service's idle
# memory, one job through the service (`/runsync`) against the same job by `flakebox run`, and
# `/status` requests per second under wrk on loopback while a job runs. Called by scripts/bench.sh
# with the release binaries; `BIN=DIR scripts/bench-service.sh` measures another build.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-$(swift build -c release --show-bin-path)}
export FLAKEBOX_SANDBOX_HELPER="$bin/flakebox-sandbox"
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get install -y -qq --no-install-recommends wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
  fi
fi

work=$(mktemp -d /tmp/flakebox-bench-service.XXXXXX)
chmod 755 "$work"
serve_pid=
cleanup() {
  [ -z "$serve_pid" ] || kill -TERM "$serve_pid" 2>/dev/null || true
  [ -z "$serve_pid" ] || wait "$serve_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

job="$work/job"
mkdir -p "$job"
cat > "$job/test_short.py" <<'PY'
import os, time
time.sleep(0.2)
assert int(os.environ.get("TEST_SEED", "1")) % 50 != 7
PY
git -C "$job" init -q -b main && git -C "$job" add -A && git -C "$job" -c user.name=b -c user.email=b@b commit -qm bench
runs=${SERVICE_RUNS:-100}
input=$(python3 -c 'import json,sys; print(json.dumps({"input": {"repo": sys.argv[1], "test_command": "/usr/bin/python3 test_short.py", "runs": int(sys.argv[2]), "parallelism": 4}}))' "$job" "$runs")

db="$work/serve.db"
key=$("$bin/flakebox" serve keys create --database "$db" --name bench --max-queued 1000 --max-sync-waits 8 --json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
"$bin/flakebox" serve --database "$db" --port 0 --allow-local-repos --allow-private-addresses > "$work/serve.out" 2> "$work/serve.err" &
serve_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^flakebox serve: listening on //p' "$work/serve.out" | head -1)
[ -n "$url" ] || { echo "flakebox serve did not start"; cat "$work/serve.err"; exit 1; }
api="$url/v2/flakebox"
auth="Authorization: Bearer $key"
sleep 2
idle=$(awk '/VmRSS/ { print $2 }' "/proc/$serve_pid/status")

echo "== flakebox serve: one job of $runs runs at parallelism 4 through /runsync, against flakebox run =="
echo "| | wall s |"
echo "|---|---:|"
through=() direct=()
for round in 1 2 3; do
  start=$(date +%s.%N)
  curl -sf -H "$auth" -H 'Content-Type: application/json' -d "$input" "$api/runsync?wait=300000" > "$work/sync.json"
  through+=("$(echo "$(date +%s.%N) - $start" | bc)")
  start=$(date +%s.%N)
  "$bin/flakebox" run --repo "$job" --runs "$runs" --parallelism 4 --json -- /usr/bin/python3 test_short.py > "$work/run.json" 2>/dev/null || true
  direct+=("$(echo "$(date +%s.%N) - $start" | bc)")
done
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
t=$(median "${through[@]}") d=$(median "${direct[@]}")
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["status"] == "COMPLETED", s["status"]; print("| flakebox serve, /runsync (median of 3; %d of %d failed) | %s |" % (s["output"]["failures"], s["output"]["total_runs"], sys.argv[2]))' "$work/sync.json" "$t"
printf '| flakebox run --json (median of 3) | %s |\n' "$d"
awk -v t="$t" -v d="$d" 'BEGIN { printf "service / flakebox run: %.3f (target <= 1.05)\n", t / d }'
busy=$(awk '/VmHWM/ { print $2 }' "/proc/$serve_pid/status")

echo
echo "== /status under wrk (2 threads, 16 connections, 10 s) while a job runs =="
id=$(curl -sf -H "$auth" -H 'Content-Type: application/json' -d "$input" "$api/run" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
sleep 1
if command -v wrk >/dev/null; then
  wrk -t2 -c16 -d10s -H "$auth" "$api/status/$id" | grep -E "Requests/sec|Latency|requests in"
else
  echo "wrk is not installed (apt-get install wrk): skipped"
fi
curl -sf -X POST -H "$auth" "$api/cancel/$id" > /dev/null
echo
printf '| flakebox serve memory | KiB |\n|---|---:|\n| idle RSS after start | %s |\n| peak RSS after the jobs (VmHWM) | %s |\n' "$idle" "$busy"
