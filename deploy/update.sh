#!/usr/bin/env bash
# Atomic update of the kiosk binaries with automatic rollback.
#
#   update.sh RELEASE_DIR
#
# RELEASE_DIR holds kioskd and kioskctl (and optionally VERSION), e.g. the
# output of scripts/cross-build for this board (dist/arm64). The update:
#   1. copies the release to $PREFIX/releases/<version>/ (never touching the
#      running one),
#   2. takes a database backup with the running version's kioskctl
#      (VACUUM INTO) before the new version may migrate the schema,
#   3. points the symlink $PREFIX/current at the new release by rename(2)
#      (atomic: a power cut leaves either the old or the new link) and
#      $PREFIX/previous at the old one,
#   4. restarts kioskd and polls /healthz until it answers 200
#      $HEALTH_STABLE times in a row, within $HEALTH_TIMEOUT seconds (or
#      200/503 when the running version answered 503 before the update:
#      never worse than before),
#   5. on failure switches back to the old release and restarts it; if the
#      old release is not healthy either (for example because the new one
#      migrated the database), it stops the daemon, moves the database aside
#      to $DATA/rejected-<time>/ and restores the copy the new version took
#      as it migrated (kiosk.db.pre-vN.bak, moved into place), or else the
#      backup from step 2.
#
# Exit status: 0 updated (or already current), 1 nothing changed (bad
# release, backup failed, another update running), 3 the new version failed
# and the old one runs again, 4 rollback failed: the kiosk needs a person.
#
# Environment (defaults for a Raspberry Pi installed by install.sh; the tests
# in deploy/test set them to run without systemd):
#   KINDERDEUR_ROOT   prefix for every path below ("")
#   KINDERDEUR_PREFIX install prefix ($KINDERDEUR_ROOT/opt/kinderdeur)
#   KINDERDEUR_DATA   data directory ($KINDERDEUR_ROOT/var/lib/kinderdeur)
#   DB_NAME           database file name in the data directory (kiosk.db)
#   RESTART_CMD       restarts the daemon (systemctl restart kinderdeur-kioskd.service)
#   STOP_CMD          stops the daemon (systemctl stop kinderdeur-kioskd.service)
#   BACKUP_CMD        backup program, called as BACKUP_CMD LABEL with KIOSKCTL
#                     set to the running version's kioskctl ($PREFIX/lib/backup)
#   HEALTH_URL        (http://127.0.0.1:8080/healthz)
#   HEALTH_TIMEOUT    seconds (90), HEALTH_INTERVAL seconds (1),
#   HEALTH_STABLE     consecutive 200 answers required (3)
#   KEEP_RELEASES     release directories kept besides current and previous (2)
#   SKIP_RESTART=1    only install and switch (first install by install.sh)
set -euo pipefail

