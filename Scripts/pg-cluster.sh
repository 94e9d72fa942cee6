#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the hub tests (Protocol/12-hub.md): initdb in a temporary
# folder, a free loopback port, trust authentication on loopback only, run as a non-root user
# (initdb and postgres refuse root: as root, the user `postgres` is created when missing).
#
#   Scripts/pg-cluster.sh start   # prints the URL of a fresh, empty database `gloss` (postgres://gloss@127.0.0.1:PORT/gloss)
#   Scripts/pg-cluster.sh stop DIR
#
# `start` writes the cluster's folder to .build/pg-cluster (stop reads it when DIR is not given).
set -euo pipefail
cd "$(dirname "$0")/.."
bindir=""
for d in /usr/lib/postgresql/*/bin /usr/local/bin; do
  if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then bindir=$d; break; fi
done
if [ -z "$bindir" ] && command -v initdb >/dev/null 2>&1; then bindir=$(dirname "$(command -v initdb)"); fi
[ -n "$bindir" ] || { echo "pg-cluster: initdb not found; run Scripts/setup.sh --with-postgres" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "${1:-}" in
  start)
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
      useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    fi
    dir=$(mktemp -d /tmp/gloss-pg.XXXXXX)
    chmod 700 "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    as_owner "$bindir/initdb" -D "$dir/data" -U gloss --auth=trust --encoding=UTF8 --locale=C >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200 -c shared_buffers=64MB" start >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    as_owner "$(command -v createdb 2>/dev/null || echo $bindir/createdb)" -h 127.0.0.1 -p "$port" -U gloss gloss
    mkdir -p .build
    echo "$dir" > .build/pg-cluster
    echo "$port" > "$dir/port"
    echo "postgres://gloss@127.0.0.1:$port/gloss"
    ;;
  stop)
    dir=${2:-$(cat .build/pg-cluster 2>/dev/null || true)}
    [ -n "$dir" ] && [ -d "$dir/data" ] || exit 0
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: Scripts/pg-cluster.sh start | stop [DIR]" >&2; exit 64 ;;
esac
