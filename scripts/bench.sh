#!/usr/bin/env bash
# Per-attempt cost, side by side in one run on this machine: bare `true`, bubblewrap, flakebox's
# helper alone (same plan as an attempt, no cgroups/seccomp), and whole flakebox attempts as a job
# runs them (cgroups, seccomp, overlay), over a 10-file and a 10,000-file checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
swift build -c release >/dev/null
bin=$(swift build -c release --show-bin-path)
export FLAKEBOX_SANDBOX_HELPER="$bin/flakebox-sandbox"
runs=${RUNS:-200}

work=$(mktemp -d /tmp/flakebox-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
mkdir -p "$work/small" "$work/big"
for i in $(seq 10); do echo "$i" > "$work/small/f$i"; done
for d in $(seq 100); do mkdir "$work/big/d$d"; for f in $(seq 100); do echo "$f" > "$work/big/d$d/f$f"; done; done
owner=$( [ "$(id -u)" -eq 0 ] && echo 65534:65534 || echo "$(id -u):$(id -g)" )
chown -R "$owner" "$work/small" "$work/big"

helper_plan=(--ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib --symlink usr/lib64 /lib64
  --dir /etc --overlay "$work/small" /workspace 67108864 10000 --tmpfs /tmp 67108864 10000
  --proc /proc --dev /dev 1048576 --chdir /workspace -- /usr/bin/true)

echo "== per-attempt wall time (ms), $runs runs each =="
hyperfine -N --runs "$runs" --warmup 10 -u millisecond --export-markdown "$work/h.md" \
  -n 'bare true' 'true' \
  -n 'bwrap --unshare-all' 'bwrap --unshare-all --die-with-parent --ro-bind / / --dev /dev --proc /proc true' \
  -n 'flakebox-sandbox alone' "$FLAKEBOX_SANDBOX_HELPER ${helper_plan[*]}" >/dev/null
cat "$work/h.md"
echo
echo "== flakebox attempts from one supervisor (cgroups + seccomp + overlay), ms =="
small=$("$bin/flakebox" bench --workspace "$work/small" --runs "$runs")
big=$("$bin/flakebox" bench --workspace "$work/big" --runs "$runs")
echo "10-file checkout:     $small"
echo "10,000-file checkout: $big"
m_small=$(sed -E 's/.*median=([0-9.]+).*/\1/' <<<"$small")
m_big=$(sed -E 's/.*median=([0-9.]+).*/\1/' <<<"$big")
awk -v s="$m_small" -v b="$m_big" 'BEGIN { printf "overlay setup ratio 10k/10 files (median): %.2f (target <= 1.2)\n", b / s }'
