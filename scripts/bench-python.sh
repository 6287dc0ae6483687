#!/usr/bin/env bash
# Python inside a flakebox attempt against Python outside, in CPU time (issue 17), in one run:
# - per process: the rusage of each `python3 -c pass` (and `-S`, and `true`), spawned by the same
#   small measurer bare and inside `flakebox exec` (full tier, default policy);
# - per attempt, as `flakebox run --json` reports `cpu_s` (the attempt cgroup after the launcher's
#   cpu-base), beside the same `/bin/sh -c` command bare;
# - layers a policy can switch off (seccomp, the cgroup limits, the network namespace), each
#   against the default, for Python's own CPU time and the attempt's wall time.
# Every row runs round-robin in a new random order each round, so load falls on all alike.
# Called by scripts/bench.sh with the release binaries; `BIN=DIR scripts/bench-python.sh` measures
# another build. PY_ROUNDS (default 8) rounds of PY_EACH (default 20) runs; PY_RUNS (default 60)
# attempts per `flakebox run`.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-$(swift build -c release --show-bin-path)}
export FLAKEBOX_SANDBOX_HELPER="$bin/flakebox-sandbox"

work=$(mktemp -d /tmp/flakebox-bench-python.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
mkdir -p "$work/ws" "$work/repo" "$work/policies"
# The measurer: spawns the command N times, stdout to /dev/null, and prints each child's CPU time
# (user + system, from wait4) in ms. The same file runs bare and inside.
cat > "$work/ws/measure.py" <<'PY'
import json, os, sys
n, argv = int(sys.argv[1]), sys.argv[2:]
out = []
for _ in range(n):
    pid = os.posix_spawn(argv[0], argv, os.environ,
                         file_actions=[(os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0)])
    _, status, usage = os.wait4(pid, 0)
    if status != 0:
        sys.exit(f"{argv}: wait status {status}")
    out.append((usage.ru_utime + usage.ru_stime) * 1000)
print(json.dumps(out))
PY
chmod -R a+rX "$work/ws"
echo x > "$work/repo/f"
git -C "$work/repo" init -q -b main && git -C "$work/repo" add -A \
  && git -C "$work/repo" -c user.name=b -c user.email=b@b commit -qm bench
python3 - policies/default.json "$work/policies" <<'PY'
import json, os, sys
base = json.load(open(sys.argv[1]))
# The profile is found relative to the policy file: name the shipped one by its absolute path.
base["seccomp"] = os.path.abspath(os.path.join(os.path.dirname(sys.argv[1]), base["seccomp"]))
def variant(name, edit):
    policy = json.loads(json.dumps(base))
    edit(policy)
    json.dump(policy, open(f"{sys.argv[2]}/{name}.json", "w"))
variant("default", lambda p: None)
variant("no-seccomp", lambda p: p.update(seccomp="unconfined"))
variant("no-cgroup-limits", lambda p: [p["limits"].pop(k, None) for k in ("memory", "maxMemory", "pids", "cpus")])
variant("no-netns", lambda p: p.update(network="host", remoteJobs=False))
PY

echo "== $(uname -r), $(nproc) cores, $(id -un), load average $(cut -d' ' -f1-3 /proc/loadavg) =="
python3 - "$bin/flakebox" "$work" "${PY_ROUNDS:-8}" "${PY_EACH:-20}" "${PY_RUNS:-60}" <<'PY'
import json, random, re, statistics, subprocess, sys
flakebox, work, rounds, each, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
measure = f"{work}/ws/measure.py"
commands = {"true": ["/usr/bin/true"], "python3 -S -c pass": ["/usr/bin/python3", "-S", "-c", "pass"],
            "python3 -c pass": ["/usr/bin/python3", "-c", "pass"]}
median = statistics.median

def bare(cmd):
    out = subprocess.run(["/usr/bin/python3", measure, str(each)] + cmd, cwd=f"{work}/ws", check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)

def inside(cmd, policy="default"):
    """Python's own CPU per process inside one attempt, and the attempt's wall time (exec's line)."""
    r = subprocess.run([flakebox, "exec", "--policy", f"{work}/policies/{policy}.json", "--workspace", f"{work}/ws",
                        "--", "/usr/bin/python3", "/workspace/measure.py", str(each)] + cmd,
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"flakebox exec ({policy}): {r.stderr[-600:]}")
    return json.loads(r.stdout), float(re.search(r"wall=([0-9.]+)s", r.stderr).group(1)) * 1000

# Per process.
samples = {(name, where): [] for name in commands for where in ("bare", "inside")}
for _ in range(rounds):
    for name in random.sample(list(commands), len(commands)):
        for where in random.sample(["bare", "inside"], 2):
            samples[(name, where)] += bare(commands[name]) if where == "bare" else inside(commands[name])[0]
print(f"\n| CPU time per process ({rounds} rounds x {each}, interleaved) | bare ms | inside an attempt ms | inside / bare |")
print("|---|---:|---:|---:|")
for name in commands:
    b, i = median(samples[(name, "bare")]), median(samples[(name, "inside")])
    print(f"| `{name}` | {b:.2f} | {i:.2f} | {i / b:.3f} |")
ratio = median(samples[("python3 -c pass", "inside")]) / median(samples[("python3 -c pass", "bare")])
print(f"python3 -c pass inside / outside (CPU time, median): {ratio:.3f} (target <= 1.10)")

# Per attempt, as a job reports it: cpu_s of `flakebox run` attempts (ms resolution) against the
# same `/bin/sh -c` command bare.
print(f"\n| CPU time per attempt (`flakebox run --runs {runs} --parallelism 1`) | bare `sh -c` ms | attempt `cpu_s` ms | ratio |")
print("|---|---:|---:|---:|")
for name, cmd in commands.items():
    line = " ".join(cmd)
    r = subprocess.run([flakebox, "run", "--repo", f"{work}/repo", "--runs", str(runs), "--parallelism", "1", "--json",
                        "--", line], capture_output=True, text=True)
    cpu = [a["cpu_s"] * 1000 for a in json.loads(r.stdout)["results"] if a.get("cpu_s") is not None]
    sh = []
    for _ in range(max(1, runs // each)):
        sh += bare(["/bin/sh", "-c", line])
    print(f"| `{line}` | {median(sh):.2f} | {median(cpu):.1f} | {median(cpu) / median(sh):.2f} |")

# Layers a policy switches off.
layers = {"default policy": "default", "- seccomp (\"unconfined\")": "no-seccomp",
          "- memory, pids and cpu limits": "no-cgroup-limits", "- network namespace (\"host\")": "no-netns"}
cpu = {k: [] for k in layers}
wall = {k: [] for k in layers}
for _ in range(rounds):
    for name in random.sample(list(layers), len(layers)):
        c, w = inside(commands["python3 -c pass"], layers[name])
        cpu[name] += c
        wall[name].append(w)
print(f"\n| `python3 -c pass` inside, one layer removed ({rounds} attempts x {each}) | CPU ms per process | attempt wall ms |")
print("|---|---:|---:|")
for name in layers:
    print(f"| {name} | {median(cpu[name]):.2f} | {median(wall[name]):.1f} |")
PY
