#!/usr/bin/env bash
# Checks `flakebox serve` from outside, with clients that are not ours: schemathesis against the
# service's own OpenAPI document, and RunPod's Python client (unchanged) against its /v2 API.
# Builds nothing: give a built binary (default: this package's debug build).
#
#   scripts/service-check.sh [path/to/flakebox]
#
# Environment: SCHEMATHESIS_EXAMPLES (examples per operation, default 100); SERVICE_CHECK_SCHEMA, an
# OpenAPI file to check the service against instead of the /openapi.json it serves (a document
# from another branch than the binary's). Needs python3 with venv,
# and PyPI the first time (the venv is kept in .build/service-venv). Exits non-zero on any failure.
# Takes about 40 s on 2 shared cores (the two schemathesis passes ~35 s of it, ~2,000 requests).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${1:-$(swift build --show-bin-path)/flakebox}
SCHEMATHESIS_VERSION=4.32.5
RUNPOD_VERSION=1.12.0
EXAMPLES=${SCHEMATHESIS_EXAMPLES:-100}
VENV=.build/service-venv
START=$(date +%s)

[ -x "$BIN" ] || { echo "service-check: no flakebox binary at $BIN" >&2; exit 2; }
# A flakebox built without the Service trait prints its root help for `serve --help`, with exit 0.
"$BIN" serve start --help 2> /dev/null | grep -q -- --database ||
    { echo "service-check: $BIN has no 'serve' command (built without the Service trait?)" >&2; exit 2; }

# Pinned clients, in a venv of their own.
if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
if ! "$VENV/bin/python" - "$SCHEMATHESIS_VERSION" "$RUNPOD_VERSION" 2> /dev/null << 'EOF'; then
import sys
from importlib.metadata import version
sys.exit(0 if (version("schemathesis"), version("runpod")) == (sys.argv[1], sys.argv[2]) else 1)
EOF
    "$VENV/bin/pip" install --quiet --disable-pip-version-check \
        "schemathesis==$SCHEMATHESIS_VERSION" "runpod==$RUNPOD_VERSION"
fi

