#!/usr/bin/env bash
# The main job: install, build and start the local Neo4j (if needed), and run the end-to-end demo
# (synthetic platform -> ingest -> snapshot -> GDS -> ESRI -> stress test -> write-back).
# Extra arguments go to `chainrisk demo` (e.g. --firms 5000 --runs 2000).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
.venv/bin/chainrisk db start
.venv/bin/chainrisk demo "$@"
echo "The server keeps running for queries: .venv/bin/chainrisk db stop stops it."
