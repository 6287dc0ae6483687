#!/usr/bin/env bash
# The whole test suite, as CI runs it: bootstrap, lint, build, tests as the invoking user, then
# (when that user is root) the sandbox tests again as an unprivileged user, so that rootless
# operation with unprivileged user namespaces is covered on every run.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each phase that can hang runs under a deadline (scripts/deadline.sh): past it the phase fails,
# printing the tests still running and the stacks of what they wait on, rather than running out
# CI's 90 minutes silently. A phase gets its own allowance (several times its usual length) or what
# is left of the whole run's (FLAKEBOX_TEST_TOTAL, 80 minutes), whichever is less.
deadline() {
  local left=$((${FLAKEBOX_TEST_TOTAL:-4800} - SECONDS))
  echo $(($1 < left ? $1 : (left > 60 ? left : 60)))
}
scripts/bootstrap.sh
# What only the tests need: xmllint checks the JUnit output against a schema, headless Chromium
# renders the HTML report, Go and Jest run the `go test` and Jest adapters' end-to-end tests.
test_packages=(libxml2-utils chromium golang-go jest)
missing=()
for p in "${test_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" -eq 0 ]; then
  apt-get update -qq
  extra=()
  # Debian's jest depends on node-types-node, which Debian's nodejs provides and NodeSource's
  # (this image's Node 20) does not: a placeholder package stands in for those TypeScript typings,
  # which running Jest never reads.
  if [[ " ${missing[*]} " == *" jest "* ]] && ! apt-get install -s -qq --no-install-recommends jest >/dev/null 2>&1; then
    shim=$(mktemp -d /tmp/flakebox-node-types.XXXXXX)
    mkdir -p "$shim/pkg/DEBIAN"
    printf '%s\n' "Package: node-types-node" "Version: 18.18.14~0flakebox" "Architecture: all" \
      "Maintainer: flakebox tests <root@localhost>" \
      "Description: placeholder for @types/node (NodeSource's nodejs does not provide it)" >"$shim/pkg/DEBIAN/control"
    dpkg-deb --build "$shim/pkg" "$shim/node-types-node.deb" >/dev/null
    extra+=("$shim/node-types-node.deb")
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${extra[@]}" "${missing[@]}" >/dev/null
  [ -z "${shim:-}" ] || rm -rf "$shim"
fi
scripts/lint.sh
swift build --build-tests
# A PostgreSQL server of its own for the service's store tests (about 1.5 s to start and stop);
# stopped on any exit, failures included.
eval "$(scripts/postgres.sh start)"
trap 'scripts/postgres.sh stop "$FLAKEBOX_TEST_POSTGRES_DIR"' EXIT
scripts/deadline.sh "$(deadline 1500)" "tests (root)" .build/test-root.log -- \
  swift test --skip-build --skip FlakeboxServiceTests 2>&1 | tee .build/test-root.log
grep -q "Test run with .* passed" .build/test-root.log
# The service's tests in a pass of their own: their HTTP clients wait at most 15 to 60 s for a
# reply, which the sandbox suites' load on 2 cores (every suite starts at once) can outlast.
scripts/deadline.sh "$(deadline 600)" "tests (service)" .build/test-service.log -- \
  swift test --skip-build --filter FlakeboxServiceTests 2>&1 | tee .build/test-service.log
grep -q "Test run with .* passed" .build/test-service.log

if [ "$(id -u)" -eq 0 ]; then
  # The test bundle, helper and policies must be readable by the unprivileged user.
  bin=$(swift build --show-bin-path)
  scratch=$(mktemp -d /tmp/flakebox-rootless.XXXXXX)
  chmod 0755 "$scratch"
  chown nobody:nogroup "$scratch"
  # Delegate cgroups to the unprivileged user as systemd delegates a user's slice: a v1 group in
  # each hierarchy owned by nobody, which the test process joins just before it drops to nobody.
  groups=()
  for ctrl in memory pids cpu cpuacct; do
    own=$(awk -F: -v c="$ctrl" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' /proc/self/cgroup | head -1)
    mnt=$(awk -v c="$ctrl" '$3 == "cgroup" && ("," $4 ",") ~ ("," c ",") { print $2 }' /proc/mounts | head -1)
    if [ -z "$mnt" ] || [ -z "$own" ]; then continue; fi
    dir="$mnt${own%/}/flakebox-rootless-$$"
    mkdir -p "$dir" && chown -R nobody:nogroup "$dir" && groups+=("$dir")
  done
  echo "== sandbox tests again as uid $(id -u nobody) (rootless) =="
  FB_GROUPS="${groups[*]}" scripts/deadline.sh "$(deadline 600)" "tests (rootless)" \
    .build/test-rootless.log -- \
    sh -c 'for g in $FB_GROUPS; do echo $$ > "$g/cgroup.procs"; done; exec "$@"' sh \
    setpriv --reuid=nobody --regid=nogroup --clear-groups --reset-env \
    env HOME="$scratch" TMPDIR="$scratch/" PATH=/usr/local/bin:/usr/bin:/bin \
    "$bin/flakeboxPackageTests.xctest" --testing-library swift-testing --filter "Adversarial|Engine|JobEndToEnd|SafetyTests|EgressProxy" \
    2>&1 | tee .build/test-rootless.log || true
  for g in "${groups[@]}"; do find "$g" -depth -type d -exec rmdir {} \; 2>/dev/null || true; done
  rm -rf "$scratch"
  grep -q "Test run with .* passed" .build/test-rootless.log
fi

# `flakebox serve` from outside, with clients that are not ours: schemathesis against the OpenAPI
# document it serves, and RunPod's Python client, unchanged, against its /v2 API.
scripts/deadline.sh "$(deadline 600)" "service check" -- scripts/service-check.sh

# libFuzzer over the parsers that read hostile bytes, 20 s each from the committed corpora (the
# tests replay those corpora on every run too).
scripts/deadline.sh "$(deadline 600)" "fuzzing" -- scripts/fuzz.sh

# The RunPod image, built with podman from the Dockerfile and run under Docker's seccomp profile and
# default capabilities: its own smoke test at build time, then doctor, the worker's local test mode
# and the RunPod tier's checks in the container (scripts/image-test.sh says how).
scripts/image.sh install-build
scripts/deadline.sh "$(deadline 2400)" "image" -- scripts/image-test.sh
