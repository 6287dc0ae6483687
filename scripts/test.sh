#!/usr/bin/env bash
# The whole test suite, as CI runs it: bootstrap, lint, build, tests as the invoking user, then
# (when that user is root) the sandbox tests again as an unprivileged user, so that rootless
# operation with unprivileged user namespaces is covered on every run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
scripts/lint.sh
swift build --build-tests
swift test --skip-build 2>&1 | tee .build/test-root.log
grep -q "Test run with .* passed" .build/test-root.log

if [ "$(id -u)" -eq 0 ]; then
  # The test bundle, helper and policies must be readable by the unprivileged user.
  bin=$(swift build --show-bin-path)
  scratch=$(mktemp -d /tmp/flakebox-rootless.XXXXXX)
  chmod 0755 "$scratch"
  chown nobody:nogroup "$scratch"
  echo "== sandbox tests again as uid $(id -u nobody) (rootless) =="
  setpriv --reuid=nobody --regid=nogroup --clear-groups --reset-env \
    env HOME="$scratch" TMPDIR="$scratch/" PATH=/usr/local/bin:/usr/bin:/bin \
    "$bin/flakeboxPackageTests.xctest" --testing-library swift-testing --filter "Adversarial|Isolation|Engine" \
    2>&1 | tee .build/test-rootless.log
  rm -rf "$scratch"
  grep -q "Test run with .* passed" .build/test-rootless.log
fi
