# common.sh - shared helpers for the shell tests (TAP output).
#
# Sourced by tests/*/*.sh.  Gives: TAP assertions, a private temporary
# directory removed on exit, the test PKI, the mock IdP, PAM service and
# config files written into the temporary directory, local test users
# created and removed, and `pam_run` to drive the real libpam.
set -u

# The shell tests create and remove local users and groups, and some
# compare /etc/group before and after: they run one at a time, even under
# make -j (the unit tests still run in parallel).  flock -o holds the lock
# in flock itself, so servers a test starts cannot keep it.  The lock file
# lives in /run/lock (a tmpfs), not /tmp, which the suite leaves as found.
if [ -z "${OA2_TEST_LOCKED:-}" ]; then
	export OA2_TEST_LOCKED=1
	if [ -z "${OA2_TEST_LOCK:-}" ]; then
		OA2_TEST_LOCK=/run/lock/oa2-tests.lock
		[ -d /run/lock ] || OA2_TEST_LOCK=/run/oa2-tests.lock
	fi
	exec flock -o -w 1800 "$OA2_TEST_LOCK" bash "$0" "$@"
fi

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir

# The Node.js the suite runs on (tests/setup-debian.sh installs it from
# tests/node/package-lock.json): the mock IdP, the OpenID provider and the
# small node -e helpers all use it, whatever node the machine has.
OA2_NODE_BIN="$top_srcdir/tests/node/node_modules/.bin"
case ":$PATH:" in
*":$OA2_NODE_BIN:"*) ;;
*) PATH="$OA2_NODE_BIN:$PATH"; export PATH ;;
esac

MODULE="$top_builddir/.libs/pam_oauth2.so"
PAMTEST="$top_builddir/tests/pam/pamtest"
LOGSHIM="$top_builddir/tests/lib/.libs/logcapture.so"
# The same module linked with tests/lib/fakeclock.c (virtual time).
FAKEMODULE="$top_builddir/tests/lib/.libs/pam_oauth2_fakeclock.so"

TESTTMP=$(mktemp -d /tmp/oa2test.XXXXXX)
chmod 0700 "$TESTTMP"
export OA2_FAKECLOCK_LOG="$TESTTMP/sleeps"
mkdir -p "$TESTTMP/pam.d"
printf "auth required pam_deny.so\naccount required pam_deny.so\n" >"$TESTTMP/pam.d/other"
export OA2_LOG_CAPTURE="$TESTTMP/syslog"
: >"$OA2_LOG_CAPTURE"

_tap_n=0
_tap_fail=0
_cleanup_cmds=()

# ---------------------------------------------------------------- TAP
ok() { # ok CONDITION-STATUS DESCRIPTION
	local st=$1; shift
	_tap_n=$((_tap_n + 1))
	if [ "$st" -eq 0 ]; then
		echo "ok $_tap_n - $*"
	else
		echo "not ok $_tap_n - $*"
		_tap_fail=$((_tap_fail + 1))
	fi
}

is() { # is SEEN WANT DESCRIPTION
	local seen=$1 want=$2; shift 2
	if [ "$seen" = "$want" ]; then
		ok 0 "$*"
	else
		ok 1 "$*"
		echo "#   expected: $want"
		echo "#   seen:     $seen"
	fi
}

like() { # like SEEN REGEX DESCRIPTION
	local seen=$1 re=$2; shift 2
	if printf '%s' "$seen" | grep -Eq -- "$re"; then
		ok 0 "$*"
	else
		ok 1 "$*"
		echo "#   expected to match: $re"
		echo "#   seen: $(printf '%s' "$seen" | head -c 600)"
	fi
}

unlike() { # unlike SEEN REGEX DESCRIPTION
	local seen=$1 re=$2; shift 2
	if printf '%s' "$seen" | grep -Eq -- "$re"; then
		ok 1 "$*"
		echo "#   must not match: $re"
	else
		ok 0 "$*"
	fi
}

bail() { echo "Bail out! $*"; exit 1; }

on_exit() { _cleanup_cmds+=("$*"); }

