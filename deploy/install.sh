#!/usr/bin/env bash
# Installs (or re-installs) the kiosk on Raspberry Pi OS Lite 64-bit.
# Safe to run again: every step checks before it changes anything, the
# configuration file is never overwritten and the config.txt block is
# replaced, not appended.
#
#   sudo ./install.sh [RELEASE_DIR]
#
# Run it from an unpacked release: this deploy/ directory next to the
# binaries of scripts/cross-build (RELEASE_DIR, e.g. ../dist/arm64; without
# it only the system parts are installed and the binaries are kept).
#
# Environment:
#   KINDERDEUR_ROOT  install into this directory instead of / (tests):
#                    commands that change the running system (apt-get,
#                    useradd, systemctl, udevadm, chown, ...) are then only
#                    written to $KINDERDEUR_ROOT/.install-actions
#   BOOT_CONFIG      config.txt to edit (first of /boot/firmware/config.txt,
#                    /boot/config.txt that exists)
#   SKIP_APT=1       do not install Debian packages
#   NO_START=1       enable the services but do not (re)start them
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=${KINDERDEUR_ROOT:-}
prefix=$root/opt/kinderdeur
etc=$root/etc
data=$root/var/lib/kinderdeur
release=${1:-}

log() { echo "install: $*" >&2; }
die() {
	log "$*"
	exit 1
}

# sys runs a command that changes the running system, or records it when
# installing into a directory.
sys() {
	if [[ -n "$root" ]]; then
		echo "$*" >>"$root/.install-actions"
	else
		"$@"
	fi
}

if [[ -z "$root" && $EUID -ne 0 ]]; then
	die "run as root (sudo ./install.sh)"
fi
if [[ -n "$release" ]]; then
	for bin in kioskd kioskctl; do
		[[ -x "$release/$bin" ]] || die "$release/$bin is missing or not executable"
	done
fi
if [[ -z "$root" ]]; then
	arch=$(uname -m)
	[[ "$arch" == aarch64 || "$arch" == armv7l ]] || log "warning: this is $arch, not a Raspberry Pi (aarch64/armv7l)"
fi
mkdir -p "$root/"

