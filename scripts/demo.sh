#!/usr/bin/env bash
# The quick start's first command: install what is needed, build, show what this machine allows,
# and run one sandboxed attempt over a bundled example.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
swift build -c release
bin=$(swift build -c release --show-bin-path)
"$bin/flakebox" doctor
work=$(mktemp -d /tmp/flakebox-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
cp -a examples/hello/. "$work/"
echo
echo "== one attempt of examples/hello in a sandbox =="
"$bin/flakebox" exec --workspace "$work" -- 'sh check.sh'
