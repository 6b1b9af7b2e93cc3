#!/usr/bin/env bash
# run-all.sh - install what the tests need, build, run the whole suite
# (make check), and end with one line "N passed, N failed".  Run as root.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

"$top/tests/setup-debian.sh" || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

log=$(mktemp /tmp/oa2-check.XXXXXX)
{
	autoreconf -fi &&
	./configure --enable-werror ${OA2_CONFIGURE_FLAGS:-} &&
	make -j"$(nproc)" &&
	make -j"$(nproc)" check
} 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

count() { sed -n "s/^# $1: *//p" "$log" | tail -1; }
pass=$(count PASS); fail=$(count FAIL); err=$(count ERROR); xpass=$(count XPASS)
skip=$(count SKIP)
pass=${pass:-0}
failed=$(( ${fail:-0} + ${err:-0} + ${xpass:-0} ))
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	# The build or the harness itself failed before any test result.
	failed=1
	grep -h '^\(not ok\|ERROR\|FAIL\)' tests/*/*.log 2>/dev/null | head -20
fi
[ "$failed" -gt 0 ] && for f in tests/*/*.log; do
	grep -q '^not ok\|^Bail out' "$f" 2>/dev/null && { echo "--- $f"; grep -B2 -A6 '^not ok\|^Bail out' "$f" | head -60; }
done
rm -f "$log"
if [ "${skip:-0}" -gt 0 ]; then
	echo "$pass passed, $failed failed, ${skip} skipped"
else
	echo "$pass passed, $failed failed"
fi
[ "$failed" -eq 0 ]