root=${KINDERDEUR_ROOT:-}
prefix=${KINDERDEUR_PREFIX:-$root/opt/kinderdeur}
data_dir=${KINDERDEUR_DATA:-$root/var/lib/kinderdeur}
db_name=${DB_NAME:-kiosk.db}
restart_cmd=${RESTART_CMD:-systemctl restart kinderdeur-kioskd.service}
stop_cmd=${STOP_CMD:-systemctl stop kinderdeur-kioskd.service}
backup_cmd=${BACKUP_CMD:-$prefix/lib/backup}
health_url=${HEALTH_URL:-http://127.0.0.1:8080/healthz}
health_timeout=${HEALTH_TIMEOUT:-90}
health_interval=${HEALTH_INTERVAL:-1}
health_stable=${HEALTH_STABLE:-3}
keep_releases=${KEEP_RELEASES:-2}
skip_restart=${SKIP_RESTART:-0}

log() { echo "update: $*" >&2; }
die() {
	log "$*"
	exit 1
}

if [[ $# -ne 1 ]]; then
	echo "usage: update.sh RELEASE_DIR" >&2
	exit 1
fi
src=$1
for bin in kioskd kioskctl; do
	[[ -f "$src/$bin" && -x "$src/$bin" ]] || die "$src/$bin is missing or not executable"
done

# The version names the release directory: VERSION if the build wrote one,
# else what the binary says (it runs on this board).
if [[ -f "$src/VERSION" ]]; then
	version=$(head -n 1 "$src/VERSION")
else
	version=$("$src/kioskd" -version 2>/dev/null | head -n 1) || die "$src/kioskd -version failed"
fi
version=${version##* } # "kioskd v1.2.3" -> "v1.2.3"
version=${version//[^A-Za-z0-9._+-]/_}
[[ -n "$version" && "$version" != "." && "$version" != ".." ]] || die "cannot tell the version of $src"

releases=$prefix/releases
mkdir -p "$releases"

# One update at a time.
exec 9>"$prefix/.update.lock"
flock -n 9 || die "another update is running"

old=""
if [[ -L "$prefix/current" ]]; then
	old=$(basename "$(readlink "$prefix/current")")
fi
old_previous=""
if [[ -L "$prefix/previous" ]]; then
	old_previous=$(readlink "$prefix/previous")
fi

if [[ "$old" == "$version" ]]; then
	log "version $version is already current; nothing to do"
	exit 0
fi

# Stage: copy next to the releases, then rename into place.
staging=$(mktemp -d "$releases/.staging-XXXXXX")
trap 'rm -rf "$staging"' EXIT
cp "$src/kioskd" "$src/kioskctl" "$staging/"
chmod 0755 "$staging" "$staging/kioskd" "$staging/kioskctl"
echo "$version" >"$staging/VERSION"
sync "$staging/kioskd" "$staging/kioskctl" "$staging/VERSION"
rm -rf "${releases:?}/$version"
mv -T "$staging" "$releases/$version"
trap - EXIT
log "installed $version in $releases/$version"

# swap NAME TARGET: point $prefix/NAME at TARGET atomically.
swap() {
	ln -sfn "$2" "$prefix/.$1.new"
	mv -T "$prefix/.$1.new" "$prefix/$1"
	sync "$prefix" 2>/dev/null || sync
}

# Backup before the new version may migrate the database, made by the
# version that knows the current schema.
backup=""
if [[ -n "$old" && -f "$data_dir/$db_name" && "$skip_restart" != 1 ]]; then
	if ! backup=$(KIOSKCTL="$prefix/current/kioskctl" KINDERDEUR_DATA="$data_dir" "$backup_cmd" "pre-update-$version" | tail -n 1); then
		rm -rf "${releases:?}/$version"
		die "backup before the update failed; still running $old"
	fi
	log "database backed up to $backup"
fi

# The new version must be at least as healthy as the running one: 200 when
# the kiosk answers 200 now; when it answers 503 (a broken reader, no roster
# yet), a new version that serves (200 or 503) is accepted, so that a kiosk
# with a dead reader can still be updated. No answer is never accepted.
accept_503=no
if [[ -n "$old" && "$skip_restart" != 1 ]]; then
	baseline=$(curl --silent --output /dev/null --max-time 2 --write-out '%{http_code}' "$health_url" || true)
	if [[ "$baseline" == 503 ]]; then
		accept_503=yes
		log "the running version answers 503; the new one must serve (200 or 503)"
	fi
fi

swap current "releases/$version"
if [[ -n "$old" ]]; then
	swap previous "releases/$old"
fi
log "switched current to $version${old:+ (previous: $old)}"

if [[ "$skip_restart" == 1 ]]; then
	exit 0
fi

# healthy: true when HEALTH_URL answers as wanted HEALTH_STABLE times in a
# row before HEALTH_TIMEOUT runs out.
healthy() {
	local deadline=$((SECONDS + health_timeout)) ok=0 code
	while ((SECONDS < deadline)); do
		code=$(curl --silent --output /dev/null --max-time 2 --write-out '%{http_code}' "$health_url" || true)
		if [[ "$code" == 200 || ("$accept_503" == yes && "$code" == 503) ]]; then
			ok=$((ok + 1))
			if ((ok >= health_stable)); then
				return 0
			fi
		else
			ok=0
		fi
		sleep "$health_interval"
	done
	local wanted=200
	[[ "$accept_503" == yes ]] && wanted="200 or 503"
	log "no stable $wanted from $health_url within ${health_timeout}s (last answer: ${code:-none})"
	return 1
}

restart() {
	if ! bash -c "$restart_cmd" 9>&-; then
		log "restart command failed: $restart_cmd"
		return 1
	fi
}

prune() {
	local keep_current keep_previous n=0 dir name
	keep_current=$(basename "$(readlink "$prefix/current")")
	keep_previous=""
	[[ -L "$prefix/previous" ]] && keep_previous=$(basename "$(readlink "$prefix/previous")")
	while IFS= read -r name; do
		[[ "$name" == "$keep_current" || "$name" == "$keep_previous" ]] && continue
		n=$((n + 1))
		if ((n > keep_releases)); then
			dir="$releases/$name"
			rm -rf -- "$dir"
			log "removed old release $name"
		fi
	done < <(find "$releases" -mindepth 1 -maxdepth 1 -type d ! -name '.*' -printf '%T@ %f\n' | sort -rn | cut -d' ' -f2-)
}

# The copies kioskd takes as it migrates (kiosk.db.pre-vN.bak), as they
# are before the new version starts: one made by the new version is told
# from these by its inode and time, not by its name (it may reuse one) or
# by comparing times with our backup (the clock may have been behind).
declare -A premigration_before=()
premigration_id() { stat -c '%i:%Y:%s' -- "$1" 2>/dev/null; }
for f in "$data_dir/$db_name".pre-v*.bak; do
	[[ -f "$f" ]] && premigration_before["$f"]=$(premigration_id "$f")
done
# new_premigration: the newest copy the new version made, if any.
new_premigration() {
	local f newest=""
	for f in "$data_dir/$db_name".pre-v*.bak; do
		[[ -f "$f" ]] || continue
		[[ "${premigration_before[$f]:-}" == "$(premigration_id "$f")" ]] && continue
		if [[ -z "$newest" || "$f" -nt "$newest" ]]; then
			newest=$f
		fi
	done
	echo "$newest"
}

if restart && healthy; then
	log "version $version is healthy"
	# Our backup from before the update is the copy to go back to by hand;
	# the new version's own copy would only take the room daily backups need.
	made=$(new_premigration)
	if [[ -n "$made" ]]; then
		rm -f -- "$made"
		log "removed $made (the backup before the update is $backup)"
	fi
	prune
	exit 0
fi

log "version $version failed its health check; rolling back"
touch "$releases/$version/FAILED"
if [[ -z "$old" ]]; then
	log "no previous version to roll back to: the kiosk needs a person"
	exit 4
fi
swap current "releases/$old"
if [[ -n "$old_previous" ]]; then
	swap previous "$old_previous"
else
	rm -f "$prefix/previous"
fi
if restart && healthy; then
	log "rolled back to $old; $version is kept in $releases/$version (marked FAILED)"
	exit 3
fi

# The old version does not come back on the database as the new one left
# it: restore a copy in the old schema, keeping the rejected files for
# inspection. The best copy is the one the new version took as it migrated
# (kiosk.db.pre-vN.bak, made after the old version stopped, so it holds
# every tap the old version recorded); it is moved, so it needs no room.
# Else our backup from before the update is copied.
premigration=$(new_premigration)
if [[ -z "$premigration" && ( -z "$backup" || ! -f "$backup" ) ]]; then
	log "rollback to $old is not healthy and there is no backup to restore: the kiosk needs a person"
	exit 4
fi
source_db=${premigration:-$backup}
log "rollback to $old is not healthy; restoring the database from $source_db"
bash -c "$stop_cmd" 9>&- || log "stop command failed: $stop_cmd"
rejected="$data_dir/rejected-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$rejected"
for suffix in "" -wal -shm -journal; do
	if [[ -e "$data_dir/$db_name$suffix" ]]; then
		mv -- "$data_dir/$db_name$suffix" "$rejected/"
	fi
done
if [[ -n "$premigration" ]]; then
	mv -T -- "$premigration" "$data_dir/$db_name.restoring"
elif ! cp -- "$backup" "$data_dir/$db_name.restoring"; then
	# No room for the copy (the disk is full): put the database back, so
	# that the kiosk at least keeps what it has.
	rm -f -- "$data_dir/$db_name.restoring"
	for suffix in "" -wal -shm -journal; do
		if [[ -e "$rejected/$db_name$suffix" ]]; then
			mv -- "$rejected/$db_name$suffix" "$data_dir/"
		fi
	done
	rmdir -- "$rejected" 2>/dev/null || true
	# The old version refuses that database: run the new one on it, which
	# opens it, so that the door keeps working while a person comes.
	swap current "releases/$version"
	restart || true
	log "could not copy $backup into $data_dir (disk full?): the database $version left is back in place and $version runs on it although it failed its health check; the kiosk needs a person"
	exit 4
fi
if [[ -e "$rejected/$db_name" ]]; then
	chown --reference="$rejected/$db_name" "$data_dir/$db_name.restoring" 2>/dev/null || true
	chmod --reference="$rejected/$db_name" "$data_dir/$db_name.restoring" 2>/dev/null || true
fi
sync "$data_dir/$db_name.restoring"
mv -T -- "$data_dir/$db_name.restoring" "$data_dir/$db_name"
if restart && healthy; then
	log "rolled back to $old with the database from $source_db; the database $version left is in $rejected"
	exit 3
fi
log "rollback failed even with the restored database: the kiosk needs a person"
exit 4
