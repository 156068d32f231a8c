#!/usr/bin/env bash
# The test command: install what is missing, start a Neo4j server of the tests' own
# (own data folder and ports), run ruff, mypy and pytest, and stop the server whatever happened.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

# The web page's browser test drives Debian's Chromium (tests/chainrisk/app/web/test_page_browser.py);
# without it that test is skipped on a developer's machine and fails under CI=true.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "== installing Debian's chromium for the browser test"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
  else
    echo "test.sh: /usr/bin/chromium is missing; install it (sudo apt-get install -y chromium)." >&2
    echo "test.sh: the browser test will be skipped, or fail under CI=true." >&2
  fi
fi

# The tests' own server: never the user's data.
export CHAINRISK_SERVER_HOME=${CHAINRISK_TEST_SERVER_HOME:-$PWD/var/neo4j-test}
export CHAINRISK_BOLT_PORT=${CHAINRISK_TEST_BOLT_PORT:-17687}
export CHAINRISK_HTTP_PORT=${CHAINRISK_TEST_HTTP_PORT:-17474}
export NEO4J_URI=bolt://127.0.0.1:$CHAINRISK_BOLT_PORT
export NEO4J_USERNAME=neo4j
export NEO4J_PASSWORD=${CHAINRISK_TEST_PASSWORD:-chainrisk-test}
export NEO4J_DATABASE=neo4j
# the live tests empty this server's database; they refuse to run without this mark
export CHAINRISK_TEST_SERVER=1
export CHAINRISK_NEO4J_HEAP=${CHAINRISK_NEO4J_HEAP:-1g}
export CHAINRISK_NEO4J_PAGECACHE=${CHAINRISK_NEO4J_PAGECACHE:-512m}

cleanup() { .venv/bin/chainrisk db stop >/dev/null 2>&1 || true; }
trap cleanup EXIT

.venv/bin/chainrisk db start

echo "== ruff"; .venv/bin/ruff check .
echo "== mypy"; .venv/bin/mypy
echo "== pytest"; .venv/bin/python -m pytest "$@"
