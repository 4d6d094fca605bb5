#!/usr/bin/env bash
# Create .venv with a 3.12+ interpreter and install the locked dependencies with uv.
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION=0.13.9
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then
  py=$(scripts/find-python.sh)
  echo "==> .venv を作成します ($py)"
  rm -rf .venv
  "$py" -m venv .venv
fi
if [ ! -x .venv/bin/uv ]; then
  echo "==> uv $UV_VERSION を導入します"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION" 2>&1 \
    | grep -v "is ignored: it is neither a file nor a directory" || true
fi
echo "==> 依存パッケージを uv.lock のとおり導入します"
.venv/bin/uv sync --frozen --quiet
