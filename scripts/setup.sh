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
# The browser tests (tests/test_classroom_browser.py) drive Debian's Chromium through its driver.
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing chromium and chromium-driver for the browser tests"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "setup: chromium and chromium-driver are missing and this is not root with apt-get;" \
      "the browser tests will fail until they are installed" >&2
  fi
fi
