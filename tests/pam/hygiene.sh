#!/usr/bin/env bash
# hygiene.sh - secrets and process hygiene (issue 6): with debug on and
# canary values as password, client secret, device code and tokens, no
# canary may reach syslog, stdout or stderr (nor a core file); the module
# writes nothing to stdout/stderr itself (under sshd -i stdout is the
# client's socket); loading and unloading it 1000 times and 64 threads
# each with its own handle work (tests/run-sanitizers.sh repeats this
# under ASan/UBSan and valgrind).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/common.sh"

ALICE=oa2ha$RANDOM
CID=pam-hyg
STRESS="$top_builddir/tests/pam/stress"
JWTCRAFT="$top_srcdir/tests/pam/jwtcraft.js"
[ -x "$STRESS" ] || bail "stress not built: $STRESS"
add_user "$ALICE"

# Canaries: distinctive, and plain form-safe text so every encoding the
# module might use (form, Basic) is easy to search for too.
C_PW=CanaryPassw0rdQ7x
C_CS=CanarySecretZ9k
C_AT=CanaryAccessTokenM4v
C_RT=CanaryRefreshTokenP2w
C_DC=CanaryDeviceCodeH8j
C_OTP=CanaryOtp551

cat >"$TESTTMP/users.json" <<JSON
{ "$ALICE": { "password": "$C_PW", "sub": "sub-alice" } }
JSON
start_mock --users "$TESTTMP/users.json" --client-id "$CID" --client-secret "$C_CS"

CONF="$TESTTMP/oauth2.conf"
write_conf "$CONF" <<CONF
issuer = $MOCK_URL
client_id = $CID
client_secret = $C_CS
ca_file = $PKI/ca.pem
cache_dir = $TESTTMP/cache
offline_dir = $TESTTMP/offline
timeout = ${OA2_TEST_TIMEOUT:-5}
debug = yes
CONF
write_service h <<SVC
auth    required @MODULE@ config=$CONF debug
account required @MODULE@ config=$CONF debug
SVC
write_service hpost <<SVC
auth required @MODULE@ config=$CONF debug client_auth=post
SVC
write_service hotp <<SVC
auth required @MODULE@ config=$CONF debug otp=prompt
SVC
write_service hdev <<SVC
auth required @FAKEMODULE@ config=$CONF debug grants=device qr_code=no device_timeout=20
SVC
write_service hboth <<SVC
auth required @FAKEMODULE@ config=$CONF debug [grants=password device]
SVC

