# shellcheck shell=bash disable=SC2034  # variables here are used by the scripts that source this file
# Shared by start.sh, stop.sh and topics.sh; not meant to be run directly.
#
# Environment (all optional):
#   KAFKA_PORT             client (PLAINTEXT) port, default 9092
#   KAFKA_CONTROLLER_PORT  KRaft controller port, default KAFKA_PORT+1
#   KAFKA_DIR              state directory, default
#                          ${XDG_CACHE_HOME:-$HOME/.cache}/wallboard-kafka
#   JAVA_HOME              if set, $JAVA_HOME/bin/java is used instead of `java`

KAFKA_SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KAFKA_POM="$KAFKA_SCRIPT_DIR/pom.xml"

log() { printf '[kafka] %s\n' "$*" >&2; }
die() { printf '[kafka] error: %s\n' "$*" >&2; exit 1; }

is_port_number() { [[ "$1" =~ ^[0-9]+$ ]] && (("$1" >= 1 && "$1" <= 65535)); }

KAFKA_PORT="${KAFKA_PORT:-9092}"
is_port_number "$KAFKA_PORT" || die "KAFKA_PORT must be a TCP port number, got '$KAFKA_PORT'"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
is_port_number "$KAFKA_CONTROLLER_PORT" ||
  die "KAFKA_CONTROLLER_PORT must be a TCP port number, got '$KAFKA_CONTROLLER_PORT'"
[[ "$KAFKA_PORT" != "$KAFKA_CONTROLLER_PORT" ]] ||
  die "KAFKA_PORT and KAFKA_CONTROLLER_PORT must differ (both $KAFKA_PORT)"

KAFKA_HOST=127.0.0.1
KAFKA_BOOTSTRAP="$KAFKA_HOST:$KAFKA_PORT"

KAFKA_DIR="${KAFKA_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wallboard-kafka}"
mkdir -p "$KAFKA_DIR" || die "cannot create KAFKA_DIR=$KAFKA_DIR"
KAFKA_DIR="$(cd "$KAFKA_DIR" && pwd -P)" # absolute: it ends up in configs and in the broker's command line

LIBS_DIR="$KAFKA_DIR/libs"
LIBS_MARKER="$LIBS_DIR/.pom.sha256"
DATA_DIR="$KAFKA_DIR/data"
CONFIG_FILE="$KAFKA_DIR/server.properties"
BROKER_LOG4J="$KAFKA_DIR/log4j2-broker.xml"
TOOLS_LOG4J="$KAFKA_DIR/log4j2-tools.xml"
CLIENT_CONFIG="$KAFKA_DIR/client.properties"
PID_FILE="$KAFKA_DIR/broker.pid"
LOG_FILE="$KAFKA_DIR/broker.log" # log4j output of the broker
OUT_FILE="$KAFKA_DIR/broker.out" # stdout/stderr of the broker JVM (crashes, GC warnings)
CLUSTER_ID_FILE="$KAFKA_DIR/cluster.id"
LOCK_FILE="$KAFKA_DIR/.lock"

JAVA_BIN="${JAVA_HOME:+$JAVA_HOME/bin/}java"

# Serialise start/stop/fetch on one KAFKA_DIR (parallel test runs call start.sh
# concurrently).  flock(1) is util-linux; without it we simply don't lock.
take_lock() {
  local wait_s="${1:-300}"
  command -v flock >/dev/null 2>&1 || return 0
  exec 9>"$LOCK_FILE"
  flock -w "$wait_s" 9 || die "timed out after ${wait_s}s waiting for the lock on $LOCK_FILE"
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

# Full command line of a process, space separated; empty if it does not exist.
proc_cmdline() {
  if [[ -r "/proc/$1/cmdline" ]]; then
    tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true
  else
    ps -ww -o args= -p "$1" 2>/dev/null || true
  fi
}

# True if PID is alive and is a broker started with this KAFKA_DIR's config
# (guards against a stale pid file whose pid was reused by something else).
is_our_broker() {
  local pid="$1" cmd
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  cmd=" $(proc_cmdline "$pid") "
  [[ "$cmd" == *" kafka.Kafka $CONFIG_FILE "* ]]
}

# Pid from broker.pid if it is one of ours and alive; prints nothing otherwise.
pidfile_broker() {
  local pid
  [[ -f "$PID_FILE" ]] || return 0
  pid="$(tr -dc '0-9' <"$PID_FILE" 2>/dev/null || true)"
  if is_our_broker "$pid"; then printf '%s\n' "$pid"; fi
}

# All live brokers using this KAFKA_DIR's config, including ones whose pid file
# was lost.  Linux only (/proc); elsewhere only the pid file is consulted.
our_brokers() {
  local p pid
  {
    pidfile_broker
    if [[ -d /proc ]]; then
      for p in /proc/[0-9]*; do
        pid="${p#/proc/}"
        [[ -r "$p/cmdline" ]] || continue
        if is_our_broker "$pid"; then printf '%s\n' "$pid"; fi
      done
    fi
  } | sort -un
}

port_open() { (exec 3<>"/dev/tcp/$KAFKA_HOST/$1") 2>/dev/null; }

libs_ready() {
  [[ -f "$LIBS_MARKER" && "$(cat "$LIBS_MARKER")" == "$(sha256_of "$KAFKA_POM")" ]]
}

# Write $2 to $1 atomically (readers never see a half-written file).
write_file() {
  local tmp
  tmp="$(mktemp "$1.tmp.XXXXXX")"
  printf '%s\n' "$2" >"$tmp"
  mv -f "$tmp" "$1"
}

write_tool_configs() {
  write_file "$TOOLS_LOG4J" '<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by deploy/kafka; command-line tools log warnings to stderr only. -->
<Configuration status="warn">
  <Appenders>
    <Console name="stderr" target="SYSTEM_ERR">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <Root level="warn"><AppenderRef ref="stderr"/></Root>
  </Loggers>
</Configuration>'
  # Admin client settings for the tools: fail in seconds, not in a minute.
  write_file "$CLIENT_CONFIG" '# Written by deploy/kafka; admin-client settings for the bundled tools.
request.timeout.ms=5000
default.api.timeout.ms=15000
socket.connection.setup.timeout.ms=2000
socket.connection.setup.timeout.max.ms=5000
reconnect.backoff.max.ms=1000'
}

# Run a Kafka command-line tool (a main class) from the fetched jars, killed
# after KAFKA_TOOL_TIMEOUT seconds (default 120) if it hangs.
run_tool() {
  local main="$1"
  shift
  with_timeout "${KAFKA_TOOL_TIMEOUT:-120}" \
    "$JAVA_BIN" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$TOOLS_LOG4J" \
    -cp "$LIBS_DIR/*" "$main" "$@"
}

with_timeout() {
  local secs="$1"
  shift
  if command -v timeout >/dev/null 2>&1; then
    timeout "$secs" "$@"
  else
    "$@"
  fi
}

require_libs() {
  libs_ready || die "the Kafka jars are not in $LIBS_DIR yet (or are out of date): run deploy/kafka/start.sh first"
}
