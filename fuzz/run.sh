#!/usr/bin/env bash
# run.sh DIR - run each libFuzzer harness in DIR (built by "make fuzz" in a
# tree configured with CC=clang --enable-fuzzing) for FUZZ_SECONDS (default
# 45) seconds, FUZZ_JOBS (default 2) at a time, starting from the checked-in
# seed corpus plus the regression inputs.  Any crash, leak, timeout or
# sanitizer report fails the run; the input that caused it is left in
# $FUZZ_OUT (default /tmp/oa2-fuzz-out) to be fixed and then copied into
# fuzz/regress/NAME/.  Prints one TAP line per harness.
set -u
dir=${1:?usage: run.sh BUILD/fuzz}
src=$(cd "$(dirname "$0")" && pwd)
secs=${FUZZ_SECONDS:-45}
jobs=${FUZZ_JOBS:-2}
out=${FUZZ_OUT:-/tmp/oa2-fuzz-out}
names=${FUZZ_NAMES:-token device discovery jwks jwt claims cfg userdb membership}
rm -rf "$out"
mkdir -p "$out"

run_one() {
	local t=$1 work="$out/$1"
	mkdir -p "$work/corpus"
	cp "$src/corpus/$t"/* "$work/corpus/" 2>/dev/null
	cp "$src/regress/$t"/* "$work/corpus/" 2>/dev/null
	rm -f "$work/corpus/README"
	# -timeout: one input may not take longer (a hang is a finding);
	# -rss_limit_mb: nor use more memory.
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	ASAN_OPTIONS=detect_leaks=1 \
	"$dir/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len=300000 -print_final_stats=1 \
		-artifact_prefix="$work/" "$work/corpus" >"$work/log" 2>&1
	echo $? >"$work/rc"
}
export -f run_one
export out src dir secs

start=$(date +%s)
printf '%s\n' $names | xargs -P "$jobs" -I{} bash -c 'run_one {}'
n=0 fail=0
for t in $names; do
	n=$((n + 1))
	rc=$(cat "$out/$t/rc" 2>/dev/null || echo missing)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t/log" | tail -1)
	crashes=$(ls "$out/$t" | grep -E '^(crash|leak|timeout|oom|slow-unit)-' || true)
	if [ "$rc" = 0 ] && [ -z "$crashes" ]; then
		echo "ok $n - fuzz_$t: ${execs:-?} runs in ${secs}s, no finding"
	else
		echo "not ok $n - fuzz_$t: exit $rc ${crashes:+(artifacts: $crashes)}"
		grep -E 'ERROR|runtime error|SUMMARY|^==' "$out/$t/log" | head -20 | sed 's/^/# /'
		fail=$((fail + 1))
	fi
done
echo "1..$n"
echo "# fuzzing took $(( $(date +%s) - start ))s; logs in $out"
[ "$fail" -eq 0 ]
