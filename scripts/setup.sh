#!/usr/bin/env bash
# Create .venv (Python 3.11) and install reassurance with its test tools. Safe to run again.
# torch is pinned to 2.13.0: on the project's machines that is a local CPU build. For a GPU,
# install a CUDA build of torch 2.13.0 into .venv first (see README); this script keeps it.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet "torch==2.13.0"
.venv/bin/python -m pip install --quiet -e ".[dev]"
