#!/usr/bin/env bash
# Print the path of a Python 3.12+ interpreter: $PYTHON, then PATH, then pyenv's versions.
# Django 6.1 needs 3.12+; the machines' python3 is 3.11 and uv cannot download one offline.
set -euo pipefail
ok() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; }
candidates=()
[ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
for name in python3.12 python3.13 python3; do
  command -v "$name" >/dev/null 2>&1 && candidates+=("$(command -v "$name")")
done
root=$( (pyenv root 2>/dev/null) || echo "${PYENV_ROOT:-$HOME/.pyenv}")
for v in "$root"/versions/3.12.* "$root"/versions/3.13.*; do
  for exe in "$v"/bin/python3.12 "$v"/bin/python3.13; do
    [ -x "$exe" ] && candidates+=("$exe")
  done
done
for exe in "${candidates[@]}"; do
  if ok "$exe"; then echo "$exe"; exit 0; fi
done
echo "Python 3.12 以上が見つかりません。PYTHON=/path/to/python3.12 を指定するか、" >&2
echo "pyenv install 3.12 などで導入してください (Django 6.1 requires Python 3.12+)." >&2
exit 1