_finish() {
	local i
	for ((i = ${#_cleanup_cmds[@]} - 1; i >= 0; i--)); do
		eval "${_cleanup_cmds[$i]}" >/dev/null 2>&1 || true
	done
	rm -rf "$TESTTMP"
}

done_testing() {
	echo "1..$_tap_n"
	[ "$_tap_fail" -eq 0 ]
}

trap _finish EXIT

[ "$(id -u)" = 0 ] || bail "the PAM-stack tests run as root (config ownership checks, test users)"
[ -x "$PAMTEST" ] || bail "pamtest not built: $PAMTEST"
[ -f "$MODULE" ] || bail "module not built: $MODULE"
[ -x "$OA2_NODE_BIN/node" ] ||
	bail "the pinned Node.js is missing ($OA2_NODE_BIN/node): run tests/setup-debian.sh"

# ---------------------------------------------------------------- PKI
PKI="$TESTTMP/pki"
"$top_srcdir/tests/lib/mkca.sh" "$PKI" || bail "mkca.sh failed"

# ---------------------------------------------------------------- users
# add_user NAME: a local account with no usable local password.
add_user() {
	local u=$1
	if ! getent passwd "$u" >/dev/null; then
		useradd -M -d /nonexistent -s /bin/sh "$u" || bail "useradd $u"
		on_exit "userdel -f $u"
	fi
}

# ---------------------------------------------------------------- mock IdP
# start_mock [extra args...]: sets MOCK_PID, MOCK_PORT, MOCK_URL.
start_mock() {
	local out="$TESTTMP/mock.out"
	: >"$out"
	node "$top_srcdir/tests/mock-idp/mock-idp.js" --port 0 \
		--cert "$PKI/server.pem" --key "$PKI/server.key" "$@" \
		>"$out" 2>>"$TESTTMP/mock.err" &
	MOCK_PID=$!
	on_exit "kill -TERM $MOCK_PID"
	local i
	for i in $(seq 1 200); do
		grep -q '^READY ' "$out" && break
		kill -0 "$MOCK_PID" 2>/dev/null || bail "mock IdP died: $(cat "$TESTTMP/mock.err")"
		sleep 0.05
	done
	MOCK_PORT=$(awk '/^READY/ {print $2}' "$out")
	[ -n "$MOCK_PORT" ] || bail "mock IdP did not start"
	MOCK_URL="https://127.0.0.1:$MOCK_PORT"
}

stop_mock() {
	kill -TERM "$MOCK_PID" 2>/dev/null
	wait "$MOCK_PID" 2>/dev/null
}

# mock_ctl PATH [JSON]: POST (with JSON) or GET a control endpoint.
mock_ctl() {
	if [ $# -ge 2 ]; then
		curl -sS --cacert "$PKI/ca.pem" -H 'Content-Type: application/json' \
			--data-binary "$2" "$MOCK_URL/_control/$1"
	else
		curl -sS --cacert "$PKI/ca.pem" "$MOCK_URL/_control/$1"
	fi
}

# Every case starts cold: the request log, the scenario and the module's
# metadata cache ($TESTTMP/cache, named by cache_dir in the test configs).
mock_reset() { mock_ctl reset '{}' >/dev/null; rm -rf "$TESTTMP/cache"; }
mock_scenario() { mock_ctl scenario "$1" >/dev/null; }

# mock_count PATH: how many requests the mock saw for PATH.
mock_count() {
	mock_ctl requests | node -e '
		let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
			const r = JSON.parse(s);
			console.log(r.filter(x => x.path === process.argv[1]).length);
		});' "$1"
}

# mock_form_param PATH NAME: the form-decoded value of NAME in the last
# request body to PATH, written as hex (exact bytes).
mock_form_param() {
	mock_ctl requests | node -e '
		let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
			const r = JSON.parse(s).filter(x => x.path === process.argv[1]);
			if (!r.length) { console.log("none"); return; }
			const body = Buffer.from(r[r.length - 1].body_b64, "base64").toString("latin1");
			for (const kv of body.split("&")) {
				const [k, v = ""] = kv.split("=");
				if (decodeURIComponent(k) === process.argv[2]) {
					const bytes = Buffer.from(v.replace(/\+/g, "%20").replace(/%([0-9A-Fa-f]{2})/g,
						(m, h) => String.fromCharCode(parseInt(h, 16))), "latin1");
					console.log(bytes.toString("hex")); return;
				}
			}
			console.log("absent");
		});' "$1" "$2"
}

