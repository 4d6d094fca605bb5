#!/usr/bin/env bash
# Debian packages the product needs: a Japanese font (PDFs, screenshots), Chromium (UI tests),
# poppler-utils (pdftoppm: the document tests render pages to PNG) and the PostgreSQL client
# programs (pg_dump, pg_restore, createdb: scripts/backup.sh and the restore drill; any
# installed postgresql-client-NN will do, so it is looked for by its programs).
# Installs only what is missing; 'apt-get update' once, before the install.
set -euo pipefail
packages=(fonts-ipaexfont chromium poppler-utils)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
for program in pg_dump pg_restore createdb dropdb psql; do
  if ! command -v "$program" >/dev/null 2>&1; then
    missing+=(postgresql-client)
    break
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "Debian パッケージ ${missing[*]} が必要です (apt-get が見つかりません)。" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "==> Debian パッケージを導入します: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
