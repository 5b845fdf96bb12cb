#!/usr/bin/env bash
# Started by cage (kinderdeur-kiosk-browser.service): waits until kioskd
# answers, then runs Chromium in kiosk mode on its UI with a throw-away
# profile on tmpfs. Installed as /opt/kinderdeur/lib/kiosk-browser.
set -euo pipefail

url=${KIOSK_URL:-http://127.0.0.1:8080/}
wait_seconds=${KIOSK_WAIT_SECONDS:-120}

# Any HTTP answer (200 ready, 503 not yet) means the UI is served; only a
# refused connection is worth waiting for, so that the first page is not
# Chromium's error page.
for ((i = 0; i < wait_seconds; i++)); do
	if curl --silent --output /dev/null --max-time 2 "${url%/}/healthz"; then
		break
	fi
	sleep 1
done

browser=""
for candidate in chromium-browser chromium; do
	if command -v "$candidate" >/dev/null 2>&1; then
		browser=$(command -v "$candidate")
		break
	fi
done
if [[ -z "$browser" ]]; then
	echo "kiosk-browser: neither chromium-browser nor chromium is installed" >&2
	exit 1
fi

# A fresh profile on every start, on tmpfs: nothing written to the SD card,
# no "restore pages?" bubble after a power cut.
# The kiosk user has no home (ProtectHome=tmpfs, /nonexistent); Chromium
# still wants one for its caches and NSS database.
profile="${XDG_RUNTIME_DIR:-/tmp}/kinderdeur-chromium"
rm -rf "$profile"
mkdir -p "$profile/home"
export HOME="$profile/home"

# shellcheck disable=SC2054 # the commas belong to --disable-features
flags=(
	--kiosk
	--ozone-platform=wayland
	--user-data-dir="$profile"
	--no-first-run
	--no-default-browser-check
	--noerrdialogs
	--disable-infobars
	--disable-session-crashed-bubble
	--disable-translate
	--disable-features=Translate,MediaRouter,OptimizationHints,AutofillServerCommunication
	--disable-background-networking
	--disable-component-update
	--disable-sync
	--disable-default-apps
	--disable-extensions
	--check-for-update-interval=31536000
	--password-store=basic
	--autoplay-policy=no-user-gesture-required
	--overscroll-history-navigation=0
	--disable-pinch
	--touch-events=enabled
)
if [[ -n "${KIOSK_SCALE:-}" ]]; then
	flags+=(--force-device-scale-factor="$KIOSK_SCALE")
fi

exec "$browser" "${flags[@]}" "$url"
