#!/usr/bin/env bash
# Runs one phase of the test suite with a deadline, so that a hang is a failure that says where it
# hung, not a CI job that runs out its time and prints nothing useful.
#
#   scripts/deadline.sh SECONDS NAME [LOG] -- command [args...]
#
# Past SECONDS it prints, to standard error: the tests LOG shows started and not ended
# (swift-testing's "◇ … started" without its "✔/✘ … passed/failed"), the machine's process tree,
# the kernel stacks of the phase's processes (where each is blocked) and the user-space stacks of
# its Swift processes' threads (gdb, when there is one); then it kills the phase's process group
# and exits 124. Otherwise it exits with the command's status.
set -uo pipefail

budget=$1
name=$2
shift 2
log=
if [ "$1" != "--" ]; then
  log=$1
  shift
fi
[ "$1" = "--" ] || { echo "usage: deadline.sh SECONDS NAME [LOG] -- command..." >&2; exit 2; }
shift

report() {
  echo "== $name: still running after $budget s; what it was doing ==" >&2
  if [ -n "$log" ] && [ -f "$log" ]; then
    python3 - "$log" >&2 <<'EOF'
import re, sys
started, ended = [], set()
for line in open(sys.argv[1], errors="replace"):
    line = re.sub(r"\x1b\[[0-9;]*m", "", line.rstrip())
    m = re.search(r'◇ Test (".*") started\.$', line)
    if m:
        started.append(m.group(1))
    m = re.search(r'[✔✘] Test (".*?")(?: with \d+ test cases?)? (passed|failed) after', line)
    if m:
        ended.add(m.group(1))
left = [t for t in dict.fromkeys(started) if t not in ended]
print(f"tests started and not ended ({len(left)}):")
for t in left:
    print("  ", t)
EOF
  fi
  echo "-- process tree --" >&2
  ps -eo pid,ppid,pgid,stat,etimes,time,wchan:20,args --forest | grep -v ' \\_ \[' | cut -c1-250 >&2 || true
  echo "-- kernel stacks of the phase's processes --" >&2
  for p in $(ps -eo pid=,pgid= | awk -v g="$1" '$2 == g { print $1 }'); do
    for t in /proc/"$p"/task/*; do
      [ -r "$t/stack" ] || continue
      echo "pid $p tid ${t##*/} $(tr '\0' ' ' < /proc/"$p"/cmdline 2> /dev/null | cut -c1-120)" >&2
      sed 's/^/    /' "$t/stack" >&2 2> /dev/null || true
    done
  done
  # The user-space stacks of its Swift processes (test bundles, flakebox): where each thread waits.
  if command -v gdb > /dev/null; then
    for p in $(ps -eo pid=,pgid=,comm= | awk -v g="$1" '$2 == g && $3 ~ /^flakebox/ { print $1 }'); do
      echo "-- threads of $p ($(cat /proc/"$p"/comm 2> /dev/null)) --" >&2
      timeout 180 gdb -batch -nx -p "$p" -ex "thread apply all bt 25" 2>&1 | grep -E '^(Thread|#)' | cut -c1-250 >&2 || true
    done
  fi
}

out=$(readlink /proc/$$/fd/1)
# The watcher's word to the main shell that the phase was killed at its deadline.
marker=$(mktemp -d)/killed

# Its own process group, so that everything it started (test processes, sandboxes' supervisors)
# can be killed at once. Without job control bash's background job is not a group leader, so
# setsid makes the command one without forking.
setsid "$@" &
pid=$!
(
  sleep "$budget" &
  wait $!
  if kill -0 "$pid" 2> /dev/null; then
    report "$pid"
    touch "$marker"
    kill -KILL -- -"$pid" 2> /dev/null
    # Whatever it started in groups of its own and still writes to this phase's output would hold
    # the caller's `tee` open: those too (the write end of the same pipe, not the reader's).
    sleep 1
    if [[ "$out" == pipe:* ]]; then
      for fd in /proc/[0-9]*/fd/*; do
        [ "$(readlink "$fd" 2> /dev/null)" = "$out" ] || continue
        p=${fd#/proc/}
        p=${p%%/*}
        [ "$p" = $$ ] || [ "$p" = "$BASHPID" ] && continue
        flags=$(awk '/^flags:/ { print $2 }' "/proc/$p/fdinfo/${fd##*/}" 2> /dev/null)
        [ -n "$flags" ] && (((8#$flags & 3) != 0)) && kill -KILL "$p" 2> /dev/null
      done
    fi
  fi
) &
watcher=$!
wait "$pid"
rc=$?
if [ -e "$marker" ]; then
  wait "$watcher"
  rm -rf "${marker%/killed}"
  echo "== $name: killed at its deadline of $budget s ==" >&2
  exit 124
fi
rm -rf "${marker%/killed}"
pkill -P "$watcher" sleep 2> /dev/null
kill "$watcher" 2> /dev/null
wait "$watcher" 2> /dev/null
exit "$rc"
