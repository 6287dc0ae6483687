#!/usr/bin/env bash
# Per-attempt cost, side by side in one run on this machine. `flakebox bench` runs every row
# round-robin from one supervisor, by one clock: bare `true` and bubblewrap spawned and waited
# for, and whole flakebox attempts as a job runs them over a 10-file and a 10,000-file checkout,
# at the full tier (cgroups, seccomp, overlay, teardown) and at the minimal tier under the runpod
# policy (a copy of the checkout, a uid of its own, Landlock, the loopback and path guards,
# teardown). RUNS sets the rounds (default 300).
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
  --minimal-policy runpod --baseline /usr/bin/true \
  --baseline "/usr/bin/bwrap --unshare-all --die-with-parent --ro-bind / / --dev /dev --proc /proc true")
echo "$table"
median() { grep -F "$1" <<<"$table" | awk -F'|' '{ gsub(/ /, "", $3); print $3 }'; }
awk -v f="$(median 'full tier, small')" -v l="$(median 'full tier, large')" -v b="$(median bwrap)" \
  -v m="$(median 'minimal tier, small')" -v ml="$(median 'minimal tier, large')" 'BEGIN {
  printf "\nflakebox / bubblewrap (median, small checkout): %.2f (target <= 1.00)\n", f / b
  printf "overlay cost 10,000 / 10 files (median): %.2f (target <= 1.20)\n", l / f
  printf "minimal / full tier per attempt (median, small checkout): %.2f (target <= 1.00)\n", m / f
  printf "minimal tier / bubblewrap (median, small checkout): %.2f\n", m / b
  printf "minimal tier, copy cost 10,000 / 10 files (median; no overlay without a mount namespace): %.2f\n", ml / m
}'

echo
echo "== Python's CPU time inside an attempt against outside (per process, per attempt, per layer) =="
BIN="$bin" scripts/bench-python.sh

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
if [ "$(id -u)" = 0 ]; then
  # The RunPod tier: the same job at the minimal tier, the supervisor under Docker's default
  # seccomp profile and capabilities (`flakebox confine --docker`, as in MinimalTierContainerTests).
  start=$(date +%s.%N)
  "$bin/flakebox" confine --docker -- "$bin/flakebox" run --repo "$job" --runs 200 --parallelism 4 \
    --tier minimal --policy runpod --json -- "$cmd" > "$work/summary-minimal.json" || true
  minimal=$(echo "$(date +%s.%N) - $start" | bc)
  printf '| flakebox run --tier minimal --policy runpod, under Docker'"'"'s confinement | %.2f |\n' "$minimal"
  awk -v m="$minimal" -v f="$sandboxed" -v s="$shared" 'BEGIN {
    printf "minimal / full tier, whole job: %.2f (target <= 1.00)\n", m / f
    printf "minimal tier / shared checkout, whole job: %.2f\n", m / s
  }'

  echo
  echo "== the minimal tier's path guard (private /tmp by path): one launcher, with and without it =="
  # The launcher alone, loopback guard and Landlock as an attempt has them; the path guard adds one
  # seccomp notification per path call. Aliases at / as the supervisor makes them.
  pg="$work/pathguard"
  mkdir -p "$pg/tmp" "$pg/var-tmp" "$pg/shm" "$pg/ws"
  chown -R 65534:65534 "$pg"
  aliases=()
  for d in tmp var-tmp shm; do
    for n in $(seq 0 61); do
      a="/.b$(printf '%s' 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ | cut -c$((n + 1)))"
      if ln -s "$pg/$d" "$a" 2>/dev/null; then aliases+=("$a"); break; fi
    done
  done
  python3 - "$bin/flakebox-sandbox" "$pg" "${aliases[@]}" "${PATHGUARD_RUNS:-30}" <<'PY'
import resource, statistics, subprocess, sys
helper, pg, aliases, rounds = sys.argv[1], sys.argv[2], sys.argv[3:6], int(sys.argv[6])
base = [helper, "--no-namespaces", "--net-guard", "--landlock"]
for p in ["/usr", "/bin", "/lib", "/lib64", "/etc", "/proc"]:
    base += ["--landlock-ro", p]
