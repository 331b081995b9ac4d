#!/usr/bin/env bash
# Start (or find already running) a single-node Apache Kafka broker in KRaft
# mode on 127.0.0.1, for integration tests and local use.  Idempotent.
#
# Progress goes to stderr; on success the LAST line of stdout is the bootstrap
# address, e.g.   BOOTSTRAP="$(deploy/kafka/start.sh | tail -n1)"
#
# Environment (all optional):
#   KAFKA_PORT             client port (default 9092)
#   KAFKA_CONTROLLER_PORT  KRaft controller port (default KAFKA_PORT+1)
#   KAFKA_DIR              state dir: jars, data, logs, pid
#                          (default ${XDG_CACHE_HOME:-$HOME/.cache}/wallboard-kafka)
#   KAFKA_START_TIMEOUT    seconds to wait for the broker to answer (default 120)
#   KAFKA_HEAP_OPTS        broker heap (default "-Xms256m -Xmx512m")
#   KAFKA_JVM_OPTS         extra JVM options for the broker
#   KAFKA_MVN_ARGS         extra arguments for mvn (e.g. "-o", "-s settings.xml")
#   JAVA_HOME              use $JAVA_HOME/bin/java (Java 17 or newer)
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-120}"
[[ "$KAFKA_START_TIMEOUT" =~ ^[0-9]+$ ]] ||
  die "KAFKA_START_TIMEOUT must be a number of seconds, got '$KAFKA_START_TIMEOUT'"
POLL_INTERVAL=0.5

kafka_version() {
  sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_POM" | head -n1
}

# Client port the broker in $KAFKA_DIR was configured with (empty if unknown).
configured_port() {
  [[ -f "$CONFIG_FILE" ]] || return 0
  sed -n 's|^advertised.listeners=PLAINTEXT://[^:]*:\([0-9]*\).*|\1|p' "$CONFIG_FILE" | head -n1
}

file_size() { if [[ -f "$1" ]]; then wc -c <"$1" | tr -d ' '; else echo 0; fi; }

# Last lines of the broker's output, from this start only (broker.log is
# appended to across restarts; LOG_OFFSET is its size when we launched).
show_broker_log() {
  local f size offset="${LOG_OFFSET:-0}"
  size="$(file_size "$LOG_FILE")"
  ((size >= offset)) || offset=0 # rolled over since launch
  if ((size > offset)); then
    printf '[kafka] ---- last lines of %s ----\n' "$LOG_FILE" >&2
    tail -c "+$((offset + 1))" "$LOG_FILE" | tail -n 40 >&2
  fi
  for f in "$OUT_FILE" "$KAFKA_DIR/probe.err"; do
    [[ -s "$f" ]] || continue
    printf '[kafka] ---- last lines of %s ----\n' "$f" >&2
    tail -n 40 "$f" >&2
  done
}

check_java() {
  local ver major
  command -v "$JAVA_BIN" >/dev/null 2>&1 || die "'$JAVA_BIN' not found: Java 17 or newer is required"
  ver="$("$JAVA_BIN" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n1)"
  major="${ver%%.*}"
  [[ "$major" == 1 ]] && major="$(cut -d. -f2 <<<"$ver")" # 1.8.0_x -> 8
  if [[ "$major" =~ ^[0-9]+$ ]] && ((major < 17)); then
    die "Kafka $(kafka_version) needs Java 17 or newer, '$JAVA_BIN' is $ver (set JAVA_HOME)"
  fi
}

fetch_libs() {
  if libs_ready; then
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "'mvn' not found: Maven is needed once to fetch the Kafka jars"
  local tmp="$KAFKA_DIR/libs.tmp.$$" extra=() t0=$SECONDS
  read -r -a extra <<<"${KAFKA_MVN_ARGS:-}"
  log "fetching Kafka $(kafka_version) jars from Maven into $LIBS_DIR (first run: may take a few minutes)"
  rm -rf "$tmp"
  # Maven 3.8 prints ANSI resets even in batch mode; strip them (pipefail keeps mvn's status).
  if ! mvn -B -q -f "$KAFKA_POM" "${extra[@]}" dependency:copy-dependencies \
    -DoutputDirectory="$tmp" -DincludeScope=runtime 2>&1 |
    sed -e $'s/\e\\[[0-9;]*m//g' -e '/^$/d' >&2; then
    rm -rf "$tmp"
    die "Maven could not fetch the Kafka jars (see above)"
  fi
  compgen -G "$tmp/kafka_2.13-*.jar" >/dev/null || {
    rm -rf "$tmp"
    die "Maven ran but the broker jar is missing from $tmp"
  }
  sha256_of "$KAFKA_POM" >"$tmp/.pom.sha256"
  rm -rf "$LIBS_DIR"
  mv "$tmp" "$LIBS_DIR"
  log "fetched $(find "$LIBS_DIR" -name '*.jar' | wc -l | tr -d ' ') jars in $((SECONDS - t0))s"
}

write_broker_configs() {
  write_file "$CONFIG_FILE" "# Written by deploy/kafka/start.sh on every start; edits are overwritten.
# Single node, KRaft combined mode (broker + controller), loopback only.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA_DIR

# One node: every internal topic has a single replica.
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1

# Test friendliness.
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
delete.topic.enable=true

# Small machine: keep thread counts and retained data modest.
num.network.threads=2
num.io.threads=4
log.retention.hours=168
log.segment.bytes=104857600"

  # shellcheck disable=SC2016 # ${sys:...} is a Log4j lookup, not shell
  write_file "$BROKER_LOG4J" '<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by deploy/kafka/start.sh: the broker logs to ${sys:kafka.logs.dir}/broker.log. -->
<Configuration status="warn">
  <Appenders>
    <RollingFile name="file" fileName="${sys:kafka.logs.dir}/broker.log"
                 filePattern="${sys:kafka.logs.dir}/broker.log.%i">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
      <Policies><SizeBasedTriggeringPolicy size="50 MB"/></Policies>
      <DefaultRolloverStrategy max="3"/>
    </RollingFile>
  </Appenders>
  <Loggers>
    <Root level="info"><AppenderRef ref="file"/></Root>
    <Logger name="kafka.request.logger" level="warn"/>
    <Logger name="org.apache.kafka.clients" level="warn"/>
  </Loggers>
</Configuration>'
  write_tool_configs
}

