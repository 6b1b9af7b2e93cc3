#!/usr/bin/env bash
# password.sh - the password grant through the real libpam against the
# scriptable mock IdP over HTTPS with a test CA.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/common.sh"

ALICE=oa2alice
BOB=oa2bob
ALICE_PW='p&ss=w+rd%20ü€ x'
BOB_PW='bob-Pa55'
SECRET='cl1ent&secret=+%'
add_user "$ALICE"
add_user "$BOB"

cat >"$TESTTMP/users.json" <<JSON
{ "$ALICE": { "password": "$ALICE_PW", "sub": "sub-alice", "scope": "openid profile" },
  "$BOB": { "password": "$BOB_PW", "sub": "sub-bob", "scope": "openid" } }
JSON
start_mock --users "$TESTTMP/users.json" --client-id pam-test --client-secret "$SECRET"

CONF="$TESTTMP/oauth2.conf"
write_conf "$CONF" <<CONF
# test configuration
issuer = $MOCK_URL
client_id = pam-test
client_secret = $SECRET
ca_file = $PKI/ca.pem
cache_dir = $TESTTMP/cache
offline_dir = $TESTTMP/offline
scope = openid profile
timeout = ${OA2_TEST_TIMEOUT:-5}
CONF
write_service oa2 <<SVC
auth    required @MODULE@ config=$CONF debug
account required @MODULE@ config=$CONF
SVC

