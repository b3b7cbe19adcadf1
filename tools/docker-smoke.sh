#!/usr/bin/env bash
# Run compose.yaml with podman-compose and smoke-test it, on a machine without a container registry.
# Needs root and podman. The python:3.11-slim base
# is made locally by the team's make-base.sh when it is missing (see ../shared/tools/docker/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
ENGINE=${ENGINE:-podman}
MAKE_BASE=${MAKE_BASE:-../shared/tools/docker/make-base.sh}

if ! "$ENGINE" image exists docker.io/library/python:3.11-slim 2>/dev/null \
   && ! "$ENGINE" image inspect docker.io/library/python:3.11-slim >/dev/null 2>&1; then
  [[ -f $MAKE_BASE ]] || { echo "no python:3.11-slim image and no make-base.sh at $MAKE_BASE" >&2; exit 1; }
  bash "$MAKE_BASE"
fi
make --no-print-directory .venv/.dev-installed
.venv/bin/pip install --quiet podman-compose
.venv/bin/python tools/docker_smoke.py
