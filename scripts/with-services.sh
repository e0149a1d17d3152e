#!/usr/bin/env bash
# Usage: scripts/with-services.sh CMD [ARGS...]
#
# Makes sure a Redis and a Postgres are reachable, exports REDIS_URL and DATABASE_URL, then runs CMD.
# Order of preference for each service (first that works wins):
#   1. the URL already in the environment (REDIS_URL / DATABASE_URL) - an explicit choice is never second-guessed;
#   2. a server already listening on the default local port (6379 / 5432);
#   3. a private server started from the repo (.runline/services/...), installing the package with apt-get
#      first if we are root on Debian/Ubuntu. Private servers are stopped again when CMD ends.
# Anything else fails with exit 1 and a message naming the fixes.
#
# RUNLINE_SERVICES_DIR moves the private servers' data (default: .runline/services in the repo); `runline dev/up`
# sets it to the user's project, since this script then lives inside an installed package.
#
# Testing only: RUNLINE_REDIS_PORT_PROBE / RUNLINE_PG_PORT_PROBE replace the probed default port (6379 / 5432),
# so the private-server paths can be exercised on a machine that already runs both services.
#
# Written for bash 3.2 too (macOS), hence no {fd} redirections, mapfile or empty-array expansions.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SERVICES_DIR="${RUNLINE_SERVICES_DIR:-$ROOT/.runline/services}"
REDIS_PROBE_PORT="${RUNLINE_REDIS_PORT_PROBE:-6379}"
PG_PROBE_PORT="${RUNLINE_PG_PORT_PROBE:-5432}"

if [ "$#" -eq 0 ]; then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 2
fi

say() { echo "runline: $*" >&2; }
die() { echo "runline: $*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }
is_root() { [ "$(id -u)" = 0 ]; }

# Hide the password part of a URL: these lines end up in CI logs.
redact() { printf '%s' "$1" | sed -E 's#(://[^:/@]+:)[^@]*@#\1***@#'; }

# A filtered port can hang a connect for minutes; bound every probe when coreutils' timeout exists.
with_timeout() {
  local secs="$1"; shift
  if have timeout; then timeout "$secs" "$@"; else "$@"; fi
}

port_open() {
  with_timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}

redis_pings() {
  local port="$1"
  if have redis-cli; then
    [ "$(with_timeout 2 redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]
  else
    # No client: speak the inline protocol ourselves. A server that wants AUTH answers -NOAUTH, which
    # correctly counts as "not usable".
    with_timeout 2 bash -c '
      exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
      printf "PING\r\n" >&3
      IFS= read -r -t 2 reply <&3 || exit 1
      case "$reply" in +PONG*) exit 0 ;; *) exit 1 ;; esac' _ "$port" 2>/dev/null
  fi
}

# First port >= $1 that nothing answers on.
free_port() {
  local port="$1"
  while port_open "$port"; do port=$((port + 1)); done
  echo "$port"
}

# Serialise private-server start/stop between concurrent wrappers (npm start in one terminal, npm test in
# another): they share the Postgres data dir and must not race for the same port. No flock (macOS) = no lock.
LOCK_HELD=""
lock() {
  mkdir -p "$SERVICES_DIR"
  if have flock && [ -z "$LOCK_HELD" ]; then
    exec 9>"$SERVICES_DIR/.lock"
    flock 9
    LOCK_HELD=1
  fi
}
unlock() {
  if [ -n "$LOCK_HELD" ]; then flock -u 9; exec 9>&-; LOCK_HELD=""; fi
}

APT_UPDATED=""
APT_LOG="$SERVICES_DIR/apt.log"
# Installing is only attempted where it cannot surprise anyone: root on a Debian/Ubuntu-like system.
can_apt_install() { is_root && have apt-get; }
apt_install() {
  mkdir -p "$SERVICES_DIR"
  say "installing $* with apt-get (log: $APT_LOG)"
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "$APT_UPDATED" ]; then
    apt-get update -q >>"$APT_LOG" 2>&1 || { tail -n 20 "$APT_LOG" >&2; return 1; }
    APT_UPDATED=1
  fi
  apt-get install -y -q --no-install-recommends "$@" >>"$APT_LOG" 2>&1 || { tail -n 20 "$APT_LOG" >&2; return 1; }
}

# ---------------------------------------------------------------------------------------------- Redis

