#!/bin/bash
# Lab only (docs/deploy-tested.md): a SIP desk phone for agentN on loopback, with pjsua (pjproject's
# pjsua-<arch> from pjsip-apps/bin, --null-audio: no sound card). It registers with the password of
# pjsip.conf and plays a voice into every call.
#   phone.sh start N answer|ring|busy     answer: 200 at once; ring: 180 and never answers; busy: 486
#   phone.sh stop N                       unregisters (pjsua's q) and ends it
#   phone.sh cmd N 'm\nsip:193@127.0.0.1'  a pjsua console command (m dials, h hangs up)
# Environment: ASTERISK_ETC (/etc/asterisk), LAB_DIR (/tmp/acd-sip-lab), PJSUA (pjsua), VOICE (a WAV).
set -u
ETC=${ASTERISK_ETC:-/etc/asterisk}; L=${LAB_DIR:-/tmp/acd-sip-lab}; PJSUA=${PJSUA:-pjsua}
VOICE=${VOICE:-/usr/share/asterisk/sounds/en_US_f_Allison/demo-congrats.wav}
mkdir -p "$L"; ACT=$1; N=$2; F=$L/agent$N
case $ACT in
start)
  PW=$(awk -v a="agent$N" '$0=="["a"](agent-auth)"{f=1;next} f&&/^password/{print $3; exit}' "$ETC/pjsip.conf")
  [ -n "$PW" ] || { echo "no password for agent$N in $ETC/pjsip.conf"; exit 1; }
  case ${3:-answer} in answer) AA=200;; ring) AA=180;; busy) AA=486;; *) echo "answer|ring|busy"; exit 1;; esac
  rm -f "$F.in"; mkfifo "$F.in"
  ( sleep infinity > "$F.in" & echo $! > "$F.holder.pid" )
  "$PJSUA" --null-audio --no-tcp --bound-addr 127.0.0.1 --ip-addr 127.0.0.1 --local-port $((5080+N)) \
    --rtp-port $((40000+N*100)) --id "sip:agent$N@127.0.0.1" --registrar sip:127.0.0.1:5060 \
    --realm '*' --username "agent$N" --password "$PW" --reg-timeout 300 --auto-answer $AA \
    --play-file "$VOICE" --auto-play --no-vad --ec-tail 0 --clock-rate 8000 --max-calls 4 \
    --log-level 4 --app-log-level 3 --log-file "$F.log" < "$F.in" > "$F.out" 2>&1 &
  echo $! > "$F.pid"; echo "agent$N: pjsua $(cat "$F.pid"), log $F.log";;
stop)
  [ -p "$F.in" ] && timeout 2 sh -c "echo q > '$F.in'"; sleep 1
  for p in "$F.pid" "$F.holder.pid"; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null; rm -f "$p"; done
  rm -f "$F.in";;
cmd)
  timeout 3 sh -c "printf '$3\n' > '$F.in'" || echo "agent$N's phone is not running";;
esac
