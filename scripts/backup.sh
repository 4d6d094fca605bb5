#!/usr/bin/env bash
# Back up Kokuho (docs/operations.md): the business database and the vault with pg_dump
# (custom format), then — into a directory of its own, kept apart from the dumps — the
# vault's key file. Order matters: business DB, vault, key file; each later one covers what
# the earlier ones refer to (a number registered after the first dump is in the vault dump,
# and a key rotated in before the vault dump is in the key file copied after it).
#
#   scripts/backup.sh DUMP_DIR KEY_DIR
#
# Reads KOKUHO_DATABASE_URL and KOKUHO_VAULT_DATABASE_URL (postgresql://…) and
# KOKUHO_VAULT_KEY_FILE (default var/vault-keys.json), as the services do
# (deploy/kokuho.env.example). Writes DUMP_DIR/<stamp>/{kokuho.dump,vault.dump,SHA256SUMS}
# and KEY_DIR/<stamp>/{vault-keys.json,SHA256SUMS}, owner-only; prints what it wrote.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -ne 2 ]; then
  echo "使い方: scripts/backup.sh DUMP_DIR KEY_DIR（鍵ファイルはダンプとは別の場所へ）" >&2
  exit 2
fi
dump_root=$1
key_root=$2
db_url=${KOKUHO_DATABASE_URL:-}
vault_url=${KOKUHO_VAULT_DATABASE_URL:-}
key_file=${KOKUHO_VAULT_KEY_FILE:-var/vault-keys.json}

for url in "$db_url" "$vault_url"; do
  case "$url" in
    postgres://* | postgresql://*) ;;
    *)
      echo "KOKUHO_DATABASE_URL と KOKUHO_VAULT_DATABASE_URL に PostgreSQL の URL を指定してください" >&2
      exit 2
      ;;
  esac
done
if [ ! -f "$key_file" ]; then
  echo "鍵ファイルがありません: $key_file" >&2
  exit 2
fi
if [ "$(realpath -m "$dump_root")" = "$(realpath -m "$key_root")" ]; then
  echo "鍵ファイルはダンプと別のディレクトリに保存してください" >&2
  exit 2
fi

umask 077
stamp=$(date +%Y%m%dT%H%M%S)
dumps="$dump_root/$stamp"
keys="$key_root/$stamp"
mkdir -p "$dumps" "$keys"

echo "==> バックアップ $stamp（$(pg_dump --version)）"
pg_dump --format=custom --file="$dumps/kokuho.dump" --dbname="$db_url"
pg_dump --format=custom --file="$dumps/vault.dump" --dbname="$vault_url"
(cd "$dumps" && sha256sum kokuho.dump vault.dump >SHA256SUMS)
cp -p "$key_file" "$keys/vault-keys.json"
chmod 600 "$keys/vault-keys.json"
(cd "$keys" && sha256sum vault-keys.json >SHA256SUMS)

size() { du -h "$1" | cut -f1; }
echo "    業務DB   $dumps/kokuho.dump ($(size "$dumps/kokuho.dump"))"
echo "    保管庫   $dumps/vault.dump ($(size "$dumps/vault.dump"))"
echo "    鍵ファイル $keys/vault-keys.json（ダンプとは別に保管してください）"
