#!/bin/sh
# Makes sure what is named as arguments is installed, installing its Debian
# packages when this machine allows it; otherwise stops with a clear
# message. Names: programs (redis-server, redis-benchmark, nutcracker) and
# the job frameworks the end-to-end tests run, as py:<module> (under
# Debian's /usr/bin/python3), rb:<library> (under ruby) or npm:<dir> (the
# npm packages of dir's package-lock.json, installed with npm ci).
set -eu

present() {
	case "$1" in
	py:*) [ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import ${1#py:}" >/dev/null 2>&1 ;;
	rb:*) command -v ruby >/dev/null 2>&1 && ruby -e "require '${1#rb:}'" >/dev/null 2>&1 ;;
	npm:*) command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ;;
	*) command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] ;;
	esac
}

missing=""
for name in "$@"; do
	present "$name" || missing="$missing $name"
done
# npm packages are installed once node and npm are there.
install_npm() {
	for name in "$@"; do
		case "$name" in
		npm:*)
			dir=${name#npm:}
			[ -d "$dir/node_modules" ] && continue
			echo "ensure-deps: npm ci in $dir" >&2
			(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || {
				echo "ensure-deps: npm ci in $dir failed" >&2; exit 1; }
			;;
		esac
	done
}
if [ -z "$missing" ]; then
	install_npm "$@"
	exit 0
fi
pkgs=""
for name in $missing; do
	case "$name" in
	redis-server) pkgs="$pkgs redis-server" ;;
	redis-benchmark | redis-cli) pkgs="$pkgs redis-tools" ;;
	nutcracker) pkgs="$pkgs nutcracker" ;;
	py:rq) pkgs="$pkgs python3-rq" ;;
	py:celery) pkgs="$pkgs python3-celery" ;;
	rb:sidekiq) pkgs="$pkgs ruby-sidekiq" ;;
	npm:*) pkgs="$pkgs nodejs npm" ;;
	*) echo "ensure-deps: don't know how to install $name" >&2; exit 1 ;;
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
for name in $missing; do
	present "$name" || { echo "ensure-deps: $name still missing after installing$pkgs" >&2; exit 1; }
done
install_npm "$@"
