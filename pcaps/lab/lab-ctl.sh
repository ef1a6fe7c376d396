#!/usr/bin/env bash
# lab-ctl.sh up|down|status -- bring the lab up and leave it running (for interactive work), or tear it down.
# While it is up, run any make-<set>.sh with LAB_SHARED=1 to reuse it instead of building a private copy.
. "$(dirname "$0")/lib.sh"
case ${1:-status} in
  up)   lab_down; mkdir -p "$LAB_TMP"; lab_net_up; lab_servers_up; touch "$LAB_TMP/up"; log "lab is up (LAB_SHARED=1 to reuse)";;
  down) lab_down; log "lab is down";;
  status) ip netns list | grep "^$NSP" || echo "no lab namespaces"; ls "$LAB_TMP/pids" 2>/dev/null || true;;
  *) echo "usage: $0 up|down|status" >&2; exit 2;;
esac