WORK=$(mktemp -d)
SERVE_PID=
cleanup() {
    local status=$?
    if [ -n "$SERVE_PID" ] && kill -0 "$SERVE_PID" 2> /dev/null; then
        kill -KILL "$SERVE_PID" 2> /dev/null || true
        echo "service-check: serve was still running at exit; its stderr:" >&2
        tail -20 "$WORK/serve.err" >&2 || true
    fi
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT

# A local repository for the RunPod client's jobs.
REPO="$WORK/repo"
mkdir -p "$REPO"
git -C "$REPO" init --quiet --initial-branch=main
echo "a test that fails for every third seed" > "$REPO/README"
git -C "$REPO" add README
git -C "$REPO" -c user.name=check -c user.email=check@localhost commit --quiet -m "the repository under test"

DB="$WORK/service.db"
"$BIN" serve --database "$DB" --host 127.0.0.1 --port 0 --concurrency 1 \
    --allow-local-repos --allow-private-addresses > "$WORK/serve.out" 2> "$WORK/serve.err" &
SERVE_PID=$!

# The first stdout line names the port.
PORT=
for _ in $(seq 1 600); do
    if ! kill -0 "$SERVE_PID" 2> /dev/null; then
        echo "service-check: serve exited before listening:" >&2
        cat "$WORK/serve.err" >&2
        exit 1
    fi
    LINE=$(head -n 1 "$WORK/serve.out")
    if [[ $LINE =~ ^flakebox\ serve:\ listening\ on\ http://127\.0\.0\.1:([0-9]+)$ ]]; then
        PORT=${BASH_REMATCH[1]}
        break
    fi
    sleep 0.1
done
[ -n "$PORT" ] || { echo "service-check: serve printed no 'listening on' line in 60 s" >&2; exit 1; }
URL="http://127.0.0.1:$PORT"
echo "service-check: serve listening on $URL"

KEY=$("$BIN" serve keys create --database "$DB" --name runpod-client)
ADMIN_KEY=$("$BIN" serve keys create --database "$DB" --name schemathesis \
    --scope submit --scope read --scope admin)
[[ $KEY == fbk_* && $ADMIN_KEY == fbk_* ]] || { echo "service-check: keys create printed no fbk_ secret" >&2; exit 1; }

FAILED=0

# (b) RunPod's client first: its jobs are not queued behind the fuzzer's.
echo "service-check: RunPod client (runpod==$RUNPOD_VERSION)"
B_START=$(date +%s)
if ! FLAKEBOX_URL="$URL" FLAKEBOX_KEY="$KEY" FLAKEBOX_REPO="$REPO" FLAKEBOX_DONE="$WORK/done-id" \
    "$VENV/bin/python" Tests/Service/runpod_client_check.py; then
    echo "service-check: the RunPod client check FAILED" >&2
    FAILED=1
fi
echo "service-check: RunPod client took $(($(date +%s) - B_START)) s"

# (a) schemathesis against the document the service serves. The endpoint id is pinned (another
# one is a documented 404, which would leave the routes behind it untested). A second pass pins the
# job id to the RunPod client's completed job (the admin key sees every key's jobs), so that the
# status, stream, cancel, retry and report replies of a real job are checked too, not only 404s.
SCHEMA="$URL/openapi.json"
SCHEMA_URL=()
if [ -n "${SERVICE_CHECK_SCHEMA:-}" ]; then
    SCHEMA=$SERVICE_CHECK_SCHEMA
    SCHEMA_URL=(--url "$URL")
fi
schemathesis_pass() { # NAME CONFIG [OPTION]...
    local name=$1 config=$2
    shift 2
    echo "service-check: schemathesis==$SCHEMATHESIS_VERSION ($name), $EXAMPLES examples per operation"
    local started
    started=$(date +%s)
    if ! "$VENV/bin/schemathesis" --config-file "$config" run "$SCHEMA" "${SCHEMA_URL[@]}" \
        --checks not_a_server_error,response_schema_conformance,status_code_conformance \
        --header "Authorization: Bearer $ADMIN_KEY" \
        --phases examples,coverage,fuzzing --max-examples "$EXAMPLES" --seed 1 --workers 2 \
        --request-timeout 60 --generation-database none --no-color \
        --report junit --report-dir "$WORK/schemathesis-$name" "$@"; then
        echo "service-check: schemathesis ($name) FAILED" >&2
        FAILED=1
    fi
    echo "service-check: schemathesis ($name) took $(($(date +%s) - started)) s"
}
printf '[parameters]\n"path.endpoint_id" = "flakebox"\n' > "$WORK/any-job.toml"
schemathesis_pass every-route "$WORK/any-job.toml"
if [ -s "$WORK/done-id" ]; then
    printf '[parameters]\n"path.endpoint_id" = "flakebox"\n"path.id" = "%s"\n' "$(cat "$WORK/done-id")" \
        > "$WORK/done-job.toml"
    schemathesis_pass completed-job "$WORK/done-job.toml" --include-path-regex '[{]id[}]'
else
    echo "service-check: no completed job from the RunPod client: the job routes are checked on 404s only" >&2
    FAILED=1
fi

# Stop: SIGTERM, a clean exit 0 within the grace.
kill -TERM "$SERVE_PID"
for _ in $(seq 1 1200); do kill -0 "$SERVE_PID" 2> /dev/null || break; sleep 0.1; done
if kill -0 "$SERVE_PID" 2> /dev/null; then
    echo "service-check: serve still running 120 s after SIGTERM" >&2
    exit 1
fi
SERVE_STATUS=0
wait "$SERVE_PID" || SERVE_STATUS=$?
SERVE_PID=
if [ "$SERVE_STATUS" -ne 0 ]; then
    echo "service-check: serve exited $SERVE_STATUS on SIGTERM, not 0; its stderr:" >&2
    tail -20 "$WORK/serve.err" >&2
    FAILED=1
fi

echo "service-check: took $(($(date +%s) - START)) s in all"
if [ "$FAILED" -ne 0 ]; then
    echo "service-check: FAILED" >&2
    exit 1
fi
echo "service-check: passed"
