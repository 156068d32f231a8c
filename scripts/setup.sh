#!/usr/bin/env bash
# Install chainrisk into .venv from the lock files and build the local Neo4j server.
# Idempotent: does nothing that is already done. Used by demo.sh and test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for cand in python3.11 python3.12 python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      PY=$cand; break
    fi
  done
fi
[ -n "$PY" ] || { echo "setup: Python >= 3.11 is needed" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $PY"
  "$PY" -m venv .venv
fi

stamp=.venv/.chainrisk-installed
want=$(cat requirements.lock requirements-torch.lock pyproject.toml | sha256sum | cut -c1-16)${CHAINRISK_TORCH_INDEX_URL:+-cpu}
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing locked dependencies into .venv (first time: torch is a large download)"
  .venv/bin/python -m pip install -q --upgrade "pip>=24"
  if [ -n "${CHAINRISK_TORCH_INDEX_URL:-}" ]; then
    # A CPU-only torch build from a wheel index the user can reach.
    .venv/bin/python -m pip install -q "torch==2.9.1" --index-url "$CHAINRISK_TORCH_INDEX_URL"
  else
    .venv/bin/python -m pip install -q -r requirements-torch.lock
  fi
  .venv/bin/python -m pip install -q -r requirements.lock
  .venv/bin/python -m pip install -q --no-deps -e .
  echo "$want" > "$stamp"
fi

# The Neo4j server and the open-GDS plugin, from Maven Central.
if ! .venv/bin/python -c 'from chainrisk.settings import Settings; from graph.server import is_built; import sys; sys.exit(not is_built(Settings()))'; then
  echo "setup: building Neo4j 5.26 + open GDS with Maven (first time: downloads from Maven Central)"
  .venv/bin/chainrisk db build
fi
