#!/usr/bin/env bash
# faults.sh - hostile IdPs, broken networks and bad input, through the real
# libpam (issue 6).  Every case must end in the code security.md names,
# within the configured deadline, with the host's SIGPIPE/SIGALRM
# dispositions and its interval timer as they were (pamtest sigcheck).
# Cases already in password.sh and device.sh are not repeated here; the
# table in tests/README.md lists both.  Each description starts with its
# class in brackets, which the README table counts.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/common.sh"

# Names of our own per run: a concurrent run of this script (another
# checkout, another make check) must not delete our users under us.
ALICE=oa2fa$RANDOM
BOB=oa2fb$RANDOM
PW='fault-Pw1'
CID=pam-fault
SECRET='fault-secret'
add_user "$ALICE"
add_user "$BOB"
FAULTSRV="$top_srcdir/tests/pam/faultsrv.js"
JWTCRAFT="$top_srcdir/tests/pam/jwtcraft.js"
# Slower runs (valgrind) may raise these.
TMO=${OA2_TEST_TIMEOUT:-5}
NET_TMO=2
SLACK_MS=${OA2_TEST_SLACK_MS:-1500}

cat >"$TESTTMP/users.json" <<JSON
{ "$ALICE": { "password": "$PW", "sub": "sub-alice" },
  "$BOB": { "password": "bob-Pw", "sub": "sub-bob" } }
JSON
start_mock --users "$TESTTMP/users.json" --client-id "$CID" --client-secret "$SECRET"
MAIN_URL=$MOCK_URL MAIN_PORT=$MOCK_PORT MAIN_PID=$MOCK_PID

CONF="$TESTTMP/oauth2.conf"
write_conf "$CONF" <<CONF
issuer = $MOCK_URL
client_id = $CID
client_secret = $SECRET
ca_file = $PKI/ca.pem
cache_dir = $TESTTMP/cache
offline_dir = $TESTTMP/offline
timeout = $TMO
CONF
write_service f <<SVC
auth required @MODULE@ config=$CONF debug
account required @MODULE@ config=$CONF
SVC
write_service fnet <<SVC
auth required @MODULE@ config=$CONF timeout=$NET_TMO
SVC
write_service fdev <<SVC
auth required @FAKEMODULE@ config=$CONF grants=device device_timeout=20 qr_code=no
SVC

# ---------------------------------------------------------------- helpers
SIGBAD=()
RUNS=0

