#!/usr/bin/env bash
# Failover benchmark (BENCHMARKS.md, "Failover"): two `wallboard serve`
# instances in one group on a real broker; `kill -9` the one that serves
# tenants and measure how long until every one of its tenants answers on
# the survivor (report over REST). Its state directory is deleted too, so
# the survivor restores from the changelog topic.
#
#   scripts/bench-failover.sh HOST:PORT [RUNS] [SESSION_TIMEOUT_MS]
#
# Needs target/debug/wallboard (or WALLBOARD_BIN), curl and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
BROKER="${1:?usage: $0 HOST:PORT [RUNS] [SESSION_TIMEOUT_MS]}"
RUNS="${2:-3}"
SESSION="${3:-6000}"
HEARTBEAT=$(( SESSION / 6 > 0 ? SESSION / 6 : 1 ))
BIN="${WALLBOARD_BIN:-target/debug/wallboard}"
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

now() { python3 -c 'import time; print(time.monotonic())'; }
# The tenants an instance owns: every instance serves every tenant, those
# of the others from the views topic (listed in status "views").
tenants_of() {
  python3 -c '
import json, sys, urllib.request
base = "http://127.0.0.1:" + sys.argv[1]
get = lambda p: json.load(urllib.request.urlopen(base + p, timeout=5))
remote = (get("/api/v1/status").get("views") or {}).get("tenants", {})
print(" ".join(t for t in get("/api/v1/tenants") if t not in remote))' "$1" 2>/dev/null || true
}
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

TENANTS="t1 t2 t3 t4 t5 t6 t7 t8 t9 t10 t11 t12"
for t in $TENANTS; do
  "$BIN" simulate --agents 20 --hours 8 --seed "${t#t}" --tenant "$t" >>"$WORK/day.jsonl"
done
EVENTS=$(wc -l <"$WORK/day.jsonl")

for run in $(seq 1 "$RUNS"); do
  topic="bench-failover-$$-$run"; group="$topic-g"
  "$BIN" ingest jsonl "$WORK/day.jsonl" --kafka "$BROKER" --topic "$topic" --dlq-topic "$topic.dlq" >/dev/null
  serve() { # port state
    WALLBOARD_PIPELINE__SNAPSHOT_INTERVAL_S=1 WALLBOARD_KAFKA__SESSION_TIMEOUT_MS="$SESSION" \
    WALLBOARD_KAFKA__HEARTBEAT_INTERVAL_MS="$HEARTBEAT" \
      "$BIN" serve --kafka "$BROKER" --topic "$topic" --group "$group" --listen "127.0.0.1:$1" \
      --state-dir "$2" >/dev/null 2>>"$WORK/serve-$run.log" &
    PIDS+=($!)
  }
  pa=$(port); serve "$pa" "$WORK/a-$run"; a=$!
  pb=$(port); serve "$pb" "$WORK/b-$run"; b=$!
  # Both own partitions, all tenants served, snapshots durable.
  owns() { curl -sf "http://127.0.0.1:$1/api/v1/status" | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["partitions"] else 1)' 2>/dev/null; }
  until owns "$pa" && owns "$pb" && [ "$(echo $(tenants_of "$pa") $(tenants_of "$pb") | wc -w)" = 12 ]; do sleep 0.2; done
  sleep 3
  if [ -z "$(tenants_of "$pa")" ]; then # kill the one that serves tenants
    x=$a; a=$b; b=$x; x=$pa; pa=$pb; pb=$x; state="$WORK/b-$run"
  else
    state="$WORK/a-$run"
  fi
  survivor=$pb
  moved=$(tenants_of "$pa")
  kill -9 "$a"; t0=$(now); rm -rf "$state"
  for t in $moved; do
    until curl -sf -o /dev/null "http://127.0.0.1:$survivor/api/v1/tenants/$t/report"; do sleep 0.05; done
  done
  t1=$(now)
  python3 - "$t0" "$t1" "$SESSION" "$moved" "$EVENTS" <<'PY'
import sys
t0, t1, session = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]) / 1000
print(f"tenants {sys.argv[4]!r} ({sys.argv[5]} events in the topic): back after {t1 - t0:.2f} s, "
      f"{t1 - t0 - session:.2f} s after the session timeout ({session:.0f} s)")
PY
  kill -9 "$b" 2>/dev/null || true
done