# A crafted, valid ID token whose text we know, so it can be searched for.
KEYS="$TESTTMP/keys"
node "$JWTCRAFT" "$KEYS" init || bail "jwtcraft init"
pay=$(node -e 'const [i, c, u] = process.argv.slice(1); const n = Math.floor(Date.now() / 1000);
	process.stdout.write(JSON.stringify({ iss: i, aud: c, sub: "sub-alice", exp: n + 300, iat: n,
		preferred_username: u }));' "$MOCK_URL" "$CID" "$ALICE")
C_IDT=$(node "$JWTCRAFT" "$KEYS" sign RS256 rsa '{}' "$pay")
C_IDT_SIG=${C_IDT##*.}
JWKS=$(node -e 'process.stdout.write(JSON.stringify(require("fs").readFileSync(process.argv[1], "utf8")))' "$KEYS/jwks.json")

# grants = token: a crafted JWT access token and an opaque canary token.
write_service htok <<SVC
auth    required @MODULE@ config=$CONF debug grants=token token_audience=ssh://hygiene token_clients=ci,$CID
account required @MODULE@ config=$CONF debug
SVC
atpay=$(node -e 'const [i, u] = process.argv.slice(1); const n = Math.floor(Date.now() / 1000);
	process.stdout.write(JSON.stringify({ iss: i, aud: "ssh://hygiene", sub: "sub-alice", client_id: "ci",
		jti: "hygiene-jti", exp: n + 300, iat: n, preferred_username: u }));' "$MOCK_URL" "$ALICE")
C_JAT=$(node "$JWTCRAFT" "$KEYS" sign RS256 rsa '{"typ":"at+jwt"}' "$atpay")
C_OPQ=CanaryOpaqueTokenR5tCanaryOpaqueTokenR5tW

OUTS="$TESTTMP/outs"
mkdir -p "$OUTS"
# hrun runs in $(...): the login count and the logins that wrote to
# stdout/stderr are kept in files, not in variables a subshell would lose.
NFILE="$TESTTMP/hrun.n"
STDIO_BAD_FILE="$TESTTMP/stdio.bad"
echo 0 >"$NFILE"
: >"$STDIO_BAD_FILE"
# hrun SCENARIO SERVICE ANSWERS...: one login with stdiocheck; stdout and
# the prompts (stderr) are kept for the search below.
hrun() {
	local scen=$1 svc=$2 n
	shift 2
	n=$(($(cat "$NFILE") + 1))
	echo "$n" >"$NFILE"
	mock_reset
	[ -n "$scen" ] && mock_scenario "$scen"
	printf '%s\n' "$@" | LD_PRELOAD="$LOGSHIM" ${OA2_PAMTEST_WRAPPER:-} "$PAMTEST" "$TESTTMP/pam.d" "$svc" "$ALICE" \
		auth acct stdiocheck >"$OUTS/$n.out" 2>"$OUTS/$n.err"
	grep '^stdio=' "$OUTS/$n.out" | grep -qv '^stdio=0$' && echo "$n:$svc:$scen" >>"$STDIO_BAD_FILE"
	sed -n 's/^auth=//p' "$OUTS/$n.out"
}

good="{\"id_token_raw\": \"$C_IDT\", \"jwks_raw\": $JWKS, \"token_response_overrides\": {\"access_token\": \"$C_AT\", \"refresh_token\": \"$C_RT\"}}"
is "$(hrun "$good" h "$C_PW")" PAM_SUCCESS "canary login: PAM_SUCCESS (the canaries went through the whole flow)"
is "$(mock_last /token headers.authorization)" "Basic $(printf '%s:%s' "$CID" "$C_CS" | base64 -w0)" \
	"the client secret canary was sent (Basic)"
is "$(hrun "$good" hpost "$C_PW")" PAM_SUCCESS "canary login, client_auth=post: PAM_SUCCESS"
is "$(hrun "$good" hotp "$C_PW" "$C_OTP")" PAM_SUCCESS "canary login with a one-time code: PAM_SUCCESS"
is "$(hrun '' h "${C_PW}x")" PAM_AUTH_ERR "canary wrong password: PAM_AUTH_ERR"
is "$(hrun '{"status_for_path": {"/token": 503}}' h "$C_PW")" PAM_AUTHINFO_UNAVAIL "canary with a 503: PAM_AUTHINFO_UNAVAIL"
is "$(hrun "{\"token_status\": 200, \"token_body_raw\": \"{\\\"access_token\\\":\\\"$C_AT\\\",\\\"refresh_token\\\":\\\"$C_RT\\\",\\\"token_type\\\":\\\"mac\\\"}\"}" h "$C_PW")" \
	PAM_AUTHINFO_UNAVAIL "canary tokens in a malformed response: PAM_AUTHINFO_UNAVAIL"
is "$(hrun "{\"token_status\": 400, \"token_body_raw\": \"{\\\"error\\\":\\\"invalid_grant\\\",\\\"error_description\\\":\\\"$C_AT $C_PW\\\"}\"}" h "$C_PW")" \
	PAM_AUTH_ERR "canaries echoed back in an error_description: PAM_AUTH_ERR"
is "$(hrun "{\"id_token_raw\": \"$C_IDT\", \"jwks_raw\": $JWKS, \"id_token_claims\": {}, \"token_response_overrides\": {\"access_token\": \"$C_AT\"}, \"jwks_kids\": []}" h "$C_PW")" \
	PAM_SUCCESS "canary ID token again (cached keys)"
is "$(hrun "{\"id_token_raw\": \"${C_IDT%.*}.${C_IDT_SIG}AA\", \"jwks_raw\": $JWKS, \"token_response_overrides\": {\"access_token\": \"$C_AT\"}}" h "$C_PW")" \
	PAM_AUTH_ERR "canary ID token with a bad signature: PAM_AUTH_ERR"
is "$(hrun "{\"omit_id_token\": true, \"token_response_overrides\": {\"access_token\": \"$C_AT\"}}" h "$C_PW")" \
	PAM_AUTH_ERR "canary access token refused by userinfo: PAM_AUTH_ERR"
is "$(hrun "{\"device_response_overrides\": {\"device_code\": \"$C_DC\"}, \"device_interval\": 1}" hdev "")" \
	PAM_AUTH_ERR "canary device code (unknown to the IdP when polled): PAM_AUTH_ERR"
is "$(hrun "{\"device_response_overrides\": {\"device_code\": \"$C_DC\"}, \"device_interval\": 1, \"status_for_path\": {\"/token\": 503}}" hdev "")" \
	PAM_AUTHINFO_UNAVAIL "canary device code, polls failing: PAM_AUTHINFO_UNAVAIL"
is "$(hrun "{\"device_poll_script\": [\"authorization_pending\", \"approve\"], \"device_interval\": 1, \"id_token_raw\": \"$C_IDT\", \"jwks_raw\": $JWKS, \"token_response_overrides\": {\"access_token\": \"$C_AT\", \"refresh_token\": \"$C_RT\"}}" hdev "")" \
	PAM_SUCCESS "canary tokens through the device grant: PAM_SUCCESS"
is "$(hrun "{\"password_grant_error\": \"interaction_required\", \"device_poll_script\": [\"approve\"], \"device_interval\": 1}" hboth "$C_PW" "")" \
	PAM_SUCCESS "canary password, then the device grant: PAM_SUCCESS"

is "$(hrun "{\"jwks_raw\": $JWKS}" htok "$C_JAT")" PAM_SUCCESS "canary JWT access token (grants = token): PAM_SUCCESS"
is "$(hrun "{\"jwks_raw\": $JWKS}" htok "${C_JAT%.*}.${C_IDT_SIG}")" PAM_AUTH_ERR "canary JWT access token with another signature: PAM_AUTH_ERR"
is "$(hrun '' htok "$C_OPQ")" PAM_AUTH_ERR "canary opaque token, inactive at introspection: PAM_AUTH_ERR"
is "$(mock_form_param /introspect token)" "$(printf '%s' "$C_OPQ" | od -An -tx1 | tr -d ' \n')" "the opaque canary was introspected"

# ---------------------------------------------------------------- search
like "$(cat "$OA2_LOG_CAPTURE")" 'password length [0-9]+' "debug lines were logged (the search means something)"
ok "$([ -s "$OA2_LOG_CAPTURE" ] && echo 0 || echo 1)" "syslog captured ($(wc -l <"$OA2_LOG_CAPTURE") lines)"
# Every place the module could have written to: syslog, every stdout,
# every stderr of the logins, and core files if any appeared.
cores=$(find "$TESTTMP" "$PWD" /tmp -maxdepth 2 -newer "$CONF" \( -name 'core' -o -name 'core.[0-9]*' \) 2>/dev/null)
is "$cores" "" "no core file appeared"
basic=$(printf '%s:%s' "$CID" "$C_CS" | base64 -w0)
for c in "$C_PW" "$C_CS" "$C_AT" "$C_RT" "$C_DC" "$C_OTP" "$C_IDT_SIG" "${C_IDT%%.*}.${C_IDT#*.}" "$basic" \
	"${C_JAT##*.}" "$C_JAT" "$C_OPQ"; do
	hits=$(grep -rlF -- "$c" "$OA2_LOG_CAPTURE" "$OUTS" $cores 2>/dev/null | sed "s|$TESTTMP/||")
	is "$hits" "" "canary ${c:0:24}... found nowhere"
done
# The device code may not even appear in the prompts (the user code does).
like "$(cat "$OUTS"/*.err)" 'Confirm the code' "the device prompts were captured"
is "$(ls "$OUTS"/*.out | wc -l) $(cat "$NFILE")" "17 17" "17 logins, the stdout and stderr of each kept for the search"
is "$(cat "$STDIO_BAD_FILE")" "" "the module wrote nothing to stdout or stderr in $(cat "$NFILE") logins"

# Errors that make libcurl and OpenSSL talk (TLS failure, DNS, refused)
# must stay quiet too.
write_service hquiet <<SVC
auth required @MODULE@ config=$CONF debug ca_file=$PKI/other-ca.pem
auth required @MODULE@ config=$CONF debug issuer=https://oa2h-none.invalid
auth required @MODULE@ config=$CONF debug issuer=https://127.0.0.1:1
SVC
out=$(printf '%s\n' "$C_PW" | LD_PRELOAD="$LOGSHIM" ${OA2_PAMTEST_WRAPPER:-} "$PAMTEST" "$TESTTMP/pam.d" hquiet "$ALICE" auth stdiocheck 2>"$TESTTMP/quiet.err")
is "$out" $'stdio=0\nauth=PAM_AUTHINFO_UNAVAIL' "TLS, DNS and connect failures: nothing on stdout/stderr"
is "$(grep -v '^PROMPT' "$TESTTMP/quiet.err")" "" "and nothing but the prompt on the real stderr"

# ---------------------------------------------------------------- host process
# OA2_HYGIENE_SCALE=dlopen,cycles,threads (default 1000,50,64): the valgrind
# run (tests/run-sanitizers.sh) uses fewer: a leak per load or per login
# shows in any count above one, and memcheck runs threads one at a time.
IFS=, read -r N_DLOPEN N_CYCLES N_THREADS <<<"${OA2_HYGIENE_SCALE:-1000,50,64}"
out=$(${OA2_PAMTEST_WRAPPER:-} "$STRESS" dlopen "$MODULE" "$N_DLOPEN")
is "$(echo "$out" | tr '\n' ' ')" "cycles=$N_DLOPEN done " "$N_DLOPEN dlopen/dlclose cycles of the module"
mock_reset
mock_scenario "$good"
out=$(OA2_STRESS_ANSWER="${C_PW}x" LD_PRELOAD="$LOGSHIM" ${OA2_PAMTEST_WRAPPER:-} "$STRESS" cycles "$TESTTMP/pam.d" h "$ALICE" "$N_CYCLES")
is "$(echo "$out" | tr '\n' ' ')" "Authentication failure=$N_CYCLES done " \
	"$N_CYCLES pam_start/pam_authenticate/pam_end cycles (pam_end dlcloses the module each time; once it has set up libcurl it stays mapped)"
mock_reset
mock_scenario "$good"
out=$(OA2_STRESS_ANSWER="$C_PW" LD_PRELOAD="$LOGSHIM" ${OA2_PAMTEST_WRAPPER:-} "$STRESS" threads "$TESTTMP/pam.d" h "$ALICE" "$N_THREADS")
is "$(echo "$out" | tr '\n' ' ')" "PAM_SUCCESS=$N_THREADS done " "$N_THREADS threads, each with its own handle, all logged in"
is "$(mock_count /token)" "$N_THREADS" "$N_THREADS token requests"
hits=$(grep -cF -- "$C_PW" "$OA2_LOG_CAPTURE")
is "$hits" 0 "no password in syslog after the stress runs either"
done_testing
