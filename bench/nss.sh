#!/usr/bin/env bash
# nss.sh [N] [ITER] - getpwnam, getpwuid and initgroups (getgrouplist) of
# one of N (default 100000) users, in microseconds per call, through
# glibc: once from the oauth2 source (libnss_oauth2, N provisioned users
# in users.db; nsswitch "passwd: files oauth2") and once from `files`
# (the same N users as N lines of /etc/passwd and their private groups
# in /etc/group; nsswitch "passwd: files").  Both run in a private mount
# namespace with a scratch directory (nsswitch.conf, passwd, group)
# bound over /etc: the machine's own files and library directories are
# never touched.  The test copy of the module
# (tests/lib/libnss_oauth2_test.so, reading OA2_USERDB_DIR) is loaded as
# libnss_oauth2.so.2 through LD_LIBRARY_PATH.  Run as root in a built tree
# (make check builds bench/nss_bench).  A benchmark, not a test.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
builddir=${top_builddir:-$top}
n=${1:-100000}
iter=${2:-2000}
bin="$builddir/bench/nss_bench"
mod="$builddir/tests/lib/.libs/libnss_oauth2_test.so"
[ "$(id -u)" = 0 ] || { echo "nss.sh: run as root" >&2; exit 1; }
[ -x "$bin" ] && [ -f "$mod" ] || { echo "nss.sh: build first (make check TESTS=)" >&2; exit 1; }

if [ "${OA2_NSS_BENCH_INNER:-}" != 1 ]; then
	exec env OA2_NSS_BENCH_INNER=1 unshare --mount --propagation private "$0" "$@"
fi

work=$(mktemp -d /tmp/oa2-nss-bench.XXXXXX)
trap 'umount /etc 2>/dev/null || true; rm -rf "$work"' EXIT
chmod 0755 "$work"
mkdir "$work/db" "$work/lib"
ln -s "$mod" "$work/lib/libnss_oauth2.so.2"
# a configuration with placeholders on (for other names): a missed
# getpwnam in this root process runs the placeholder rules
printf 'provision_names = *@corp.example\n' >"$work/nss.conf"
chmod 0644 "$work/nss.conf"

t0=$(date +%s.%N)
"$bin" gen "$work/db" "$n"
t1=$(date +%s.%N)
"$bin" files "$work" "$n"
dbsize=$(stat -c %s "$work/db/users.db")
name="u$((n / 2))"
uid=$((1879048192 + n / 2))

# OA2_NSS_BENCH_ORDER=oauth2 times the module alone (no files first)
order=${OA2_NSS_BENCH_ORDER:-files oauth2}
# A whole scratch /etc is bound for each run: a file bound over
# /etc/passwd would be dropped the moment useradd elsewhere renames a new
# /etc/passwd into place.
mkdir "$work/etc.oauth2" "$work/etc.files"
cp /etc/passwd /etc/group "$work/etc.oauth2/"
mv "$work/passwd" "$work/group" "$work/etc.files/"
for e in oauth2 files; do
	cp /etc/ld.so.cache "$work/etc.$e/" 2>/dev/null || true
done
printf 'passwd: %s\ngroup: %s\n' "$order" "$order" >"$work/etc.oauth2/nsswitch.conf"
printf 'passwd: files\ngroup: files\n' >"$work/etc.files/nsswitch.conf"

# the module keeps the settings of a file older than 2 s (a younger one
# is read again at each miss): time what a running system sees
while [ $(($(date +%s) - $(stat -c %Z "$work/nss.conf"))) -le 2 ]; do
	sleep 0.5
done
mount --bind "$work/etc.oauth2" /etc
oauth2=$(LD_LIBRARY_PATH="$work/lib" OA2_USERDB_DIR="$work/db" \
	OA2_USERDB_CONF="$work/nss.conf" "$bin" time "$name" "$uid" "$iter")
umount /etc

mount --bind "$work/etc.files" /etc
files=$("$bin" time "$name" "$uid" $((iter / 20 > 10 ? iter / 20 : 10)))
umount /etc

# a repeat login's write of one record (begin, touch, commit): groups
# kept (last_seen stamped in place) and groups changed (the whole file)
touches=$("$bin" touch "$work/db" "$name" "${OA2_NSS_BENCH_TOUCH:-20}")

get() { printf '%s\n' "$1" | awk -v k="$2" '$1 == k {print $2}'; }
echo "# $n users; timed user $name (uid $uid), the middle of the file"
echo "# oauth2 column: nsswitch \"passwd: $order\" (the machine's own /etc/passwd first)"
echo "# users.db: $dbsize bytes, written in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}') s (one transaction)"
printf '%-12s %14s %14s\n' "lookup" "oauth2 (us)" "files (us)"
for k in getpwnam getpwuid initgroups; do
	printf '%-12s %14s %14s\n' "$k" "$(get "$oauth2" "$k")" "$(get "$files" "$k")"
done
printf '%-12s %14s %14s\n' "miss" "$(get "$oauth2" miss)" "$(get "$files" miss)"
echo "# a repeat login's write of $name (ms per login, mean of ${OA2_NSS_BENCH_TOUCH:-20}):"
echo "#   same groups (last_seen stamped in place): $(get "$touches" touch_same)"
echo "#   groups changed (the whole file rewritten): $(get "$touches" touch_changed)"