format_storage() {
  if [[ -f "$DATA_DIR/meta.properties" ]]; then
    return 0
  fi
  local cid
  rm -rf "$DATA_DIR" # half-formatted leftovers, if any
  if [[ -s "$CLUSTER_ID_FILE" ]]; then
    cid="$(cat "$CLUSTER_ID_FILE")"
  else
    cid="$(run_tool kafka.tools.StorageTool random-uuid | tail -n1)"
    [[ "$cid" =~ ^[A-Za-z0-9_-]{22}$ ]] || die "StorageTool random-uuid returned '$cid'"
    printf '%s\n' "$cid" >"$CLUSTER_ID_FILE"
  fi
  log "formatting $DATA_DIR (cluster id $cid)"
  if ! run_tool kafka.tools.StorageTool format -t "$cid" -c "$CONFIG_FILE" >"$KAFKA_DIR/format.log" 2>&1; then
    cat "$KAFKA_DIR/format.log" >&2
    die "formatting the storage failed"
  fi
}

launch_broker() {
  local heap=() jvm=() setsid=() pid
  read -r -a heap <<<"${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
  read -r -a jvm <<<"${KAFKA_JVM_OPTS:-}"
  # Own session: the broker outlives the shell (and Ctrl-C) that started it.
  if command -v setsid >/dev/null 2>&1; then setsid=(setsid); fi
  LOG_OFFSET="$(file_size "$LOG_FILE")"
  (
    cd "$KAFKA_DIR"
    exec "${setsid[@]}" "$JAVA_BIN" "${heap[@]}" \
      -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
      -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
      "${jvm[@]}" \
      -Dkafka.logs.dir="$KAFKA_DIR" \
      -Dlog4j2.configurationFile="$BROKER_LOG4J" \
      -cp "$LIBS_DIR/*" kafka.Kafka "$CONFIG_FILE"
  ) </dev/null >"$OUT_FILE" 2>&1 9>&- & # 9 is the lock: the broker must not inherit it
  pid=$!
  printf '%s\n' "$pid" >"$PID_FILE"
  STARTED_PID="$pid"
}

# Poll until the broker answers a real Kafka request (list topics).
wait_ready() {
  local pid="$1" deadline=$((SECONDS + KAFKA_START_TIMEOUT)) tries=0
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      show_broker_log
      rm -f "$PID_FILE"
      die "the broker (pid $pid) exited during startup"
    fi
    if port_open "$KAFKA_PORT"; then
      tries=$((tries + 1))
      if KAFKA_TOOL_TIMEOUT=30 run_tool org.apache.kafka.tools.TopicCommand \
        --bootstrap-server "$KAFKA_BOOTSTRAP" --command-config "$CLIENT_CONFIG" --list \
        >/dev/null 2>"$KAFKA_DIR/probe.err"; then
        rm -f "$KAFKA_DIR/probe.err"
        return 0
      fi
    fi
    if ((SECONDS >= deadline)); then
      show_broker_log
      if [[ "${STARTED_PID:-}" == "$pid" ]]; then
        log "stopping the broker this run started (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        rm -f "$PID_FILE"
      fi
      die "the broker did not answer on $KAFKA_BOOTSTRAP within ${KAFKA_START_TIMEOUT}s ($tries probes)"
    fi
    sleep "$POLL_INTERVAL"
  done
}

take_lock $((KAFKA_START_TIMEOUT + 900))

# Already running?
mapfile -t running < <(our_brokers)
if ((${#running[@]} > 1)); then
  die "several brokers use $KAFKA_DIR (pids ${running[*]}): run deploy/kafka/stop.sh"
fi
if ((${#running[@]} == 1)); then
  pid="${running[0]}"
  printf '%s\n' "$pid" >"$PID_FILE" # adopt, in case the pid file was lost
  port="$(configured_port)"
  if [[ -n "$port" && "$port" != "$KAFKA_PORT" ]]; then
    die "the broker in $KAFKA_DIR (pid $pid) is already running on port $port, not $KAFKA_PORT: stop it with deploy/kafka/stop.sh or use another KAFKA_DIR"
  fi
  if port_open "$KAFKA_PORT"; then
    log "broker already running (pid $pid)"
  else
    log "broker (pid $pid) is running but not answering yet; waiting"
    wait_ready "$pid"
  fi
  printf '%s\n' "$KAFKA_BOOTSTRAP"
  exit 0
fi

rm -f "$PID_FILE"
for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
  if port_open "$p"; then
    die "port $p on $KAFKA_HOST is already in use by another process (not a broker from $KAFKA_DIR); set KAFKA_PORT / KAFKA_CONTROLLER_PORT"
  fi
done

t0=$SECONDS
check_java
fetch_libs
write_broker_configs
format_storage
launch_broker
log "starting Kafka $(kafka_version) (pid $STARTED_PID) on $KAFKA_BOOTSTRAP, controller port $KAFKA_CONTROLLER_PORT, log $LOG_FILE"
wait_ready "$STARTED_PID"
log "broker ready in $((SECONDS - t0))s"
printf '%s\n' "$KAFKA_BOOTSTRAP"
