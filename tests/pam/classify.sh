#!/usr/bin/env bash
# classify.sh - one classification of every IdP answer (security.md,
# "Return codes"), through the real libpam against the mock IdP:
#  - an OAuth error about the user (invalid_grant, access_denied, any
#    *_required, expired_token, unknown codes) is PAM_AUTH_ERR whatever
#    the HTTP status, and drops the offline verifier;
#  - a refusal of the client (invalid_client, unauthorized_client,
#    unsupported_grant_type, invalid_scope) or a 429 is
#    PAM_AUTHINFO_UNAVAIL, logged at err, and never uses the verifier;
#  - only "could not ask" (connect, 5xx, server_error,
#    temporarily_unavailable, malformed answers) may use the verifier;
#  - the device grant's authorization request and polling classify the
#    same way (RFC 8628 3.5 authorization_pending / slow_down kept).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/common.sh"

[ -f "$FAKEMODULE" ] || bail "fake-clock module not built: $FAKEMODULE"
U=oa2calice
PW='c-Pw&=+1'
NEWPW='c-new-Pw2'
SECRET='cls-secret'
add_user "$U"
users_json() { # users_json PASSWORD
	printf '{ "%s": { "password": "%s", "sub": "sub-c", "scope": "openid profile" } }' "$U" "$1"
}
users_json "$PW" >"$TESTTMP/users.json"
start_mock --users "$TESTTMP/users.json" --client-id pam-c --client-secret "$SECRET"

OFF="$TESTTMP/offline"
CONF="$TESTTMP/oauth2.conf"
write_conf "$CONF" <<CONF
issuer = $MOCK_URL
client_id = pam-c
client_secret = $SECRET
ca_file = $PKI/ca.pem
offline_cache = yes
scope = openid profile
timeout = ${OA2_TEST_TIMEOUT:-3}
connect_timeout = 1
qr_code = no
CONF
# The client disabled or its secret rotated at the IdP: invalid_client.
sed "s|^client_secret = .*|client_secret = revoked|" "$CONF" | write_conf "$TESTTMP/badclient.conf"
# Nothing listens: connection refused.
sed "s|^issuer = .*|issuer = https://127.0.0.1:9|" "$CONF" | write_conf "$TESTTMP/conn.conf"

write_service off <<SVC
auth required @MODULE@ config=$CONF debug
SVC
write_service badclient <<SVC
auth required @MODULE@ config=$TESTTMP/badclient.conf
SVC
write_service conn <<SVC
auth required @MODULE@ config=$TESTTMP/conn.conf
SVC
write_service nooff <<SVC
auth required @MODULE@ config=$CONF offline_cache=no
SVC
write_service otp <<SVC
auth required @MODULE@ config=$CONF otp=prompt
SVC
# The documented sshd stack (pam.d-examples/sshd): an outage of the IdP
# falls back to the local password; pam_permit stands for a pam_unix that
# accepts it.
write_service sshd <<SVC
auth [success=done authinfo_unavail=ignore default=die] @MODULE@ config=$CONF offline_cache=no
auth required pam_permit.so
SVC
write_service dev <<SVC
auth required @FAKEMODULE@ config=$CONF grants=device device_timeout=10
SVC
write_service pwdev <<SVC
auth required @FAKEMODULE@ config=$CONF [grants=password device]
SVC

login() { auth_with "${2:-off}" "$U" "$1"; }
entry() { find "$OFF" -name 'u-*' -type f 2>/dev/null; }
nentries() { entry | wc -l; }
down() { mock_scenario '{"status_for_path": {"/token": 503}}'; }
last_decision() { grep ' decision ' "$OA2_LOG_CAPTURE" | tail -1; }
# The syslog level of the last decision line (3 err, 4 warning, 5 notice).
last_level() { echo $(( $(last_decision | sed -n 's/^<\([0-9]*\)>.*/\1/p') % 8 )); }
# A fresh verifier for the current password: one online login.
fresh() {
	mock_reset
	is "$(login "${1:-$PW}")" PAM_SUCCESS "online login keeps a verifier${2:+ ($2)}"
	is "$(nentries)" 1 "one verifier${2:+ ($2)}"
}
set_idp_password() { mock_ctl users "$(users_json "$1")" >/dev/null; }
err() { # err STATUS CODE: the scenario for an OAuth error from /token
	printf '{"error_for_path": {"/token": {"status": %s, "error": "%s"}}}' "$1" "$2"
}

