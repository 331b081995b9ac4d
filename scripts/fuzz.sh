#!/usr/bin/env bash
# A long fuzzing run of the parsers and translators (ingest/tests/fuzz.rs):
# the JSON event parser, the queue_log translator, the AMI and ESL frame
# parsers. `cargo test` runs a few thousand cases; this runs many more, in a
# release build. Usage: scripts/fuzz.sh [CASES_PER_TARGET] [TEST_NAME_FILTER]
#   scripts/fuzz.sh                     # 1,000,000 cases per target
#   scripts/fuzz.sh 100000 fuzz_ami     # only the AMI target
# A failure prints the minimal input proptest found and keeps its seed in
# ingest/tests/fuzz.proptest-regressions (replayed first by every later
# run); turn it into a named regression test in ingest/tests/fuzz.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
export FUZZ_CASES="${1:-1000000}"
exec cargo test --release --locked -p ingest --test fuzz -- --nocapture "${2:-}"
