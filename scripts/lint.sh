#!/usr/bin/env bash
# Fails on formatting drift: Swift through the toolchain's `swift format`, C through clang-format.
set -euo pipefail
cd "$(dirname "$0")/.."
swift format lint --strict --recursive --configuration .swift-format Package.swift Sources Tests
clang-format --dry-run --Werror Sources/flakebox-sandbox/*.c Sources/flakebox-sandbox/*.h \
  Sources/CFlakeboxSpawn/*.c Sources/CFlakeboxSpawn/include/*.h
echo "lint: clean"
