#!/usr/bin/env bash
# Tests deploy/install.sh into a temporary root: the files land where the
# units expect them, a second run changes nothing (idempotent), the
# operator's config is never overwritten and the config.txt block is
# replaced, not appended. Run by scripts/check-deploy.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
deploy=$(dirname "$here")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

export KINDERDEUR_ROOT=$tmp/root SKIP_APT=1
mkdir -p "$KINDERDEUR_ROOT/boot/firmware" "$tmp/rel"
# The tail of Raspberry Pi OS Bookworm's config.txt.
cat >"$KINDERDEUR_ROOT/boot/firmware/config.txt" <<'EOF'
dtparam=audio=on
camera_auto_detect=1
display_auto_detect=1

[cm5]
dtoverlay=dwc2,dr_mode=host

[all]
EOF
cp "$KINDERDEUR_ROOT/boot/firmware/config.txt" "$tmp/config.orig"
for bin in kioskd kioskctl; do
	printf '#!/bin/sh\necho "%s v9.9.9"\n' "$bin" >"$tmp/rel/$bin"
	chmod +x "$tmp/rel/$bin"
done
echo v9.9.9 >"$tmp/rel/VERSION"

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
exists() { if [[ -e "$KINDERDEUR_ROOT/$1" || -L "$KINDERDEUR_ROOT/$1" ]]; then echo yes; else echo no; fi; }
# snapshot: every path with its type, mode, link target and content hash.
snapshot() {
	(cd "$KINDERDEUR_ROOT" && find . ! -name .install-actions ! -name .update.lock -printf '%p %y %m %l\n' | sort &&
		find . -type f ! -name .install-actions ! -name .update.lock -exec md5sum {} + | sort -k2)
}

rc=0
"$deploy/install.sh" "$tmp/rel" >"$tmp/run1.log" 2>&1 || rc=$?
check "first run exits 0" 0 "$rc"
for f in etc/systemd/system/kinderdeur-kioskd.service etc/systemd/system/kinderdeur-kiosk-browser.service \
	etc/systemd/system/kinderdeur-backup.service etc/systemd/system/kinderdeur-backup.timer \
	etc/systemd/system.conf.d/kinderdeur.conf etc/systemd/journald.conf.d/kinderdeur.conf \
	etc/pam.d/kinderdeur-kiosk etc/udev/rules.d/60-kinderdeur.rules etc/kinderdeur/kioskd.json \
	opt/kinderdeur/lib/kiosk-browser opt/kinderdeur/lib/backup opt/kinderdeur/lib/update \
	opt/kinderdeur/current/kioskd opt/kinderdeur/current/kioskctl usr/local/bin/kioskctl \
	usr/local/sbin/kinderdeur-update var/lib/kinderdeur/backups; do
	check "installed /$f" yes "$(exists "$f")"
done
check "current points at the release" releases/v9.9.9 "$(readlink "$KINDERDEUR_ROOT/opt/kinderdeur/current")"
check "config is not world-readable" 640 "$(stat -c %a "$KINDERDEUR_ROOT/etc/kinderdeur/kioskd.json")"
check "browser launcher is executable" 755 "$(stat -c %a "$KINDERDEUR_ROOT/opt/kinderdeur/lib/kiosk-browser")"
# Every ExecStart of the installed units names an installed file.
for unit in "$KINDERDEUR_ROOT"/etc/systemd/system/kinderdeur-*.service; do
	exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
	[[ "$exe" == /usr/bin/cage ]] && exe=$(sed -n 's/^ExecStart=.* -- \([^ ]*\).*/\1/p' "$unit")
	check "$(basename "$unit") runs an installed file ($exe)" yes "$(exists "${exe#/}")"
done
conf=$KINDERDEUR_ROOT/boot/firmware/config.txt
check "config.txt has SPI on" 1 "$(grep -c '^dtparam=spi=on$' "$conf")"
check "config.txt keeps the [cm5] section" 1 "$(grep -c '^\[cm5\]$' "$conf")"
check "config.txt original kept" yes "$(exists boot/firmware/config.txt.kinderdeur-orig)"
check "run 1 asks for a reboot" 1 "$(grep -c 'reboot now' "$tmp/run1.log")"
check "services enabled" 1 "$(grep -c '^systemctl enable kinderdeur-kioskd.service kinderdeur-kiosk-browser.service kinderdeur-backup.timer$' "$KINDERDEUR_ROOT/.install-actions")"

# The operator edits the config; a second run must change nothing at all.
echo '{"device_name": "edited"}' >"$KINDERDEUR_ROOT/etc/kinderdeur/kioskd.json"
before=$(snapshot)
rc=0
"$deploy/install.sh" "$tmp/rel" >"$tmp/run2.log" 2>&1 || rc=$?
check "second run exits 0" 0 "$rc"
after=$(snapshot)
if [[ "$before" == "$after" ]]; then
	check "second run changes no file" same same
else
	check "second run changes no file" same "$(diff <(echo "$before") <(echo "$after") | head -n 20)"
fi
check "operator config kept" '{"device_name": "edited"}' "$(cat "$KINDERDEUR_ROOT/etc/kinderdeur/kioskd.json")"
check "run 2 writes nothing" 0 "$(grep -c '^install: wrote' "$tmp/run2.log" || true)"
check "run 2 needs no reboot" 0 "$(grep -c 'reboot now' "$tmp/run2.log" || true)"
check "config.txt block appears once" 1 "$(grep -c '^# BEGIN kinderdeur' "$conf")"

# Without the block, config.txt is exactly the original again.
awk '/^# BEGIN kinderdeur/ {skip = 1; next} /^# END kinderdeur/ {skip = 0; next} !skip' "$conf" >"$tmp/stripped"
check "config.txt outside the block is the original" "$(cat "$tmp/config.orig")" "$(cat "$tmp/stripped")"

# A missing binary in the release is refused before anything changes.
rm "$tmp/rel/kioskctl"
rc=0
"$deploy/install.sh" "$tmp/rel" >/dev/null 2>&1 || rc=$?
check "incomplete release refused" 1 "$rc"

if ((failed > 0)); then
	echo "--- run1.log"
	cat "$tmp/run1.log"
fi
echo "install_test: $passed passed, $failed failed"
((failed == 0))
