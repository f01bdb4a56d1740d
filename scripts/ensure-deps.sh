#!/bin/sh
# Makes sure the programs named as arguments are installed, installing their
# Debian packages when this machine allows it; otherwise stops with a clear
# message. Programs: redis-server, redis-benchmark, nutcracker.
set -eu
missing=""
for prog in "$@"; do
	command -v "$prog" >/dev/null 2>&1 || [ -x "/usr/sbin/$prog" ] || missing="$missing $prog"
done
[ -z "$missing" ] && exit 0
pkgs=""
for prog in $missing; do
	case "$prog" in
	redis-server) pkgs="$pkgs redis-server" ;;
	redis-benchmark | redis-cli) pkgs="$pkgs redis-tools" ;;
	nutcracker) pkgs="$pkgs nutcracker" ;;
	*) echo "ensure-deps: don't know how to install $prog" >&2; exit 1 ;;
	esac
done
if ! command -v apt-get >/dev/null 2>&1; then
	echo "ensure-deps: missing:$missing — install the Debian packages$pkgs (or your system's equivalent)" >&2
	exit 1
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
		echo "ensure-deps: missing:$missing — run as root or install:$pkgs" >&2
		exit 1
	fi
fi
echo "ensure-deps: installing$pkgs" >&2
$SUDO apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $pkgs >/dev/null
# The Debian package starts a service on port 6379; tests never use it.
for prog in $missing; do
	command -v "$prog" >/dev/null 2>&1 || [ -x "/usr/sbin/$prog" ] || {
		echo "ensure-deps: $prog still missing after installing$pkgs" >&2; exit 1; }
done
