#!/usr/bin/env bash
# start.sh - how tests/lib/op.sh starts the real OpenID provider
# (tests/op/server.js), with the conditions behind the old "hangs before
# READY in 2 of 30 starts" forced (tests/op/README.md, "Start-up"):
#
#   * a start on a CPU shared with busy loops: slow, not hung; it becomes
#     ready, and its readiness line shows the time spent waiting for a CPU;
#   * a start starved of CPU beyond the wait (nice 19 against busy loops
#     on one CPU): start_op fails saying "starved of CPU, not hung";
#   * a start that really hangs (a preloaded module that never finishes
#     loading; the event loop idles): start_op fails saying "hung".
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/common.sh"
. "$top_srcdir/tests/lib/op.sh"

op_require
command -v taskset >/dev/null || bail "taskset (util-linux) not found"
cp "$OP_DIR/users.example.json" "$TESTTMP/users.json"
cp "$OP_DIR/clients.example.json" "$TESTTMP/clients.json"

# busy N: N busy loops on CPU 0 (PIDs in BUSY, stopped by unbusy).
BUSY=()
busy() {
	local k
	for ((k = 0; k < $1; k++)); do
		taskset -c 0 bash -c 'while :; do :; done' &
		BUSY+=($!)
		on_exit "kill $!"
	done
}
unbusy() {
	local p
	for p in "${BUSY[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	BUSY=()
}

# try_start: start_op in a subshell; its Bail out line comes back as
# "BAIL: ..." and the provider's PID in $TESTTMP/op.pid, so this script
# goes on and stops it.
try_start() {
	rm -f "$TESTTMP"/report.*.json
	(
		bail() { echo "$OP_PID" >"$TESTTMP/op.pid"; echo "BAIL: $*"; exit 1; }
		start_op "$TESTTMP/users.json" "$TESTTMP/clients.json"
		echo "$OP_PID" >"$TESTTMP/op.pid"
		echo "STARTED $OP_PORT"
	) 2>&1
}
stop_started() {
	local pid
	pid=$(cat "$TESTTMP/op.pid" 2>/dev/null)
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((k = 0; k < 100; k++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	kill -KILL "$pid" 2>/dev/null
	rm -f "$TESTTMP/op.pid"
}
on_exit stop_started

# 1. An unloaded start: ready, and it says what it cost.
out=$(try_start)
like "$out" 'STARTED [0-9]+' "a start on this machine as it is: ready"
like "$out" '# OpenID provider ready: on CPU [0-9]+ ms, waiting for a CPU [0-9]+ ms, in [0-9]+ ms' \
	"the readiness line gives the scheduler's accounting"
echo "$out" | grep '^# OpenID'
stop_started

# 2. Four busy loops on the provider's CPU (it gets a fifth of it, at
# most): the start is slower but completes, and most of its time was spent
# waiting for the CPU.  This is what the old 15 s wait with three retries
# took for a hang.
busy 4
out=$(OA2_OP_WRAPPER="taskset -c 0" try_start)
unbusy
like "$out" 'STARTED [0-9]+' "sharing one CPU with 4 busy loops: still ready"
read -r cpu wait _ < <(echo "$out" | sed -n 's/^# OpenID provider ready: on CPU \([0-9]*\) ms, waiting for a CPU \([0-9]*\) ms.*/\1 \2/p')
echo "# with 4 busy loops: on CPU ${cpu:-?} ms, waiting for a CPU ${wait:-?} ms"
ok "$([ "${wait:-0}" -gt "${cpu:-0}" ]; echo $?)" "and it waited for the CPU longer than it ran"
stop_started

# 3. Starved beyond the wait: nice 19 against two busy loops on CPU 0
# (about 1% of it).  start_op fails, and says it was starved, not hung.
busy 2
out=$(OA2_OP_START_WAIT=3 OA2_OP_WRAPPER="taskset -c 0 nice -n 19" try_start)
unbusy
like "$out" 'BAIL: OpenID provider did not start within 3 s: starved of CPU, not hung' \
	"starved of CPU: start_op fails and says so"
unlike "$out" 'STARTED' "starved: not reported as started"
stop_started

# 4. A real hang: a module preloaded with --import never finishes loading
# (its top-level await waits for nothing; a timer keeps the event loop
# alive), so server.js never runs.  start_op fails and says "hung".
cat >"$TESTTMP/hang.mjs" <<'JS'
await new Promise(() => { setInterval(() => {}, 1 << 30); });
JS
out=$(OA2_OP_START_WAIT=3 OA2_OP_NODE_ARGS="--import=$TESTTMP/hang.mjs" try_start)
echo "$out" | sed -n "s/^BAIL: /# /p" | cut -c1-400
like "$out" 'BAIL: OpenID provider did not start within 3 s: hung \(state S, not waiting for a CPU\)' \
	"a hang: start_op fails and says hung"
like "$out" 'stack: ' "with the JavaScript stack from the diagnostic report"
stop_started

done_testing