hex() { printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n'; }

# ---------------------------------------------------------------- success
mock_reset
out=$(printf '%s\n' "$ALICE_PW" | pam_run oa2 "$ALICE" auth acct setcred)
like "$out" '^auth=PAM_SUCCESS$' "right password: PAM_SUCCESS"
like "$out" 'acct=PAM_SUCCESS' "acct_mgmt after our authentication: PAM_SUCCESS"
like "$out" 'setcred=PAM_SUCCESS' "setcred: PAM_SUCCESS"
is "$(mock_form_param /token password)" "$(hex "$ALICE_PW")" \
	"the IdP saw the exact password bytes (& = + %20 and UTF-8)"
is "$(mock_form_param /token username)" "$(hex "$ALICE")" "username sent"
is "$(mock_form_param /token grant_type)" "$(hex password)" "grant_type=password"
is "$(mock_form_param /token scope)" "$(hex 'openid profile')" "scope sent"
is "$(mock_form_param /token client_secret)" "absent" "basic auth: no secret in the body"
is "$(mock_last /token url)" "/token" "nothing in the token URL's query"
want_b64=$(printf '%s' "pam-test:cl1ent%26secret%3D%2B%25" | base64 -w0)
is "$(mock_last /token headers.authorization)" "Basic $want_b64" \
	"client secret form-encoded then Basic (RFC 6749 2.3.1)"
is "$(mock_count /.well-known/openid-configuration)" 1 "one discovery request"
is "$(mock_count /jwks)" 1 "one JWKS request"
log=$(cat "$OA2_LOG_CAPTURE")
like "$log" "decision user=$ALICE service=oa2 rhost=- grant=password result=allow reason=ok" \
	"syslog has the allow decision"

# ---------------------------------------------------------------- failures
mock_reset
is "$(auth_with oa2 "$ALICE" 'wrong-password')" PAM_AUTH_ERR "wrong password: PAM_AUTH_ERR"
like "$(cat "$OA2_LOG_CAPTURE")" "result=deny reason=invalid_grant" "syslog says invalid_grant"

# A stack that tells the module's PAM_IGNORE apart: ignore falls through
# to pam_deny (PAM_AUTH_ERR); success is done; any error dies with its code.
write_service oa2acct <<SVC
auth    required @MODULE@ config=$CONF
account [success=done ignore=ignore default=die] @MODULE@ config=$CONF
account requisite pam_deny.so
SVC
out=$(printf '%s\n' "$ALICE_PW" | pam_run oa2acct "$ALICE" auth acct)
is "$(echo "$out" | tail -1)" "acct=PAM_SUCCESS" "acct_mgmt after our authentication: PAM_SUCCESS"
out=$(pam_run oa2acct "$ALICE" acct </dev/null)
is "$out" "acct=PAM_AUTH_ERR" "acct_mgmt without our authentication: PAM_IGNORE (fell through to pam_deny)"
out=$(printf 'wrong\n' | pam_run oa2acct "$ALICE" auth acct)
is "$(echo "$out" | tail -1)" "acct=PAM_AUTH_ERR" "acct_mgmt after a failed authentication: PAM_IGNORE"
out=$(pam_run oa2 "$ALICE" setcred </dev/null)
is "$out" "setcred=PAM_SUCCESS" "setcred without our authentication: PAM_SUCCESS, never an error"

mock_reset
mock_scenario "{\"id_token_claims\": {\"preferred_username\": \"$BOB\"}}"
is "$(auth_with oa2 "$ALICE" "$ALICE_PW")" PAM_AUTH_ERR "ID token naming another user: PAM_AUTH_ERR"
like "$(grep decision "$OA2_LOG_CAPTURE" | tail -1)" "reason=identity_mismatch .* sub=sub-alice$" \
	"logged as identity_mismatch, with the sub of the (genuine) token that was refused"

mock_reset
mock_scenario "{\"id_token_claims\": {\"preferred_username\": \"${ALICE}x\"}}"
is "$(auth_with oa2 "$ALICE" "$ALICE_PW")" PAM_AUTH_ERR "claim extending the user name: PAM_AUTH_ERR"

mock_reset
mock_scenario '{"id_token_claims": {"aud": "someone-else"}}'
is "$(auth_with oa2 "$ALICE" "$ALICE_PW")" PAM_AUTH_ERR "foreign audience: PAM_AUTH_ERR"

mock_reset
mock_scenario '{"id_token_claims": {"iss": "https://evil.example"}}'
is "$(auth_with oa2 "$ALICE" "$ALICE_PW")" PAM_AUTH_ERR "foreign issuer: PAM_AUTH_ERR"

mock_reset
mock_scenario '{"id_token_claims": {"exp": 1000}}'
is "$(auth_with oa2 "$ALICE" "$ALICE_PW")" PAM_AUTH_ERR "expired ID token: PAM_AUTH_ERR"

mock_reset
mock_scenario '{"alg": "none"}'
is "$(auth_with oa2 "$ALICE" "$ALICE_PW")" PAM_AUTH_ERR "alg none: PAM_AUTH_ERR"

mock_reset
mock_scenario '{"alg": "HS256"}'
is "$(auth_with oa2 "$ALICE" "$ALICE_PW")" PAM_AUTH_ERR "HS256 keyed with the public key: PAM_AUTH_ERR"

mock_reset
mock_scenario '{"id_token_bad_signature": true}'
is "$(auth_with oa2 "$ALICE" "$ALICE_PW")" PAM_AUTH_ERR "bad signature: PAM_AUTH_ERR"

for alg in RS256 PS256 ES256 EdDSA; do
	mock_reset
	mock_scenario "{\"alg\": \"$alg\"}"
	is "$(auth_with oa2 "$ALICE" "$ALICE_PW")" PAM_SUCCESS "ID token signed with $alg: PAM_SUCCESS"
done

# ---------------------------------------------------------------- userinfo
mock_reset
mock_scenario '{"omit_id_token": true}'
is "$(auth_with oa2 "$ALICE" "$ALICE_PW")" PAM_SUCCESS "no ID token: identity from userinfo"
is "$(mock_count /userinfo)" 1 "userinfo asked once"
like "$(mock_last /userinfo headers.authorization)" '^Bearer .+' "userinfo called with the access token"

mock_reset
mock_scenario "{\"omit_id_token\": true, \"userinfo_claims\": {\"preferred_username\": \"$BOB\"}}"
is "$(auth_with oa2 "$ALICE" "$ALICE_PW")" PAM_AUTH_ERR "userinfo naming another user: PAM_AUTH_ERR"

mock_reset
mock_scenario '{"id_token_claims": {"preferred_username": null}, "userinfo_claims": {"sub": "other-sub"}}'
is "$(auth_with oa2 "$ALICE" "$ALICE_PW")" PAM_AUTH_ERR \
	"userinfo about another subject than the ID token: PAM_AUTH_ERR"

mock_reset
mock_scenario '{"id_token_claims": {"preferred_username": null}}'
is "$(auth_with oa2 "$ALICE" "$ALICE_PW")" PAM_SUCCESS \
	"ID token without the username claim: completed from userinfo (same sub)"

# ---------------------------------------------------------------- no request
mock_reset
is "$(auth_with oa2 "$ALICE" '')" PAM_AUTH_ERR "empty password: PAM_AUTH_ERR"
is "$(auth_with oa2 oa2nosuchuser "$ALICE_PW")" PAM_USER_UNKNOWN "unknown local user: PAM_USER_UNKNOWN"
is "$(auth_with oa2 $'bad\001name' "$ALICE_PW")" PAM_USER_UNKNOWN \
	"control character in the user name: PAM_USER_UNKNOWN"
is "$(mock_count /token)" 0 "none of these sent a token request"
like "$(cat "$OA2_LOG_CAPTURE")" 'user=bad\\x01name' "the control character is escaped in syslog"

# ---------------------------------------------------------------- conversation
out=$(pam_run oa2 "$ALICE" auth nullconv </dev/null)
is "$out" "auth=PAM_CONV_ERR" "no conversation function: PAM_CONV_ERR"
out=$(pam_run oa2 "$ALICE" auth failconv </dev/null)
is "$out" "auth=PAM_CONV_ERR" "failing conversation: PAM_CONV_ERR"
out=$(pam_run oa2 "$ALICE" auth nullreply </dev/null)
is "$out" "auth=PAM_CONV_ERR" "conversation with NULL replies: PAM_CONV_ERR"

# ---------------------------------------------------------------- IdP faults
mock_reset
mock_scenario '{"status_for_path": {"/token": 503}}'
is "$(auth_with oa2 "$ALICE" "$ALICE_PW")" PAM_AUTHINFO_UNAVAIL "token endpoint 503: PAM_AUTHINFO_UNAVAIL"

mock_reset
mock_scenario '{"token_status": 200, "token_body_raw": "<html>oops</html>"}'
is "$(auth_with oa2 "$ALICE" "$ALICE_PW")" PAM_AUTHINFO_UNAVAIL "HTML instead of JSON: PAM_AUTHINFO_UNAVAIL"

mock_reset
mock_scenario '{"token_status": 200, "token_body_raw": "{\"access_token\":\"x\",\"token_type\":\"Bearer\",\"expires_in\":\"300\"}"}'
is "$(auth_with oa2 "$ALICE" "$ALICE_PW")" PAM_AUTHINFO_UNAVAIL "expires_in as a string: PAM_AUTHINFO_UNAVAIL"

mock_reset
mock_scenario '{"token_status": 200, "token_body_raw": "{\"access_token\":\"x\",\"token_type\":\"Bearer\",\"id_token\":42}"}'
is "$(auth_with oa2 "$ALICE" "$ALICE_PW")" PAM_AUTHINFO_UNAVAIL "id_token as a number: PAM_AUTHINFO_UNAVAIL"

mock_reset
mock_scenario '{"jwks_status": 500}'
is "$(auth_with oa2 "$ALICE" "$ALICE_PW")" PAM_AUTHINFO_UNAVAIL "JWKS unavailable: PAM_AUTHINFO_UNAVAIL"

mock_reset
mock_scenario '{"discovery_overrides": {"issuer": "https://evil.example"}}'
is "$(auth_with oa2 "$ALICE" "$ALICE_PW")" PAM_AUTHINFO_UNAVAIL \
	"discovery document for another issuer: PAM_AUTHINFO_UNAVAIL"
is "$(mock_count /token)" 0 "and no token request was sent"

mock_reset
mock_scenario "{\"discovery_overrides\": {\"token_endpoint\": \"http://127.0.0.1:$MOCK_PORT/token\"}}"
is "$(auth_with oa2 "$ALICE" "$ALICE_PW")" PAM_AUTHINFO_UNAVAIL \
	"http token endpoint in discovery: PAM_AUTHINFO_UNAVAIL"
is "$(mock_count /token)" 0 "and the password went nowhere"

mock_reset
mock_scenario '{"redirect_for_path": {"/token": "https://127.0.0.1:1/token"}}'
is "$(auth_with oa2 "$ALICE" "$ALICE_PW")" PAM_AUTHINFO_UNAVAIL "redirect from the token endpoint: not followed"

mock_reset
TMO=${OA2_TEST_TIMEOUT:-5}
mock_scenario "{\"token_delay_ms\": $(( (TMO + 3) * 1000 ))}"
start=$(date +%s)
is "$(auth_with oa2 "$ALICE" "$ALICE_PW")" PAM_AUTHINFO_UNAVAIL \
	"token endpoint slower than timeout=$TMO: PAM_AUTHINFO_UNAVAIL"
el=$(( $(date +%s) - start ))
ok "$([ "$el" -le $((TMO + 2)) ] && echo 0 || echo 1)" "gave up within the deadline (${el}s)"
mock_reset

# invalid_client: the wrong secret.
CONF2="$TESTTMP/badsecret.conf"
sed 's/^client_secret = .*/client_secret = wrong/' "$CONF" | write_conf "$CONF2"
write_service oa2bad <<SVC
auth required @MODULE@ config=$CONF2
SVC
is "$(auth_with oa2bad "$ALICE" "$ALICE_PW")" PAM_AUTHINFO_UNAVAIL "invalid_client: PAM_AUTHINFO_UNAVAIL"

# client_auth=post sends the secret in the body instead.
write_service oa2post <<SVC
auth required @MODULE@ config=$CONF client_auth=post
SVC
mock_reset
is "$(auth_with oa2post "$ALICE" "$ALICE_PW")" PAM_SUCCESS "client_auth=post: PAM_SUCCESS"
is "$(mock_form_param /token client_secret)" "$(hex "$SECRET")" "secret in the body, exact bytes"
is "$(mock_last /token headers.authorization)" "undefined" "no Authorization header"

# Untrusted certificate: the mock's CA is not the one configured.
write_service oa2ca <<SVC
auth required @MODULE@ config=$CONF ca_file=$PKI/other-ca.pem
SVC
mock_reset
is "$(auth_with oa2ca "$ALICE" "$ALICE_PW")" PAM_AUTHINFO_UNAVAIL "untrusted certificate: PAM_AUTHINFO_UNAVAIL"
is "$(mock_ctl requests)" "[]" "the mock received no request over the untrusted TLS"

# Endpoints configured: no discovery at all.
write_service oa2ep <<SVC
auth required @MODULE@ config=$CONF token_endpoint=$MOCK_URL/token jwks_uri=$MOCK_URL/jwks
SVC
mock_reset
is "$(auth_with oa2ep "$ALICE" "$ALICE_PW")" PAM_SUCCESS "explicit endpoints: PAM_SUCCESS"
is "$(mock_count /.well-known/openid-configuration)" 0 "no discovery request"

# use_first_pass takes the password an earlier module collected: one prompt.
write_service oa2first <<SVC
auth optional  pam_unix.so
auth required @MODULE@ config=$CONF use_first_pass
SVC
mock_reset
is "$(auth_with oa2first "$ALICE" "$ALICE_PW")" PAM_SUCCESS "use_first_pass after pam_unix: PAM_SUCCESS"
is "$(grep -c '^PROMPT' "$TESTTMP/prompts")" 1 "the user was asked once"

# ---------------------------------------------------------------- config
write_service oa2cfg1 <<SVC
auth required @MODULE@ config=$CONF tiemout=5
SVC
is "$(auth_with oa2cfg1 "$ALICE" "$ALICE_PW")" PAM_SERVICE_ERR "misspelled option: PAM_SERVICE_ERR"
like "$(cat "$OA2_LOG_CAPTURE")" 'configuration error: module arguments: unknown option "tiemout"' \
	"syslog names the bad option"
write_service oa2cfg2 <<SVC
auth required @MODULE@ config=$TESTTMP/missing.conf
SVC
is "$(auth_with oa2cfg2 "$ALICE" "$ALICE_PW")" PAM_SERVICE_ERR "missing config file: PAM_SERVICE_ERR"
chmod 0666 "$CONF"
is "$(auth_with oa2 "$ALICE" "$ALICE_PW")" PAM_SERVICE_ERR "world-writable config: PAM_SERVICE_ERR"
chmod 0600 "$CONF"

# ---------------------------------------------------------------- IdP down
stop_mock
is "$(auth_with oa2 "$ALICE" "$ALICE_PW")" PAM_AUTHINFO_UNAVAIL "IdP down: PAM_AUTHINFO_UNAVAIL"

# Secrets never reached the log, at debug level, in any case above.
log=$(cat "$OA2_LOG_CAPTURE")
unlike "$log" 'p&ss|ss=w|cl1ent|bob-Pa55' "no password or client secret anywhere in syslog"
like "$log" 'password length [0-9]+' "debug lines were on (so the check above means something)"
done_testing
