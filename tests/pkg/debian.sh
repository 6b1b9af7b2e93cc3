#!/usr/bin/env bash
# debian.sh - build the Debian package from a copy of the working
# tree with dpkg-buildpackage -us -uc, check what it holds, unpack it in
# a scratch root and run the packaged pam_oauth2ctl (and the packaged
# module, when the tree's pamtest is built) against the mock IdP.
# TAP lines, then "N passed, N failed".  Run as root (make check runs it);
# about 15-30 seconds.
# Needs: dpkg-dev debhelper fakeroot (tests/setup-debian.sh), node.
set -uo pipefail
top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${top_builddir:-$top}
# Not the outer make's jobserver and flags (make check runs this).
unset MAKEFLAGS MFLAGS MAKELEVEL
work=$(mktemp -d /tmp/oa2pkg.XXXXXX)
mock_pid=
cleanup() {
	[ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

n=0 pass=0 fail=0
ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; pass=$((pass + 1))
	else echo "not ok $n - $2"; fail=$((fail + 1)); fi
}
finish() { echo "1..$n"; echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }

for t in dpkg-buildpackage dh fakeroot node; do
	command -v "$t" >/dev/null || { ok 1 "$t is installed (tests/setup-debian.sh)"; finish; }
done

# ---------------------------------------------------------------- build
src="$work/pam-oauth2-0.1.0"
mkdir -p "$src"
# The working tree (uncommitted work included), without VCS data, test
# dependencies and build outputs; then a distclean for a configured tree.
tar -C "$top" --exclude=./.git --exclude=node_modules --exclude=autom4te.cache \
	--exclude='*.o' --exclude='*.lo' --exclude='*.la' --exclude=.libs --exclude=.deps \
	--exclude='*.log' --exclude='*.trs' -cf - . | tar -C "$src" -xf -
chmod -R u+w "$src"   # make distcheck's source tree is read-only
(cd "$src" && { [ ! -f Makefile ] || make distclean >/dev/null 2>&1; } || true)
start=$(date +%s)
(cd "$src" && dpkg-buildpackage -us -uc) >"$work/build.log" 2>&1
st=$?
ok $st "dpkg-buildpackage -us -uc builds the package ($(( $(date +%s) - start )) s)"
[ $st -eq 0 ] || { tail -40 "$work/build.log" | sed 's/^/#   /'; finish; }
deb=$(ls "$work"/libpam-oauth2_*.deb 2>/dev/null | head -1)
ok $([ -f "$deb" ]; echo $?) "a .deb was made: $(basename "${deb:-none}")"
[ -f "$deb" ] || finish

# ---------------------------------------------------------------- contents
multi=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
list=$(dpkg-deb -c "$deb")
has() { printf '%s\n' "$list" | grep -Eq -- "$1"; }
has " \./lib/$multi/security/pam_oauth2\.so$";     ok $? "the module in the multiarch PAM directory /lib/$multi/security"
has " \./usr/sbin/pam_oauth2ctl$";                  ok $? "pam_oauth2ctl in /usr/sbin"
has "^-rw------- root/root .* \./etc/security/pam_oauth2\.conf$"; ok $? "/etc/security/pam_oauth2.conf, root, mode 0600"
has " \./usr/share/man/man8/pam_oauth2\.8(\.gz)?$"; ok $? "man page pam_oauth2.8"
has " \./usr/share/man/man5/pam_oauth2\.conf\.5(\.gz)?$"; ok $? "man page pam_oauth2.conf.5"
has " \./usr/share/man/man8/pam_oauth2ctl\.8(\.gz)?$"; ok $? "man page pam_oauth2ctl.8"
has " \./usr/share/pam-configs/oauth2$";            ok $? "pam-auth-update profile"
has " \./(usr/)?lib/$multi/libnss_oauth2\.so\.2( |$)"; ok $? "the NSS module libnss_oauth2.so.2 in the multiarch library directory"
unlike_nssdev=$(printf '%s\n' "$list" | grep -Ec 'libnss_oauth2\.(la|so)$')
ok $([ "$unlike_nssdev" -eq 0 ]; echo $?) "no libnss_oauth2.so or .la (only the .so.2 glibc loads)"
has " \./usr/share/doc/libpam-oauth2/providers/keycloak\.md"; ok $? "provider guides in /usr/share/doc"
unlike_la=$(printf '%s\n' "$list" | grep -c '\.la$')
ok $([ "$unlike_la" -eq 0 ]; echo $?) "no libtool .la files"
dpkg-deb -e "$deb" "$work/ctrl"
grep -qx /etc/security/pam_oauth2.conf "$work/ctrl/conffiles"
ok $? "/etc/security/pam_oauth2.conf is a conffile"
grep -q 'pam-auth-update --package' "$work/ctrl/postinst"
ok $? "postinst registers the profile with pam-auth-update"

# ---------------------------------------------------------------- scratch root
root="$work/root"
dpkg -x "$deb" "$root"

# postrm purge removes the module's run-time state (offline password
# verifiers, metadata cache, grant store), here in the scratch root
# through DPKG_ROOT, as dpkg --root runs it; remove keeps it.  The real
# /var/lib/pam_oauth2 and friends are only looked at, before and after.
grep -qx '#DEBHELPER#' "$top/debian/postrm"
ok $? "debian/postrm keeps debhelper's #DEBHELPER# token"
ok $([ -f "$work/ctrl/postrm" ]; echo $?) "the package has a postrm"
state_dirs="var/lib/pam_oauth2 var/cache/pam_oauth2 run/pam_oauth2"
real_state() { for d in $state_dirs; do ls -la --time-style=+%s "/$d" 2>&1; done | sha256sum; }
real_before=$(real_state)
for d in $state_dirs; do
	mkdir -p "$root/$d/sub"
	echo verifier >"$root/$d/u-0123abcd"
	echo x >"$root/$d/sub/.hidden"
	chmod 0700 "$root/$d"
done
mkdir -p "$root/var/lib/other-package" && echo keep >"$root/var/lib/other-package/f"
(cd / && env -i PATH="$PATH" DPKG_ROOT="$root" DPKG_MAINTSCRIPT_NAME=postrm \
	DPKG_MAINTSCRIPT_PACKAGE=libpam-oauth2 sh "$work/ctrl/postrm" remove) >"$work/postrm.out" 2>&1
st=$?
left=0; for d in $state_dirs; do [ -f "$root/$d/u-0123abcd" ] || left=1; done
ok $([ $st -eq 0 ] && [ $left -eq 0 ]; echo $?) "postrm remove exits 0 and keeps the state (rc $st)"
(cd / && env -i PATH="$PATH" DPKG_ROOT="$root" DPKG_MAINTSCRIPT_NAME=postrm \
	DPKG_MAINTSCRIPT_PACKAGE=libpam-oauth2 sh "$work/ctrl/postrm" purge) >>"$work/postrm.out" 2>&1
st=$?
ok $st "postrm purge exits 0"
[ $st -eq 0 ] || sed 's/^/#   /' "$work/postrm.out"
for d in $state_dirs; do
	ok $([ ! -e "$root/$d" ] && [ ! -L "$root/$d" ]; echo $?) "postrm purge removed /$d (in the scratch root)"
done
ok $([ "$(cat "$root/var/lib/other-package/f" 2>/dev/null)" = keep ] && [ -d "$root/var/lib" ] && \
	[ -d "$root/var/cache" ] && [ -d "$root/run" ]; echo $?) "and nothing else: /var/lib, /var/cache, /run and another package's files stay"
(cd / && env -i PATH="$PATH" DPKG_ROOT="$root" sh "$work/ctrl/postrm" purge) >>"$work/postrm.out" 2>&1
ok $? "postrm purge again (nothing left to remove) exits 0"
ok $([ "$(real_state)" = "$real_before" ]; echo $?) "the real /var/lib/pam_oauth2, /var/cache/pam_oauth2, /run/pam_oauth2 are untouched"
rm -rf "$root/var/lib/other-package"

# nsswitch.conf: the maintainer scripts add the "oauth2" source on a
# fresh install (preinst marker, postinst configure) as Debian's libnss-*
# packages do, not again on an upgrade, and take it out on remove; here on
# a copy of Debian's default file in the scratch root (the machine's
# /etc/nsswitch.conf is only compared before and after).
nss_before=$(sha256sum /etc/nsswitch.conf)
mkdir -p "$root/etc"
cp /usr/share/libc-bin/nsswitch.conf "$root/etc/nsswitch.conf"
cp "$root/etc/nsswitch.conf" "$work/nsswitch.orig"
maint() { # SCRIPT ARGS...: a maintainer script of the package, in the scratch root
	local s=$1; shift
	(cd / && env -i PATH="$work/fakebin:$PATH" DPKG_ROOT="$root" DPKG_MAINTSCRIPT_NAME="$s" \
		DPKG_MAINTSCRIPT_PACKAGE=libpam-oauth2 DPKG_MAINTSCRIPT_PACKAGE_INSTCOUNT=0 \
		sh "$work/ctrl/$s" "$@") >>"$work/maint.out" 2>&1
}
# pam-auth-update would edit the machine's /etc/pam.d: a stand-in here.
mkdir -p "$work/fakebin"
printf '#!/bin/sh\nexit 0\n' >"$work/fakebin/pam-auth-update"
chmod +x "$work/fakebin/pam-auth-update"
ok $([ -f "$work/ctrl/preinst" ]; echo $?) "the package has a preinst"
maint preinst install && maint postinst configure
ok $? "preinst install, postinst configure exit 0"
ok $(grep -Eq '^passwd:[^#]*\sfiles(\s.*)?\soauth2$' "$root/etc/nsswitch.conf" &&
	grep -Eq '^group:[^#]*\sfiles(\s.*)?\soauth2$' "$root/etc/nsswitch.conf"; echo $?) \
	"a fresh install puts oauth2 last on the passwd and group lines ($(grep -E '^(passwd|group):' "$root/etc/nsswitch.conf" | tr -s ' \n' ' '))"
ok $(grep -E -v '^(passwd|group):' "$root/etc/nsswitch.conf" | grep -q oauth2; [ $? -ne 0 ]; echo $?) \
	"and on no other line"
ok $([ ! -e "$root/etc/nsswitch.conf.nss.libpam-oauth2-will-install" ]; echo $?) "the install marker is gone"
maint postinst configure 0.1.0
ok $([ "$(grep -c oauth2 "$root/etc/nsswitch.conf")" -eq 2 ]; echo $?) "an upgrade (configure without the marker) adds nothing"
# An administrator who took it out of group: an upgrade does not put it back.
sed -i -E 's/^(group:.*) oauth2$/\1/' "$root/etc/nsswitch.conf"
maint preinst upgrade 0.1.0 && maint postinst configure 0.1.0
ok $(grep -Eq '^group:.*oauth2' "$root/etc/nsswitch.conf"; [ $? -ne 0 ]; echo $?) "an entry the administrator removed stays removed after an upgrade"
maint postrm remove
ok $? "postrm remove exits 0"
ok $(cmp -s "$work/nsswitch.orig" "$root/etc/nsswitch.conf"; echo $?) "remove takes oauth2 out: the file is Debian's default again, byte for byte"
maint preinst install && maint postinst configure && maint postrm purge
ok $(cmp -s "$work/nsswitch.orig" "$root/etc/nsswitch.conf"; echo $?) "install then purge: Debian's default again"
[ "$fail" -eq 0 ] || sed 's/^/#   /' "$work/maint.out"
ok $([ "$(sha256sum /etc/nsswitch.conf)" = "$nss_before" ]; echo $?) "the machine's /etc/nsswitch.conf is untouched"
grep -q '^Default: no$' "$root/usr/share/pam-configs/oauth2"
ok $? "the pam-auth-update profile is off by default"
ctl="$root/usr/sbin/pam_oauth2ctl"
"$ctl" --help | grep -q 'cache clear'
ok $? "packaged pam_oauth2ctl --help runs"
out=$("$ctl" --config "$root/etc/security/pam_oauth2.conf" check 2>&1); st=$?
ok $([ $st -eq 1 ] && printf '%s' "$out" | grep -q 'client_id is required'; echo $?) \
	"packaged check on the shipped (all commented) configuration: exit 1, says what is missing"
nm -D --defined-only "$root/lib/$multi/security/pam_oauth2.so" | awk '$2 == "T" {print $3}' | sort | tr '\n' ' ' >"$work/syms"
ok $([ "$(cat "$work/syms")" = "pam_sm_acct_mgmt pam_sm_authenticate pam_sm_close_session pam_sm_open_session pam_sm_setcred " ]; echo $?) \
	"the packaged module exports only pam_sm_*"

# The packaged tool against the mock IdP.
pki="$work/pki"
"$top/tests/lib/mkca.sh" "$pki" >/dev/null 2>&1
cat >"$work/users.json" <<'JSON'
{ "oa2pkg": { "password": "pkg-Pa55", "sub": "sub-pkg" } }
JSON
node "$top/tests/mock-idp/mock-idp.js" --port 0 --cert "$pki/server.pem" --key "$pki/server.key" \
	--users "$work/users.json" --client-id pam-pkg --client-secret pkg-secret >"$work/mock.out" 2>"$work/mock.err" &
mock_pid=$!
for _ in $(seq 1 200); do grep -q '^READY ' "$work/mock.out" && break; sleep 0.05; done
port=$(awk '/^READY/ {print $2}' "$work/mock.out")
conf="$work/pkg.conf"
cat >"$conf" <<CONF
issuer = https://127.0.0.1:$port
client_id = pam-pkg
client_secret = pkg-secret
ca_file = $pki/ca.pem
cache_dir = $work/cache
offline_dir = $work/offline
state_dir = $work/state
CONF
chmod 0600 "$conf"
out=$("$ctl" --config "$conf" check 2>&1); st=$?
ok $([ $st -eq 0 ] && printf '%s' "$out" | grep -q 'JWKS: 4 usable signing keys'; echo $?) \
	"packaged pam_oauth2ctl check against the mock IdP: no problems, 4 keys"
[ $st -eq 0 ] || printf '%s\n' "$out" | sed 's/^/#   /'

# The packaged module through the real libpam (when pamtest is built).
pamtest="$builddir/tests/pam/pamtest"
if [ -x "$pamtest" ]; then
	getent passwd oa2pkg >/dev/null || { useradd -M -d /nonexistent -s /bin/sh oa2pkg; added=1; }
	mkdir -p "$work/pam.d"
	echo "auth required $root/lib/$multi/security/pam_oauth2.so config=$conf" >"$work/pam.d/oa2pkg"
	res=$(printf 'pkg-Pa55\n' | "$pamtest" "$work/pam.d" oa2pkg oa2pkg auth 2>/dev/null)
	ok $([ "$res" = auth=PAM_SUCCESS ]; echo $?) "the packaged module logs in through libpam ($res)"
	res=$(printf 'wrong\n' | "$pamtest" "$work/pam.d" oa2pkg oa2pkg auth 2>/dev/null)
	ok $([ "$res" = auth=PAM_AUTH_ERR ]; echo $?) "the packaged module refuses a wrong password ($res)"
	[ "${added:-0}" = 1 ] && userdel -f oa2pkg
fi
finish