# --- Debian packages -------------------------------------------------------
if [[ "${SKIP_APT:-0}" != 1 ]]; then
	browser=chromium-browser # Raspberry Pi OS Bookworm
	if [[ -z "$root" ]] && ! apt-cache show chromium-browser >/dev/null 2>&1; then
		browser=chromium # Debian, Raspberry Pi OS Trixie
	fi
	missing=()
	for pkg in cage "$browser" curl sqlite3 util-linux; do
		if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed"; then
			missing+=("$pkg")
		fi
	done
	if ((${#missing[@]} > 0)); then
		log "installing ${missing[*]}"
		sys apt-get update
		sys env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
	fi
fi

# --- users and groups ------------------------------------------------------
for group in spi gpio input kioskd; do
	getent group "$group" >/dev/null || sys groupadd --system "$group"
done
if ! getent passwd kioskd >/dev/null; then
	sys useradd --system --gid kioskd --groups spi,gpio,input \
		--home-dir /var/lib/kinderdeur --no-create-home --shell /usr/sbin/nologin \
		--comment "Kinderdeur kiosk daemon" kioskd
else
	sys usermod --append --groups spi,gpio,input kioskd
fi
# The screen's user: display and GPU through its logind session, no access
# to the badge readers (never in group input or spi).
getent group kiosk >/dev/null || sys groupadd --system kiosk
if ! getent passwd kiosk >/dev/null; then
	sys useradd --system --gid kiosk --groups video,render \
		--home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin \
		--comment "Kinderdeur kiosk screen" kiosk
fi

# --- files -----------------------------------------------------------------
# put SRC DST MODE: copy when the content or mode differs.
put() {
	mkdir -p "$(dirname "$2")"
	if ! cmp -s "$1" "$2" 2>/dev/null; then
		cp -- "$1" "$2.kinderdeur-new"
		chmod "$3" "$2.kinderdeur-new"
		mv -f -- "$2.kinderdeur-new" "$2"
		log "wrote ${2#"$root"}"
	fi
	chmod "$3" "$2"
}
# link TARGET NAME: a symlink, replaced atomically when it differs.
link() {
	mkdir -p "$(dirname "$2")"
	if [[ "$(readlink "$2" 2>/dev/null || true)" != "$1" ]]; then
		ln -sfn "$1" "$2.kinderdeur-new"
		mv -T "$2.kinderdeur-new" "$2"
		log "linked ${2#"$root"} -> $1"
	fi
}

mkdir -p "$prefix/releases" "$prefix/lib"
chmod 0755 "$prefix" "$prefix/releases" "$prefix/lib"
put "$here/kiosk-browser.sh" "$prefix/lib/kiosk-browser" 0755
put "$here/backup.sh" "$prefix/lib/backup" 0755
put "$here/update.sh" "$prefix/lib/update" 0755
put "$here/README.md" "$prefix/README.md" 0644
put "$here/kioskd.example.json" "$prefix/kioskd.example.json" 0644
link /opt/kinderdeur/lib/update "$root/usr/local/sbin/kinderdeur-update"
link /opt/kinderdeur/lib/backup "$root/usr/local/sbin/kinderdeur-backup"
link /opt/kinderdeur/current/kioskctl "$root/usr/local/bin/kioskctl"

mkdir -p "$etc/kinderdeur"
chmod 0750 "$etc/kinderdeur"
sys chown root:kioskd "$etc/kinderdeur"
if [[ ! -e "$etc/kinderdeur/kioskd.json" ]]; then
	put "$here/kioskd.example.json" "$etc/kinderdeur/kioskd.json" 0640
	sys chown root:kioskd "$etc/kinderdeur/kioskd.json"
	log "edit /etc/kinderdeur/kioskd.json (readers, device_name, central) before the first real use"
fi

mkdir -p "$data/backups"
chmod 0750 "$data" "$data/backups"
sys chown -R kioskd:kioskd "$data"

for unit in kinderdeur-kioskd.service kinderdeur-kiosk-browser.service \
	kinderdeur-backup.service kinderdeur-backup.timer; do
	put "$here/systemd/$unit" "$etc/systemd/system/$unit" 0644
done
put "$here/systemd/system.conf.d/kinderdeur.conf" "$etc/systemd/system.conf.d/kinderdeur.conf" 0644
put "$here/systemd/journald.conf.d/kinderdeur.conf" "$etc/systemd/journald.conf.d/kinderdeur.conf" 0644
put "$here/pam.d/kinderdeur-kiosk" "$etc/pam.d/kinderdeur-kiosk" 0644
put "$here/udev/60-kinderdeur.rules" "$etc/udev/rules.d/60-kinderdeur.rules" 0644

# --- config.txt: SPI, watchdog ---------------------------------------------
boot_config=${BOOT_CONFIG:-}
if [[ -z "$boot_config" ]]; then
	for candidate in "$root/boot/firmware/config.txt" "$root/boot/config.txt"; do
		if [[ -f "$candidate" ]]; then
			boot_config=$candidate
			break
		fi
	done
fi
reboot_needed=no
if [[ -n "$boot_config" && -f "$boot_config" ]]; then
	begin="# BEGIN kinderdeur (deploy/pi/config.txt; replaced by install.sh)"
	end="# END kinderdeur"
	new=$(mktemp)
	# Everything outside the markers stays as it was; the block goes last so
	# that it is in the [all] section.
	awk -v b="$begin" -v e="$end" '$0 == b {skip = 1; next} $0 == e {skip = 0; next} !skip' "$boot_config" >"$new"
	{
		echo "[all]"
		echo "$begin"
		cat "$here/pi/config.txt"
		echo "$end"
	} >"$new.block"
	# Drop the "[all]" this script added last time (it precedes the block).
	if [[ "$(tail -n 1 "$new")" == "[all]" ]]; then
		sed -i '$ d' "$new"
	fi
	cat "$new.block" >>"$new"
	if ! cmp -s "$new" "$boot_config"; then
		[[ -e "$boot_config.kinderdeur-orig" ]] || cp -p -- "$boot_config" "$boot_config.kinderdeur-orig"
		cat "$new" >"$boot_config"
		reboot_needed=yes
		log "updated ${boot_config#"$root"} (SPI, watchdog); the original is ${boot_config#"$root"}.kinderdeur-orig"
	fi
	rm -f "$new" "$new.block"
else
	log "warning: no config.txt found; enable SPI yourself (deploy/pi/config.txt)"
fi

# --- binaries --------------------------------------------------------------
if [[ -n "$release" ]]; then
	KINDERDEUR_ROOT="$root" SKIP_RESTART=1 "$here/update.sh" "$release"
fi
if [[ ! -L "$prefix/current" ]]; then
	log "no kioskd installed yet: run again with a release directory"
fi

# --- services --------------------------------------------------------------
sys systemctl daemon-reload
sys udevadm control --reload-rules
sys udevadm trigger --subsystem-match=spidev --subsystem-match=gpio --subsystem-match=input
sys systemctl enable kinderdeur-kioskd.service kinderdeur-kiosk-browser.service kinderdeur-backup.timer
sys systemctl disable getty@tty1.service
sys systemctl set-default graphical.target
if [[ "${NO_START:-0}" != 1 && -L "$prefix/current" && "$reboot_needed" == no ]]; then
	sys systemctl restart kinderdeur-kioskd.service
	sys systemctl restart kinderdeur-kiosk-browser.service
	sys systemctl start kinderdeur-backup.timer
fi

if [[ "$reboot_needed" == yes ]]; then
	log "done; reboot now to enable SPI and the watchdog (sudo reboot)"
else
	log "done"
fi
