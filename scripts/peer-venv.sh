#!/usr/bin/env bash
# Create the Python virtualenv the peer suite (tests/peer) runs in: the ORIGINAL pyqldb 3.2.4 with
# the pins it needs today (see docs: wire-protocol.md §5.1), plus pytest.
#
#   bash scripts/peer-venv.sh [DIR]      (default: .peer-venv in the repository root)
#
# Idempotent: when DIR/.peer-requirements matches the requirements below, nothing is done.
# Nothing is installed outside DIR.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-$ROOT/.peer-venv}"
PYTHON="${PYTHON:-python3}"

REQUIREMENTS="pyqldb==3.2.4
boto3==1.40.60
botocore==1.40.60
amazon.ion==0.9.3
ionhash==1.2.1
pytest==9.0.2"

STAMP="$VENV/.peer-requirements"

if [[ -x "$VENV/bin/python" && -f "$STAMP" ]] && [[ "$(cat "$STAMP")" == "$REQUIREMENTS" ]]; then
    echo "peer-venv: $VENV is up to date ($(tr '\n' ' ' < "$STAMP"))"
    exit 0
fi

if [[ ! -x "$VENV/bin/python" ]]; then
    echo "peer-venv: creating virtualenv $VENV with $("$PYTHON" --version 2>&1)"
    "$PYTHON" -m venv "$VENV"
else
    echo "peer-venv: reusing virtualenv $VENV (requirements changed or not stamped)"
fi

REQ_FILE="$VENV/.peer-requirements.txt"
printf '%s\n' "$REQUIREMENTS" > "$REQ_FILE"
echo "peer-venv: installing:"
sed 's/^/    /' "$REQ_FILE"
"$VENV/bin/python" -m pip install --disable-pip-version-check --quiet --upgrade pip
"$VENV/bin/python" -m pip install --disable-pip-version-check --quiet -r "$REQ_FILE"

# Import check: the pins exist because newer versions break the original driver at import time.
"$VENV/bin/python" - <<'PY'
import boto3, botocore, pyqldb, amazon.ion, ionhash, pytest
from pyqldb.driver.qldb_driver import QldbDriver  # noqa: F401
assert pyqldb.__version__ == "3.2.4", pyqldb.__version__
assert botocore.__version__ == "1.40.60", botocore.__version__
session = botocore.session.get_session()
assert "qldb-session" in session.get_available_services(), "botocore lacks the qldb-session model"
print("peer-venv: import check ok (pyqldb %s, botocore %s, pytest %s)"
      % (pyqldb.__version__, botocore.__version__, pytest.__version__))
PY

printf '%s' "$REQUIREMENTS" > "$STAMP"
echo "peer-venv: ready: $VENV"