# ---------------------------------------------------------------- Auth0: 403 invalid_grant
# The password was changed at the IdP; the old one is typed again.
fresh "$PW" "before the password change"
set_idp_password "$NEWPW"
mock_scenario '{"wrong_password_status": 403}'
is "$(login "$PW")" PAM_AUTH_ERR "403 invalid_grant (old password): PAM_AUTH_ERR, not an outage"
like "$(last_decision)" "result=deny reason=invalid_grant " "decision: reason=invalid_grant"
is "$(nentries)" 0 "403 invalid_grant drops the verifier"
down
is "$(login "$PW")" PAM_AUTHINFO_UNAVAIL "a later outage does not let the old password in"
unlike "$(last_decision)" "reason=offline" "no offline login"
mock_reset
mock_scenario '{"wrong_password_status": 403}'
is "$(login "$PW" sshd)" PAM_AUTH_ERR "sshd stack: 403 invalid_grant does not fall back to the local password"
is "$(login "$NEWPW")" PAM_SUCCESS "the new password works online"
set_idp_password "$PW"

# ---------------------------------------------------------------- Keycloak: invalid_grant with a description
# Keycloak says why in error_description (tests/e2e/keycloak.sh shows the
# real answers); the reason names it, the class stays that of invalid_grant.
kc_err() { # kc_err STATUS DESCRIPTION
	printf '{"error_for_path": {"/token": {"status": %s, "error": "invalid_grant", "error_description": "%s"}}}' "$1" "$2"
}
for kc in "400|Account disabled|account_disabled" "401|Account is not fully set up|required_action" \
	"400|Invalid user credentials|invalid_grant"; do
	IFS='|' read -r st desc reason <<<"$kc"
	fresh "$PW" "before Keycloak's \"$desc\""
	mock_scenario "$(kc_err "$st" "$desc")"
	is "$(login "$PW")" PAM_AUTH_ERR "$st invalid_grant \"$desc\": PAM_AUTH_ERR"
	like "$(last_decision)" "result=deny reason=$reason pam=\"Authentication failure\"" "  decision: reason=$reason"
	is "$(nentries)" 0 "  the verifier is dropped"
	is "$(login "$PW" sshd)" PAM_AUTH_ERR "  sshd stack: no fallback to the local password"
	unlike "$(last_decision)" "$desc" "  the description itself is not logged"
	mock_reset
done

# ---------------------------------------------------------------- Auth0: 403 mfa_required
fresh
mock_scenario '{"password_grant_error": "mfa_required", "password_grant_status": 403}'
is "$(login "$PW")" PAM_AUTH_ERR "403 mfa_required: PAM_AUTH_ERR"
like "$(last_decision)" "result=deny reason=mfa_required " "decision: reason=mfa_required"
is "$(nentries)" 0 "403 mfa_required drops the verifier"
down
is "$(login "$PW")" PAM_AUTHINFO_UNAVAIL "so the single-factor password does not log in during an outage"
mock_reset
mock_scenario '{"password_grant_error": "mfa_required", "password_grant_status": 403}'
is "$(login "$PW" sshd)" PAM_AUTH_ERR "sshd stack: 403 mfa_required does not fall back to the local password"
mock_reset
mock_scenario '{"password_grant_error": "mfa_required", "password_grant_status": 403, "device_poll_script": ["approve:'"$U"'"]}'
is "$(printf '%s\n\n' "$PW" | pam_run pwdev "$U" auth | sed -n 's/^auth=//p')" PAM_SUCCESS \
	"403 mfa_required with the device grant allowed: falls over to it"
like "$(last_decision)" "grant=device result=allow" "decided by the device grant"

# ---------------------------------------------------------------- MFA newly enforced, app unassigned
for sc in "400 interaction_required" "401 login_required" "403 access_denied" "400 consent_required" \
	"404 invalid_grant" "400 expired_token" "403 something_new"; do
	set -- $sc
	fresh "$PW" "$2"
	mock_scenario "$(err "$1" "$2")"
	is "$(login "$PW")" PAM_AUTH_ERR "$1 $2: PAM_AUTH_ERR"
	like "$(last_decision)" "result=deny reason=$2 " "decision: reason=$2"
	is "$(nentries)" 0 "$1 $2 drops the verifier"
	down
	is "$(login "$PW")" PAM_AUTHINFO_UNAVAIL "$1 $2, then an outage: the old password is not let in"
done

# Every service drops it, also one without offline_cache or with otp.
fresh
mock_scenario "$(err 400 interaction_required)"
is "$(login "$PW" nooff)" PAM_AUTH_ERR "offline_cache=no service: interaction_required refused"
is "$(nentries)" 0 "and the verifier (kept by another service) is dropped"
fresh
mock_scenario "$(err 403 access_denied)"
is "$(printf '%s\n123456\n' "$PW" | pam_run otp "$U" auth | sed -n 's/^auth=//p')" PAM_AUTH_ERR \
	"otp=prompt service: access_denied refused"
