#!/usr/bin/env bash
# run-all.sh - the whole test suite, from a fresh Debian 12 machine (root):
#
#   1. tests/setup-debian.sh     install every package the tests need
#   2. build with -Werror, make check   (unit, PAM-stack, end-to-end)
#   3. tests/run-analyzers.sh    scan-build and cppcheck, warning-free
#   4. tests/run-sanitizers.sh   ASan+UBSan suite, valgrind, fuzzing
#   5. make distcheck            the release tarball builds and passes
#
# and ends with one line "N passed, N failed" over all of them.  Set
# OA2_QUICK=1 to run only steps 1-2.
#
# It leaves the machine as it found it: users, groups, PAM and sudoers
# entries, the module's system directories and enabled services are
# compared before and after; scratch files go to one directory under /tmp
# that is removed at the end (kept, and named, when a step failed); the
# release tarball and the configured tree are removed (OA2_KEEP_BUILD=1
# keeps the build).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scratch=$(mktemp -d /tmp/oa2-run.XXXXXX)
export OA2_SAN_DIR="$scratch/san" OA2_ANALYZE_DIR="$scratch/analyze" FUZZ_OUT="$scratch/fuzz-out"

passed=0
failed=0
note() { printf '\n===== %s\n' "$*"; }

note "setup"
if ! "$top/tests/setup-debian.sh" full; then
	echo "setup failed"
	rm -rf "$scratch"
	echo "0 passed, 1 failed"
	exit 1
fi
# The pinned Node.js (tests/node) for everything below, make distcheck too.
export PATH="$top/tests/node/node_modules/.bin:$PATH"

# An earlier run killed half-way leaves its test accounts behind: they
# are removed first, so that they are neither relied on nor reported.
bash "$top/tests/lib/leftovers.sh"

# What the suite may change only while it runs: users and groups, PAM and
# sudoers entries, the module's system directories, enabled services.
bash "$top/tests/lib/machine-state.sh" >"$scratch/state.before"

# One Keycloak for the whole run (tests/lib/keycloak.sh), started while
# the build runs; make check finds it through the OA2_KC_* variables (a
# script run alone starts its own).  Stopped, and its directory removed,
# after make check (and on exit).
kc_dir="$scratch/keycloak"
trap 'bash "$top/tests/lib/keycloak.sh" stop "$kc_dir" >/dev/null 2>&1' EXIT
(bash "$top/tests/lib/keycloak.sh" start "$kc_dir" >"$scratch/keycloak.out" 2>&1
	echo $? >"$scratch/keycloak.rc") &
kc_ready() { # wait for the start (its own wait is bounded), load its env
	while [ ! -s "$scratch/keycloak.rc" ]; do sleep 1; done
	if [ "$(cat "$scratch/keycloak.rc")" = 0 ]; then
		. "$kc_dir/env"
		echo "Keycloak at $OA2_KC_URL (pid $OA2_KC_PID) for every script that needs it"
	else
		echo "Keycloak did not start (each script that needs it tries its own):"
		sed 's/^/#   /' "$scratch/keycloak.out"
	fi
}

note "build and make check"
log="$scratch/check.log"
{
	autoreconf -fi &&
	./configure --enable-werror ${OA2_CONFIGURE_FLAGS:-} &&
	make -j"$(nproc)" &&
	kc_ready &&
	make -j"$(nproc)" check
} 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
kc_ready >/dev/null
# Nothing after make check uses Keycloak: give its memory and CPU back to
# the sanitizer and valgrind runs.
bash "$top/tests/lib/keycloak.sh" stop "$kc_dir"
count() { sed -n "s/^# $1: *//p" "$log" | tail -1; }
p=$(count PASS); f=$(count FAIL); e=$(count ERROR); x=$(count XPASS); s=$(count SKIP)
p=${p:-0}
nf=$(( ${f:-0} + ${e:-0} + ${x:-0} + ${s:-0} ))
if [ "$rc" -ne 0 ] && [ "$nf" -eq 0 ]; then
	nf=1   # the build or the harness failed before any result
