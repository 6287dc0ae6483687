#!/usr/bin/env bash
# The quick start's first command: install what is needed, build, show what this machine allows,
# and hunt the bundled flaky test (examples/flaky-python) with 40 sandboxed runs, 4 at a time.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
# The CLI and its launcher only: without the Worker trait and the worker's own target, no server
# stack (NIO, Hummingbird, AsyncHTTPClient, BoringSSL) is built.
for product in flakebox flakebox-sandbox; do
  swift build -c release --disable-default-traits --product "$product"
done
bin=$(swift build -c release --disable-default-traits --show-bin-path)
"$bin/flakebox" doctor

# The example lives inside this repository; flakebox fetches repositories, so make it one. It is
# kept after the demo: the replay line the report prints names it.
work=$(mktemp -d /tmp/flakebox-demo.XXXXXX)
cp -a examples/flaky-python/. "$work/"
git -C "$work" init -q -b main
git -C "$work" add -A
git -C "$work" -c user.name=demo -c user.email=demo@localhost commit -qm "flaky example"

echo
echo "== flakebox run: 40 attempts of the example's pytest suite, 4 at a time =="
status=0
"$bin/flakebox" run --repo "$work" --runs 40 --parallelism 4 -- python3 -m pytest -q tests || status=$?
echo
echo "(exit code $status: 0 no failure seen, 1 flaky, 2 always fails, 3 harness or job error, 64 bad input)"
echo
echo "The example repository stays at $work so that the replay line above works;"
echo "remove it with: rm -rf $work"
