#!/usr/bin/env bash
# Starts, stops and describes a throw-away REAL Arvados API server (RailsAPI + PostgreSQL on
# 127.0.0.1) for the real-server test suite, using the launcher in ../shared/arvados-real/ (or
# $ARVADOS_REAL_HOME). Nothing of the server's source is in this project.
#
#   src/ci/real-arvados.sh start WORKDIR   set up (first time: Debian packages, database, users) and start
#   src/ci/real-arvados.sh env WORKDIR     print the CRUNCHGUARD_ARVADOS_* exports, for eval
#   src/ci/real-arvados.sh stop WORKDIR    stop the server and its database
#
# WORKDIR must be reachable by the postgres OS user: use a folder under /tmp. Needs root (the
# launcher installs packages and runs PostgreSQL as postgres); uses sudo when not root.
# Tokens are written to WORKDIR/tokens.env only, never printed.
#
#   src/ci/real-arvados.sh start /tmp/arv && eval "$(src/ci/real-arvados.sh env /tmp/arv)"
#   ./mvnw -B verify; src/ci/real-arvados.sh stop /tmp/arv
set -euo pipefail

usage() { echo "usage: $0 start|stop|env WORKDIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
dir=$2
here=$(cd "$(dirname "$0")" && pwd)
home=${ARVADOS_REAL_HOME:-$here/../../../shared/arvados-real}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -E "$@"; fi
}

case "$cmd" in
  start)
    [ -x "$home/start.sh" ] || { echo "no Arvados launcher at $home (set ARVADOS_REAL_HOME)" >&2; exit 1; }
    mkdir -p "$dir"
    chmod 755 "$dir"
    began=$(date +%s)
    # start.sh prints the URL and the tokens; keep the tokens out of the log.
    if ! as_root "$home/start.sh" "$dir" > "$dir/start.out"; then
      echo "real Arvados failed to start; logs in $dir (run/server.log, apt.log, setup logs)" >&2
      exit 1
    fi
    url=$(cat "$dir/url")
    echo "real Arvados RailsAPI listening on $url (set-up took $(( $(date +%s) - began )) s; tokens in $dir/tokens.env)"
    ;;
  env)
    [ -f "$dir/tokens.env" ] && [ -f "$dir/url" ] || { echo "no started server in $dir" >&2; exit 1; }
    # shellcheck disable=SC1091
    . "$dir/tokens.env"
    printf 'export CRUNCHGUARD_ARVADOS_URL=%q\n' "$(cat "$dir/url")"
    printf 'export CRUNCHGUARD_ARVADOS_ADMIN_TOKEN=%q\n' "$ARV_ADMIN_TOKEN"
    printf 'export CRUNCHGUARD_ARVADOS_ADMIN2_TOKEN=%q\n' "$ARV_ADMIN2_TOKEN"
    printf 'export CRUNCHGUARD_ARVADOS_USER_TOKEN=%q\n' "$ARV_USER_TOKEN"
    ;;
  stop)
    [ -d "$dir" ] || exit 0
    as_root "$home/stop.sh" "$dir"
    ;;
  *)
    usage
    ;;
esac
