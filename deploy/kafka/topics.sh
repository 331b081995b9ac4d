#!/usr/bin/env bash
# Small topic helper using Kafka's own TopicCommand (from the jars fetched by
# start.sh) against the local broker.
#
#   deploy/kafka/topics.sh create NAME [PARTITIONS]   (default 1; no error if it exists)
#   deploy/kafka/topics.sh list
#   deploy/kafka/topics.sh describe [NAME]
#   deploy/kafka/topics.sh delete NAME
#
# Talks to 127.0.0.1:$KAFKA_PORT (default 9092), or to KAFKA_BOOTSTRAP_SERVERS
# when that is set.  KAFKA_DIR as for start.sh.  For another cluster:
# KAFKA_CLIENT_CONFIG (admin-client properties file, e.g. SASL/TLS settings) and
# KAFKA_REPLICATION_FACTOR (for create; default 1).
set -euo pipefail

usage() {
  sed -n '5,8p' "$0" | sed 's/^# *//' >&2
  exit 2
}

case "${1:-}" in
  create | list | describe | delete) ;;
  *) usage ;;
esac

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_libs
write_tool_configs

bootstrap="${KAFKA_BOOTSTRAP_SERVERS:-$KAFKA_BOOTSTRAP}"
topic_cmd() {
  run_tool org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$bootstrap" --command-config "${KAFKA_CLIENT_CONFIG:-$CLIENT_CONFIG}" "$@"
}

cmd="${1:-}"
case "$cmd" in
  create)
    (($# >= 2 && $# <= 3)) || usage
    partitions="${3:-1}"
    [[ "$partitions" =~ ^[1-9][0-9]*$ ]] || die "PARTITIONS must be a positive number, got '$partitions'"
    topic_cmd --create --if-not-exists --topic "$2" --partitions "$partitions" \
      --replication-factor "${KAFKA_REPLICATION_FACTOR:-1}"
    ;;
  list)
    (($# == 1)) || usage
    topic_cmd --list
    ;;
  describe)
    (($# <= 2)) || usage
    if (($# == 2)); then topic_cmd --describe --topic "$2"; else topic_cmd --describe; fi
    ;;
  delete)
    (($# == 2)) || usage
    topic_cmd --delete --topic "$2"
    ;;
  *) usage ;;
esac
