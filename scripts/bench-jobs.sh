#!/usr/bin/env bash
# What a user with a fast test sees, in one run on this machine (issue 17's rows): a 200-run job
# of `true` at parallelism 1 (clone and setup included) against 200 sequential bubblewrap sandboxes
# from a shell loop, and 200 runs of a ~12 ms Python test at parallelism 1 and 4 against the same
# command run unsandboxed in one shared checkout (`xargs -P`), and, for reference, each run in
# bubblewrap and each run under `unshare` (user, network, mount and pid namespaces alone). The
# rows run in rounds (JOB_ROUNDS, default 3), each round in a new random order, and each ratio is
# the median of its per-round ratios, so that a load that comes and goes hits both sides of a ratio
# alike (single runs moved by ±15 %). With LAUNCHER_SERVER_ROWS=1 the flakebox
# rows are also run with FLAKEBOX_LAUNCHER_SERVER=0 (every launcher executed, as before issue 17).
# Called by scripts/bench.sh with the release binaries; `BIN=DIR scripts/bench-jobs.sh` measures
# another build.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-$(swift build -c release --show-bin-path)}
export FLAKEBOX_SANDBOX_HELPER="$bin/flakebox-sandbox"
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

BIN="$bin" REPO="$repo" python3 - <<'PY'
import os, random, statistics, subprocess, time

bin, repo = os.environ["BIN"], os.environ["REPO"]
runs = int(os.environ.get("JOB_RUNS", "200"))
rounds = int(os.environ.get("JOB_ROUNDS", "3"))
py = "/usr/bin/python3 t.py"
bwrap = "bwrap --unshare-all --die-with-parent --ro-bind / / --dev /dev --proc /proc"


def flakebox(parallelism, command, server=True):
    env = dict(os.environ, FLAKEBOX_LAUNCHER_SERVER="1" if server else "0")
    return lambda: subprocess.run(
        [f"{bin}/flakebox", "run", "--repo", repo, "--runs", str(runs), "--parallelism", str(parallelism),
         "--no-cache", "--json", "--", command], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)


def shell(script):
    return lambda: subprocess.run(["sh", "-c", script], cwd=repo, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def xargs(parallelism, prefix=""):
    return shell(f"seq 0 {runs - 1} | xargs -P {parallelism} -I{{}} sh -c "
                 f"\"TEST_SEED={{}} ATTEMPT={{}} {prefix}{py} >/dev/null 2>&1 || true\"")


rows = {
    "true P1": flakebox(1, "true"),
    "bwrap true loop": shell(f"for i in $(seq {runs}); do {bwrap} true; done"),
}
for p in (1, 4):
    rows[f"py P{p}"] = flakebox(p, py)
    rows[f"xargs P{p}"] = xargs(p)
    rows[f"bwrap xargs P{p}"] = xargs(p, f"{bwrap} --chdir {repo} ")
    # The namespaces alone that keep runs apart (user, network, mount, pid): the floor under any
    # per-run sandbox here.
    rows[f"unshare xargs P{p}"] = xargs(p, "unshare --user --map-root-user --net --mount --pid --fork ")
if os.environ.get("LAUNCHER_SERVER_ROWS") == "1":
    rows["true P1 exec"] = flakebox(1, "true", server=False)
    for p in (1, 4):
        rows[f"py P{p} exec"] = flakebox(p, py, server=False)

times = {name: [] for name in rows}
for _ in range(rounds):
    order = list(rows)
    random.shuffle(order)
    for name in order:
        start = time.monotonic()
        rows[name]()
        times[name].append(time.monotonic() - start)


def ratio(a, b):
    return statistics.median(x / y for x, y in zip(times[a], times[b]))


def span(name):
    values = times[name]
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


print(f"{runs} runs a row, {rounds} rounds; seconds as median (min–max), ratios as the median of per-round ratios\n")
print("| row | baseline s | flakebox run s | ratio | target | each run in `bwrap` s | its ratio | each run under `unshare` s | its ratio |")
print("|---|---:|---:|---:|---|---:|---:|---:|---:|")
print(f"| `true`, parallelism 1, against sequential `bwrap --unshare-all … true` | {span('bwrap true loop')} "
      f"| {span('true P1')} | **{ratio('true P1', 'bwrap true loop'):.2f}** | < 1.00 | | | | |")
for p in (1, 4):
    print(f"| `python3 t.py` (~12 ms), parallelism {p}, against `xargs -P{p}` unsandboxed | {span(f'xargs P{p}')} "
          f"| {span(f'py P{p}')} | **{ratio(f'py P{p}', f'xargs P{p}'):.2f}** | <= 1.25 "
          f"| {span(f'bwrap xargs P{p}')} | {ratio(f'bwrap xargs P{p}', f'xargs P{p}'):.2f} "
          f"| {span(f'unshare xargs P{p}')} | {ratio(f'unshare xargs P{p}', f'xargs P{p}'):.2f} |")
if "true P1 exec" in rows:
    print("\nLaunchers executed per attempt (FLAKEBOX_LAUNCHER_SERVER=0), same rounds:\n")
    print("| row | launchers forked s | executed s | executed / forked |")
    print("|---|---:|---:|---:|")
    for name, label in [("true P1", "`true`, parallelism 1"), ("py P1", "`python3 t.py`, parallelism 1"),
                        ("py P4", "`python3 t.py`, parallelism 4")]:
        print(f"| {label} | {span(name)} | {span(name + ' exec')} | {ratio(name + ' exec', name):.2f} |")
PY
