# op.sh - start and stop the real OpenID provider (tests/op/server.js,
# oidc-provider) from a test.  Source after tests/lib/common.sh.
#
#   op_require              Bail out unless node and tests/op/node_modules
#                           (from `cd tests/op && npm ci`) are there
#   start_op USERS CLIENTS [server.js args...]
#                           start it on a free loopback port with the test
#                           PKI and wait until it serves its discovery
#                           document; sets OP_PID, OP_PORT, OP_URL (the
#                           issuer)
#   stop_op                 SIGTERM and wait (exit status must be 0)
#   op_running              status 0 while the server process lives
#
# The tests never run `npm ci`: a missing node_modules is a failure
# (Bail out!), never a skip.

OP_DIR="$top_srcdir/tests/op"

op_require() {
	command -v node >/dev/null 2>&1 || bail "node not found: run tests/setup-debian.sh (it installs the pinned Node.js 22 into tests/node)"
	local major
	major=$(node -p 'process.versions.node.split(".")[0]' 2>&1) ||
		bail "node does not run: $major"
	[ "$major" -ge 22 ] 2>/dev/null ||
		bail "node $(command -v node) is version $major; oidc-provider 9 needs Node.js 22 (tests/node)"
	[ -f "$OP_DIR/server.js" ] || bail "missing $OP_DIR/server.js"
	[ -f "$OP_DIR/node_modules/oidc-provider/package.json" ] ||
		bail "tests/op/node_modules is missing: run tests/setup-debian.sh (CI: .ci/run does)"
}

# op_sched PID: how the process's main thread spent its life so far, from
# the scheduler's own accounting (/proc/PID/schedstat: time on a CPU,
# time runnable but waiting for one): "STATE CPU_MS WAIT_MS AGE_MS".
op_sched() {
	local pid=$1 st cpu wait start hz up
	[ -r "/proc/$pid/stat" ] || { echo "gone 0 0 0"; return; }
	st=$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f1)
	read -r cpu wait _ <"/proc/$pid/schedstat"
	start=$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f20)
	hz=$(getconf CLK_TCK)
	up=$(cut -d' ' -f1 /proc/uptime)
	echo "$st $((cpu / 1000000)) $((wait / 1000000)) $(awk -v u="$up" -v s="$start" -v h="$hz" 'BEGIN { printf "%d", (u - s / h) * 1000 }')"
}

# op_verdict PID: one line saying why a start is late.  A start needs
# about 0.6 s of CPU (loading oidc-provider, an RSA key); a process that
# spent most of its life runnable but waiting for a CPU is starved by an
# overloaded machine, not hung; one that sleeps with little CPU used is
# waiting for an event that does not come (a hang).
op_verdict() {
	local st cpu wait age
	read -r st cpu wait age < <(op_sched "$1")
	if [ "$st" = gone ]; then
		echo "the process is gone"
	elif [ "$st" = T ] || [ "$st" = t ]; then
		echo "stopped (state $st): on CPU ${cpu} ms, waiting for a CPU ${wait} ms in ${age} ms"
	elif [ "$st" = D ]; then
		echo "blocked in the kernel (state D, I/O): on CPU ${cpu} ms, waiting for a CPU ${wait} ms in ${age} ms"
	elif [ $((wait * 2)) -ge "$age" ]; then
		echo "starved of CPU, not hung (state $st): on CPU ${cpu} ms, waiting for a CPU ${wait} ms in ${age} ms: the machine is overloaded ($(cut -d' ' -f1-3 /proc/loadavg) load, $(nproc) CPUs)"
	else
		echo "hung (state $st, not waiting for a CPU): on CPU ${cpu} ms, waiting for a CPU ${wait} ms in ${age} ms"
	fi
}

# start_op: one start, awaited by readiness (its READY line, then its
# discovery document) for at most OA2_OP_START_WAIT seconds (default 30).
# No retries: a provider that dies or hangs fails the test, with its own
# log in the Bail out line and a verdict from the scheduler's accounting
# (op_verdict: starved of CPU, or hung).  A hang also leaves a Node.js
# diagnostic report (the JavaScript stack of every thread) in the log, so
# its cause can be read.  OA2_OP_NODE_ARGS: extra node options (tests/op/start.sh
# forces a hang with them).
start_op() {
	local users=$1 clients=$2; shift 2
	local out="$TESTTMP/op.out" err="$TESTTMP/op.err" i wait_s
	op_require
	wait_s=${OA2_OP_START_WAIT:-30}
	: >"$out"
	: >"$err"
	# shellcheck disable=SC2086
	${OA2_OP_WRAPPER:-} node --report-on-signal --report-signal=SIGUSR2 --report-directory="$TESTTMP" \
		${OA2_OP_NODE_ARGS:-} "$OP_DIR/server.js" --port 0 --cert "$PKI/server.pem" \
		--key "$PKI/server.key" --ca "$PKI/ca.pem" \
		--users "$users" --clients "$clients" "$@" >"$out" 2>>"$err" &
	OP_PID=$!
	on_exit "kill -TERM $OP_PID"
	for ((i = 0; i < wait_s * 20; i++)); do
		grep -q '^READY ' "$out" && break
		kill -0 "$OP_PID" 2>/dev/null ||
			bail "OpenID provider exited at start: $(tr '\n' ' ' <"$err" | tail -c 2000)"
		sleep 0.05
	done
	OP_PORT=$(awk '/^READY/ {print $2}' "$out")
	if [ -z "$OP_PORT" ]; then
		local verdict report
		verdict=$(op_verdict "$OP_PID")
		report=
		case $verdict in
		hung*) # an idle event loop writes its report at once
			kill -USR2 "$OP_PID" 2>/dev/null
			for ((i = 0; i < 40; i++)); do
				report=$(ls "$TESTTMP"/report.*.json 2>/dev/null | head -n 1)
				[ -n "$report" ] && break
				sleep 0.25
			done ;;
		esac
		bail "OpenID provider did not start within ${wait_s} s: $verdict: log: $(tr '\n' ' ' <"$err" | tail -c 1500)" \
			"${report:+ stack: $(node -e 'const r = require(process.argv[1]); console.log(JSON.stringify(r.javascriptStack))' "$report" | head -c 1500)}"
	fi
	echo "# OpenID provider ready: $(op_sched "$OP_PID" | awk '{print "on CPU " $2 " ms, waiting for a CPU " $3 " ms, in " $4 " ms"}')"
	OP_URL="https://127.0.0.1:$OP_PORT"
	for ((i = 0; i < wait_s * 4; i++)); do
		curl -sS --max-time 5 --cacert "$PKI/ca.pem" -o /dev/null \
			"$OP_URL/.well-known/openid-configuration" 2>/dev/null && return 0
		kill -0 "$OP_PID" 2>/dev/null || break
		sleep 0.25
	done
	bail "OpenID provider at $OP_URL does not answer discovery: $(op_verdict "$OP_PID"): $(tr '\n' ' ' <"$err" | tail -c 2000)"
}

op_running() {
	[ -n "${OP_PID:-}" ] && kill -0 "$OP_PID" 2>/dev/null
}

# stop_op: returns the server's exit status (0 on a clean SIGTERM).
stop_op() {
	local rc=0
	[ -n "${OP_PID:-}" ] || return 0
	kill -TERM "$OP_PID" 2>/dev/null
	wait "$OP_PID" 2>/dev/null || rc=$?
	OP_PID=
	return "$rc"
}
