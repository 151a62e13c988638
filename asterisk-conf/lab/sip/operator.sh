#!/bin/bash
# Lab only (docs/deploy-tested.md): the operator's side of the trunk, a pjsua on 127.0.0.2 (pjsip.conf's
# placeholders replaced with OPERATOR_HOST=127.0.0.2 OPERATOR_PORT=5070, so `identify` makes it the trunk).
#   operator.sh call TAG NUMBER CALLER SECONDS    calls NUMBER from CALLER, speaks, hangs up after SECONDS
#   operator.sh answer TAG                        waits for the ACD's outbound calls and answers them
#   operator.sh dtmf TAG DIGITS                   the caller presses DIGITS (RFC 4733)
#   operator.sh stop TAG
# One process at a time on port 5070 (PORT=5071... for more; identify matches the address only).
set -u
L=${LAB_DIR:-/tmp/acd-sip-lab}; PJSUA=${PJSUA:-pjsua}; PORT=${PORT:-5070}
VOICE=${VOICE:-/usr/share/asterisk/sounds/en_US_f_Allison/demo-instruct.wav}
mkdir -p "$L"; ACT=$1; TAG=$2; F=$L/operator-$TAG
start() {
  rm -f "$F.in"; mkfifo "$F.in"; ( sleep infinity > "$F.in" & echo $! > "$F.holder.pid" )
  "$PJSUA" --null-audio --no-tcp --bound-addr 127.0.0.2 --ip-addr 127.0.0.2 --local-port "$PORT" \
    --rtp-port $((30000+(PORT-5070)*100)) --play-file "$VOICE" --auto-play --no-vad --ec-tail 0 \
    --clock-rate 8000 --log-level 4 --app-log-level 3 --log-file "$F.log" "$@" < "$F.in" > "$F.out" 2>&1 &
  echo $! > "$F.pid"; echo "operator $TAG: pjsua $(cat "$F.pid"), log $F.log"
}
case $ACT in
call)   start --id "sip:$4@127.0.0.2" --duration "${5:-60}" "sip:$3@127.0.0.1:5060";;
answer) start --id sip:operator@127.0.0.2 --auto-answer 200;;
dtmf)   timeout 3 sh -c "printf '#\n$3\n' > '$F.in'" || echo "operator $TAG is not running";;
stop)
  [ -p "$F.in" ] && timeout 2 sh -c "echo q > '$F.in'"; sleep 1
  for p in "$F.pid" "$F.holder.pid"; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null; rm -f "$p"; done
  rm -f "$F.in";;
esac
