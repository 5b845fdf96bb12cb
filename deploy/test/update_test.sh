#!/usr/bin/env bash
# Tests deploy/update.sh (atomic swap, health check, rollback, database
# restore) and deploy/backup.sh against a temporary root, with fake kioskd
# releases that serve /healthz on loopback (fake_kioskd.py) and a fake
# "systemctl" that starts and stops them. No systemd, no root needed.
# Run by scripts/check-deploy; prints "N passed, M failed".
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
deploy=$(dirname "$here")

for tool in python3 curl flock; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "update_test: $tool is required" >&2
		exit 1
	fi
done

tmp=$(mktemp -d)
export FAKE_STATE=$tmp/state
mkdir -p "$FAKE_STATE" "$tmp/bin" "$tmp/src"

cleanup() {
	if [[ -f "$FAKE_STATE/pid" ]]; then
		kill "$(cat "$FAKE_STATE/pid")" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

FAKE_PORT=$(/usr/bin/env python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export FAKE_PORT
export FAKE_PY=$here/fake_kioskd.py
# The system interpreter starts in a fraction of the time a pyenv shim takes.
FAKE_PYTHON=$(command -v /usr/bin/python3 || command -v python3)
export FAKE_PYTHON
export KINDERDEUR_ROOT=$tmp/root
export KINDERDEUR_PREFIX=$KINDERDEUR_ROOT/opt/kinderdeur
export KINDERDEUR_DATA=$KINDERDEUR_ROOT/var/lib/kinderdeur
export FAKE_DATA=$KINDERDEUR_DATA
export HEALTH_URL=http://127.0.0.1:$FAKE_PORT/healthz
export HEALTH_TIMEOUT=8 HEALTH_INTERVAL=0.1 HEALTH_STABLE=3
export RESTART_CMD="$tmp/bin/fake-systemctl restart"
export STOP_CMD="$tmp/bin/fake-systemctl stop"
export BACKUP_CMD=$deploy/backup.sh
export BACKUP_KEEP=10
mkdir -p "$KINDERDEUR_PREFIX" "$KINDERDEUR_DATA"

# fake-systemctl restart|stop: runs $PREFIX/current/kioskd in the background.
cat >"$tmp/bin/fake-systemctl" <<'EOF'
#!/usr/bin/env bash
set -euo pipefail
stop() {
	[[ -f "$FAKE_STATE/pid" ]] || return 0
	local pid
	pid=$(cat "$FAKE_STATE/pid")
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	rm -f "$FAKE_STATE/pid"
}
case "$1" in
stop) stop ;;
restart)
	stop
	"$KINDERDEUR_PREFIX/current/kioskd" >>"$FAKE_STATE/log" 2>&1 &
	echo $! >"$FAKE_STATE/pid"
	echo "restart $(basename "$(readlink "$KINDERDEUR_PREFIX/current")")" >>"$FAKE_STATE/restarts"
	;;
*) exit 2 ;;
esac
EOF
chmod +x "$tmp/bin/fake-systemctl"

# release NAME BEHAVIOR MAX_SCHEMA [BACKUP_BEHAVIOR]: a fake release dir.
release() {
	local dir=$tmp/src/$1
	mkdir -p "$dir"
	cat >"$dir/kioskd" <<EOF
#!/usr/bin/env bash
set -euo pipefail
if [[ "\${1:-}" == -version ]]; then echo "kioskd $1"; exit 0; fi
exec "\$FAKE_PYTHON" "\$FAKE_PY" --behavior $2 --max-schema $3 --port "\$FAKE_PORT" --data "\$FAKE_DATA"
EOF
	cat >"$dir/kioskctl" <<EOF
#!/usr/bin/env bash
# fake: kioskctl backup -data DIR -out FILE
set -euo pipefail
[[ "\$1" == backup && "\$2" == -data && "\$4" == -out ]] || exit 2
[[ "${4:-ok}" == ok ]] || { echo "fake kioskctl: backup fails on purpose" >&2; exit 1; }
cp "\$3/kiosk.db" "\$5"
EOF
	chmod +x "$dir/kioskd" "$dir/kioskctl"
	echo "$dir"
}

passed=0
failed=0
check() { # check NAME WANT GOT
	if [[ "$2" == "$3" ]]; then
		passed=$((passed + 1))
		echo "ok   $1"
	else
		failed=$((failed + 1))
		echo "FAIL $1: want [$2], got [$3]"
	fi
}
current() { basename "$(readlink "$KINDERDEUR_PREFIX/current")"; }
previous() { if [[ -L "$KINDERDEUR_PREFIX/previous" ]]; then basename "$(readlink "$KINDERDEUR_PREFIX/previous")"; else echo none; fi; }
health() { curl --silent --output /dev/null --max-time 2 --write-out '%{http_code}' "$HEALTH_URL" || true; }
health_soon() { # health_soon WANT: the answer once it is WANT, or the last within 5 s
	local code
	for _ in $(seq 50); do
		code=$(health)
		[[ "$code" == "$1" ]] && break
		sleep 0.1
	done
	echo "$code"
}
schema() { head -n 1 "$KINDERDEUR_DATA/kiosk.db"; }
update() { # update SRC -> prints the exit status
	local rc=0
	"$deploy/update.sh" "$1" >>"$FAKE_STATE/update.log" 2>&1 || rc=$?
	echo "$rc"
}

