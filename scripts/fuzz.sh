#!/usr/bin/env bash
# libFuzzer over the parsers that read hostile bytes (JUnit XML, job JSON, policies, seccomp
# profiles, the worker's job-take replies and /run bodies), each for FUZZ_SECONDS (default 20), starting from the corpora committed under
# Tests/Fuzz/corpus. New inputs go to a temporary directory: `scripts/fuzz.sh --merge` folds
# them into the committed corpora instead. A crash, a timeout or an out-of-memory fails the
# script and prints the input that caused it; `flakebox-fuzz TARGET FILE` (an ordinary build)
# replays it.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-20}
merge=false
[ "${1:-}" = "--merge" ] && merge=true

# Debug, not release: it builds in a third of the time, and 20 s per target is about finding
# what the corpus does not already cover, not about throughput.
swift build --product flakebox-fuzz --sanitize=fuzzer -Xswiftc -DFUZZING --build-path .build-fuzz
fuzzer=$(swift build --product flakebox-fuzz --build-path .build-fuzz --show-bin-path)/flakebox-fuzz

work=$(mktemp -d /tmp/flakebox-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
status=0
for target in junit job policy seccomp request; do
  corpus=Tests/Fuzz/corpus/$target
  mkdir -p "$work/$target"
  echo "== fuzz $target: ${seconds} s from $(ls "$corpus" | wc -l) committed inputs"
  if ! FLAKEBOX_FUZZ_TARGET=$target "$fuzzer" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/$target-" "$work/$target" "$corpus" \
    > "$work/$target.log" 2>&1; then
    status=1
    tail -n 40 "$work/$target.log"
    for artifact in "$work/$target"-*; do
      [ -e "$artifact" ] || continue
      echo "-- $artifact (base64):"
      base64 -w 0 "$artifact" | head -c 4000
      echo
    done
    continue
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb|cov: " "$work/$target.log" | tail -n 3
  if $merge; then
    FLAKEBOX_FUZZ_TARGET=$target "$fuzzer" -merge=1 -max_len=65536 "$corpus" "$work/$target" > /dev/null 2>&1
    echo "   corpus now $(ls "$corpus" | wc -l) inputs"
  fi
done
exit $status
