#!/usr/bin/env bash
# make-all.sh -- re-creates every capture under pcaps/ and pcaps/README.md (~75 min, needs root).
# Builds the lab once, runs every make-<set>.sh against it (LAB_SHARED=1), runs the 30-minute jittered beacon in
# the background meanwhile (ws2 only; every other capture excludes ws2), then tears the lab down.
. "$(dirname "$0")/lib.sh"
cd "$LAB_DIR"
lab_up
export LAB_SHARED=1 LAB_TMP
./make-beaconing.sh fg
./make-beaconing.sh jitter & JPID=$!
for set in pipeline zone_transfer enumeration recon_sweep rogue_resolver tunneling cache_snooping resolver_switch \
           answer_change spoofed_response benign demo precision zero_config edge offport snaplen; do
  ./make-$set.sh
done
# These build namespaces of their own (pn-*, lt-*), beside the lab.
./make-linktypes.sh
./make-pcapng.sh
log "waiting for the jittered beacon capture to finish"
wait $JPID
./make-readme.sh
log "all captures done: $(du -sh "$PCAPS_DIR" | cut -f1) in $PCAPS_DIR"