base += ["--landlock-rw", "/dev/null", "--landlock-rw", pg]
paths = sum(([ "--private-path", d, a] for d, a in zip(["/tmp", "/var/tmp", "/dev/shm"], aliases)), [])
tail = ["--chdir", pg + "/ws", "--setenv", "PATH=/usr/bin:/bin", "--"]
rows = {"python3 -c pass": ["python3", "-c", "pass"], "python3 -c 'import pytest'": ["python3", "-c", "import pytest"]}
def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime
print("| command | wall ms | with the path guard | CPU ms | with the path guard |\n|---|---:|---:|---:|---:|")
for name, cmd in rows.items():
    wall, used = {0: [], 1: []}, {0: [], 1: []}
    for _ in range(rounds):
        for on in (0, 1):
            import time
            t, c = time.perf_counter(), cpu()
            subprocess.run(base + (paths if on else []) + tail + cmd, check=True, stdout=subprocess.DEVNULL)
            wall[on].append(time.perf_counter() - t)
            used[on].append(cpu() - c)
    m = statistics.median
    print(f"| {name} | {m(wall[0]) * 1000:.1f} | {m(wall[1]) * 1000:.1f} | {m(used[0]) * 1000:.1f} | {m(used[1]) * 1000:.1f} |")
PY
  rm -f "${aliases[@]}"
fi

echo
echo "== fast tests: a job of true against sequential bubblewrap; a 12 ms Python test at P=1 and P=4 =="
BIN="$bin" scripts/bench-jobs.sh

echo
echo "== flakebox's pytest plugin: a small pytest run (5 tests) with and without it =="
# The plugin as flakebox writes it into checkouts (the Swift source embeds it).
mkdir -p "$work/plugin/plugin" "$work/plugin/tests"
python3 - Sources/FlakeboxCore/Plan/PytestPlugin.swift "$work/plugin/plugin/flakebox_pytest.py" <<'PY'
import sys, textwrap
text = open(sys.argv[1]).read()
body = text[text.index('#"""') + 5 : text.index('"""#')]
open(sys.argv[2], "w").write(textwrap.dedent(body))
PY
cat > "$work/plugin/tests/test_small.py" <<'PY'
import random
def test_one(): assert random.random() < 2
def test_two(): assert sorted([3, 1, 2]) == [1, 2, 3]
def test_three(): assert "a" * 3 == "aaa"
class TestGroup:
    def test_four(self): assert {1: 2}[1] == 2
    def test_five(self): assert sum(range(10)) == 45
PY
# Interleaved (one run of each in turn), so that load from elsewhere falls on every row alike.
# Interleaved (one run of each in turn), so that load from elsewhere falls on every row alike;
# CPU time (user + system, from rusage) as well as wall time, as it is less disturbed by load.
python3 - "$work/plugin" "${PLUGIN_RUNS:-60}" <<'PY'
import os, resource, statistics, subprocess, sys, time
root, rounds = sys.argv[1], int(sys.argv[2])
env = dict(os.environ, TEST_SEED="7", PYTHONPATH=f"{root}/plugin", PYTEST_FLAKEBOX_REPORT=f"{root}/report.json")
base = ["/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", f"{root}/tests"]
rows = {
    "pytest, no plugin": (base, {}),
    "pytest + flakebox_pytest (reseed)": (base + ["-p", "flakebox_pytest"], {}),
    "pytest + flakebox_pytest (reseed, shuffle)": (base + ["-p", "flakebox_pytest"], {"PYTEST_FLAKEBOX_SHUFFLE": "1"}),
}
wall = {name: [] for name in rows}
cpu = {name: [] for name in rows}
def used():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime
for _ in range(rounds):
    for name, (argv, extra) in rows.items():
        start, start_cpu = time.perf_counter(), used()
        subprocess.run(argv, env=dict(env, **extra), stdout=subprocess.DEVNULL, check=True)
        wall[name].append(time.perf_counter() - start)
        cpu[name].append(used() - start_cpu)
base_wall = statistics.median(wall["pytest, no plugin"])
base_cpu = statistics.median(cpu["pytest, no plugin"])
print("| run | median wall ms | cost | median CPU ms | cost |\n|---|---:|---:|---:|---:|")
for name in rows:
    w, c = statistics.median(wall[name]), statistics.median(cpu[name])
    print(f"| {name} | {w * 1000:.1f} | {100 * (w / base_wall - 1):+.1f} % | {c * 1000:.1f} | {100 * (c / base_cpu - 1):+.1f} % |")
worst = max(statistics.median(cpu[name]) for name in list(rows)[1:])
print(f"plugin cost per attempt (median CPU, worst row): {100 * (worst / base_cpu - 1):+.1f} % (target < 5 %)")
PY

echo
echo "== supervisor memory: 1000 runs, each printing 10 MB =="
/usr/bin/time -v "$bin/flakebox" run --repo "$job" --runs "${FLOOD_RUNS:-1000}" --parallelism 4 --json \
  -- 'head -c 10000000 /dev/zero | tr "\\0" x' > /dev/null 2> "$work/time.txt" || true
