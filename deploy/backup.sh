#!/usr/bin/env bash
# Consistent online backup of the kiosk database with `kioskctl backup`
# (SQLite VACUUM INTO), then pruning of old copies with the same label.
# Run daily by kinderdeur-backup.timer and by update.sh before a new
# version may migrate the database. Installed as /opt/kinderdeur/lib/backup.
#
#   backup [LABEL]   LABEL defaults to "daily"; files are LABEL-<UTC time>.db
#
# Environment: KINDERDEUR_DATA (/var/lib/kinderdeur), BACKUP_DIR
# ($KINDERDEUR_DATA/backups), BACKUP_KEEP (7), KIOSKCTL
# (/opt/kinderdeur/current/kioskctl).
set -euo pipefail

label=${1:-daily}
if [[ ! "$label" =~ ^[A-Za-z0-9._-]+$ ]]; then
	echo "backup: label must be letters, digits, dot, dash or underscore: $label" >&2
	exit 2
fi
data_dir=${KINDERDEUR_DATA:-/var/lib/kinderdeur}
backup_dir=${BACKUP_DIR:-$data_dir/backups}
keep=${BACKUP_KEEP:-7}
kioskctl=${KIOSKCTL:-/opt/kinderdeur/current/kioskctl}

mkdir -p "$backup_dir"

# A backup must not be what fills the disk: skip it (and fail, so the unit
# shows up in `systemctl --failed`) when less than twice the database size
# is free.
db_bytes=0
for f in "$data_dir"/*.db; do
	[[ -f "$f" ]] || continue
	db_bytes=$((db_bytes + $(stat -c %s "$f")))
done
free_bytes=$(df --output=avail -B1 "$backup_dir" | tail -n 1 | tr -d ' ')
if ((free_bytes < 2 * db_bytes)); then
	echo "backup: only $free_bytes bytes free in $backup_dir for a $db_bytes byte database; skipped" >&2
	exit 1
fi

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="$backup_dir/$label-$stamp.db"
partial="$out.partial"
rm -f "$partial"
if ! "$kioskctl" backup -data "$data_dir" -out "$partial"; then
	rm -f "$partial"
	echo "backup: kioskctl backup failed" >&2
	exit 1
fi
mv -f "$partial" "$out"
echo "$out"

# Keep the newest $keep copies of this label (names sort by time).
mapfile -t copies < <(find "$backup_dir" -maxdepth 1 -type f -name "$label-*.db" -printf '%f\n' | sort)
excess=$((${#copies[@]} - keep))
for ((i = 0; i < excess; i++)); do
	rm -f -- "$backup_dir/${copies[i]}"
done
