#!/usr/bin/env bash
# setup-debian.sh - install everything the build and the test suite need
# on a fresh Debian 12 machine (run as root).  Idempotent.
set -euo pipefail

PACKAGES=(
	# build
	build-essential autoconf automake libtool pkg-config
	libpam0g-dev libcurl4-openssl-dev libjson-c-dev libssl-dev libqrencode-dev libcrypt-dev
	# tests: TLS tooling, HTTP client, the programs we log in through
	openssl curl ca-certificates procps time
	openssh-server openssh-client sshpass expect sudo login passwd
	libpam-modules libpam-runtime libpam-wrapper tmux
	# the device-flow e2e test (tests/e2e/device_ssh.sh): the browser that
	# approves a sign-in (driven by playwright-core, below) and an
	# independent renderer of the QR code the terminal shows
	chromium qrencode
	# fault suite, sanitizers, fuzzing, static analysis (issue 6):
	# util-linux (runuser), clang + libFuzzer runtime, scan-build, cppcheck,
	# valgrind
	util-linux clang libclang-rt-14-dev clang-tools cppcheck valgrind
	# man page lint, Debian package build (issue 8)
	mandoc man-db dpkg-dev debhelper fakeroot
)

export DEBIAN_FRONTEND=noninteractive
missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	missing+=(nodejs npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The real OpenID provider the end-to-end tests run (pinned in its lockfile).
top=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -d "$top/tests/op/node_modules/oidc-provider" ]; then
	(cd "$top/tests/op" && npm ci --no-audit --no-fund --loglevel=error)
fi
# playwright-core for tests/e2e/approve-browser.js (pinned in its lockfile;
# it drives Debian's /usr/bin/chromium and downloads no browser).
if [ ! -d "$top/tests/e2e/browser/node_modules/playwright-core" ]; then
	(cd "$top/tests/e2e/browser" && npm ci --no-audit --no-fund --loglevel=error)
fi
