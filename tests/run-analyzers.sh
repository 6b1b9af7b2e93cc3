#!/usr/bin/env bash
# run-analyzers.sh [SRCDIR] - the static analysers available on Debian,
# warning-free (make analyze):
#   scan-build   clang's static analyser over a full build of a clean copy
#                of the tree (--status-bugs: any bug report fails);
#   cppcheck     over src/ (warning, style, performance, portability;
#                readdirCalled is off: readdir_r is deprecated and readdir
#                on a DIR of our own is thread-safe in glibc;
#                --error-exitcode: any finding fails).
# Prints TAP-ish lines; exits non-zero on any finding or missing tool.
set -uo pipefail
top=${1:-$(cd "$(dirname "$0")/.." && pwd)}
work=${OA2_ANALYZE_DIR:-/tmp/oa2-analyze}
status=0
n=0
say() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; status=1; fi; }

scan=$(command -v scan-build || command -v scan-build-14 || true)
if [ -z "$scan" ]; then
	say 1 "scan-build: not installed (apt-get install clang-tools)"
else
	"$top/tests/lib/srccopy.sh" "$top" "$work/src" >/dev/null 2>&1
	(cd "$work/src" && "$scan" -o "$work/report" ./configure CC=clang >"$work/configure.log" 2>&1 &&
		"$scan" -o "$work/report" --status-bugs \
			-enable-checker security.insecureAPI.strcpy \
			-disable-checker deadcode.DeadStores \
			make -j"$(nproc)" >"$work/scan.log" 2>&1)
	rc=$?
	say "$rc" "scan-build: $(grep -E 'scan-build: [0-9]+ bugs? found|No bugs found' "$work/scan.log" | tail -1)"
	[ "$rc" -eq 0 ] || grep -E 'warning:' "$work/scan.log" | sort -u | head -30 | sed 's/^/# /'
fi

if ! command -v cppcheck >/dev/null; then
	say 1 "cppcheck: not installed (apt-get install cppcheck)"
else
	out=$(cppcheck --quiet --error-exitcode=1 --inline-suppr \
		--enable=warning,style,performance,portability \
		--std=c11 --library=posix -D__linux__ -DHAVE_EXPLICIT_BZERO \
		--suppress=missingIncludeSystem --suppress=unusedStructMember \
		--suppress=constParameterPointer --suppress=constVariablePointer \
		--suppress=constParameterCallback --suppress=variableScope \
		--suppress=readdirCalled \
		-I "$top/src" "$top/src" 2>&1)
	rc=$?
	say "$rc" "cppcheck over src/: $(printf '%s' "$out" | grep -c . ) findings"
	[ "$rc" -eq 0 ] || printf '%s\n' "$out" | head -40 | sed 's/^/# /'
fi
echo "1..$n"
exit "$status"