rss=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$work/time.txt")
awk -v k="$rss" 'BEGIN { printf "supervisor peak RSS: %.1f MB (target <= 64)\n", k / 1024 }'

echo
echo "== the RunPod worker against a stand-in platform (scripts/runpod-standin.py), beside the official SDK =="
# The baseline: RunPod's Python SDK (1.12.0, from PyPI) with the handler one would write without
# flakebox worker: it runs `flakebox run --json` per job. Kept in .build-bench-sdk between runs.
sdk_python=""
if [ "${NO_SDK:-0}" != 1 ]; then
  if [ ! -x .build-bench-sdk/bin/python ]; then
    if ! { python3 -m venv .build-bench-sdk && .build-bench-sdk/bin/pip install -q runpod==1.12.0 > /dev/null 2>&1; }; then
      rm -rf .build-bench-sdk
    fi
  fi
  [ -x .build-bench-sdk/bin/python ] && sdk_python=$(pwd)/.build-bench-sdk/bin/python
fi
cat > "$work/sdk_handler.py" <<'PY'
import json, os, subprocess, tempfile
import runpod

def handler(job):
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(job["input"], f)
        f.flush()
        run = subprocess.run([os.environ["FLAKEBOX_BIN"], "run", "--input", f.name, "--json"],
                             capture_output=True, text=True)
    return json.loads(run.stdout) if run.stdout.strip() else {"error": run.stderr[-2000:]}

runpod.serverless.start({"handler": handler})
PY

# start_platform NAME: a stand-in platform on a free port, its URLs exported for the next worker.
start_platform() {
  local port=$((20000 + RANDOM % 20000))
  : > "$work/$1.jobs"
  python3 scripts/runpod-standin.py "$port" "$work/$1.jobs" 1 > "$work/$1.log" &
  pids+=($!)
  local base="http://127.0.0.1:$port/v2/EP"
  export RUNPOD_WEBHOOK_GET_JOB="$base/job-take/\$ID?gpu=EMULATED"
  export RUNPOD_WEBHOOK_POST_OUTPUT="$base/job-done/\$RUNPOD_POD_ID/\$ID?gpu=EMULATED"
  export RUNPOD_WEBHOOK_PING="$base/ping/\$RUNPOD_POD_ID?gpu=EMULATED"
  export RUNPOD_PING_INTERVAL=10000 RUNPOD_AI_API_KEY=bench RUNPOD_POD_ID=bench
  sleep 0.5
}
# rss PID...: the summed VmRSS of the processes, in MB.
rss() { for p in "$@"; do awk '/^VmRSS/ { print $2 }' "/proc/$p/status"; done | awk '{ s += $1 } END { printf "%.1f", s / 1024 }'; }
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT

# The worker as the image ships it: release, static Swift runtime, staged by scripts/image.sh.
scripts/image.sh build "$work/image" > /dev/null
wbin="$work/image/usr/local/bin"
start_platform worker
env -u FLAKEBOX_SANDBOX_HELPER "$wbin/flakebox" worker --allow-local-repos > "$work/worker.out" 2>&1 &
worker=$!
pids+=("$worker")
start_platform dev
"$bin/flakebox" worker > "$work/dev.out" 2>&1 &
dev=$!
pids+=("$dev")
if [ -n "$sdk_python" ]; then
  start_platform sdk
  FLAKEBOX_BIN="$wbin/flakebox" RUNPOD_SKIP_AUTO_SYSTEM_CHECKS=true RUNPOD_LOG_LEVEL=ERROR \
    "$sdk_python" "$work/sdk_handler.py" > "$work/sdk.out" 2>&1 &
  pids+=($!)
  sdk=$!
fi
unset RUNPOD_WEBHOOK_GET_JOB RUNPOD_WEBHOOK_POST_OUTPUT RUNPOD_WEBHOOK_PING RUNPOD_AI_API_KEY RUNPOD_POD_ID
sleep 6  # started, probed, long-polling, heartbeat on: idle
echo "| idle, taking jobs, heartbeat on | RSS |"
echo "|---|---:|"
echo "| flakebox worker, the image's build (static Swift runtime) | **$(rss "$worker") MB** (target <= 30) |"
echo "| flakebox worker, this checkout's release build (Swift runtime in shared libraries) | $(rss "$dev") MB |"
if [ -n "$sdk_python" ]; then
  # The SDK runs its heartbeat in a second process.
  mapfile -t sdk_children < <(pgrep -P "$sdk" || true)
  echo "| runpod 1.12.0 SDK worker (main + heartbeat process) | $(rss "$sdk" "${sdk_children[@]}") MB |"
