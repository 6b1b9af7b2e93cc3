#!/usr/bin/env bash
# replay.sh - run every fuzz harness (linked with replay.c, no libFuzzer)
# on its seed corpus and its regression inputs: one TAP line per harness.
# Part of make check, so the inputs that once crashed stay fixed.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
names="token device discovery jwks jwt claims cfg userdb membership"
n=0 fail=0
[ "$(id -u)" = 0 ] || { echo "Bail out! run as root (fuzz_cfg needs a root-owned file)"; exit 1; }
for t in $names; do
	bin="$top_builddir/fuzz/replay_$t"
	n=$((n + 1))
	inputs=()
	for f in "$top_srcdir/fuzz/corpus/$t"/* "$top_srcdir/fuzz/regress/$t"/*; do
		[ -f "$f" ] && [ "${f##*/}" != README ] && inputs+=("$f")
	done
	if [ ! -x "$bin" ]; then
		echo "not ok $n - $t: $bin not built"; fail=$((fail + 1)); continue
	fi
	if [ ${#inputs[@]} -eq 0 ]; then
		echo "not ok $n - $t: no seed inputs"; fail=$((fail + 1)); continue
	fi
	if out=$("$bin" "${inputs[@]}" 2>&1); then
		echo "ok $n - $t: ${#inputs[@]} seed and regression inputs replayed"
	else
		echo "not ok $n - $t: replay failed"
		printf '%s\n' "$out" | head -30 | sed 's/^/# /'
		fail=$((fail + 1))
	fi
done
echo "1..$n"
[ "$fail" -eq 0 ]