v1=$(release v1.0.0 good 1)
v2=$(release v1.1.0 good 2)
v3=$(release v1.2.0 unhealthy 2)
v4=$(release v1.3.0 crash 2)
v5=$(release v2.0.0 migrate-bad 3)
v6=$(release v2.1.0 good 3)

# 1. First installation: nothing to roll back to, no database yet.
check "first install exits 0" 0 "$(update "$v1")"
check "first install is current" v1.0.0 "$(current)"
check "first install has no previous" none "$(previous)"
check "first install is healthy" 200 "$(health)"
printf 'schema=1\nevent 1\nevent 2\n' >"$KINDERDEUR_DATA/kiosk.db"

# 2. A good update: backup first, then switch, then healthy.
check "good update exits 0" 0 "$(update "$v2")"
check "good update is current" v1.1.0 "$(current)"
check "old version is previous" v1.0.0 "$(previous)"
check "good update is healthy" 200 "$(health)"
check "new version migrated the database" schema=2 "$(schema)"
check "pre-update backup holds the old schema" schema=1 "$(head -n 1 "$KINDERDEUR_DATA"/backups/pre-update-v1.1.0-*.db)"
check "the migration's own copy is removed once healthy" no "$([[ -e $KINDERDEUR_DATA/kiosk.db.pre-v2.bak ]] && echo yes || echo no)"

# 3. Same version again: nothing happens, no restart.
restarts_before=$(wc -l <"$FAKE_STATE/restarts")
check "same version exits 0" 0 "$(update "$v2")"
check "same version does not restart" "$restarts_before" "$(wc -l <"$FAKE_STATE/restarts")"

# 4. The new version answers 503: rolled back to the running one.
check "unhealthy update exits 3" 3 "$(update "$v3")"
check "unhealthy update rolled back" v1.1.0 "$(current)"
check "previous unchanged after rollback" v1.0.0 "$(previous)"
check "rolled-back version is healthy" 200 "$(health)"
check "failed release is marked" yes "$([[ -f $KINDERDEUR_PREFIX/releases/v1.2.0/FAILED ]] && echo yes || echo no)"

# 5. The new version crashes at start: rolled back.
check "crashing update exits 3" 3 "$(update "$v4")"
check "crashing update rolled back" v1.1.0 "$(current)"
check "after crash rollback healthy" 200 "$(health)"

# 6. The new version migrates the database and then fails: the old version
#    refuses the newer schema, so the backup is restored and the rejected
#    database kept.
echo "event 3" >>"$KINDERDEUR_DATA/kiosk.db"
#    A copy left by an earlier migration, dated in the future (a clock that
#    was wrong), must not be taken for the new version's copy.
printf 'schema=2\nSTALE\n' >"$KINDERDEUR_DATA/kiosk.db.pre-v2.bak"
touch -d '+1 day' "$KINDERDEUR_DATA/kiosk.db.pre-v2.bak"
check "migrating bad update exits 3" 3 "$(update "$v5")"
check "migrating bad update rolled back" v1.1.0 "$(current)"
check "database restored to the old schema" schema=2 "$(schema)"
check "restored database keeps earlier events" "event 3" "$(tail -n 1 "$KINDERDEUR_DATA/kiosk.db")"
check "rejected database kept" schema=3 "$(head -n 1 "$KINDERDEUR_DATA"/rejected-*/kiosk.db)"
check "the migration's own copy was moved into place" no "$([[ -e $KINDERDEUR_DATA/kiosk.db.pre-v3.bak ]] && echo yes || echo no)"
check "restored from the migration's copy" yes "$(grep -q 'from .*kiosk.db.pre-v3.bak' "$FAKE_STATE/update.log" && echo yes || echo no)"
check "a stale copy is neither restored nor touched" STALE "$(tail -n 1 "$KINDERDEUR_DATA/kiosk.db.pre-v2.bak")"
rm -f "$KINDERDEUR_DATA/kiosk.db.pre-v2.bak"
check "after restore healthy" 200 "$(health)"

