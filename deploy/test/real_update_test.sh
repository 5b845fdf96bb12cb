#!/usr/bin/env bash
# update.sh and backup.sh with the real kioskd (-demo, simulated readers)
# and the real `kioskctl backup` (VACUUM INTO) built for this machine:
#   v1 installs and serves, a tap is recorded, v2 updates with a real
#   backup, v3 (a kioskd that cannot start) is rolled back to v2, and the
#   tap is still in the database and in the pre-update backup.
#
#   real_update_test.sh KIOSKD_BINARY KIOSKCTL_BINARY
#
# Run by scripts/check-deploy, which builds the binaries.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
deploy=$(dirname "$here")
if [[ $# -ne 2 ]]; then
	echo "usage: real_update_test.sh KIOSKD_BINARY KIOSKCTL_BINARY" >&2
	exit 2
fi
kioskd_bin=$(readlink -f "$1")
kioskctl_bin=$(readlink -f "$2")

tmp=$(mktemp -d)
state=$tmp/state
mkdir -p "$state"
cleanup() {
	if [[ -f "$state/pid" ]]; then
		kill "$(cat "$state/pid")" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

port=$(/usr/bin/env python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export KINDERDEUR_ROOT=$tmp/root
export KINDERDEUR_DATA=$KINDERDEUR_ROOT/var/lib/kinderdeur
export HEALTH_URL=http://127.0.0.1:$port/healthz
export HEALTH_TIMEOUT=30 HEALTH_INTERVAL=0.2 HEALTH_STABLE=3
export RESTART_CMD="$tmp/restart" STOP_CMD="$tmp/stop"
export BACKUP_CMD=$deploy/backup.sh
mkdir -p "$KINDERDEUR_DATA"

cat >"$tmp/stop" <<EOF
#!/usr/bin/env bash
set -euo pipefail
[[ -f "$state/pid" ]] || exit 0
pid=\$(cat "$state/pid")
kill "\$pid" 2>/dev/null || true
for _ in \$(seq 100); do kill -0 "\$pid" 2>/dev/null || break; sleep 0.1; done
rm -f "$state/pid"
EOF
cat >"$tmp/restart" <<EOF
#!/usr/bin/env bash
set -euo pipefail
"$tmp/stop"
"$KINDERDEUR_ROOT/opt/kinderdeur/current/kioskd" >>"$state/log" 2>&1 &
echo \$! >"$state/pid"
EOF
chmod +x "$tmp/stop" "$tmp/restart"

# release NAME EXTRA_FLAG: kioskd is a wrapper that runs the real binary in
# demo mode on the test port (a bad EXTRA_FLAG makes it fail at start).
release() {
	local dir=$tmp/src/$1
	mkdir -p "$dir"
	cat >"$dir/kioskd" <<EOF
#!/usr/bin/env bash
exec "$kioskd_bin" -demo -listen 127.0.0.1:$port -data "$KINDERDEUR_DATA" $2 "\$@"
EOF
	chmod +x "$dir/kioskd"
	cp "$kioskctl_bin" "$dir/kioskctl"
	echo "$1" >"$dir/VERSION"
	echo "$dir"
}

passed=0
failed=0
check() {
	if [[ "$2" == "$3" ]]; then
		passed=$((passed + 1))
		echo "ok   $1"
	else
		failed=$((failed + 1))
		echo "FAIL $1: want [$2], got [$3]"
	fi
}
update() {
	local rc=0
	"$deploy/update.sh" "$1" >>"$state/update.log" 2>&1 || rc=$?
	echo "$rc"
}
current() { basename "$(readlink "$KINDERDEUR_ROOT/opt/kinderdeur/current")"; }
health() { curl --silent --output /dev/null --max-time 2 --write-out '%{http_code}' "$HEALTH_URL" || true; }
events() { sqlite3 "$1" 'SELECT count(*) FROM events;' 2>/dev/null || echo "no events table"; }

check "v1 installs" 0 "$(update "$(release v1 "")")"
check "v1 healthy" 200 "$(health)"
# A staff card: a staff check-in is recorded at once (no questions asked).
read -r card reader < <(curl --silent --max-time 5 "http://127.0.0.1:$port/api/v1/sim/cards" |
	/usr/bin/env python3 -c 'import json, sys; c = [c for c in json.load(sys.stdin) if c["role"] == "staff"][0]; print(c["uid"], c["reader"])')
tap=$(curl --silent --max-time 5 -X POST -H 'Content-Type: application/json' \
	-d "{\"reader\":\"$reader\",\"uid\":\"$card\"}" "http://127.0.0.1:$port/api/v1/sim/tap" || true)
check "tap answered with a committed decision" yes "$([[ "$tap" == *'"committed": true'* || "$tap" == *'"committed":true'* ]] && echo yes || echo "no: ${tap//$'\n'/ }")"
before=$(events "$KINDERDEUR_DATA/kiosk.db")
if command -v sqlite3 >/dev/null 2>&1; then
	check "the tap is an event in the database" yes "$([[ "$before" =~ ^[1-9][0-9]*$ ]] && echo yes || echo "no: $before")"
fi

check "v2 updates" 0 "$(update "$(release v2 "")")"
check "v2 current" v2 "$(current)"
backup=$(find "$KINDERDEUR_DATA/backups" -name 'pre-update-v2-*.db' | head -n 1)
check "real backup exists" yes "$([[ -s "$backup" ]] && echo yes || echo no)"
if command -v sqlite3 >/dev/null 2>&1; then
	check "backup passes integrity_check" ok "$(sqlite3 "$backup" 'PRAGMA integrity_check;')"
	check "backup holds the tap" "$before" "$(events "$backup")"
fi

check "v3 (cannot start) is rolled back" 3 "$(update "$(release v3 -no-such-flag)")"
check "v2 current again" v2 "$(current)"
check "v2 healthy again" 200 "$(health)"
if command -v sqlite3 >/dev/null 2>&1; then
	"$tmp/stop"
	check "tap still in the database" "$before" "$(events "$KINDERDEUR_DATA/kiosk.db")"
fi

if ((failed > 0)); then
	echo "--- update.log"
	cat "$state/update.log"
	echo "--- kioskd log (last 30 lines)"
	tail -n 30 "$state/log"
fi
echo "real_update_test: $passed passed, $failed failed"
((failed == 0))
