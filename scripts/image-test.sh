#!/usr/bin/env bash
# The RunPod image, built by a real container engine and run under RunPod's confinement: Debian's
# podman with runc (no daemon), Docker's seccomp profile and Docker's default capabilities. CI runs
# it (scripts/test.sh); it fails when the container's confinement is not Docker's or any check fails.
#
#   scripts/image-test.sh     as root (or it re-runs itself with sudo)
#
# No registry is reachable here, so the base image is a Debian bookworm made with debootstrap from
# Debian's mirror and imported (its tarball cached in $FLAKEBOX_IMAGE_CACHE, /var/cache/flakebox-image
# by default, so a second run skips debootstrap). The image takes the release tree that
# `scripts/image.sh build` stages (TREE=staged): the toolchain stage would need the Swift toolchain
# in a base of its own and a second release build inside it, which the CI run has already done.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
[ "$(id -u)" -eq 0 ] || exec sudo --preserve-env=FLAKEBOX_IMAGE_CACHE "$0" "$@"

cache=${FLAKEBOX_IMAGE_CACHE:-/var/cache/flakebox-image}
base=localhost/flakebox-test/debian:bookworm-slim
image=localhost/flakebox-worker:test
seccomp=$root/policies/seccomp/docker-default.json
started=$SECONDS

die() {
  echo "image-test.sh: FAIL: $*" >&2
  exit 1
}
step() { echo "== [$((SECONDS - started)) s] $* =="; }

work=$(mktemp -d /tmp/flakebox-image-test.XXXXXX)
cid=
# Keeps the script's status: the trap's last command would otherwise become it.
trap 'rc=$?; rm -rf "$work"; [ -z "$cid" ] || command podman rm -f "$cid" >/dev/null 2>&1; exit $rc' EXIT

# --- the engine --------------------------------------------------------------------------------
missing=()
for p in podman runc debootstrap; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  step "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# runc: crun refuses this machine's hybrid cgroup hierarchy. cgroupfs: no systemd runs here.
# default_ulimits empty: root here lacks CAP_SYS_RESOURCE, so podman's raised nofile limit fails.
cat >"$work/containers.conf" <<'EOF'
[containers]
default_ulimits = []

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
export CONTAINERS_CONF=$work/containers.conf
podman() { command podman --runtime runc "$@"; }

# --- the base: debian:bookworm-slim's stand-in ---------------------------------------------------
tarball=$cache/debian-bookworm-minbase.tar
if [ ! -s "$tarball" ]; then
  step "debootstrap bookworm (minbase) into $tarball"
  mkdir -p "$cache"
  rootfs=$work/rootfs
  debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 ||
    {
      tail -20 "$work/debootstrap.log" >&2
      die "debootstrap failed"
    }
  # As the official image: the updates and security suites, no package lists, no apt caches.
  cat >"$rootfs/etc/apt/sources.list" <<'EOF'
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
  tar --numeric-owner -C "$rootfs" -cf "$tarball.part" .
  mv "$tarball.part" "$tarball"
  rm -rf "$rootfs"
fi
# Imported again only when the tarball is newer than the image (a second local run skips it).
if [ "$(podman image inspect --format '{{.Created.Unix}}' "$base" 2>/dev/null || echo 0)" -lt "$(stat -c %Y "$tarball")" ]; then
  step "podman import $tarball as $base"
  podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' "$tarball" "$base" >/dev/null
fi

# --- the image -----------------------------------------------------------------------------------
step "scripts/image.sh build .image-tree"
scripts/image.sh build "$root/.image-tree"
step "podman build (RUNTIME_IMAGE=$base, TREE=staged)"
previous=$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
# buildah's RUN gets a hard nofile limit of 1024, below the policies' RLIMIT_NOFILE, and the
# launcher's setrlimit then fails every attempt (sandbox_error at rlimit, EPERM); this host's own
# hard limit is what root may set without CAP_SYS_RESOURCE.
podman build --ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" \
  --build-arg RUNTIME_IMAGE="$base" --build-arg TREE=staged -t "$image" "$root" 2>&1 |
  tee "$work/build.log" | grep -E '^(STEP|== |image.sh|result:)' || true
grep -q "image.sh: check passed" "$work/build.log" || {
  tail -40 "$work/build.log" >&2
  die "podman build failed (the image's own check did not pass)"
}
podman image exists "$image" || die "podman build made no $image"
# A local rerun leaves no untagged image behind.
if [ -n "$previous" ] && [ "$previous" != "$(podman image inspect --format '{{.Id}}' "$image")" ]; then
  podman rmi "$previous" >/dev/null 2>&1 || true
fi

# Everything below runs as RunPod runs the worker: Docker's seccomp profile and default capabilities,
# root in the container, a network namespace of its own.
runpod=(run --rm --security-opt "seccomp=$seccomp")

# --- the confinement: Docker's, or nothing below means anything -----------------------------------
step "confinement inside the container"
podman "${runpod[@]}" --entrypoint /bin/sh "$image" -c '
  grep -E "^(CapEff|Seccomp):" /proc/self/status
  for ns in U n; do
    if out=$(unshare -$ns true 2>&1); then echo "unshare -$ns: allowed"; else echo "unshare -$ns: refused ($out)"; fi
  done' | tee "$work/confinement.txt"
