#!/usr/bin/env bash
# Every step of the RunPod image (Dockerfile), as subcommands. The Dockerfile's stages run them and
# so does CI (scripts/test.sh) on its machine, where no Docker engine runs: what the image installs,
# builds and stages is tested on every run, and the package list lives in this one place.
#
#   scripts/image.sh packages          the runtime stage's apt packages, one a line
#   scripts/image.sh install-build     what the build stage adds to the Swift image (apt)
#   scripts/image.sh install-runtime   apt-get install of the runtime packages (only those missing)
#   scripts/image.sh build DIR         release build, staged as DIR/usr/local/{bin,share/flakebox}
#   scripts/image.sh check DIR         smoke-tests a staged tree (DIR=/ inside the image)
#   scripts/image.sh check-result LOG TIER  checks a log of the worker's local test mode (TIER: best for any)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
share=usr/local/share/flakebox

# What flakebox needs at run time besides the base image: git fetches, python3 with venv and pip
# prepares, pytest is the common runner (a setup's venv still sees it), tini is PID 1. The rest is
# what the static build still loads (ldd): libseccomp, libstdc++ and libgcc_s (the static Swift
# runtime), zlib (inflating gzip replies). JUnit XML is parsed in Swift, so no libxml2 nor its 36 MB
# of libicu72. `check` fails naming any library that neither these packages nor their dependencies provide.
runtime_packages=(
  ca-certificates
  openssh-client
  git
  python3
  python3-pip
  python3-pytest
  python3-venv
  tini
  libseccomp2
  libstdc++6
  libgcc-s1
  zlib1g
)

build_packages=(libseccomp-dev pkg-config git binutils)

die() {
  echo "image.sh: $*" >&2
  exit 1
}

# Installs only what is missing, so CI's machine does not run apt-get on every pass.
apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "image.sh: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

swift_build() {
  # Its own scratch path: never shares (or fights over) the developer's .build. The worker only:
  # the image is RunPod's, and `flakebox serve`'s SQLite and metrics stack stays out of it.
  swift build -c release --static-swift-stdlib --scratch-path "$root/.build-image" \
    --disable-default-traits --traits Worker "$@"
}

cmd_build() {
  local dir=${1:?usage: image.sh build DIR}
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  cd "$root"
  swift_build --product flakebox
  swift_build --product flakebox-sandbox
  local bin
  bin=$(swift_build --show-bin-path)

  rm -rf "${dir:?}/usr/local/bin/flakebox" "${dir:?}/usr/local/bin/flakebox-sandbox" "${dir:?}/$share"
  install -d "$dir/usr/local/bin" "$dir/$share/examples"
  # DWARF off (tens of MB), symbols kept so that a crash's backtrace still names functions.
  for exe in flakebox flakebox-sandbox; do
    install -m 0755 "$bin/$exe" "$dir/usr/local/bin/$exe"
    strip --strip-debug "$dir/usr/local/bin/$exe"
  done
  cp -R policies "$dir/$share/policies"

  # The bundled example must be a git repository (jobs name repositories); fixed author and dates
  # give the same commit id on every build.
  local example="$dir/$share/examples/flaky-python"
  cp -R examples/flaky-python "$example"
  find "$example" -name __pycache__ -prune -exec rm -rf {} +
  (
    cd "$example"
    export GIT_AUTHOR_NAME=flakebox GIT_AUTHOR_EMAIL=flakebox@localhost
    export GIT_COMMITTER_NAME=flakebox GIT_COMMITTER_EMAIL=flakebox@localhost
    export GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"
    git init -q -b main
    git add -A
    git commit -q -m "flaky example"
  )
  install -m 0644 examples/test_input.json "$dir/$share/examples/test_input.json"
  chmod -R u=rwX,go=rX "$dir/$share"
  echo "image.sh: staged $(du -sh "$dir/usr/local" | cut -f1) in $dir/usr/local"
}

# Prints the package that owns a library path (usr-merged or not), or nothing.
owner_of() {
  local path=$1 real out
  real=$(readlink -f "$path")
  for candidate in "$path" "$real" "/usr${real#/usr}" "${real#/usr}"; do
    out=$(dpkg-query -S "$candidate" 2>/dev/null) || continue
    echo "${out%%:*}" # "libfoo1:amd64: /path" → libfoo1
    return 0
  done
}

# Prints the given installed packages and, recursively, what they depend on (every alternative).
dependency_closure() {
  dpkg-query -W -f='${Package}\t${Depends}, ${Pre-Depends}\n' | python3 -c '
import re, sys
deps = {}
for line in sys.stdin:
    name, _, rest = line.rstrip("\n").partition("\t")
    deps[name] = {re.split(r"[\s:(]", d.strip())[0] for d in re.split(r"[,|]", rest) if d.strip()}
todo, seen = list(sys.argv[1:]), set()
while todo:
    p = todo.pop()
    if p not in seen:
        seen.add(p)
        todo.extend(deps.get(p, ()))
print("\n".join(sorted(seen)))
' "$@"
}