fi
if [ "$nf" -gt 0 ]; then
	for t in tests/*/*.log; do
		grep -q '^not ok\|^Bail out\|^ERROR' "$t" 2>/dev/null || continue
		echo "--- $t"
		grep -B2 -A6 '^not ok\|^Bail out' "$t" | head -60
	done
fi
passed=$((passed + p))
failed=$((failed + nf))
echo "make check: $p passed, $nf failed (skips count as failures)"

# The suite leaves the machine as it found it.
bash "$top/tests/lib/machine-state.sh" >"$scratch/state.after"
if cmp -s "$scratch/state.before" "$scratch/state.after"; then
	passed=$((passed + 1))
	echo "machine state: users, groups, /etc/pam.d, /etc/sudoers.d, /var/cache, /var/lib and /run/pam_oauth2, enabled services as before"
else
	failed=$((failed + 1))
	echo "machine state: CHANGED by make check (users, groups, PAM or sudoers entries, the module's system directories, or enabled services):"
	diff "$scratch/state.before" "$scratch/state.after" | head -40 | sed 's/^/#   /'
fi

# Steps that print TAP "ok N" / "not ok N" lines.
tap_step() {
	local name=$1 out
	shift
	note "$name"
	out=$(mktemp "$scratch/step.XXXXXX")
	"$@" 2>&1 | tee "$out"
	local st=${PIPESTATUS[0]}
	local ok nok
	ok=$(grep -c '^ok ' "$out")
	nok=$(grep -c '^not ok ' "$out")
	if [ "$st" -ne 0 ] && [ "$nok" -eq 0 ]; then
		nok=1
	fi
	rm -f "$out"
	passed=$((passed + ok))
	failed=$((failed + nok))
	echo "$name: $ok passed, $nok failed"
}

# make distcheck: the tarball builds out of tree, installs and uninstalls,
# and its make check passes.  That make check runs the unit tests, the fuzz
# corpus replay, the man page checks and one PAM-stack script
# (password.sh: real logins from the tarball's build), not the whole suite
# a second time; what the rest of the suite would prove there, that the
# tarball ships every file the tests use, is checked at once and for every
# file: each file git tracks is in the tarball, but the few listed here
# that only make sense in a clone.
DIST_ONLY_IN_GIT='^(\.ci/run|\.gitignore|bench/.*|build-aux/\.keep|m4/\.keep|tests/demo\.sh|tests/run-all\.sh|tests/setup-debian\.sh)$'
DIST_TESTS="$(make -s -f Makefile -f - print-tests <<<'print-tests: ; @echo $(TESTS)' | tr ' ' '\n' |
	grep -E '^(tests/unit/|fuzz/replay\.sh$|tests/man/man\.sh$|tests/pam/symbols\.sh$|tests/pam/password\.sh$)' | tr '\n' ' ')"
distcheck() {
	local missing
	if make distcheck TESTS="$DIST_TESTS" >"$scratch/distcheck.log" 2>&1; then
		echo "ok 1 - make distcheck (make check of the tarball: $DIST_TESTS)"
	else
		tail -40 "$scratch/distcheck.log" | sed 's/^/# /'
		echo "not ok 1 - make distcheck"
	fi
	if make dist >"$scratch/dist.log" 2>&1; then
		missing=$(comm -23 <(git -C "$top" ls-files | grep -Ev "$DIST_ONLY_IN_GIT" | sort) \
			<(tar tzf "$top"/pam_oauth2-*.tar.gz | sed 's|^[^/]*/||' | grep -v '/$' | sort))
		[ -z "$missing" ] && echo "ok 2 - the tarball ships every tracked file (but $DIST_ONLY_IN_GIT)" || {
			echo "$missing" | head -20 | sed 's/^/#   not in the tarball: /'
			echo "not ok 2 - the tarball ships every tracked file (add them to EXTRA_DIST, or to DIST_ONLY_IN_GIT in tests/run-all.sh)"
		}
	else
		tail -20 "$scratch/dist.log" | sed 's/^/# /'
		echo "not ok 2 - make dist"
	fi
	rm -f "$top"/pam_oauth2-*.tar.gz
}

if [ "${OA2_QUICK:-0}" != 1 ]; then
	tap_step "static analysis" bash "$top/tests/run-analyzers.sh" "$top"
	tap_step "sanitizers, valgrind, fuzzing" bash "$top/tests/run-sanitizers.sh"
	tap_step "make distcheck" distcheck
fi

if [ "${OA2_KEEP_BUILD:-0}" != 1 ]; then
	make -s distclean >/dev/null 2>&1 || true
fi
if [ "$failed" -eq 0 ]; then
	rm -rf "$scratch"
else
	echo "scratch files of this run (logs, sanitizer builds): $scratch"
fi
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