is "$(nentries)" 0 "and the verifier is dropped"

# Refused before any request: an empty password drops it too (security.md).
fresh
is "$(login '')" PAM_AUTH_ERR "empty password: PAM_AUTH_ERR"
is "$(nentries)" 0 "and the verifier is dropped"

# ---------------------------------------------------------------- token checks drop it too
fresh
mock_scenario '{"id_token_bad_signature": true}'
is "$(login "$PW")" PAM_AUTH_ERR "bad ID token signature: PAM_AUTH_ERR"
is "$(nentries)" 0 "a token check failure drops the verifier"
fresh
mock_scenario '{"id_token_claims": {"preferred_username": "someone-else"}}'
is "$(login "$PW")" PAM_AUTH_ERR "identity mismatch: PAM_AUTH_ERR"
is "$(nentries)" 0 "an identity mismatch drops the verifier"

# ---------------------------------------------------------------- the client refused: never offline
fresh
is "$(login "$PW" badclient)" PAM_AUTHINFO_UNAVAIL "401 invalid_client with a cached verifier: PAM_AUTHINFO_UNAVAIL"
like "$(last_decision)" "result=deny reason=invalid_client " "decision: reason=invalid_client, not offline"
is "$(last_level)" 3 "logged at err: an admin must fix the client"
is "$(nentries)" 1 "the verifier is not dropped (the refusal is not about the user)"
for sc in "401 invalid_client" "400 invalid_client" "400 unauthorized_client" "403 unauthorized_client" \
	"400 unsupported_grant_type" "400 invalid_scope"; do
	set -- $sc
	mock_reset
	mock_scenario "$(err "$1" "$2")"
	is "$(login "$PW")" PAM_AUTHINFO_UNAVAIL "$1 $2: PAM_AUTHINFO_UNAVAIL, the cached verifier not used"
	like "$(last_decision)" "result=deny reason=$2 " "decision: reason=$2"
	is "$(last_level)" 3 "$1 $2: logged at err"
done
mock_reset
mock_scenario '{"token_status": 401, "token_body_raw": ""}'
is "$(login "$PW")" PAM_AUTHINFO_UNAVAIL "401 without an OAuth error: the client was refused, not offline"
like "$(last_decision)" "result=deny reason=http_401 " "decision: reason=http_401"

mock_reset
mock_scenario '{"status_for_path": {"/token": 429}}'
is "$(login "$PW")" PAM_AUTHINFO_UNAVAIL "429 with a cached verifier: PAM_AUTHINFO_UNAVAIL"
like "$(last_decision)" "result=deny reason=http_429 " "decision: reason=http_429, not offline"
is "$(last_level)" 3 "429: logged at err"
mock_reset
mock_scenario "$(err 429 too_many_attempts)"
is "$(login "$PW")" PAM_AUTHINFO_UNAVAIL "429 too_many_attempts: PAM_AUTHINFO_UNAVAIL, not offline"
like "$(last_decision)" "reason=http_429 " "decision: reason=http_429"
is "$(nentries)" 1 "neither refusal of the client dropped the verifier"
mock_reset
mock_scenario '{"omit_id_token": true, "userinfo_status": 429}'
is "$(login "$PW")" PAM_AUTHINFO_UNAVAIL "userinfo throttled (429): PAM_AUTHINFO_UNAVAIL, not offline"
like "$(last_decision)" "result=deny reason=http_429 " "decision: reason=http_429"
mock_reset
mock_scenario '{"omit_id_token": true, "userinfo_status": 503}'
is "$(login "$PW")" PAM_SUCCESS "userinfo 503: could not ask, the offline verifier answers"
mock_reset
mock_scenario '{"omit_id_token": true, "userinfo_status": 401}'
is "$(login "$PW")" PAM_AUTH_ERR "userinfo refuses the new access token (401): PAM_AUTH_ERR"
is "$(nentries)" 0 "and the verifier is dropped"
fresh

# ---------------------------------------------------------------- could not ask: offline
for scen in '{"status_for_path": {"/token": 503}}' \
	"$(err 502 server_error)" "$(err 400 server_error)" "$(err 400 temporarily_unavailable)" \
	'{"token_status": 200, "token_body_raw": "<html>oops</html>"}'; do
	mock_reset
	mock_scenario "$scen"
	is "$(login "$PW")" PAM_SUCCESS "could not ask ($scen): the offline verifier answers"
	like "$(last_decision)" "result=allow reason=offline " "decision: reason=offline"
done
is "$(login "$PW" conn)" PAM_SUCCESS "connection refused: the offline verifier answers"
mock_reset
mock_scenario "$(err 503 invalid_grant)"
is "$(login "$PW")" PAM_AUTH_ERR "5xx that names invalid_grant: classified by its code"
is "$(nentries)" 0 "and the verifier is dropped"

