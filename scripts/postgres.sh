#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests: Debian's, in a fresh temporary directory, on
# 127.0.0.1 (a free port) and a unix socket in that directory, with one database and one role.
#
#   eval "$(scripts/postgres.sh start)"   # exports FLAKEBOX_TEST_POSTGRES_URL and _DIR
#   scripts/postgres.sh url [DIR]         # the URL again
#   scripts/postgres.sh stop [DIR]        # stops it and removes the directory
#
# As root the server runs as the `postgres` user (or `nobody`): initdb refuses root. It runs with
# fsync off: the data dies with the directory anyway, and CI's disk is shared.
set -euo pipefail

bin_dir() {
  local dir
  dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -1)
  if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "postgres.sh: PostgreSQL is not installed (apt-get install postgresql, as root)" >&2
      return 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d | sort -V | tail -1)
  fi
  echo "$dir"
}

# Runs a command as the server's user: `postgres` (or `nobody`) when root, else oneself.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    local user=postgres
    id "$user" >/dev/null 2>&1 || user=nobody
    setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  local bin dir user port password
  bin=$(bin_dir)
  dir=$(mktemp -d /tmp/flakebox-postgres.XXXXXX)
  if [ "$(id -u)" -eq 0 ]; then
    user=postgres
    id "$user" >/dev/null 2>&1 || user=nobody
    chown "$user:$(id -gn "$user")" "$dir"
  fi
  chmod 0700 "$dir"
  password=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
  # The superuser authenticates over the socket only (peer trust in a 0700 directory); the test
  # role by password over TCP, as a service node would.
  as_owner "$bin/initdb" --pgdata="$dir/data" --username=postgres --auth-local=trust \
    --auth-host=scram-sha-256 --no-sync --no-instructions --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    return 1
  }
  # A port is free when asked but may be taken before the server binds it: try a few.
  local attempt
  for attempt in 1 2 3; do
    port=$(free_port)
    if as_owner "$bin/pg_ctl" --pgdata="$dir/data" --log="$dir/server.log" --wait --timeout=60 --silent \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=300 -c fsync=off \
          -c synchronous_commit=off -c full_page_writes=off" start >/dev/null 2>&1; then
      break
    fi
    if [ "$attempt" -eq 3 ]; then
      echo "postgres.sh: the server did not start:" >&2
      tail -20 "$dir/server.log" >&2 || true
      return 1
    fi
  done
  as_owner "$bin/psql" --host="$dir" --port="$port" --username=postgres --dbname=postgres --quiet \
    --no-psqlrc -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE flakebox LOGIN PASSWORD '$password'" -c "CREATE DATABASE flakebox OWNER flakebox" >/dev/null
  echo "$port" >"$dir/port"
  echo "postgres://flakebox:$password@127.0.0.1:$port/flakebox?sslmode=disable" >"$dir/url"
  chmod 0600 "$dir/url"
  echo "export FLAKEBOX_TEST_POSTGRES_DIR=$dir"
  echo "export FLAKEBOX_TEST_POSTGRES_URL=$(cat "$dir/url")"
}

stop() {
  local dir=${1:-${FLAKEBOX_TEST_POSTGRES_DIR:-}}
  case "$dir" in
  /tmp/flakebox-postgres.*) ;;
  *)
    echo "postgres.sh: stop: not a directory this script made: '$dir'" >&2
    return 1
    ;;
  esac
  if [ -d "$dir/data" ]; then
    as_owner "$(bin_dir)/pg_ctl" --pgdata="$dir/data" --mode=immediate --wait --silent stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
start) start ;;
stop) stop "${2:-}" ;;
url) cat "${2:-${FLAKEBOX_TEST_POSTGRES_DIR:?no directory given}}/url" ;;
*)
  echo "usage: $0 start | stop [DIR] | url [DIR]" >&2
  exit 64
  ;;
esac