# mock_last PATH FIELD: a field (e.g. headers.authorization, url) of the
# last request to PATH.
mock_last() {
	mock_ctl requests | node -e '
		let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
			const r = JSON.parse(s).filter(x => x.path === process.argv[1]);
			if (!r.length) { console.log("none"); return; }
			let v = r[r.length - 1];
			for (const p of process.argv[2].split(".")) v = v == null ? v : v[p];
			console.log(v === undefined ? "undefined" : typeof v === "string" ? v : JSON.stringify(v));
		});' "$1" "$2"
}

# ---------------------------------------------------------------- PAM
# write_conf FILE <<EOF ... : a root-owned 0600 config file.  Unless the
# text names them, the metadata cache, the offline verifiers and the grant
# store go to $TESTTMP (never to /var/cache, /var/lib or /run); mock_reset
# empties the cache.
# The defaults go first: a [groups] section may end the text, and a key the
# text sets itself comes later and wins.  outage_window = 0: one case's
# outage must not turn the next case into a fast failure
# (tests/pam/outage.sh and audit.sh set it themselves).
write_conf() {
	{
		echo "cache_dir = $TESTTMP/cache"
		echo "offline_dir = $TESTTMP/offline"
		echo "state_dir = $TESTTMP/state"
		echo "outage_window = 0"
		cat
	} >"$1"
	chmod 0600 "$1"
}

# write_service NAME <<EOF ... : a PAM service file in $TESTTMP/pam.d;
# @MODULE@ becomes the built module's path, @FAKEMODULE@ the fake-clock one.
write_service() {
	sed -e "s|@MODULE@|$MODULE|g" -e "s|@FAKEMODULE@|$FAKEMODULE|g" >"$TESTTMP/pam.d/$1"
}

# pam_wrapper SERVICE: the command to put before pamtest for one login
# through SERVICE: $OA2_PAMTEST_WRAPPER (e.g. valgrind,
# tests/run-sanitizers.sh), or nothing.  A script named in
# $OA2_PAMTEST_WRAP_ALL (basenames) has every login wrapped; any other
# only its first login through each service file, when
# OA2_PAMTEST_WRAP_ALL is set at all (valgrind's representative subset,
# tests/README.md).
pam_wrapper() {
	[ -n "${OA2_PAMTEST_WRAPPER:-}" ] || return 0
	if [ -n "${OA2_PAMTEST_WRAP_ALL+set}" ]; then
		case " $OA2_PAMTEST_WRAP_ALL " in
		*" $(basename "$0") "*) ;;
		*)
			grep -qxF -- "$1" "$TESTTMP/wrapped" 2>/dev/null && return 0
			printf '%s\n' "$1" >>"$TESTTMP/wrapped" ;;
		esac
	fi
	printf '%s\n' "$OA2_PAMTEST_WRAPPER"
}

# pam_run SERVICE USER [ops...] with the answers to prompts on stdin.
# Prints pamtest's "op=PAM_CODE" lines; prompts go to $TESTTMP/prompts.
pam_run() {
	local svc=$1 user=$2; shift 2
	# shellcheck disable=SC2046
	LD_PRELOAD="$LOGSHIM" $(pam_wrapper "$svc") "$PAMTEST" "$TESTTMP/pam.d" "$svc" "$user" "$@" \
		2>"$TESTTMP/prompts"
}

# auth_with SERVICE USER PASSWORD: the PAM code of pam_authenticate.
auth_with() {
	printf '%s\n' "$3" | pam_run "$1" "$2" auth | sed -n 's/^auth=//p'
}
