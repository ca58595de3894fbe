#!/bin/sh
# Installs the Debian packages sluice needs to build, test, demo and benchmark; only those missing.
# Idempotent; runs apt-get as root or through sudo. Usage: scripts/install-deps.sh [--bench]
set -eu

PKGS="cmake ninja-build pkg-config gcc make
libh2o-evloop-dev libjson-c-dev libcyaml-dev libyaml-dev libcurl4-openssl-dev libssl-dev zlib1g-dev libsqlite3-dev
libvectorscan-dev libutf8proc-dev libpcre2-dev
libcriterion-dev python3 python3-scipy prometheus curl clang-14 libclang-rt-14-dev"
# Node.js 20 or newer runs the test with the official openai client; Debian's nodejs is used only
# when no node is on the PATH.
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"
if [ "${1:-}" = "--bench" ]; then
	PKGS="$PKGS wrk nginx-light haproxy"
fi

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null 2>&1 || { echo "install-deps: need root or sudo to install:$missing" >&2; exit 1; }
	SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