grep -qx $'CapEff:\t00000000a80425fb' "$work/confinement.txt" || die "CapEff is not Docker's default set (00000000a80425fb)"
grep -qx $'Seccomp:\t2' "$work/confinement.txt" || die "seccomp is not in filter mode (Seccomp: 2)"
for ns in U n; do
  grep -q "^unshare -$ns: refused (.*Operation not permitted" "$work/confinement.txt" ||
    die "unshare -$ns was not refused with EPERM: this is not Docker's confinement"
done

# --- doctor --------------------------------------------------------------------------------------
step "flakebox doctor --policy runpod"
podman "${runpod[@]}" --entrypoint flakebox "$image" doctor --policy runpod | tee "$work/doctor.txt" ||
  die "doctor says the runpod policy cannot run in the container"
podman "${runpod[@]}" --entrypoint flakebox "$image" doctor --json --policy runpod >"$work/doctor.json"
python3 - "$work/doctor.json" <<'EOF' || die "doctor's report is not the minimal tier with its layers"
import json, sys
report = json.load(open(sys.argv[1]))
assert report["tier"] == "minimal", f'tier {report["tier"]}'
found = {l["name"]: l["available"] for l in report["layers"]}
for layer in ("loopback guard", "uid per attempt"):
    assert found.get(layer), f"{layer}: {found.get(layer)}"
assert report["policy"]["usable"], report["policy"]
EOF

# --- the worker's local test mode on the bundled example ----------------------------------------
step "flakebox worker --allow-local-repos (the image's entrypoint, /work/test_input.json)"
status=0
podman "${runpod[@]}" "$image" --allow-local-repos >"$work/worker.log" 2>&1 || status=$?
grep -v "Job result:" "$work/worker.log" || true
[ "$status" -eq 0 ] || die "the worker exited $status"
scripts/image.sh check-result "$work/worker.log" minimal || die "the worker's result is not what the job asked for"

# --- the RunPod tier's checks --------------------------------------------------------------------
step "the RunPod tier's checks (scripts/image-probes.py)"
podman "${runpod[@]}" -v "$root/scripts/image-probes.py:/opt/image-probes.py:ro" --entrypoint python3 \
  "$image" /opt/image-probes.py || die "a RunPod-tier check failed in the container"

# --- the settings the README says give more -----------------------------------------------------
# podman spells Docker's `--security-opt systempaths=unconfined` as `unmask=ALL`.
step "doctor with seccomp, AppArmor and masked paths unconfined (README: the reduced tier)"
podman run --rm --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
  --security-opt unmask=ALL --entrypoint flakebox "$image" doctor | tee "$work/doctor-unconfined.txt" || true
grep -q "isolation tier: reduced" "$work/doctor-unconfined.txt" || die "not the reduced tier the README promises"
step "doctor and the worker with --privileged --cgroupns=private (README: the full tier)"
podman run --rm --privileged --cgroupns=private --entrypoint flakebox "$image" doctor |
  tee "$work/doctor-privileged.txt" || true
grep -q "isolation tier: full" "$work/doctor-privileged.txt" || die "not the full tier the README promises"
status=0
podman run --rm --privileged --cgroupns=private "$image" --allow-local-repos >"$work/worker-full.log" 2>&1 || status=$?
[ "$status" -eq 0 ] || {
  cat "$work/worker-full.log" >&2
  die "the worker exited $status in a privileged container"
}
scripts/image.sh check-result "$work/worker-full.log" full || die "the privileged worker's result is not at the full tier"

# --- figures for the README ----------------------------------------------------------------------
step "measured"
size=$(podman image inspect --format '{{.Size}}' "$image")
echo "image size: $((size / 1000000)) MB"
starts=()
for _ in 1 2 3 4 5; do
  t0=$(date +%s%N)
  podman "${runpod[@]}" --entrypoint flakebox "$image" --version >/dev/null
  starts+=($((($(date +%s%N) - t0) / 1000000)))
done
echo "podman run … flakebox --version: ${starts[*]} ms"
# The worker's start: from `podman run -d` until its local API listens; then its memory, idle.
t0=$(date +%s%N)
cid=$(podman run -d --security-opt "seccomp=$seccomp" "$image" --rp_serve_api)
ready=
for _ in $(seq 600); do
  if podman logs "$cid" 2>&1 | grep -q "Local API listening"; then
    ready=$((($(date +%s%N) - t0) / 1000000))
    break
  fi
  sleep 0.1
done
sleep 2
rss=$(podman exec "$cid" sh -c 'for p in /proc/[0-9]*; do [ "$(cat $p/comm)" = flakebox ] && grep VmRSS $p/status; done' || true)
podman rm -f "$cid" >/dev/null
cid=
[ -n "$ready" ] || die "the worker's local API never listened"
echo "worker start (podman run -d until its local API listens): $ready ms; idle worker $rss"
echo "image-test.sh: passed in $((SECONDS - started)) s"