# 6b. The same without the new version's copy, and our backup cannot be
#     copied into the data directory (a full disk; a cp that fails stands in
#     for it): the database goes back in place, the new version runs on it
#     (the old one refuses it), exit 4.
v5b=$(release v2.0.1 migrate-bad-nobak 3)
mkdir -p "$tmp/failcp"
cat >"$tmp/failcp/cp" <<'EOF'
#!/usr/bin/env bash
[[ "${*: -1}" == *.restoring ]] && { echo "cp: No space left on device" >&2; exit 1; }
exec /bin/cp "$@"
EOF
chmod +x "$tmp/failcp/cp"
rc=0
PATH="$tmp/failcp:$PATH" "$deploy/update.sh" "$v5b" >>"$FAKE_STATE/update.log" 2>&1 || rc=$?
check "copy that does not fit exits 4" 4 "$rc"
check "copy that does not fit: the database is back" schema=3 "$(schema)"
check "copy that does not fit: no half copy" no "$([[ -e $KINDERDEUR_DATA/kiosk.db.restoring ]] && echo yes || echo no)"
check "copy that does not fit: the new version runs" v2.0.1 "$(current)"
check "copy that does not fit: it serves" 503 "$(health_soon 503)"
# Back to the state before 6b for the cases below.
"$tmp/bin/fake-systemctl" stop
for f in "$KINDERDEUR_DATA"/backups/pre-update-v2.0.1-*.db; do cp "$f" "$KINDERDEUR_DATA/kiosk.db"; done
ln -sfn "releases/v1.1.0" "$KINDERDEUR_PREFIX/current"
"$tmp/bin/fake-systemctl" restart
check "restored by hand after 6b" 200 "$(health_soon 200)"

# 7. The backup before the update fails: nothing changes, no restart.
#    The backup is made by the running version's kioskctl: break that one.
restarts_before=$(wc -l <"$FAKE_STATE/restarts")
cp "$KINDERDEUR_PREFIX/current/kioskctl" "$tmp/kioskctl.good"
printf '#!/usr/bin/env bash\nexit 1\n' >"$KINDERDEUR_PREFIX/current/kioskctl"
check "failed backup exits 1" 1 "$(update "$v6")"
check "failed backup keeps current" v1.1.0 "$(current)"
check "failed backup does not restart" "$restarts_before" "$(wc -l <"$FAKE_STATE/restarts")"
check "failed backup leaves no release dir" no "$([[ -d $KINDERDEUR_PREFIX/releases/v2.1.0 ]] && echo yes || echo no)"
cp "$tmp/kioskctl.good" "$KINDERDEUR_PREFIX/current/kioskctl"

# 8. A good update after all that; old releases are pruned (KEEP_RELEASES=2
#    besides current and previous).
check "later good update exits 0" 0 "$(update "$v6")"
check "later good update is current" v2.1.0 "$(current)"
check "later good update previous" v1.1.0 "$(previous)"
check "release dirs pruned" 4 "$(find "$KINDERDEUR_PREFIX/releases" -mindepth 1 -maxdepth 1 -type d | wc -l)"
check "no staging dirs left" 0 "$(find "$KINDERDEUR_PREFIX/releases" -mindepth 1 -maxdepth 1 -name '.staging-*' | wc -l)"

# 9. Usage errors change nothing.
check "missing release dir exits 1" 1 "$(update "$tmp/src/nope")"
check "still current after usage error" v2.1.0 "$(current)"

# 10. A kiosk whose reader is broken answers 503: a new version that also
#     serves (503) is accepted, one that does not serve at all is not.
touch "$KINDERDEUR_DATA/reader-broken"
v7=$(release v2.2.0 good 3)
v8=$(release v2.3.0 crash 3)
check "broken reader: 503 before the update" 503 "$(health)"
check "broken reader: serving update exits 0" 0 "$(update "$v7")"
check "broken reader: serving update is current" v2.2.0 "$(current)"
check "broken reader: crashing update exits 3" 3 "$(update "$v8")"
check "broken reader: crashing update rolled back" v2.2.0 "$(current)"
check "broken reader: old version serves again" 503 "$(health)"
rm "$KINDERDEUR_DATA/reader-broken"
check "reader repaired: healthy" 200 "$(health)"

# 11. backup.sh keeps BACKUP_KEEP copies per label.
for _ in 1 2 3; do
	KIOSKCTL="$tmp/kioskctl.good" BACKUP_KEEP=2 "$deploy/backup.sh" daily >/dev/null
	sleep 1.1 # names carry the second
done
check "backup.sh prunes to BACKUP_KEEP" 2 "$(find "$KINDERDEUR_DATA/backups" -name 'daily-*.db' | wc -l)"
check "backup.sh leaves no partial file" 0 "$(find "$KINDERDEUR_DATA/backups" -name '*.partial' | wc -l)"
rc=0
"$deploy/backup.sh" 'bad/label' 2>/dev/null || rc=$?
check "backup.sh rejects a bad label" 2 "$rc"

if ((failed > 0)); then
	echo "--- update.log"
	cat "$FAKE_STATE/update.log"
	echo "--- fake kioskd log"
	cat "$FAKE_STATE/log"
fi
echo "update_test: $passed passed, $failed failed"
((failed == 0))
