#!/usr/bin/env bash
# bare-debian.sh - run one of README.md's commands on a bare Debian 12, the
# way a new user meets the project: a debootstrap "minbase" root with only
# git and ca-certificates added, a fresh clone of HEAD, then the command.
#
#   tests/bare-debian.sh tests/demo.sh
#   tests/bare-debian.sh tests/run-all.sh
#   OA2_BARE_KEEP=1 tests/bare-debian.sh CMD    keep the root to look at
#
# Run as root from a checkout (only committed work is cloned).  The base
# root is made once and kept as a tarball in $OA2_BARE_CACHE (default
# /var/cache/pam_oauth2-bare-debian, outside the tree); every run unpacks a
# fresh copy into /var/tmp and removes it afterwards.
#
# The command runs chrooted in private mount and PID namespaces, with
# /dev, /dev/pts, /proc, /sys, /run, /tmp and /dev/shm mounted as on a
# machine, and the root bind-mounted onto itself (a nested `unshare
# --mount`, as the end-to-end tests do, needs the root to be a mount
# point).  When the command ends, any process it left behind (a daemon an
# install started, a server a test forgot) is a failure: it is named and
# killed.  Nothing stays mounted: every mount lives in the namespace.
#
# What this machine's network needs: the package registries are reached
# through the extra CA certificates in /usr/local/share/ca-certificates,
# so they are copied into the root, and a Node.js the project installs
# itself is told about them with NODE_EXTRA_CA_CERTS.
#
# Exit status: the command's; 125 when something was left running; 2 when
# the root could not be made.
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: tests/bare-debian.sh COMMAND [ARGS...]" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bare-debian: run as root" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
git -C "$top" rev-parse --verify -q HEAD >/dev/null ||
	{ echo "bare-debian: $top is not a git checkout with a commit" >&2; exit 2; }

cache=${OA2_BARE_CACHE:-/var/cache/pam_oauth2-bare-debian}
base=$cache/bookworm-minbase.tar

# The Debian mirror this machine's apt uses (deb822 .sources or a
# one-line sources.list), without the security archive.
mirror() {
	local m=
	m=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' \
		/etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n 1)
	[ -n "$m" ] || m=$(awk '$1 == "deb" && $0 !~ /security/ { print $2; exit }' \
		/etc/apt/sources.list 2>/dev/null)
	printf '%s' "$m"
}

make_base() {
	local b m
	if ! command -v debootstrap >/dev/null; then
		apt-get update -qq && apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
	fi
	m=$(mirror)
	[ -n "$m" ] || { echo "bare-debian: no Debian mirror in this machine's apt sources" >&2; exit 2; }
	mkdir -p "$cache"
	b=$(mktemp -d /var/tmp/oa2-bare-base.XXXXXX)
	echo "bare-debian: debootstrap --variant=minbase bookworm from $m (once, a few minutes)"
	if ! debootstrap --variant=minbase --include=git,ca-certificates bookworm "$b" "$m" \
		>"$cache/debootstrap.log" 2>&1; then
		echo "bare-debian: debootstrap failed:" >&2
		tail -n 20 "$cache/debootstrap.log" >&2
		rm -rf "$b"
		exit 2
	fi
	# The same apt sources as this machine (its mirror may be a proxy).
	rm -f "$b/etc/apt/sources.list"
	cp -a /etc/apt/sources.list.d/. "$b/etc/apt/sources.list.d/" 2>/dev/null || true
	if [ -f /etc/apt/sources.list ]; then cp /etc/apt/sources.list "$b/etc/apt/"; fi
	if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
		cp /usr/local/share/ca-certificates/*.crt "$b/usr/local/share/ca-certificates/"
		chroot "$b" update-ca-certificates >/dev/null 2>&1
	fi
	chmod 0755 "$b"
	tar -C "$b" -cf "$base.new" .
	mv "$base.new" "$base"
	rm -rf "$b"
}

[ -s "$base" ] || make_base

root=$(mktemp -d /var/tmp/oa2-bare.XXXXXX)
cleanup() {
	if [ "${OA2_BARE_KEEP:-0}" = 1 ]; then
		echo "bare-debian: root kept at $root"
	else
		rm -rf "$root"
	fi
}
trap cleanup EXIT
tar -C "$root" -xf "$base"
# "/" of the root must let every user in (mktemp made it 0700, and the
# tarball's "." may carry that mode too).
chmod 0755 "$root"
cp /etc/resolv.conf "$root/etc/resolv.conf"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
git clone -q --no-hardlinks "$top" "$root/root/pam_oauth2"

if [ $# -eq 1 ]; then cmd=$1; else cmd=$(printf '%q ' "$@"); fi
extra_ca=
if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then extra_ca=/etc/ssl/certs/ca-certificates.crt; fi

echo "bare-debian: '$cmd' on a bare Debian 12 root, commit $(git -C "$top" rev-parse --short HEAD)"
set +e
# Inside: the namespace's first process mounts, runs the command chrooted
# (as a child, so that it can look afterwards), then checks that the
# command's whole process tree has ended.
unshare --fork --pid --mount --propagation private bash -c '
	r=$1 cmd=$2 extra_ca=$3
	set -e
	mount --bind "$r" "$r"
	mount --bind /dev "$r/dev"
	mount --bind /dev/pts "$r/dev/pts"
	mount -t proc proc "$r/proc"
	mount -t sysfs sysfs "$r/sys"
	mount -t tmpfs -o mode=0755 tmpfs "$r/run"
	mount -t tmpfs -o mode=1777 tmpfs "$r/tmp"
	mkdir -p "$r/dev/shm"
	mount -t tmpfs -o mode=1777 tmpfs "$r/dev/shm"
	set +e
	chroot "$r" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		CI="${CI:-}" ${extra_ca:+NODE_EXTRA_CA_CERTS=$extra_ca} \
		/bin/bash -c "cd /root/pam_oauth2 && $cmd" </dev/null
	rc=$?
	left=
	for p in "$r"/proc/[0-9]*; do
		pid=${p##*/}
		[ "$pid" = 1 ] || [ "$pid" = "$$" ] || [ "$pid" = "$BASHPID" ] && continue
		c=$(tr "\0" " " <"$p/cmdline" 2>/dev/null) || continue
		[ -n "$c" ] && left="$left
  pid $pid: $c"
	done
	if [ -n "$left" ]; then
		echo "bare-debian: the command left processes running:$left"
		kill -KILL -1 2>/dev/null
		[ "$rc" -ne 0 ] || rc=125
	fi
	exit "$rc"
' bare-debian "$root" "$cmd" "$extra_ca" </dev/null
rc=$?
set -e
echo "bare-debian: '$cmd' exited $rc"
exit "$rc"
