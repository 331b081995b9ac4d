#!/usr/bin/env bash
# Stop the broker started by deploy/kafka/start.sh.  Idempotent: exits 0 when
# nothing is running.
#
#   deploy/kafka/stop.sh           stop; keep topics and data for the next start
#   deploy/kafka/stop.sh --purge   stop and delete the data and logs too
#                                  (the fetched jars in $KAFKA_DIR/libs are kept)
#
# Environment: KAFKA_DIR (as for start.sh), KAFKA_STOP_TIMEOUT (seconds to wait
# after SIGTERM before SIGKILL, default 30).
set -euo pipefail

purge=0
for arg in "$@"; do
  case "$arg" in
    --purge) purge=1 ;;
    -h | --help)
      sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      printf 'usage: %s [--purge]\n' "$0" >&2
      exit 2
      ;;
  esac
done

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
[[ "$KAFKA_STOP_TIMEOUT" =~ ^[0-9]+$ ]] ||
  die "KAFKA_STOP_TIMEOUT must be a number of seconds, got '$KAFKA_STOP_TIMEOUT'"

take_lock 300

mapfile -t pids < <(our_brokers)
if ((${#pids[@]} == 0)); then
  log "no broker running from $KAFKA_DIR"
else
  t0=$SECONDS
  log "stopping broker (pid ${pids[*]})"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  deadline=$((SECONDS + KAFKA_STOP_TIMEOUT))
  while :; do
    alive=()
    for pid in "${pids[@]}"; do
      if kill -0 "$pid" 2>/dev/null; then alive+=("$pid"); fi
    done
    ((${#alive[@]} == 0)) && break
    if ((SECONDS >= deadline)); then
      log "still running after ${KAFKA_STOP_TIMEOUT}s; sending SIGKILL to ${alive[*]}"
      kill -KILL "${alive[@]}" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.2
  done
  log "stopped in $((SECONDS - t0))s"
fi
rm -f "$PID_FILE"

if ((purge)); then
  log "purging data and logs in $KAFKA_DIR (keeping the jars in $LIBS_DIR)"
  rm -rf "$DATA_DIR" "$CLUSTER_ID_FILE" "$CONFIG_FILE" "$OUT_FILE" "$KAFKA_DIR/probe.err" "$KAFKA_DIR/format.log"
  rm -f "$LOG_FILE" "$LOG_FILE".[0-9]*
fi
exit 0
