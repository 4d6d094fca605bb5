#!/usr/bin/env bash
# 復元訓練 (restore drill, docs/operations.md): back up both databases and the key file with
# scripts/backup.sh, restore them into FRESH databases under new names, and show on the
# restored copy that the schema is this code's, that the audit trail's hash chain holds
# (`kokuho audit verify`) and that the key file opens the vault (`kokuho vault check`).
# The drill databases and the temporary backup (which holds a copy of the key file) are
# removed at the end, whatever happened. Nothing is written to the source databases.
#
#   scripts/restore-drill.sh [SOURCE_URL [SOURCE_VAULT_URL]]
#
# Sources: the arguments, else KOKUHO_DATABASE_URL / KOKUHO_VAULT_DATABASE_URL, else the
# local databases postgresql://postgres@127.0.0.1:5432/kokuho and …/kokuho_vault.
# KOKUHO_VAULT_KEY_FILE    the key file (default var/vault-keys.json)
# KOKUHO_DRILL_NAME        name of the drill databases (NAME and NAME_vault; default
#                          kokuho_drill_<pid>); they must not exist yet
# KOKUHO_DRILL_DIR         keep the backup there instead of a temporary directory
# KOKUHO_DRILL_SAMPLE      vault rows to decrypt (default: all)
# KOKUHO_DRILL_JOBS        pg_restore --jobs (default 2)
# KOKUHO                   the kokuho command (default .venv/bin/kokuho)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

pg_default=postgresql://postgres@127.0.0.1:5432
source_db=${1:-${KOKUHO_DATABASE_URL:-$pg_default/kokuho}}
source_vault=${2:-${KOKUHO_VAULT_DATABASE_URL:-$pg_default/kokuho_vault}}
key_file=$(realpath -m "${KOKUHO_VAULT_KEY_FILE:-var/vault-keys.json}")
drill=${KOKUHO_DRILL_NAME:-kokuho_drill_$$}
drill_vault=${drill}_vault
kokuho=${KOKUHO:-$repo/.venv/bin/kokuho}
jobs=${KOKUHO_DRILL_JOBS:-2}

if ! [[ $drill =~ ^[a-z_][a-z0-9_]{0,56}$ ]]; then
  echo "KOKUHO_DRILL_NAME は英小文字・数字・_ で 57 文字までです: $drill" >&2
  exit 2
fi

# postgresql://user@host:port/name?options → the same server and options, another name.
db_name() { local base=${1%%\?*}; echo "${base##*/}"; }
with_name() {
  local base=${1%%\?*}
  local options=${1#"$base"}
  echo "${base%/*}/$2$options"
}
for name in "$drill" "$drill_vault"; do
  if [ "$name" = "$(db_name "$source_db")" ] || [ "$name" = "$(db_name "$source_vault")" ]; then
    echo "訓練用データベースの名前が復元元と同じです: $name" >&2
    exit 2
  fi
done
drill_db=$(with_name "$source_db" "$drill")
drill_vault_db=$(with_name "$source_vault" "$drill_vault")

if [ -n "${KOKUHO_DRILL_DIR:-}" ]; then
  work=$KOKUHO_DRILL_DIR
  mkdir -p "$work"
  keep_work=1
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/kokuho-drill.XXXXXX")
  keep_work=0
fi
created=() # "maintenance URL|name" of each drill database made so far
cleanup() {
  local status=$?
  for entry in "${created[@]}"; do
    dropdb --maintenance-db="${entry%%|*}" --force --if-exists "${entry#*|}" ||
      echo "訓練用データベースを削除できませんでした: ${entry#*|}" >&2
  done
  # The temporary backup holds a copy of the key file next to the dumps: never left behind.
  [ "$keep_work" = 1 ] || rm -rf "$work"
  if [ ${#created[@]} -gt 0 ]; then
    echo "==> 訓練用データベースを削除しました: ${drill}, ${drill_vault}"
  fi
  [ "$status" -eq 0 ] || echo "==> 復元訓練: 失敗（終了コード $status）" >&2
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

count() { psql --no-psqlrc -qtAX --dbname="$1" -c "SELECT count(*) FROM $2"; }

echo "== 復元訓練 $(date '+%Y-%m-%d %H:%M:%S')"
echo "   復元元: $(db_name "$source_db"), $(db_name "$source_vault")  →  訓練用: $drill, $drill_vault"
events_before=$(count "$source_db" audit_auditevent)
links_before=$(count "$source_vault" identity_identitylink)

KOKUHO_DATABASE_URL=$source_db KOKUHO_VAULT_DATABASE_URL=$source_vault \
  KOKUHO_VAULT_KEY_FILE=$key_file scripts/backup.sh "$work/db" "$work/keys"
dumps=$(ls -d "$work"/db/*/ | tail -n 1)
keys=$(ls -d "$work"/keys/*/ | tail -n 1)
(cd "$dumps" && sha256sum --quiet --check SHA256SUMS)
(cd "$keys" && sha256sum --quiet --check SHA256SUMS)

echo "==> 新しいデータベースへ復元します（pg_restore --jobs $jobs）"
restore() { # SOURCE_URL (its server, for CREATE DATABASE) DRILL_URL DUMP
  createdb --maintenance-db="$1" --template=template0 "$(db_name "$2")"
  created+=("$1|$(db_name "$2")")
  pg_restore --no-owner --no-acl --exit-on-error --jobs="$jobs" --dbname="$2" "$3"
}
restore "$source_db" "$drill_db" "${dumps}kokuho.dump"
restore "$source_vault" "$drill_vault_db" "${dumps}vault.dump"

export KOKUHO_DATABASE_URL=$drill_db
export KOKUHO_VAULT_DATABASE_URL=$drill_vault_db
export KOKUHO_VAULT_KEY_FILE=${keys}vault-keys.json
export KOKUHO_VAR_DIR=$work/var
KOKUHO_SECRET_KEY=$(head -c 32 /dev/urandom | base64)
export KOKUHO_SECRET_KEY
mkdir -p "$KOKUHO_VAR_DIR"

echo "==> 復元したデータベースを確認します"
events_after=$(count "$drill_db" audit_auditevent)
links_after=$(count "$drill_vault_db" identity_identitylink)
echo "件数: 監査ログ 復元元 $events_before → 復元 $events_after、保管庫 復元元 $links_before → 復元 $links_after"
if [ "$events_after" -lt "$events_before" ] || [ "$links_after" -lt "$links_before" ]; then
  echo "復元したデータベースの件数がバックアップ前より少なくなっています" >&2
  exit 1
fi
# A backup older than the installed code restores fine and needs `kokuho migrate` after it:
# said, not a failure of the backup.
for database in default vault; do
  plan=$("$kokuho" showmigrations --plan --skip-checks --database "$database")
  unapplied=$(grep -F '[ ]' <<<"$plan" || true)
  if [ -z "$unapplied" ]; then
    echo "スキーマ: $database はこの版のマイグレーションまで適用済み"
  else
    echo "スキーマ: $database にこの版の未適用のマイグレーションがあります（復元後に kokuho migrate が必要）:"
    echo "$unapplied"
  fi
done
"$kokuho" audit --skip-checks verify
if [ -n "${KOKUHO_DRILL_SAMPLE:-}" ]; then
  "$kokuho" vault --skip-checks check --sample "$KOKUHO_DRILL_SAMPLE"
else
  "$kokuho" vault --skip-checks check --all
fi
echo "==> 復元訓練: 成功（監査ログの連結を確認し、鍵ファイルで保管庫を開けました）"