REDIS_DIR="$SERVICES_DIR/redis"
REDIS_PRIVATE_PORT=""
# Files are named after this wrapper's pid, so concurrent wrappers each get their own server and a later
# run can recognise (and stop) servers orphaned by a wrapper that was SIGKILLed.
REDIS_PIDFILE="$REDIS_DIR/redis-$$.pid"
REDIS_LOGFILE="$REDIS_DIR/redis-$$.log"

sweep_orphaned_redis() {
  local f owner pid comm i
  for f in "$REDIS_DIR"/redis-*.pid; do
    [ -e "$f" ] || continue
    owner="${f##*/redis-}"; owner="${owner%.pid}"
    kill -0 "$owner" 2>/dev/null && continue
    pid="$(cat "$f" 2>/dev/null || true)"
    comm="$(ps -p "${pid:-0}" -o comm= 2>/dev/null || true)"
    # Only kill what is still a redis-server: the pid may have been reused since.
    if [ -n "$pid" ] && [ "${comm##*/}" = redis-server ]; then
      kill "$pid" 2>/dev/null || true
      # Wait briefly so its port is free again for the server we are about to start.
      for i in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$f" "$REDIS_DIR/redis-$owner.log"
  done
}

start_private_redis() {
  mkdir -p "$REDIS_DIR"
  sweep_orphaned_redis
  local port attempt i pid
  port=6390
  for attempt in 1 2 3 4 5; do
    port="$(free_port "$port")"
    rm -f "$REDIS_PIDFILE"
    # Nothing to persist: the private server is throwaway, and writing dump.rdb into the repo would be noise.
    redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
      --pidfile "$REDIS_PIDFILE" --dir "$REDIS_DIR" --logfile "$REDIS_LOGFILE" >/dev/null 2>&1 || true
    for i in $(seq 1 50); do
      # Redis writes its pidfile only after it has bound the port, so "pidfile + PONG" means it is ours,
      # not some other server that grabbed the same port in the meantime.
      pid="$(cat "$REDIS_PIDFILE" 2>/dev/null || true)"
      if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && redis_pings "$port"; then
        REDIS_PRIVATE_PORT="$port"
        return 0
      fi
      sleep 0.1
    done
    # Not up within ~5 s: most likely the port was taken between probe and bind; try the next one.
    pid="$(cat "$REDIS_PIDFILE" 2>/dev/null || true)"
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    port=$((port + 1))
  done
  say "private Redis did not start; last log lines:"
  tail -n 10 "$REDIS_LOGFILE" >&2 2>/dev/null || true
  die "could not start a private Redis (see $REDIS_DIR)."
}

stop_private_redis() {
  [ -n "$REDIS_PRIVATE_PORT" ] || return 0
  local pid i
  pid="$(cat "$REDIS_PIDFILE" 2>/dev/null || true)"
  if have redis-cli; then
    redis-cli -h 127.0.0.1 -p "$REDIS_PRIVATE_PORT" shutdown nosave >/dev/null 2>&1 || true
  fi
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$REDIS_PIDFILE" "$REDIS_LOGFILE"
  REDIS_PRIVATE_PORT=""
}

ensure_redis() {
  if [ -n "${REDIS_URL:-}" ]; then
    say "using Redis at $(redact "$REDIS_URL") (from REDIS_URL)"
    return
  fi
  if redis_pings "$REDIS_PROBE_PORT"; then
    REDIS_URL="redis://127.0.0.1:$REDIS_PROBE_PORT"
    say "using Redis at $REDIS_URL (already running)"
    return
  fi
  if ! have redis-server && can_apt_install; then
    apt_install redis-server || true
    # Debian's package starts its own server on 6379 when it can; no need for a second one then.
    if redis_pings "$REDIS_PROBE_PORT"; then
      REDIS_URL="redis://127.0.0.1:$REDIS_PROBE_PORT"
      say "using Redis at $REDIS_URL (installed by apt-get)"
      return
    fi
  fi
  if have redis-server; then
    lock
    start_private_redis
    unlock
    REDIS_URL="redis://127.0.0.1:$REDIS_PRIVATE_PORT"
    say "using Redis at $REDIS_URL (private server, stopped on exit)"
    return
  fi
  die "no Redis found on 127.0.0.1:$REDIS_PROBE_PORT and redis-server is not installed. Fix with one of:
    sudo apt-get install redis-server
    docker compose up -d redis
    export REDIS_URL=redis://host:6379"
}

# ------------------------------------------------------------------------------------------- Postgres

PG_BASE="$SERVICES_DIR/postgres"
PG_BIN=""
PG_USER=""          # unprivileged OS user that owns the cluster when we are root (initdb refuses root)
PG_STARTED=""       # set once this wrapper holds a reference on the private cluster
PG_SHARED=""        # the cluster was already running for another wrapper (the last one out stops it)

