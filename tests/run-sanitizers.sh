#!/usr/bin/env bash
# run-sanitizers.sh [asan] [valgrind] [fuzz] - the memory-safety runs of
# issue 6, each in its own build of a clean copy of the tree (this tree may
# be configured in place, which stops out-of-tree builds):
#
#   asan      gcc -fsanitize=address,undefined (--enable-sanitizers); the
#             unit tests, every PAM-stack script but wipe.sh and stacks.sh,
#             and the fuzz corpus
#             replay.  pamtest and stress are linked with ASan themselves,
#             so the module (also instrumented) is dlopened into an
#             instrumented program; the LD_PRELOADed log shim comes first,
#             hence verify_asan_link_order=0.  Reports go to files
#             (ASAN_OPTIONS/UBSAN_OPTIONS log_path) and any report fails.
#   valgrind  a plain -O1 -g build; every PAM-stack script but faults.sh and
#             outage.sh (timing checks; ASan covers them), symbols.sh,
#             wipe.sh (its free() interposer would watch valgrind's
#             allocator) and stacks.sh (VALGRIND_TESTS to change) with
#             pamtest and stress run under memcheck: every login of
#             password.sh, device.sh and hygiene.sh, the first through each
#             service file of the others (VALGRIND_WRAP_ALL to change;
#             tests/README.md); any error or definite leak fails.
#   fuzz      clang --enable-fuzzing; each libFuzzer harness runs
#             FUZZ_SECONDS (default 45) from the seed corpus (fuzz/run.sh).
#
# With no argument all three run.  Work happens in $OA2_SAN_DIR (default
# /tmp/oa2-san).  Prints TAP-ish lines and exits non-zero on any finding.
# Run as root (the PAM-stack tests create users).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=${OA2_SAN_DIR:-/tmp/oa2-san}
jobs=$(nproc 2>/dev/null || echo 2)
what=("$@")
[ ${#what[@]} -gt 0 ] || what=(asan valgrind fuzz)
mkdir -p "$work"
status=0
n=0

say() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; status=1; fi; }

# The tests in the Makefile's TESTS that this run covers (no e2e: those
# drive installed services).
tests_of() {
	make -s -f Makefile -f - print-tests <<<'print-tests: ; @echo $(TESTS)' |
		tr ' ' '\n' | grep -v '^tests/e2e/' | grep -E "$1" | tr '\n' ' '
}

build() { # build NAME CONFIGURE-ARGS...
	local name=$1 dir="$work/$1"
	shift
	"$top/tests/lib/srccopy.sh" "$top" "$dir" || return 1
	(cd "$dir" && "$@" >"$work/$name.configure.log" 2>&1 &&
		make -j"$jobs" >"$work/$name.build.log" 2>&1) || {
		tail -20 "$work/$name.build.log" "$work/$name.configure.log" 2>/dev/null | sed 's/^/# /'
		return 1
	}
}

summary() { # summary LOG: the automake test summary lines
	grep -E '^# (TOTAL|PASS|FAIL|ERROR|SKIP)' "$1" | tr '\n' ' '
}

run_asan() {
	local t0=$SECONDS dir="$work/asan" rep="$work/asan-reports" tests
	rm -rf "$rep"
	mkdir -p "$rep"
	if ! build asan ./configure --enable-sanitizers --enable-werror; then
		say 1 "asan: build"
		return
	fi
	(cd "$dir" && make -j"$jobs" check TESTS= >>"$work/asan.build.log" 2>&1)
	# All but wipe.sh: its free() interposer cannot be preloaded in front
	# of a program linked with ASan's own allocator (OA2_NO_FREESCAN: the
	# freed-memory parts of client_key.sh and client_mtls.sh, the same;
	# the plain make check runs all of them); and stacks.sh, whose
	# local-password cases run pam_unix: libasan intercepts crypt_r, but
	# its pointer to the real one stays NULL when libcrypt arrives later
	# by dlopen (pam_unix), so pam_unix crashes at address 0 there.
	tests=$(cd "$dir" && tests_of '.' | tr ' ' '\n' | grep -v -e wipe.sh -e stacks.sh -e '^tests/op/' | tr '\n' ' ')
	(cd "$dir" &&
		ASAN_OPTIONS="log_path=$rep/asan:detect_leaks=1:verify_asan_link_order=0:abort_on_error=0" \
		UBSAN_OPTIONS="log_path=$rep/ubsan:print_stacktrace=1:halt_on_error=1" \
		OA2_TEST_TIMEOUT=10 OA2_TEST_SLACK_MS=3000 OA2_NO_FREESCAN=1 \
		make -j"$jobs" check TESTS="$tests" >"$work/asan.check.log" 2>&1)
	local rc=$?
	say "$rc" "asan: make check under ASan+UBSan: $(summary "$work/asan.check.log")"
	[ "$rc" -eq 0 ] || grep -h -A8 '^not ok\|^Bail out' "$dir"/tests/*/*.log "$dir"/fuzz/*.log 2>/dev/null | head -40 | sed 's/^/# /'
	# LeakSanitizer cannot stop the world in a process whose credentials
	# changed (setcred/setgroups makes it non-dumpable): "Tracer caught
	# signal 11 ... LeakSanitizer has encountered a fatal error".  That is
	# leak checking not run in that process, not a finding; it is listed,
	# and every other report fails.
	local reports tracer
	tracer=$(grep -L -E 'ERROR: (AddressSanitizer|LeakSanitizer: detected)|runtime error|SUMMARY' "$rep"/* 2>/dev/null |
		xargs -r grep -l 'LeakSanitizer has encountered a fatal error' 2>/dev/null)
	reports=$(ls "$rep"/* 2>/dev/null | grep -vxF -e "${tracer:-/nonexistent}")
	say "$([ -z "$reports" ] && echo 0 || echo 1)" "asan: no sanitizer report ($(echo "$reports" | grep -c .) files)"
	[ -z "$reports" ] || head -40 $reports | sed 's/^/# /'
	[ -z "$tracer" ] || echo "# note: leak checking could not run in $(echo "$tracer" | wc -l) process(es) that changed credentials (LSan tracer)"
	echo "# asan took $((SECONDS - t0)) s"
}

run_valgrind() {
	local t0=$SECONDS dir="$work/valgrind" rep="$work/valgrind-reports" tests
	command -v valgrind >/dev/null || { say 1 "valgrind: not installed (apt-get install valgrind)"; return; }
	rm -rf "$rep"
	mkdir -p "$rep"
	if ! build valgrind ./configure --enable-werror CFLAGS="-O1 -g"; then
		say 1 "valgrind: build"
		return
	fi
	(cd "$dir" && make -j"$jobs" check TESTS= >>"$work/valgrind.build.log" 2>&1)
	# Every PAM-stack script but faults.sh and outage.sh, whose deadline
	# checks are tuned for native speed (ASan covers them), symbols.sh
	# (no login), wipe.sh (its free() interposer) and stacks.sh (pam_unix
	# stacks; the module's paths there are password.sh's).  password.sh,
	# device.sh and hygiene.sh have every login under memcheck; the others
	# the first login through each of their service files
	# (OA2_PAMTEST_WRAP_ALL, tests/lib/common.sh pam_wrapper): their
	# other cases are the same code with other data, which ASan runs.
	tests=${VALGRIND_TESTS:-$(cd "$dir" && tests_of '^tests/pam/' | tr ' ' '\n' | grep -v -e faults.sh -e outage.sh -e symbols.sh -e wipe.sh -e stacks.sh | tr '\n' ' ')}
	(cd "$dir" &&
		OA2_PAMTEST_WRAP_ALL=${VALGRIND_WRAP_ALL-password.sh device.sh hygiene.sh} \
		OA2_HYGIENE_SCALE=${VALGRIND_HYGIENE_SCALE:-50,10,16} \
		OA2_PAMTEST_WRAPPER="valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite --track-fds=no --log-file=$rep/vg.%p" \
		OA2_TEST_TIMEOUT=20 OA2_TEST_SLACK_MS=8000 \
		make -j"$jobs" check TESTS="$tests" >"$work/valgrind.check.log" 2>&1)
	local rc=$?
	say "$rc" "valgrind: $tests under memcheck: $(summary "$work/valgrind.check.log")"
	[ "$rc" -eq 0 ] || grep -h -A8 '^not ok\|^Bail out' "$dir"/tests/pam/*.log 2>/dev/null | head -40 | sed 's/^/# /'
	# -q: a log file with anything in it is a report.
	local bad
	bad=$(find "$rep" -type f -size +0 | sort)
	say "$([ -z "$bad" ] && echo 0 || echo 1)" "valgrind: no memcheck report ($(ls "$rep" | wc -l) processes checked)"
	[ -z "$bad" ] || head -60 $bad | sed 's/^/# /'
	echo "# valgrind took $((SECONDS - t0)) s"
}

run_fuzz() {
	local t0=$SECONDS dir="$work/fuzz"
	command -v clang >/dev/null || { say 1 "fuzz: clang not installed"; return; }
	if ! build fuzz env CC=clang ./configure --enable-fuzzing; then
		say 1 "fuzz: build"
		return
	fi
	if ! (cd "$dir" && make -j"$jobs" fuzz >>"$work/fuzz.build.log" 2>&1); then
		say 1 "fuzz: make fuzz"
		tail -20 "$work/fuzz.build.log" | sed 's/^/# /'
		return
	fi
	FUZZ_OUT="$work/fuzz-out" bash "$top/fuzz/run.sh" "$dir/fuzz" >"$work/fuzz.log" 2>&1
	local rc=$?
	sed 's/^/# /' "$work/fuzz.log"
	say "$rc" "fuzz: every harness ran ${FUZZ_SECONDS:-45} s without a finding"
	echo "# fuzz took $((SECONDS - t0)) s"
}

for w in "${what[@]}"; do
	case "$w" in
	asan) run_asan ;;
	valgrind) run_valgrind ;;
	fuzz) run_fuzz ;;
	*) echo "usage: $0 [asan] [valgrind] [fuzz]" >&2; exit 2 ;;
	esac
done
echo "1..$n"
exit "$status"