# ---------------------------------------------------------------- device authorization request
dev() { : >"$OA2_FAKECLOCK_LOG"; printf '\n\n' | pam_run dev "$U" auth | sed -n 's/^auth=//p'; }
sleeps() { tr '\n' ' ' <"$OA2_FAKECLOCK_LOG" | sed 's/ $//'; }
polls() { mock_count /token; }
for sc in "401 invalid_client PAM_AUTHINFO_UNAVAIL" "400 invalid_scope PAM_AUTHINFO_UNAVAIL" \
	"403 access_denied PAM_AUTH_ERR" "400 unauthorized_client PAM_AUTHINFO_UNAVAIL"; do
	set -- $sc
	mock_reset
	mock_scenario "{\"error_for_path\": {\"/device_authorization\": {\"status\": $1, \"error\": \"$2\"}}}"
	is "$(dev)" "$3" "device authorization $1 $2: $3"
	like "$(last_decision)" "grant=device result=deny reason=$2 " "decision: reason=$2"
	is "$(grep -c '^PROMPT' "$TESTTMP/prompts")" 0 "nothing shown"
done
mock_reset
mock_scenario '{"status_for_path": {"/device_authorization": 429}}'
is "$(dev)" PAM_AUTHINFO_UNAVAIL "device authorization 429: PAM_AUTHINFO_UNAVAIL"
like "$(last_decision)" "reason=http_429 " "decision: reason=http_429"

# ---------------------------------------------------------------- device polling
for sc in "403 access_denied" "403 invalid_grant" "403 mfa_required" "401 expired_token" "400 interaction_required"; do
	set -- $sc
	mock_reset
	mock_scenario "{\"device_interval\": 1, \"device_poll_script\": [\"authorization_pending\", \"$1:$2\", \"approve\"]}"
	is "$(dev)" PAM_AUTH_ERR "device poll $1 $2: PAM_AUTH_ERR"
	like "$(last_decision)" "grant=device result=deny reason=$2 " "decision: reason=$2"
	is "$(polls)" 2 "$1 $2 ends the polling"
done
for sc in "401 invalid_client" "400 unauthorized_client" "403 invalid_scope"; do
	set -- $sc
	mock_reset
	mock_scenario "{\"device_interval\": 1, \"device_poll_script\": [\"$1:$2\", \"approve\"]}"
	is "$(dev)" PAM_AUTHINFO_UNAVAIL "device poll $1 $2: PAM_AUTHINFO_UNAVAIL"
	like "$(last_decision)" "grant=device result=deny reason=$2 " "decision: reason=$2"
	is "$(last_level)" 3 "device poll $1 $2: logged at err"
	is "$(polls)" 1 "$1 $2 ends the polling"
done
# A refusal in the device grant drops the verifier a password login kept;
# a refusal of the client does not.
fresh
mock_scenario '{"device_interval": 1, "device_poll_script": ["401:invalid_client"]}'
is "$(dev)" PAM_AUTHINFO_UNAVAIL "device poll invalid_client"
is "$(nentries)" 1 "keeps the verifier"
mock_reset
mock_scenario '{"device_interval": 1, "device_poll_script": ["403:access_denied"]}'
is "$(dev)" PAM_AUTH_ERR "device poll 403 access_denied (app unassigned)"
is "$(nentries)" 0 "drops the verifier"

mock_reset
mock_scenario '{"device_interval": 1, "device_poll_script": ["403:authorization_pending", "429:slow_down", "approve"]}'
is "$(dev)" PAM_SUCCESS "authorization_pending and slow_down keep their meaning whatever the status"
is "$(sleeps)" "sleep 1000 sleep 6000" "pending waits the interval, slow_down adds 5 s (RFC 8628 3.5)"
mock_reset
mock_scenario '{"device_interval": 1, "device_poll_script": ["429:", "503:", "approve"]}'
is "$(dev)" PAM_SUCCESS "429 and 503 while polling: back off, then approved"
is "$(sleeps)" "sleep 1000 sleep 2000" "backed off 1 s, 2 s"
mock_reset
mock_scenario '{"device_interval": 2, "status_for_path": {"/token": 429}}'
is "$(dev)" PAM_AUTHINFO_UNAVAIL "throttled (429) for the whole deadline: PAM_AUTHINFO_UNAVAIL"
like "$(last_decision)" "grant=device result=deny reason=http_429 " "decision: reason=http_429"

unlike "$(cat "$OA2_LOG_CAPTURE")" "c-Pw|c-new-Pw|$SECRET" "no password or client secret in syslog"
done_testing