find_pg_bin() {
  PG_BIN=""
  if have initdb && have pg_ctl; then
    PG_BIN="$(dirname "$(command -v pg_ctl)")"
    return 0
  fi
  # Debian/Ubuntu keep the server binaries off PATH, one directory per major version; take the highest.
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4,4n | tail -n 1 || true)"
  if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
    PG_BIN="$d"
    return 0
  fi
  return 1
}

pg_accepts() {
  local port="$1"
  port_open "$port" || return 1
  # With psql we can tell "trust-auth postgres user works" from "a server that wants a password";
  # -w never prompts, so a password-protected server fails fast instead of hanging the wrapper.
  if have psql; then
    PGCONNECT_TIMEOUT=3 with_timeout 5 psql -w -Atq "postgres://postgres@127.0.0.1:$port/postgres" \
      -c 'select 1' >/dev/null 2>&1
  fi
}

# Run a Postgres binary as the cluster owner. From / so an unreadable cwd (e.g. /root) causes no warnings.
as_pg() {
  if [ -z "$PG_USER" ]; then
    "$@"
  elif have runuser; then
    (cd / && runuser -u "$PG_USER" -- "$@")
  else
    (cd / && su -s /bin/bash "$PG_USER" -c "$(printf '%q ' "$@")")
  fi
}

pick_pg_user() {
  is_root || return 0
  if id postgres >/dev/null 2>&1; then
    PG_USER=postgres
  elif id runline-pg >/dev/null 2>&1; then
    PG_USER=runline-pg
  elif have useradd; then
    useradd --system --no-create-home --shell /usr/sbin/nologin runline-pg >/dev/null 2>&1 \
      || useradd -r -M runline-pg || die "could not create the 'runline-pg' user for the private Postgres."
    PG_USER=runline-pg
  else
    die "running as root, initdb refuses to run as root, and there is no 'postgres' user or useradd to make one."
  fi
}

# When root, the cluster owner must be able to reach the data dir. A clone under /root (mode 700) is not
# reachable, so fall back to a stable per-repo directory under /var/tmp.
prepare_pg_base() {
  mkdir -p "$PG_BASE"
  [ -n "$PG_USER" ] || return 0
  chown "$PG_USER" "$PG_BASE"
  if ! as_pg test -w "$PG_BASE" 2>/dev/null; then
    PG_BASE="/var/tmp/runline-$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)/postgres"
    mkdir -p "$PG_BASE"
    chmod 755 "$(dirname "$PG_BASE")"
    chown "$PG_USER" "$PG_BASE"
    say "note: $PG_USER cannot reach $SERVICES_DIR; keeping the private Postgres in $PG_BASE"
  fi
}

pg_running_port() {
  # Line 4 of postmaster.pid is the port; pg_ctl status tells a live cluster from a stale pid file.
  as_pg "$PG_BIN/pg_ctl" status -D "$PG_BASE/data" >/dev/null 2>&1 || return 1
  sed -n 4p "$PG_BASE/data/postmaster.pid" 2>/dev/null
}

# Wrappers using the private cluster register here; the last one out stops it.
pg_users_prune() {
  local f
  for f in "$PG_BASE/users"/*; do
    [ -e "$f" ] || continue
    kill -0 "${f##*/}" 2>/dev/null || rm -f "$f"
  done
}