# Checks the log of the worker's local test mode on the bundled example: one result, 4 runs at
# parallelism 2, pytest's JUnit XML from every attempt, only the example's flaky test failing, and
# the tier asked for (any for `best`).
check_result() {
  local log=${1:?usage: image.sh check-result LOG TIER} tier=${2:?usage: image.sh check-result LOG TIER}
  python3 - "$log" "$tier" <<'EOF' || die "the worker's result is not what the job asked for"
import json, sys
lines = [l for l in open(sys.argv[1], encoding="utf-8") if "Job result: " in l]
assert len(lines) == 1, f"{len(lines)} result lines"
out = json.loads(lines[0].split("Job result: ", 1)[1])["output"]
assert out["total_runs"] == 4, out["total_runs"]
assert out["parallelism"] == 2, out["parallelism"]
assert len(out["results"]) == 4, len(out["results"])
iso = out["isolation"]
tier = iso["tier"] if isinstance(iso, dict) else iso
if sys.argv[2] != "best":
    assert tier == sys.argv[2], tier
statuses = sorted(r["status"] for r in out["results"])
assert all(s in ("passed", "failed") for s in statuses), statuses
# pytest ran to the end in every attempt (its JUnit XML was read), and only the example's one
# flaky test failed: anything else is the harness, not the example.
assert out["test_outcomes"] == 4, f'JUnit XML from {out["test_outcomes"]} of 4 attempts'
flaky = "test_core_loads_early"
others = [t.get("name") for t in out["tests"] if flaky not in t.get("name", "")]
assert not others, f"other tests failed: {others}"
print(f"result: total_runs {out['total_runs']}, failures {out['failures']}, statuses {statuses}, tier {tier}")
EOF
}

cmd_check() {
  local dir=${1:?usage: image.sh check DIR}
  dir=$(cd "$dir" && pwd)
  local bin="${dir%/}/usr/local/bin" share_dir="${dir%/}/$share"
  local scratch
  scratch=$(mktemp -d /tmp/flakebox-image-check.XXXXXX)
  # shellcheck disable=SC2064  # expand now: $scratch is local
  trap "rm -rf '$scratch'" EXIT

  for exe in flakebox flakebox-sandbox; do
    [ -x "$bin/$exe" ] || die "no $exe in $bin"
  done
  [ -f "$share_dir/policies/default.json" ] || die "no policies in $share_dir/policies"
  git -C "$share_dir/examples/flaky-python" rev-parse -q --verify HEAD >/dev/null ||
    die "the bundled example is not a git repository"

  # The executable searches /usr/local and /usr as well; a policy found there would prove nothing.
  if [ "$dir" != / ]; then
    for other in /usr/local/share/flakebox/policies /usr/share/flakebox/policies /usr/local/policies /usr/policies; do
      if [ -e "$other" ]; then die "$other exists on this machine: the check could not tell which policies it used"; fi
    done
  fi

  echo "== ldd $bin/flakebox =="
  local ldd_out
  ldd_out=$(ldd "$bin/flakebox")
  echo "$ldd_out"
  if grep -q "not found" <<<"$ldd_out"; then die "flakebox needs a library that is not there"; fi
  if grep -Eq "/opt/swift|libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime" <<<"$ldd_out"; then
    die "flakebox loads the Swift runtime from the toolchain (not built with --static-swift-stdlib?)"
  fi
  # What the image has: the listed packages, everything they depend on, and libc6 (the base).
  local allowed lib pkg
  allowed=" $(dependency_closure libc6 "${runtime_packages[@]}" | tr '\n' ' ') "
  while read -r lib; do
    pkg=$(owner_of "$lib")
    [ -n "$pkg" ] || die "$lib belongs to no Debian package"
    [[ $allowed == *" $pkg "* ]] || die "$lib comes from $pkg, which is not in the runtime package list (nor a dependency of one)"
  done < <(awk '$2 == "=>" { print $3 } $1 ~ /^\// { print $1 }' <<<"$ldd_out" | sort -u)
  # The launcher runs as the sandbox's PID 1: static, nothing loaded.
  if ldd "$bin/flakebox-sandbox" >/dev/null 2>&1; then die "flakebox-sandbox is not static"; fi

  # Nothing from this shell: no FLAKEBOX_*, no TMPDIR, no toolchain on PATH, an empty HOME. A root
  # supervisor hands attempts to an unprivileged uid, which must reach what they run in.
  local -a clean=(env -i "PATH=$bin:/usr/bin:/bin" "HOME=$scratch/home")
  mkdir -p "$scratch/home" "$scratch/cwd"
  chmod 0755 "$scratch"
  echo "== flakebox --version =="
  "${clean[@]}" flakebox --version
  echo "== flakebox doctor --policy runpod =="
  "${clean[@]}" flakebox doctor --policy runpod # the worker's policy: the default one needs the full tier

  # The worker's local test mode on the bundled test_input.json, as `docker run IMAGE
  # --allow-local-repos` runs it: at the tier this machine allows, and at the minimal tier that an
  # unprivileged container (RunPod) gets.
  local input status
  input=$(python3 - "$share_dir/examples/test_input.json" "${dir%/}" <<'EOF'
import json, sys
job = json.load(open(sys.argv[1]))
job["input"]["repo"] = sys.argv[2] + job["input"]["repo"]
print(json.dumps(job))
EOF
  )
  for tier in best minimal; do
    echo "== flakebox worker --test_input (tier: $tier) =="
    local -a tier_args=()
    [ "$tier" = best ] || tier_args=(--tier "$tier")
    status=0
    (cd "$scratch/cwd" && "${clean[@]}" flakebox worker --allow-local-repos ${tier_args[@]+"${tier_args[@]}"} \
      --test_input "$input") >"$scratch/worker.log" 2>&1 || status=$?
    grep -v "Job result:" "$scratch/worker.log" || true
    [ "$status" -eq 0 ] || die "flakebox worker exited $status"
    check_result "$scratch/worker.log" "$tier"
  done
  echo "image.sh: check passed"
}

case ${1:-} in
  packages) printf '%s\n' "${runtime_packages[@]}" ;;
  install-build) apt_install "${build_packages[@]}" ;;
  install-runtime) apt_install "${runtime_packages[@]}" ;;
  build) cmd_build "${2:-}" ;;
  check) cmd_check "${2:-}" ;;
  check-result) check_result "${2:-}" "${3:-}" ;;
  *)
    sed -n '2,11p' "$0" >&2
    exit 64
    ;;
esac