fi

# One job, in turn as `flakebox run`, through the worker and through the SDK; the workers' times
# run from the platform handing the job over to the platform receiving its result.
rounds=${WORKER_ROUNDS:-5}
job_runs=${WORKER_JOB_RUNS:-40}
: > "$work/cli.txt"
for round in $(seq "$rounds"); do
  start=$(date +%s.%N)
  env -u FLAKEBOX_SANDBOX_HELPER "$wbin/flakebox" run --repo "$job" --runs "$job_runs" --parallelism 4 --json \
    -- "$cmd" > /dev/null || true
  echo "$(date +%s.%N) - $start" | bc >> "$work/cli.txt"
  for platform in worker ${sdk_python:+sdk}; do
    python3 -c 'import json,sys; print(json.dumps({"id": sys.argv[1], "input": {"repo": sys.argv[2],
      "test_command": sys.argv[3], "runs": int(sys.argv[4]), "parallelism": 4}}))' \
      "bench-$round" "$job" "$cmd" "$job_runs" >> "$work/$platform.jobs"
    until python3 - "$work/$platform.log" "/bench-$round?" <<'PY'
import json, sys
events = map(json.loads, open(sys.argv[1]))
sys.exit(0 if any(e["method"] == "POST" and sys.argv[2] in e["path"] and "status" not in e.get("body", {})
                  for e in events) else 1)
PY
    do sleep 0.2; done
  done
done
python3 - "$work" "$job_runs" <<'PY'
import json, os, statistics, sys
work = sys.argv[1]
def handled(name):
    """Seconds from each job-take that handed a job over to the job's final job-done post."""
    path = os.path.join(work, name + ".log")
    if not os.path.exists(path):
        return None, 0
    events = [json.loads(line) for line in open(path)]
    taken = [e["t"] for e in events if e["method"] == "GET" and "/job-take/" in e["path"] and e["status"] == 200]
    done = [e["t"] for e in events
            if e["method"] == "POST" and "/job-done/" in e["path"] and "status" not in e.get("body", {})]
    progress = sum(1 for e in events if e["method"] == "POST" and e.get("body", {}).get("status") == "IN_PROGRESS")
    return [d - t for t, d in zip(taken, done)], progress
cli = [float(line) for line in open(os.path.join(work, "cli.txt"))]
worker, progress = handled("worker")
sdk, _ = handled("sdk")
c, w = statistics.median(cli), statistics.median(worker)
print()
print(f"| one job: {sys.argv[2]} runs, parallelism 4 ({len(cli)} rounds each, in turn) | median wall s |")
print("|---|---:|")
print(f"| flakebox run | {c:.2f} |")
print(f"| flakebox worker: job handed over → result received ({progress} progress posts) | {w:.2f} |")
if sdk:
    print(f"| runpod 1.12.0 SDK, handler running `flakebox run --json` | {statistics.median(sdk):.2f} |")
print(f"worker / flakebox run: {w / c:.3f} (target <= 1.05)")

if sdk:
    # The same platform traffic from both workers, side by side: method, path, query keys and
    # header names of each kind of request (values differ: ids, User-Agent).
    def shapes(name):
        seen = {}
        for e in map(json.loads, open(os.path.join(work, name + ".log"))):
            path, _, query = e["path"].partition("?")
            kind = path.split("/")[3]
            if kind == "job-done":
                kind += " (progress)" if e.get("body", {}).get("status") == "IN_PROGRESS" else " (result)"
            keys = [pair.split("=")[0] for pair in query.split("&") if pair]
            names = sorted(h.lower() for h in e["headers"] if h.lower() not in ("host", "content-length", "connection"))
            seen.setdefault(kind, f"{e['method']} ?{'&'.join(keys)} [{', '.join(names)}]")
        return seen
    ours, theirs = shapes("worker"), shapes("sdk")
    print()
    print("| request | runpod 1.12.0 SDK | flakebox worker |")
    print("|---|---|---|")
    for kind in sorted(set(ours) | set(theirs)):
        print(f"| {kind} | {theirs.get(kind, '—')} | {ours.get(kind, '—')} |")
PY
kill -TERM "$worker" "$dev"
wait "$worker" "$dev" || true

echo
# The service: idle memory, a job through /runsync against flakebox run, /status under wrk.
BIN="$bin" scripts/bench-service.sh

echo
echo "== flakebox serve: nodes on one PostgreSQL database, one against three =="
BIN="$bin" scripts/bench-nodes.sh
