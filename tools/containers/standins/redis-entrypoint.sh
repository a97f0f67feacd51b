#!/bin/sh
# The official redis image builds redis-server with protected mode off by default: in a container
# the network is the boundary, and with it on, a server without a password refuses every client
# but loopback (other containers included). Debian's binary keeps it on, so turn it off here,
# before the caller's own options (a config file, if given, must stay the first argument).
if [ "${1:-}" = redis-server ]; then
  shift
  case "${1:-}" in
    -* | "") exec redis-server --protected-mode no "$@" ;;
    *) conf=$1; shift; exec redis-server "$conf" --protected-mode no "$@" ;;
  esac
fi
exec "$@"