start_private_pg() {
  pick_pg_user
  prepare_pg_base
  local data="$PG_BASE/data" log="$PG_BASE/postgres.log" port sockdir
  mkdir -p "$PG_BASE/users"

  port="$(pg_running_port || true)"
  PG_SHARED="${port:+1}"
  if [ -z "$port" ]; then
    if [ ! -s "$data/PG_VERSION" ]; then
      rm -rf "$data"
      # -E UTF8 --locale=C: deterministic and available everywhere (C.UTF-8 / en_US.UTF-8 are not).
      as_pg "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C >"$PG_BASE/initdb.log" 2>&1 \
        || { tail -n 20 "$PG_BASE/initdb.log" >&2; die "initdb failed (see $PG_BASE/initdb.log)."; }
    fi
    port="$(free_port 5440)"
    # Unix socket paths are limited to ~107 bytes; a deep clone would break startup. We connect over TCP
    # anyway, so just go without a socket then.
    sockdir="$PG_BASE"
    [ "${#sockdir}" -lt 90 ] || sockdir="''"
    if ! as_pg "$PG_BIN/pg_ctl" start -D "$data" -l "$log" -w -t 30 \
      -o "-p $port -k $sockdir -c listen_addresses=127.0.0.1" >/dev/null 2>&1; then
      say "private Postgres did not start; last log lines:"
      tail -n 15 "$log" >&2 2>/dev/null || true
      die "could not start a private Postgres; to reset it: rm -rf '$PG_BASE'"
    fi
  fi
  touch "$PG_BASE/users/$$"
  PG_STARTED=1
  DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

stop_private_pg() {
  [ -n "$PG_STARTED" ] || return 0
  lock
  rm -f "$PG_BASE/users/$$"
  pg_users_prune
  if [ -z "$(ls -A "$PG_BASE/users" 2>/dev/null)" ]; then
    as_pg "$PG_BIN/pg_ctl" stop -D "$PG_BASE/data" -m fast -w >/dev/null 2>&1 || true
  fi
  unlock
  PG_STARTED=""
}

pg_fail() {
  die "no Postgres found on 127.0.0.1:$PG_PROBE_PORT (user postgres, no password) and initdb/pg_ctl are not installed. Fix with one of:
    sudo apt-get install postgresql
    docker compose up -d postgres
    export DATABASE_URL=postgres://user@host:5432/db"
}

ensure_postgres() {
  if [ -n "${DATABASE_URL:-}" ]; then
    say "using Postgres at $(redact "$DATABASE_URL") (from DATABASE_URL)"
    return
  fi
  if pg_accepts "$PG_PROBE_PORT"; then
    DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PROBE_PORT/postgres"
    say "using Postgres at $DATABASE_URL (already running)"
    return
  fi
  if ! find_pg_bin; then
    can_apt_install || pg_fail
    apt_install postgresql || pg_fail
    # Debian's package may create and start a cluster on 5432. Only usable if it lets postgres in without a
    # password (its default pg_hba wants one over TCP), otherwise we start our own next to it.
    if pg_accepts "$PG_PROBE_PORT"; then
      DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PROBE_PORT/postgres"
      say "using Postgres at $DATABASE_URL (installed by apt-get)"
      return
    fi
    find_pg_bin || pg_fail
  fi
  lock
  # Called plainly, not in `|| ...`: that would switch off errexit for everything inside it.
  start_private_pg
  unlock
  if [ -n "$PG_SHARED" ]; then
    say "using Postgres at $DATABASE_URL (private cluster in ${PG_BASE#"$ROOT"/}, already running, the last wrapper to exit stops it)"
  else
    say "using Postgres at $DATABASE_URL (private cluster in ${PG_BASE#"$ROOT"/}, stopped on exit)"
  fi
}

# ------------------------------------------------------------------------------------------------ main

cleanup() {
  # Must not fail half-way: whatever else happens, both private servers get their stop attempt.
  set +e
  stop_private_redis
  stop_private_pg
}
# During setup a Ctrl-C just aborts; the EXIT trap stops whatever was already started.
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

ensure_redis
ensure_postgres
export REDIS_URL DATABASE_URL

if [ -z "$REDIS_PRIVATE_PORT" ] && [ -z "$PG_STARTED" ]; then
  # Nothing to clean up afterwards: hand the process over entirely.
  trap - EXIT INT TERM HUP
  exec "$@"
fi

# We must outlive CMD to stop the servers, so run it as a child and wait. A child started with & would
# ignore SIGINT and read /dev/null; the subshell restores SIGINT and stdin is passed explicitly.
( trap - INT QUIT; exec "$@" ) <&0 &
CHILD=$!
# Ctrl-C already reaches CMD (same process group), and forwarding it would deliver it twice, which many
# tools read as "force quit": so INT is only noted. TERM/HUP usually come from a supervisor and are sent
# to this script alone: forward them, and kill CMD outright if a second one arrives.
SIGNALS=0
forward() {
  SIGNALS=$((SIGNALS + 1))
  if [ "$SIGNALS" -ge 2 ]; then kill -KILL "$CHILD" 2>/dev/null || true
  else kill "-$1" "$CHILD" 2>/dev/null || true; fi
}
trap ':' INT
trap 'forward TERM' TERM
trap 'forward HUP' HUP

while :; do
  status=0
  wait "$CHILD" || status=$?
  # wait returns >128 when a trapped signal interrupted it while CMD is still running: keep waiting.
  if [ "$status" -gt 128 ] && kill -0 "$CHILD" 2>/dev/null; then continue; fi
  break
done
exit "$status"
