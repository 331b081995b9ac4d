#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, then every test of
# the workspace (unit, golden, property and end-to-end).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "the engine and the event types depend on no runtime (cargo tree)"
for crate in wallboard-events aggregator; do
  if cargo tree --locked -p "$crate" -e normal --prefix none |
    grep -E '^(rdkafka|rdkafka-sys|tokio|rand|hyper|axum|reqwest) '; then
    echo "$crate must stay pure: no I/O runtime, async, Kafka or randomness" >&2
    exit 1
  fi
done

step "cargo test --workspace"
cargo test --workspace --locked

step "end-to-end tests against a real Kafka broker (KRaft, loopback)"
# Its own port and state directory, so a developer's broker is left alone.
export KAFKA_PORT="${WALLBOARD_TEST_KAFKA_PORT:-19092}"
export KAFKA_DIR="${WALLBOARD_TEST_KAFKA_DIR:-$PWD/target/kafka-test}"
trap 'deploy/kafka/stop.sh --purge >/dev/null 2>&1 || true' EXIT
WALLBOARD_TEST_KAFKA="$(deploy/kafka/start.sh | tail -n1)"
export WALLBOARD_TEST_KAFKA
cargo build --locked --bin wallboard
cargo test --locked -p tests --test kafka -- --ignored --test-threads 2
# Several instances: changelog restore, kill -9 failover, truncated logs.
cargo test --locked -p tests --test kafka_ha -- --ignored --test-threads 3
# Every instance serves every tenant: three instances, the views topic.
cargo test --locked -p tests --test kafka_views -- --ignored
# The topics' broker settings checked at start: chunk size, compaction.
cargo test --locked -p tests --test kafka_topics -- --ignored

step "Prometheus: promtool checks, rule unit tests, a real scrape"
# Debian's prometheus package brings promtool.
if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null
  else
    echo "prometheus is missing: apt-get install prometheus" >&2
    exit 1
  fi
fi
promtool check rules deploy/prometheus/recording.rules.yml deploy/prometheus/alerts.rules.yml
promtool check config deploy/prometheus/prometheus.yml
(cd deploy/prometheus && promtool test rules rules.test.yml)
# (uses the Kafka broker started above)
cargo test --locked -p tests --test prometheus -- --ignored

step "alerts end to end: webhook, SMTP (aiosmtpd), Alertmanager"
if ! command -v prometheus-alertmanager >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus-alertmanager >/dev/null
  else
    echo "prometheus-alertmanager is missing: apt-get install prometheus-alertmanager" >&2
    exit 1
  fi
fi
python3 -c "import aiosmtpd" 2>/dev/null || python3 -m pip install --quiet aiosmtpd
cargo test --locked -p tests --test alerting -- --ignored

step "browser tests (headless Chromium)"
# Debian's chromium drives the page; playwright-core comes from npm.
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
  else
    echo "chromium is missing: apt-get install chromium fonts-noto-cjk" >&2
    exit 1
  fi
fi
cargo build --locked --bin wallboard
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error && npm test)
