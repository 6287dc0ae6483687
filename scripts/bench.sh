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
