#!/usr/bin/env bash
# Make sure PostgreSQL answers on 127.0.0.1:5432; start the installed cluster if it does not.
set -euo pipefail
ready() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
ready && exit 0
if [ -d /etc/postgresql ] && command -v pg_ctlcluster >/dev/null 2>&1; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "==> PostgreSQL $version を起動します"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do ready && exit 0; sleep 1; done
fi
echo "PostgreSQL (127.0.0.1:5432) に接続できません。起動してから再実行してください。" >&2
exit 1