# fa WANT DESCRIPTION SERVICE USER [ANSWER [pamtest modifiers...]]:
# one pam_authenticate with sigcheck; sets OUT and ELAPSED_MS.
fa() {
	local want=$1 desc=$2 svc=$3 user=$4 ans=${5-$PW} t0 code
	shift 4
	[ $# -gt 0 ] && shift
	t0=$(date +%s%N)
	OUT=$(printf '%s\n' "$ans" | pam_run "$svc" "$user" auth sigcheck "$@")
	ELAPSED_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
	code=$(printf '%s\n' "$OUT" | sed -n 's/^auth=//p' | tail -1)
	RUNS=$((RUNS + 1))
	printf '%s\n' "$OUT" | grep -q '^sigcheck=same$' || SIGBAD+=("$desc")
	is "$code" "$want" "$desc"
}

# within SECONDS DESCRIPTION: the last fa ended by the deadline.
within() {
	local lim=$(( $1 * 1000 + SLACK_MS ))
	ok "$([ "$ELAPSED_MS" -le "$lim" ] && echo 0 || echo 1)" \
		"$2 (${ELAPSED_MS} ms, deadline ${1}s)"
}

sig_same() {
	printf '%s\n' "$OUT" | grep -q '^sigcheck=same$'
	ok $? "$1: SIGPIPE/SIGALRM dispositions and ITIMER_REAL as before"
}

# start_srv VAR MODE ARGS...: a faultsrv.js server; VAR gets its port,
# VAR_PID its process id.
start_srv() {
	local var=$1 out="$TESTTMP/srv.$1" pid i
	shift
	: >"$out"
	node "$FAULTSRV" "$@" >"$out" 2>>"$TESTTMP/srv.err" &
	pid=$!
	on_exit "kill -TERM $pid"
	for i in $(seq 1 100); do
		grep -q '^READY ' "$out" && break
		sleep 0.05
	done
	printf -v "$var" '%s' "$(awk '/^READY/ {print $2}' "$out")"
	printf -v "${var}_PID" '%s' "$pid"
	[ -n "${!var}" ] || bail "faultsrv $* did not start"
}

# A mock with another certificate: sets TLS_PORT (not printed: in a
# command substitution the cleanup registered here would be lost).
start_tls_mock() {
	local name=$1 out="$TESTTMP/mock.$1" pid i
	: >"$out"
	node "$top_srcdir/tests/mock-idp/mock-idp.js" --port 0 \
		--cert "$PKI/$name.pem" --key "$PKI/$name.key" \
		--client-id "$CID" --client-secret "$SECRET" \
		--users "$TESTTMP/users.json" >"$out" 2>>"$TESTTMP/mock.err" &
	pid=$!
	on_exit "kill -TERM $pid"
	for i in $(seq 1 200); do
		grep -q '^READY ' "$out" && break
		sleep 0.05
	done
	TLS_PORT=$(awk '/^READY/ {print $2}' "$out")
}

now() { date +%s; }
KEYS="$TESTTMP/keys"
node "$JWTCRAFT" "$KEYS" init || bail "jwtcraft init"

# payload [JSON-OVERRIDES]: the claims of a good ID token for alice, with
# overrides merged (null deletes).  Prints JSON text.
payload() {
	node -e '
		const [iss, cid, user, now, over] = process.argv.slice(1);
		const p = { iss, aud: cid, azp: cid, sub: "sub-alice",
			exp: Number(now) + 300, iat: Number(now),
			preferred_username: user };
		for (const [k, v] of Object.entries(JSON.parse(over || "{}")))
			if (v === null) delete p[k]; else p[k] = v;
		process.stdout.write(JSON.stringify(p));' \
		"$MOCK_URL" "$CID" "$ALICE" "$(now)" "${1-}"
}

# rawpayload CLAIM VALUE-TEXT: payload() with CLAIM set to VALUE-TEXT
# exactly as written (1.0, 1e400 and 99999999999999999999 stay so).
rawpayload() {
	payload "{\"$1\": \"__RAW__\"}" | sed "s|\"__RAW__\"|$2|"
}

# craft ALG KEY [HEADER [PAYLOAD-TEXT [SIGMODE]]]
craft() {
	local alg=$1 key=$2 hdr=${3-'{}'} pay=${4-}
	[ -n "$pay" ] || pay=$(payload)
	node "$JWTCRAFT" "$KEYS" sign "$alg" "$key" "$hdr" "$pay" "${5-}"
}

# use_token TOKEN [JWKS-FILE]: the mock sends TOKEN as the ID token and
# JWKS-FILE (default our crafted keys) as its JWKS.
declare -A JWKS_STR
use_token() {
	local f=${2:-$KEYS/jwks.json} j
	# The escaped main JWKS is made once.
	if [ "$f" = "$KEYS/jwks.json" ]; then
		[ -n "${JWKS_STR[main]-}" ] || JWKS_STR[main]=$(json_str "$(cat "$f")")
		j=${JWKS_STR[main]}
	else
		j=$(json_str "$(cat "$f")")
	fi
	mock_reset
	mock_scenario "{\"id_token_raw\": $(json_str "$1"), \"jwks_raw\": $j}"
}

# jwt_case WANT DESCRIPTION TOKEN [JWKS-FILE]
jwt_case() {
	use_token "$3" "${4-}"
	fa "$1" "$2" f "$ALICE"
}

json_str() {
	# Plain printable text without quotes or backslashes needs no node.
	if [[ "$1" =~ ^[][A-Za-z0-9._~:/?#@!\$\&\'()*+,\;=%\ {}-]*$ ]]; then
		printf '"%s"' "$1"
	else
		node -e 'process.stdout.write(JSON.stringify(process.argv[1]))' "$1"
	fi
}

# ================================================================ network
CLASS=network
# connection refused: a port that was free a moment ago.
start_srv DEADPORT sink "$TESTTMP/dead.count"
kill "$DEADPORT_PID"
wait "$DEADPORT_PID" 2>/dev/null
sleep 0.2
write_service nrefused <<SVC
auth required @MODULE@ config=$CONF issuer=https://127.0.0.1:$DEADPORT timeout=$NET_TMO
SVC
fa PAM_AUTHINFO_UNAVAIL "[network] connection refused: PAM_AUTHINFO_UNAVAIL" nrefused "$ALICE"
within "$NET_TMO" "[network] connection refused: ended by the deadline"
sig_same "[network] connection refused"

# A listener that accepts and never says a word (no TLS handshake).
start_srv SILENTPORT sink "$TESTTMP/silent.count"
write_service nsilent <<SVC
auth required @MODULE@ config=$CONF issuer=https://127.0.0.1:$SILENTPORT timeout=$NET_TMO
SVC
fa PAM_AUTHINFO_UNAVAIL "[network] listener that never answers: PAM_AUTHINFO_UNAVAIL" nsilent "$ALICE"
within "$NET_TMO" "[network] listener that never answers: ended by the deadline"
sig_same "[network] listener that never answers"
like "$(cat "$TESTTMP/silent.count")" '^[1-9]' "[network] (the module did connect to it)"

# One byte every 700 ms, headers included: never done by the deadline.
printf '{"issuer":"x"}' >"$TESTTMP/small.json"
start_srv TRICKLEPORT trickle "$PKI/server.pem" "$PKI/server.key" 700 "$TESTTMP/small.json"
write_service ntrickle <<SVC
auth required @MODULE@ config=$CONF issuer=https://127.0.0.1:$TRICKLEPORT timeout=$NET_TMO
SVC
fa PAM_AUTHINFO_UNAVAIL "[network] one byte every 0.7 s: PAM_AUTHINFO_UNAVAIL" ntrickle "$ALICE"
within "$NET_TMO" "[network] one byte every 0.7 s: ended by the deadline"
sig_same "[network] one byte every 0.7 s"

mock_reset
mock_scenario '{"slow_body_for_path": {"/token": 600}}'
fa PAM_AUTHINFO_UNAVAIL "[network] token body one byte every 0.6 s: PAM_AUTHINFO_UNAVAIL" fnet "$ALICE"
within "$NET_TMO" "[network] token body one byte every 0.6 s: ended by the deadline"

mock_reset
mock_scenario '{"slow_body_for_path": {"/jwks": 60000}}'
fa PAM_AUTHINFO_UNAVAIL "[network] stall after the JWKS headers: PAM_AUTHINFO_UNAVAIL" fnet "$ALICE"
within "$NET_TMO" "[network] stall after the headers: ended by the deadline"
sig_same "[network] stall after the headers"

mock_reset
mock_scenario '{"close_for_path": {"/token": "mid_body"}}'
fa PAM_AUTHINFO_UNAVAIL "[network] reset in the middle of the token body: PAM_AUTHINFO_UNAVAIL" fnet "$ALICE"
within "$NET_TMO" "[network] reset mid body: ended by the deadline"
sig_same "[network] reset mid body"

mock_reset
mock_scenario '{"close_for_path": {"/.well-known/openid-configuration": "mid_body"}}'
fa PAM_AUTHINFO_UNAVAIL "[network] reset in the middle of the discovery body: PAM_AUTHINFO_UNAVAIL" fnet "$ALICE"

mock_reset
mock_scenario '{"close_for_path": {"/jwks": true}}'
fa PAM_AUTHINFO_UNAVAIL "[network] JWKS connection dropped without an answer: PAM_AUTHINFO_UNAVAIL" fnet "$ALICE"

write_service ndns <<SVC
auth required @MODULE@ config=$CONF issuer=https://oa2f-no-such-host.invalid timeout=$NET_TMO
SVC
fa PAM_AUTHINFO_UNAVAIL "[network] DNS fails (.invalid): PAM_AUTHINFO_UNAVAIL" ndns "$ALICE"
within "$NET_TMO" "[network] DNS fails: ended by the deadline"
sig_same "[network] DNS fails"
like "$(grep decision "$OA2_LOG_CAPTURE" | tail -1)" 'reason=dns_failed' "[network] logged as dns_failed"

# The device grant keeps its own deadline through network trouble (the
# fake clock: every wait is recorded, none is slept).
mock_reset
mock_scenario '{"device_interval": 1, "close_for_path": {"/token": "mid_body"}}'
: >"$OA2_FAKECLOCK_LOG"
fa PAM_AUTHINFO_UNAVAIL "[network] device polls cut off mid body until the deadline: PAM_AUTHINFO_UNAVAIL" fdev "$ALICE" ""
total=$(awk '{s += $2} END {print s + 0}' "$OA2_FAKECLOCK_LOG")
ok "$([ "$total" -le 20000 ] && echo 0 || echo 1)" "[network] device grant waited ${total} ms in all, within device_timeout=20"

# ================================================================ TLS
CLASS=tls
for cert in expired wronghost selfsigned unknownca; do
	start_tls_mock "$cert"
	port=$TLS_PORT
	[ -n "$port" ] || bail "mock with $cert.pem did not start"
	write_service "t$cert" <<SVC
auth required @MODULE@ config=$CONF issuer=https://127.0.0.1:$port
SVC
	fa PAM_AUTHINFO_UNAVAIL "[tls] $cert certificate: PAM_AUTHINFO_UNAVAIL" "t$cert" "$ALICE"
	is "$(curl -sk "https://127.0.0.1:$port/_control/requests")" "[]" \
		"[tls] $cert certificate: the server saw no application data"
done
like "$(grep decision "$OA2_LOG_CAPTURE" | tail -1)" 'reason=tls_failed' "[tls] logged as tls_failed"

# ================================================================ HTTP
CLASS=http
start_srv OTHERPORT sink "$TESTTMP/other.count"
for target in "https://127.0.0.1:$OTHERPORT/token" "http://127.0.0.1:$OTHERPORT/token"; do
	for path in /.well-known/openid-configuration /token /jwks; do
		mock_reset
		mock_scenario "{\"redirect_for_path\": {\"$path\": \"$target\"}}"
		fa PAM_AUTHINFO_UNAVAIL "[http] $path redirects to ${target%%:*}://another host: not followed" f "$ALICE"
	done
done
is "$(cat "$TESTTMP/other.count")" "0 connections, 0 bytes" "[http] the other host received nothing"

for st in 500 502 504; do
	for path in /.well-known/openid-configuration /jwks /token; do
		mock_reset
		mock_scenario "{\"status_for_path\": {\"$path\": $st}}"
		fa PAM_AUTHINFO_UNAVAIL "[http] $path answers $st: PAM_AUTHINFO_UNAVAIL" f "$ALICE"
	done
done

mock_reset
mock_scenario '{"status_for_path": {"/token": 429}, "extra_headers_for_path": {"/token": {"retry-after": "999999999"}}}'
fa PAM_AUTHINFO_UNAVAIL "[http] 429 with Retry-After 999999999: PAM_AUTHINFO_UNAVAIL" f "$ALICE"
within 1 "[http] 429: no sleeping on Retry-After"
mock_reset
mock_scenario '{"device_interval": 2, "status_for_path": {"/token": 429}, "extra_headers_for_path": {"/token": {"retry-after": "999999999"}}}'
: >"$OA2_FAKECLOCK_LOG"
fa PAM_AUTHINFO_UNAVAIL "[http] device polls answered 429 with a huge Retry-After: PAM_AUTHINFO_UNAVAIL" fdev "$ALICE" ""
total=$(awk '{s += $2} END {print s + 0}' "$OA2_FAKECLOCK_LOG")
ok "$([ "$total" -le 20000 ] && echo 0 || echo 1)" "[http] device grant waited ${total} ms in all, within device_timeout=20, not Retry-After"

for path in /.well-known/openid-configuration /jwks; do
	mock_reset
	if [ "$path" = /jwks ]; then
		mock_scenario '{"jwks_status": 200, "jwks_raw": "<!DOCTYPE html><html><body>Sign in</body></html>", "extra_headers_for_path": {"/jwks": {"content-type": "text/html"}}}'
	else
		mock_scenario '{"discovery_status": 200, "discovery_raw": "<!DOCTYPE html><html><body>Sign in</body></html>"}'
	fi
	fa PAM_AUTHINFO_UNAVAIL "[http] $path: a 200 HTML page: PAM_AUTHINFO_UNAVAIL" f "$ALICE"
done
mock_reset
mock_scenario '{"omit_id_token": true, "userinfo_status": 200, "userinfo_raw": "<html>hello</html>"}'
fa PAM_AUTHINFO_UNAVAIL "[http] userinfo: a 200 HTML page: PAM_AUTHINFO_UNAVAIL" f "$ALICE"

for path in /.well-known/openid-configuration /token /jwks /userinfo; do
	for mode in cl chunked; do
		mock_reset
		if [ $mode = cl ]; then
			huge='300000'
		else
			huge='{"bytes": 300000, "chunked": true}'
		fi
		extra=''
		[ $path = /userinfo ] && extra='"omit_id_token": true,'
		mock_scenario "{$extra \"huge_body_for_path\": {\"$path\": $huge}}"
		fa PAM_AUTHINFO_UNAVAIL "[http] $path: 300 kB body ($mode) over the 256 KiB cap: PAM_AUTHINFO_UNAVAIL" f "$ALICE"
	done
done
like "$(grep decision "$OA2_LOG_CAPTURE" | tail -1)" 'reason=response_too_large' "[http] logged as response_too_large"
mock_reset
mock_scenario '{"huge_body_for_path": {"/jwks": 200000}}'
fa PAM_AUTHINFO_UNAVAIL "[http] JWKS of 200 kB under the cap, read whole, no keys member: PAM_AUTHINFO_UNAVAIL" f "$ALICE"

# Compression: never asked for, so never decoded (no gzip bombs).
mock_reset
fa PAM_SUCCESS "[http] a normal login (to look at its requests)" f "$ALICE"
is "$(mock_last /token headers.accept-encoding)" undefined "[http] no Accept-Encoding on the token request"
is "$(mock_last /jwks headers.accept-encoding)" undefined "[http] no Accept-Encoding on the JWKS request"
mock_reset
mock_scenario '{"extra_headers_for_path": {"/jwks": {"content-encoding": "gzip"}}}'
fa PAM_SUCCESS "[http] a JWKS labelled Content-Encoding gzip is not decoded (it is plain JSON here)" f "$ALICE"

# ================================================================ JSON
CLASS=json
GOOD_TOK=$(craft RS256 rsa)
jwt_case PAM_SUCCESS "[json] control: a crafted RS256 ID token from our JWKS: PAM_SUCCESS" "$GOOD_TOK"

token_raw() { # token_raw WANT DESCRIPTION BODY-TEXT
	mock_reset
	mock_scenario "{\"token_status\": 200, \"token_body_raw\": $(json_str "$3"), \"jwks_raw\": $(json_str "$(cat "$KEYS/jwks.json")")}"
	fa "$1" "$2" f "$ALICE"
}
for body in '[]' 'null' '"x"' '42' '' ' ' '{"access_token":"at","token_type":"Bearer"' \
	'{"access_token":"at","token_type":"Bearer"} {}' '{"access_token":"at","token_type":"Bearer"}x' \
	"{'access_token':'at'}" '{"access_token":"at",}' '{"access_token":"a\u0000b","token_type":"Bearer"}' \
	'{"access_token":"at","token_type":"Bearer",}' '{"access_token":"at","token_type":"Bearer"}]' \
	'{"access_token":"at","token_type":"Bearer","x":01}' '{"access_token":"at","token_type":"Bearer","x":NaN}' \
	'{"access_token":"at","token_type":"Bearer","x":"\x"}' '{"access_token":"at","token_type":"Bearer"/**/}'; do
	token_raw PAM_AUTHINFO_UNAVAIL "[json] token response $(printf '%q' "$body" | head -c 60): PAM_AUTHINFO_UNAVAIL" "$body"
done
deep=$(printf '{"a":%.0s' $(seq 1 5000))1$(printf '}%.0s' $(seq 1 5000))
token_raw PAM_AUTHINFO_UNAVAIL "[json] token response nested 5000 deep: PAM_AUTHINFO_UNAVAIL" "$deep"
within "$TMO" "[json] deep nesting: no time lost"
deep=$(printf '[%.0s' $(seq 1 20))$(printf ']%.0s' $(seq 1 20))
token_raw PAM_AUTHINFO_UNAVAIL "[json] token response {\"x\": 20 nested arrays}: PAM_AUTHINFO_UNAVAIL" "{\"access_token\":\"at\",\"token_type\":\"Bearer\",\"x\":$deep}"

# Duplicate members: the lexically last one is the one checked and used
# (RFC 7515 §4, RFC 7519 §4), so a bad last value always fails.
token_raw PAM_AUTHINFO_UNAVAIL "[json] duplicate token_type, the last not Bearer: PAM_AUTHINFO_UNAVAIL" \
	"{\"access_token\":\"at\",\"token_type\":\"Bearer\",\"id_token\":\"$GOOD_TOK\",\"token_type\":\"mac\"}"
BOB_TOK=$(craft RS256 rsa '{}' "$(payload "{\"preferred_username\":\"$BOB\"}")")
token_raw PAM_AUTH_ERR "[json] duplicate id_token, the last for another user: PAM_AUTH_ERR" \
	"{\"access_token\":\"at\",\"token_type\":\"Bearer\",\"id_token\":\"$GOOD_TOK\",\"id_token\":\"$BOB_TOK\"}"
for dup in "\"preferred_username\":\"$ALICE\",\"preferred_username\":\"$BOB\"" \
	"\"iss\":\"$MOCK_URL\",\"iss\":\"https://evil.example\"" \
	"\"aud\":\"$CID\",\"aud\":\"other\"" "\"exp\":$(( $(now) + 300 )),\"exp\":1"; do
	p=$(payload | sed "s|^{|{$dup,|")
	# The overridden member follows in payload(); put ours last instead.
	p=$(node -e 'const [b, d] = process.argv.slice(1); const o = JSON.parse(b);
		const k = d.split(":")[0].replace(/"/g, ""); delete o[k];
		process.stdout.write(JSON.stringify(o).replace(/}$/, "," + d + "}"));' "$(payload)" "$dup")
	jwt_case PAM_AUTH_ERR "[json] ID token with duplicate ${dup%%:*}, the last bad: PAM_AUTH_ERR" "$(craft RS256 rsa '{}' "$p")"
done
mock_reset
mock_scenario "{\"discovery_status\": 200, \"discovery_raw\": $(json_str "{\"issuer\":\"$MOCK_URL\",\"token_endpoint\":\"$MOCK_URL/token\",\"jwks_uri\":\"$MOCK_URL/jwks\",\"issuer\":\"https://evil.example\"}")}"
fa PAM_AUTHINFO_UNAVAIL "[json] discovery with duplicate issuer, the last foreign: PAM_AUTHINFO_UNAVAIL" f "$ALICE"
mock_reset
mock_scenario "{\"discovery_status\": 200, \"discovery_raw\": $(json_str "{\"issuer\":\"$MOCK_URL\",\"token_endpoint\":\"$MOCK_URL/token\",\"jwks_uri\":\"$MOCK_URL/jwks\",\"token_endpoint\":\"http://127.0.0.1:$OTHERPORT/token\"}")}"
fa PAM_AUTHINFO_UNAVAIL "[json] discovery with duplicate token_endpoint, the last http: PAM_AUTHINFO_UNAVAIL" f "$ALICE"
jwks_dup=$(sed 's/}$/,"keys":[]}/' "$KEYS/jwks.json")
printf '%s' "$jwks_dup" >"$TESTTMP/jwks-dup.json"
jwt_case PAM_AUTH_ERR "[json] JWKS with duplicate keys, the last empty: PAM_AUTH_ERR" "$GOOD_TOK" "$TESTTMP/jwks-dup.json"

# Raw bytes the mock's knobs cannot send (invalid UTF-8, a NUL, a million
# keys): a token endpoint of our own.
raw_case() { # raw_case WANT DESCRIPTION FILE [chunked]
	local var
	var=RAW$RANDOM
	start_srv "$var" raw "$PKI/server.pem" "$PKI/server.key" "$3" ${4:+chunked}
	write_service fraw <<SVC
auth required @MODULE@ config=$CONF token_endpoint=https://127.0.0.1:${!var}/token jwks_uri=$MOCK_URL/jwks
SVC
	mock_reset
	fa "$1" "$2" fraw "$ALICE"
}
for bad in 'c0af' 'ff' '80' 'eda080' 'f4908080'; do
	printf '{"access_token":"a' >"$TESTTMP/raw.json"
	printf "$(printf '%s' "$bad" | sed 's/../\\x&/g')" >>"$TESTTMP/raw.json"
	printf '","token_type":"Bearer"}' >>"$TESTTMP/raw.json"
	raw_case PAM_AUTHINFO_UNAVAIL "[json] invalid UTF-8 (bytes $bad) in a string: PAM_AUTHINFO_UNAVAIL" "$TESTTMP/raw.json"
done
printf '{"access_token":"a\0b","token_type":"Bearer"}' >"$TESTTMP/raw.json"
raw_case PAM_AUTHINFO_UNAVAIL "[json] raw NUL byte inside a string: PAM_AUTHINFO_UNAVAIL" "$TESTTMP/raw.json"
printf '{"access_token":"ab","token_type":"Bearer"}\0' >"$TESTTMP/raw.json"
raw_case PAM_AUTHINFO_UNAVAIL "[json] raw NUL byte after the object: PAM_AUTHINFO_UNAVAIL" "$TESTTMP/raw.json"
node -e 'let s = "{"; for (let i = 0; i < 1000000; i++) s += `"k${i}":0,`;
	process.stdout.write(s + "\"access_token\":\"at\",\"token_type\":\"Bearer\"}");' >"$TESTTMP/million.json"
raw_case PAM_AUTHINFO_UNAVAIL "[json] a million keys (Content-Length): PAM_AUTHINFO_UNAVAIL (size cap)" "$TESTTMP/million.json"
within "$TMO" "[json] a million keys: within the deadline"
raw_case PAM_AUTHINFO_UNAVAIL "[json] a million keys (chunked): PAM_AUTHINFO_UNAVAIL (size cap)" "$TESTTMP/million.json" chunked
node -e 'let s = "{"; for (let i = 0; i < 25000; i++) s += `"k${i}":0,`;
	process.stdout.write(s + "\"access_token\":\"at\",\"token_type\":\"mac\"}");' >"$TESTTMP/manykeys.json"
raw_case PAM_AUTHINFO_UNAVAIL "[json] 25000 keys under the cap, parsed and refused: PAM_AUTHINFO_UNAVAIL" "$TESTTMP/manykeys.json"
within "$TMO" "[json] 25000 keys: within the deadline"

# Wrong types for every member the module reads.
for member in access_token token_type expires_in id_token refresh_token scope; do
	for v in 7 true '[]' '{}' '"300"' 1.5; do
		[ "$member" != expires_in ] && [ "$v" = '"300"' ] && continue
		[ "$member" != expires_in ] && [ "$v" = 1.5 ] && continue
		[ "$member" = expires_in ] && [ "$v" = 7 ] && v=-7
		body=$(node -e 'const [m, v, t] = process.argv.slice(1);
			const o = { access_token: "at", token_type: "Bearer", expires_in: 300,
				id_token: t, refresh_token: "rt", scope: "openid" };
			o[m] = JSON.parse(v); process.stdout.write(JSON.stringify(o));' "$member" "$v" "$GOOD_TOK")
		token_raw PAM_AUTHINFO_UNAVAIL "[json] token response $member=$v: PAM_AUTHINFO_UNAVAIL" "$body"
	done
done
for body in '{"error":7}' '{"error":["invalid_grant"]}' '{"error":null}' '{"error":""}' \
	'{"error":"invalid_grant\u001b[2J"}' "{\"error\":\"$(head -c 300 /dev/zero | tr '\0' a)\"}"; do
	mock_reset
	mock_scenario "{\"token_status\": 400, \"token_body_raw\": $(json_str "$body")}"
	fa PAM_AUTHINFO_UNAVAIL "[json] token error $(printf '%s' "$body" | head -c 40): PAM_AUTHINFO_UNAVAIL" f "$ALICE"
done
for member in issuer token_endpoint jwks_uri userinfo_endpoint device_authorization_endpoint; do
	for v in 7 true '[]' '{}'; do
		mock_reset
		mock_scenario "{\"discovery_overrides\": {\"$member\": $v}}"
		fa PAM_AUTHINFO_UNAVAIL "[json] discovery $member=$v: PAM_AUTHINFO_UNAVAIL" f "$ALICE"
	done
done
for member in device_code user_code verification_uri verification_uri_complete expires_in interval; do
	for v in 7 true '[]' '{}' '"5"' 1.5; do
		case "$member:$v" in
		expires_in:7 | interval:7) continue ;;
		device_code:\"5\" | user_code:\"5\") continue ;;
		*_uri*:\"5\" | *_code:1.5 | *_uri*:1.5) continue ;;
		esac
		mock_reset
		mock_scenario "{\"device_response_overrides\": {\"$member\": $v}}"
		fa PAM_AUTHINFO_UNAVAIL "[json] device authorization $member=$v: PAM_AUTHINFO_UNAVAIL" fdev "$ALICE" ""
	done
done
is "$(mock_count /token)" 0 "[json] no device poll after any of those"
for v in 7 true '"x"' '{}' null; do
	printf '{"keys":%s}' "$v" >"$TESTTMP/jwks-bad.json"
	jwt_case PAM_AUTHINFO_UNAVAIL "[json] JWKS keys=$v: PAM_AUTHINFO_UNAVAIL (JWKS unusable)" "$GOOD_TOK" "$TESTTMP/jwks-bad.json"
done
for member in kty use key_ops kid alg n e; do
	for v in 7 true '[]' '{}'; do
		[ "$member" = key_ops ] && [ "$v" = '[]' ] && continue
		node -e 'const fs = require("fs"); const [f, m, v, o] = process.argv.slice(1);
			const j = JSON.parse(fs.readFileSync(f, "utf8"));
			const k = j.keys.find((x) => x.kid === "k-rsa"); k[m] = JSON.parse(v);
			j.keys = [k]; fs.writeFileSync(o, JSON.stringify(j));' \
			"$KEYS/jwks.json" "$member" "$v" "$TESTTMP/jwks-bad.json"
		jwt_case PAM_AUTH_ERR "[json] the signing JWK with $member=$v: skipped, no key: PAM_AUTH_ERR" "$GOOD_TOK" "$TESTTMP/jwks-bad.json"
	done
done
EC_TOK=$(craft ES256 ec)
for member in crv x y; do
	for v in 7 true '[]' '{}'; do
		node -e 'const fs = require("fs"); const [f, m, v, o] = process.argv.slice(1);
			const j = JSON.parse(fs.readFileSync(f, "utf8"));
			const k = j.keys.find((x) => x.kid === "k-ec"); k[m] = JSON.parse(v);
			j.keys = [k]; fs.writeFileSync(o, JSON.stringify(j));' \
			"$KEYS/jwks.json" "$member" "$v" "$TESTTMP/jwks-bad.json"
		jwt_case PAM_AUTH_ERR "[json] the signing EC JWK with $member=$v: skipped, no key: PAM_AUTH_ERR" "$EC_TOK" "$TESTTMP/jwks-bad.json"
	done
done
for member in alg kid typ; do
	for v in 7 true '[]' '{}'; do
		jwt_case PAM_AUTH_ERR "[json] ID token header $member=$v: PAM_AUTH_ERR" "$(craft RS256 rsa "{\"$member\": $v}")"
	done
done
for member in iss aud azp exp iat nbf preferred_username; do
	for v in 7 true '[]' '{}' '"1"' 1.5; do
		case "$member:$v" in
		iss:7 | aud:7 | azp:7 | preferred_username:7 | exp:7) ;;
		*:7) continue ;;
		exp:\"1\" | iat:\"1\" | nbf:\"1\" | exp:1.5 | iat:1.5 | nbf:1.5) ;;
		*:\"1\" | *:1.5) continue ;;
		esac
		jwt_case PAM_AUTH_ERR "[json] ID token claim $member=$v: PAM_AUTH_ERR" \
			"$(craft RS256 rsa '{}' "$(rawpayload "$member" "$v")")"
	done
done
for v in 7 true '[]' '{}'; do
	mock_reset
	mock_scenario "{\"omit_id_token\": true, \"userinfo_claims\": {\"sub\": $v}}"
	fa PAM_AUTHINFO_UNAVAIL "[json] userinfo sub=$v: PAM_AUTHINFO_UNAVAIL" f "$ALICE"
	mock_reset
	mock_scenario "{\"omit_id_token\": true, \"userinfo_claims\": {\"preferred_username\": $v}}"
	fa PAM_AUTH_ERR "[json] userinfo preferred_username=$v: PAM_AUTH_ERR" f "$ALICE"
done

# ================================================================ JWT
CLASS=jwt
for a in none None NONE nOnE 'none ' ''; do
	jwt_case PAM_AUTH_ERR "[jwt] alg \"$a\", empty signature: PAM_AUTH_ERR" "$(craft "$a" rsa)"
	jwt_case PAM_AUTH_ERR "[jwt] alg \"$a\" with a signature: PAM_AUTH_ERR" "$(craft "$a" rsa '{}' '' | sed 's/\.$/.c2ln/')"
done
for enc in pem pkcs1 der jwk n x; do
	jwt_case PAM_AUTH_ERR "[jwt] HS256 keyed with the RSA public key ($enc): PAM_AUTH_ERR" "$(craft HS256 rsa '{}' '' "$enc")"
done
for enc in pem der jwk x; do
	jwt_case PAM_AUTH_ERR "[jwt] HS256 keyed with the EC public key ($enc): PAM_AUTH_ERR" "$(craft HS256 ec '{}' '' "$enc")"
done
jwt_case PAM_AUTH_ERR "[jwt] HS384 keyed with the RSA public key (pem): PAM_AUTH_ERR" "$(craft HS384 rsa '{}' '' pem)"
jwt_case PAM_AUTH_ERR "[jwt] HS512 keyed with the Ed25519 public key (x): PAM_AUTH_ERR" "$(craft HS512 ed '{}' '' x)"
# Key type not fitting alg: the header names a key of another type.
jwt_case PAM_AUTH_ERR "[jwt] RS256 header naming the EC key: PAM_AUTH_ERR" "$(craft RS256 rsa '{"kid":"k-ec"}')"
jwt_case PAM_AUTH_ERR "[jwt] ES256 header naming the RSA key: PAM_AUTH_ERR" "$(craft ES256 ec '{"kid":"k-rsa"}')"
jwt_case PAM_AUTH_ERR "[jwt] EdDSA header naming the RSA key: PAM_AUTH_ERR" "$(craft EdDSA ed '{"kid":"k-rsa"}')"
jwt_case PAM_AUTH_ERR "[jwt] ES384 with a P-256 key: PAM_AUTH_ERR" "$(craft ES256 ec '{"alg":"ES384"}')"
jwt_case PAM_AUTH_ERR "[jwt] RS256 signature labelled PS256: PAM_AUTH_ERR" "$(craft RS256 rsa '{"alg":"PS256"}')"
node -e 'const fs = require("fs"); const [f, o] = process.argv.slice(1);
	const j = JSON.parse(fs.readFileSync(f, "utf8")); j.keys[0].alg = "RS256";
	fs.writeFileSync(o, JSON.stringify(j));' "$KEYS/jwks.json" "$TESTTMP/jwks-alg.json"
jwt_case PAM_AUTH_ERR "[jwt] PS256 with a JWK restricted to alg RS256: PAM_AUTH_ERR" "$(craft PS256 rsa)" "$TESTTMP/jwks-alg.json"
jwt_case PAM_SUCCESS "[jwt] control: PS256 from the same key without the restriction: PAM_SUCCESS" "$(craft PS256 rsa)"
jwt_case PAM_AUTH_ERR "[jwt] RS256 by an RSA 1024 key (kid k-small): PAM_AUTH_ERR" "$(craft RS256 small)"
jwt_case PAM_AUTH_ERR "[jwt] RS256 by an RSA 1024 key, the only key: PAM_AUTH_ERR" "$(craft RS256 small)" "$KEYS/jwks-small.json"
# Header parameters that carry or point to keys: refused, nothing fetched.
start_srv KEYHOSTPORT sink "$TESTTMP/keyhost.count"
KH="https://127.0.0.1:$KEYHOSTPORT"
jwt_case PAM_AUTH_ERR "[jwt] crit header: PAM_AUTH_ERR" "$(craft RS256 rsa '{"crit":["exp"]}')"
jwt_case PAM_AUTH_ERR "[jwt] jku header: PAM_AUTH_ERR" "$(craft RS256 rsa "{\"jku\":\"$KH/jwks\"}")"
jwt_case PAM_AUTH_ERR "[jwt] x5u header: PAM_AUTH_ERR" "$(craft RS256 rsa "{\"x5u\":\"$KH/cert.pem\"}")"
RSAJWK=$(node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); process.stdout.write(JSON.stringify(j.keys[0]))' "$KEYS/jwks.json")
jwt_case PAM_AUTH_ERR "[jwt] jwk header (the right key, even): PAM_AUTH_ERR" "$(craft RS256 rsa "{\"jwk\":$RSAJWK}")"
jwt_case PAM_AUTH_ERR "[jwt] x5c header: PAM_AUTH_ERR" "$(craft RS256 rsa '{"x5c":["MIIB"]}')"
jwt_case PAM_AUTH_ERR "[jwt] jku header, no kid: PAM_AUTH_ERR" "$(craft RS256 rsa "{\"jku\":\"$KH/jwks\",\"kid\":null}")"
is "$(cat "$TESTTMP/keyhost.count")" "0 connections, 0 bytes" "[jwt] nothing was fetched from jku/x5u"
for kid in '../../../../etc/passwd' '/dev/zero' "k-rsa' OR '1'='1" 'k-rsa"; DROP TABLE keys; --' '' 'k-rsa\u0000' \
	"$(head -c 5000 /dev/zero | tr '\0' k)"; do
	jwt_case PAM_AUTH_ERR "[jwt] kid $(printf '%s' "$kid" | head -c 40): PAM_AUTH_ERR" "$(craft RS256 rsa "{\"kid\": $(json_str "$kid")}")"
done
jwt_case PAM_AUTH_ERR "[jwt] signed by an unpublished key with a published kid: PAM_AUTH_ERR" "$(craft RS256 imposter)"
# Segments and encodings.
IFS=. read -r h p s <<<"$GOOD_TOK"
for t in "$h.$p" "$h" "$h.$p.$s.$s" "$h.$p.$s." ".$p.$s" "$h..$s" "$h.$p.$s==" "$h==.$p.$s" \
	"$(printf '%s' "$h.$p.$s" | tr '_-' '/+')" "$h.$p.$s " " $h.$p.$s" "$h.$p.$(printf '%s' "$s" | tr 'A-Za-z' 'a-zA-Z')"; do
	jwt_case PAM_AUTH_ERR "[jwt] token $(printf '%s' "$t" | sed 's/[A-Za-z0-9_-]\{8,\}/…/g'): PAM_AUTH_ERR" "$t"
done
pad=$(head -c 70000 /dev/zero | tr '\0' a)
big=$(craft RS256 rsa '{}' "$(payload "{\"pad\":\"$pad\"}")")
jwt_case PAM_AUTH_ERR "[jwt] a validly signed 94 kB token (over 64 KiB): PAM_AUTH_ERR" "$big"
big=$(head -c 600000 /dev/zero | tr '\0' A)
mock_reset
printf '{"access_token":"at","token_type":"Bearer","id_token":"%s.%s.%s"}' "$h" "$big" "$s" >"$TESTTMP/mega.json"
raw_case PAM_AUTHINFO_UNAVAIL "[jwt] a 600 kB token (over the response cap): PAM_AUTHINFO_UNAVAIL" "$TESTTMP/mega.json"
for m in zero short long der; do
	jwt_case PAM_AUTH_ERR "[jwt] ES256 signature $m: PAM_AUTH_ERR" "$(craft ES256 ec '{}' '' "$m")"
done
jwt_case PAM_AUTH_ERR "[jwt] EdDSA signature zero: PAM_AUTH_ERR" "$(craft EdDSA ed '{}' '' zero)"
jwt_case PAM_AUTH_ERR "[jwt] RS256 signature short: PAM_AUTH_ERR" "$(craft RS256 rsa '{}' '' short)"
jwt_case PAM_SUCCESS "[jwt] control: ES256 from the JWKS: PAM_SUCCESS" "$(craft ES256 ec)"
jwt_case PAM_SUCCESS "[jwt] control: EdDSA from the JWKS: PAM_SUCCESS" "$(craft EdDSA ed)"
# Times.
T=$(now)
for c in 'exp:null' 'iat:null' "exp:\"$((T + 300))\"" "iat:\"$T\"" "nbf:\"$T\"" "exp:$((T + 300)).5" \
	"iat:$T.0" "nbf:$T.5" 'exp:-1' 'iat:-1' 'nbf:-1' 'exp:1' "iat:$((T + 3600))" "nbf:$((T + 3600))" \
	'iat:9223372036854775807' 'nbf:9223372036854775807' 'exp:1e400' 'exp:-9223372036854775808' \
	'iat:99999999999999999999'; do
	jwt_case PAM_AUTH_ERR "[jwt] ${c%%:*}=${c#*:}: PAM_AUTH_ERR" \
		"$(craft RS256 rsa '{}' "$(rawpayload "${c%%:*}" "${c#*:}")")"
done
jwt_case PAM_SUCCESS "[jwt] nbf absent (optional): PAM_SUCCESS" "$(craft RS256 rsa '{}' "$(payload '{"nbf":null}')")"
jwt_case PAM_SUCCESS "[jwt] exp 9223372036854775807 (far future, allowed): PAM_SUCCESS" \
	"$(craft RS256 rsa '{}' "$(payload '{"exp":9223372036854775807}')")"
# Audience and authorised party.
for c in 'aud:null' 'aud:"other"' "aud:[\"other\"]" "aud:[\"$CID\",\"stranger\"]" 'aud:[]' \
	"aud:\"${CID}x\"" 'azp:"other"' "azp:\"$CID \"" "aud:[\"$CID\",\"$CID\",\"stranger\"]"; do
	jwt_case PAM_AUTH_ERR "[jwt] ${c%%:*}=${c#*:}: PAM_AUTH_ERR" \
		"$(craft RS256 rsa '{}' "$(rawpayload "${c%%:*}" "${c#*:}")")"
done
jwt_case PAM_AUTH_ERR "[jwt] aud list with a stranger, no azp: PAM_AUTH_ERR" \
	"$(craft RS256 rsa '{}' "$(payload "{\"aud\": [\"$CID\",\"stranger\"], \"azp\": null}")")"
jwt_case PAM_SUCCESS "[jwt] control: aud [\"$CID\"], no azp: PAM_SUCCESS" \
	"$(craft RS256 rsa '{}' "$(payload "{\"aud\": [\"$CID\"], \"azp\": null}")")"
# An access token is not an ID token.
for typ in at+jwt AT+JWT application/at+jwt; do
	jwt_case PAM_AUTH_ERR "[jwt] typ $typ: PAM_AUTH_ERR" "$(craft RS256 rsa "{\"typ\":\"$typ\"}")"
done
jwt_case PAM_AUTH_ERR "[jwt] an access token shaped JWT (aud an API, client_id, scope): PAM_AUTH_ERR" \
	"$(craft RS256 rsa '{}' "$(payload "{\"aud\":\"https://api.example\",\"azp\":null,\"client_id\":\"$CID\",\"scope\":\"openid\"}")")"
# The access token itself presented as the ID token.
mock_reset
mock_scenario '{"token_response_overrides": {"access_token": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"}, "id_token_raw": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"}'
fa PAM_AUTH_ERR "[jwt] the access token (unsigned by our keys) as the ID token: PAM_AUTH_ERR" f "$ALICE"
jwt_case PAM_AUTH_ERR "[jwt] a valid signature, iss another issuer: PAM_AUTH_ERR" \
	"$(craft RS256 rsa '{}' "$(payload '{"iss":"https://other-idp.example"}')")"
jwt_case PAM_AUTH_ERR "[jwt] a valid signature, iss with a trailing slash: PAM_AUTH_ERR" \
	"$(craft RS256 rsa '{}' "$(payload "{\"iss\":\"$MOCK_URL/\"}")")"

# ================================================================ identity
CLASS=identity
idc() { # idc WANT DESCRIPTION CLAIM-JSON-VALUE
	mock_reset
	mock_scenario "{\"id_token_claims\": {\"preferred_username\": $3}}"
	fa "$1" "$2" f "$ALICE"
}
idc PAM_SUCCESS "[identity] control: the exact user name: PAM_SUCCESS" "\"$ALICE\""
idc PAM_AUTH_ERR "[identity] a prefix of the user name: PAM_AUTH_ERR" "\"${ALICE%?}\""
idc PAM_AUTH_ERR "[identity] the user name with a suffix after @: PAM_AUTH_ERR" "\"$ALICE@example.test\""
idc PAM_AUTH_ERR "[identity] empty: PAM_AUTH_ERR" '""'
idc PAM_AUTH_ERR "[identity] the user name then NUL: PAM_AUTH_ERR" "\"$ALICE\\u0000\""
idc PAM_AUTH_ERR "[identity] NUL then the user name: PAM_AUTH_ERR" "\"\\u0000$ALICE\""
idc PAM_AUTH_ERR "[identity] upper case: PAM_AUTH_ERR" "\"$(printf '%s' "$ALICE" | tr a-z A-Z)\""
idc PAM_AUTH_ERR "[identity] one letter upper case: PAM_AUTH_ERR" "\"O${ALICE#o}\""
idc PAM_AUTH_ERR "[identity] Cyrillic о for o (confusable): PAM_AUTH_ERR" "\"\\u043e${ALICE#o}\""
idc PAM_AUTH_ERR "[identity] a fullwidth o (NFKC-equal): PAM_AUTH_ERR" "\"\\uff4f${ALICE#o}\""
idc PAM_AUTH_ERR "[identity] trailing space: PAM_AUTH_ERR" "\"$ALICE \""
idc PAM_AUTH_ERR "[identity] leading space: PAM_AUTH_ERR" "\" $ALICE\""
idc PAM_AUTH_ERR "[identity] trailing newline: PAM_AUTH_ERR" "\"$ALICE\\n\""
idc PAM_AUTH_ERR "[identity] trailing zero-width space: PAM_AUTH_ERR" "\"$ALICE\\u200b\""
idc PAM_AUTH_ERR "[identity] an array holding the user name: PAM_AUTH_ERR" "[\"$ALICE\"]"
mock_reset
mock_scenario "{\"id_token_claims\": {\"preferred_username\": null, \"sub\": \"$CID\", \"client_id\": \"$CID\"}, \"userinfo_claims\": {\"preferred_username\": null, \"sub\": \"$CID\"}}"
fa PAM_AUTH_ERR "[identity] a client-credentials style token: no user at all: PAM_AUTH_ERR" f "$ALICE"
mock_reset
mock_scenario '{"omit_id_token": true, "userinfo_status": 401, "userinfo_raw": "{\"error\":\"invalid_token\"}"}'
fa PAM_AUTH_ERR "[identity] an access token userinfo refuses (not a user's): PAM_AUTH_ERR" f "$ALICE"
write_service femail <<SVC
auth required @MODULE@ config=$CONF username_claim=email
SVC
mock_reset
mock_scenario "{\"id_token_claims\": {\"email\": \"$ALICE@example.test\"}}"
fa PAM_AUTH_ERR "[identity] username_claim=email: an address whose local part is the user: PAM_AUTH_ERR" femail "$ALICE"
mock_reset
mock_scenario "{\"id_token_claims\": {\"email\": \"$ALICE\"}}"
fa PAM_SUCCESS "[identity] control: username_claim=email equal to the user: PAM_SUCCESS" femail "$ALICE"

# ================================================================ PAM API
CLASS=pam
mock_reset
long=$(head -c 10240 /dev/zero | tr '\0' a)
fa PAM_USER_UNKNOWN "[pam] a 10 KB user name: PAM_USER_UNKNOWN" f "$long"
for u in $'oa2f\nalice' $'oa2f\ralice' $'oa2f\x1b[2Jalice' $'oa2f\x7falice' $'oa2f\talice' '-oa2falice'; do
	fa PAM_USER_UNKNOWN "[pam] user name $(printf '%q' "$u"): PAM_USER_UNKNOWN" f "$u"
done
is "$(mock_count /token)" 0 "[pam] no token request for any of those"
allbytes=$(printf '%02x' $(seq 1 255) | tr -d ' \n')
mock_reset
fa PAM_AUTH_ERR "[pam] a password of every byte 0x01-0xff (wrong): PAM_AUTH_ERR" f "$ALICE" "$allbytes" hexreply
is "$(mock_form_param /token password)" "$allbytes" "[pam] the IdP received exactly those 255 bytes"
mock_reset
out=$(printf 'wrong1\nwrong2\n%s\n' "$PW" | pam_run f "$ALICE" auth auth auth acct)
is "$(printf '%s' "$out" | tr '\n' ' ')" "auth=PAM_AUTH_ERR auth=PAM_AUTH_ERR auth=PAM_SUCCESS acct=PAM_SUCCESS" \
	"[pam] three pam_authenticate calls on one handle: wrong, wrong, right"
is "$(mock_count /token)" 3 "[pam] three token requests"
write_service facct <<SVC
auth    required @MODULE@ config=$CONF
account [success=done ignore=ignore default=die] @MODULE@ config=$CONF
account requisite pam_deny.so
SVC
mock_reset
out=$(printf '%s\nwrong\n' "$PW" | pam_run facct "$ALICE" auth auth acct)
is "$(printf '%s' "$out" | tr '\n' ' ')" "auth=PAM_SUCCESS auth=PAM_AUTH_ERR acct=PAM_AUTH_ERR" \
	"[pam] right then wrong on one handle: the first success does not linger into acct_mgmt"
mock_reset
out=$(printf '%s\n' "$PW" | pam_run f "$ALICE" auth forkend)
is "$(printf '%s' "$out" | tr '\n' ' ')" "auth=PAM_SUCCESS forkend=exit:0" "[pam] pam_end in a forked child, then in the parent"
out=$(printf 'wrong\n' | pam_run f "$ALICE" auth forkend)
is "$(printf '%s' "$out" | tr '\n' ' ')" "auth=PAM_AUTH_ERR forkend=exit:0" "[pam] pam_end in a forked child after a failure"
mock_reset
out=$(pam_run f "$ALICE" auth nullconv sigcheck </dev/null)
is "$(printf '%s' "$out" | head -1)" "auth=PAM_CONV_ERR" "[pam] no conversation (as in password.sh), with sigcheck: PAM_CONV_ERR"
out=$(printf '\n%s\n' "$PW" | pam_run f "" auth)
is "$out" "auth=PAM_USER_UNKNOWN" "[pam] no user, and the conversation gives an empty name: PAM_USER_UNKNOWN"

# ================================================================ environment of a setuid caller
CLASS=env
SU=oa2fs$RANDOM
add_user "$SU"
SUIDDIR=$(mktemp -d /tmp/oa2fsuid.XXXXXX)
on_exit "rm -rf $SUIDDIR"
chmod 0711 "$SUIDDIR"
cp "$PAMTEST" "$SUIDDIR/pamtest"
chown root:root "$SUIDDIR/pamtest"
chmod 4755 "$SUIDDIR/pamtest"
KL="$SUIDDIR/keylog"
mkdir -m 0777 "$SUIDDIR/u"
start_srv PROXYPORT sink "$TESTTMP/proxy.count"
PX="http://127.0.0.1:$PROXYPORT"
mock_reset
out=$(printf '%s\n' "$PW" | runuser -u "$SU" -- env -i PATH=/usr/bin:/bin \
	https_proxy="$PX" HTTPS_PROXY="$PX" http_proxy="$PX" ALL_PROXY="$PX" all_proxy="$PX" \
	NO_PROXY= no_proxy= SSLKEYLOGFILE="$KL" CURL_CA_BUNDLE=/nonexistent SSL_CERT_FILE=/nonexistent \
	"$SUIDDIR/pamtest" "$TESTTMP/pam.d" f "$ALICE" auth 2>"$TESTTMP/suid.err")
is "$out" "auth=PAM_SUCCESS" "[env] setuid caller run by $SU with proxy and key-log variables: PAM_SUCCESS"
is "$(cat "$TESTTMP/proxy.count")" "0 connections, 0 bytes" "[env] no proxy contacted"
ok "$([ ! -e "$KL" ] && echo 0 || echo 1)" "[env] no TLS key log written (SSLKEYLOGFILE)"
is "$(mock_count /token)" 1 "[env] the token request went straight to the IdP"
is "$(grep -c 'Sanitizer\|runtime error\|valgrind' "$TESTTMP/suid.err")" 0 "[env] the setuid run reported no memory error"
mock_reset
out=$(printf '%s\n' "$PW" | https_proxy="$PX" HTTPS_PROXY="$PX" ALL_PROXY="$PX" SSLKEYLOGFILE="$KL.root" \
	pam_run f "$ALICE" auth)
is "$out" "auth=PAM_SUCCESS" "[env] root caller with the same variables: PAM_SUCCESS"
is "$(cat "$TESTTMP/proxy.count")" "0 connections, 0 bytes" "[env] no proxy contacted by a root caller either"
ok "$([ ! -e "$KL.root" ] && echo 0 || echo 1)" "[env] and no key log"

# ================================================================ summary
CLASS=all
is "${#SIGBAD[@]}" 0 "[signals] SIGPIPE/SIGALRM dispositions and ITIMER_REAL unchanged in all $RUNS sigcheck runs${SIGBAD:+ (changed: ${SIGBAD[*]})}"
done_testing
