#!/usr/bin/env bash
# The test command: install what is missing, start a Neo4j server of the tests' own
# (own data folder and ports), run ruff, mypy and pytest, and stop the server whatever happened.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

# The tests' own server: never the user's data.
export CHAINRISK_SERVER_HOME=${CHAINRISK_TEST_SERVER_HOME:-$PWD/var/neo4j-test}
export CHAINRISK_BOLT_PORT=${CHAINRISK_TEST_BOLT_PORT:-17687}
export CHAINRISK_HTTP_PORT=${CHAINRISK_TEST_HTTP_PORT:-17474}
export NEO4J_URI=bolt://127.0.0.1:$CHAINRISK_BOLT_PORT
export NEO4J_USERNAME=neo4j
export NEO4J_PASSWORD=${CHAINRISK_TEST_PASSWORD:-chainrisk-test}
export NEO4J_DATABASE=neo4j
export CHAINRISK_NEO4J_HEAP=${CHAINRISK_NEO4J_HEAP:-1g}
export CHAINRISK_NEO4J_PAGECACHE=${CHAINRISK_NEO4J_PAGECACHE:-512m}

cleanup() { .venv/bin/chainrisk db stop >/dev/null 2>&1 || true; }
trap cleanup EXIT

.venv/bin/chainrisk db start

echo "== ruff"; .venv/bin/ruff check .
echo "== mypy"; .venv/bin/mypy
echo "== pytest"; .venv/bin/python -m pytest "$@"
