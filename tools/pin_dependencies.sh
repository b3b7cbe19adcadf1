#!/usr/bin/env bash
# Pin the runtime dependencies: install newsbot alone into a fresh virtualenv and record what came.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$(mktemp -d)/venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet .
{
  echo "# Runtime dependencies, pinned: the image (Dockerfile) and every make target install with -c constraints.txt."
  echo "# Regenerate after changing pyproject.toml's dependencies: tools/pin_dependencies.sh"
  "$venv/bin/pip" freeze --exclude newsbot
} > constraints.txt
rm -rf "$(dirname "$venv")"
echo "wrote constraints.txt ($(grep -vc '^#' constraints.txt) packages)"
