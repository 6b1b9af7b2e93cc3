#!/usr/bin/env bash
# github.sh - a plain OAuth 2 provider without OpenID Connect (GitHub,
# docs/providers/github.md) through the real libpam against the mock
# IdP's GitHub mode: explicit endpoints (provider = github with github_url,
# the GitHub Enterprise Server layout), the device grant with its errors
# in HTTP 200, identity from the user API only (login bound byte for byte,
# the numeric id in the audit line).  The fake-clock module records the
# waits between polls.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/common.sh"

ALICE=oa2ghalice
BOB=oa2ghbob
add_user "$ALICE"
add_user "$BOB"
[ -f "$FAKEMODULE" ] || bail "fake-clock module not built: $FAKEMODULE"

# alice is GitHub user 1001, bob 1002; "renamed" is alice's account after
# a rename, "squatter" a new account that took the name alice left.
cat >"$TESTTMP/users.json" <<JSON
{ "$ALICE": { "password": "x", "scope": "read:user read:org", "claims": { "id": 1001 } },
  "$BOB": { "password": "x", "scope": "read:user", "claims": { "id": 1002 } },
  "renamed": { "password": "x", "scope": "read:user", "claims": { "login": "$ALICE-new", "id": 1001 } },
  "squatter": { "password": "x", "scope": "read:user", "claims": { "login": "$ALICE", "id": 2002 } },
  "noid": { "password": "x", "scope": "read:user", "claims": { "login": "$ALICE", "id": "1001" } } }
JSON
start_mock --users "$TESTTMP/users.json" --client-id gh-client

CONF="$TESTTMP/github.conf"
write_conf "$CONF" <<CONF
provider = github
github_url = $MOCK_URL
client_id = gh-client
ca_file = $PKI/ca.pem
grants = device
qr_code = no
CONF
# The same provider through the generic keys, without errors_with_200.
GENERIC="$TESTTMP/generic.conf"
write_conf "$GENERIC" <<CONF
token_endpoint = $MOCK_URL/login/oauth/access_token
device_authorization_endpoint = $MOCK_URL/login/device/code
user_endpoint = $MOCK_URL/api/v3/user
client_id = gh-client
ca_file = $PKI/ca.pem
grants = device
qr_code = no
device_timeout = 10
CONF
# An OpenID provider (password grant) for the 200-with-error rule.
OIDC="$TESTTMP/oidc.conf"
write_conf "$OIDC" <<CONF
issuer = $MOCK_URL
client_id = gh-client
ca_file = $PKI/ca.pem
CONF
write_service gh <<SVC
auth required @FAKEMODULE@ config=$CONF debug
SVC
write_service ghgeneric <<SVC
auth required @FAKEMODULE@ config=$GENERIC
SVC
write_service ghgeneric200 <<SVC
auth required @FAKEMODULE@ config=$GENERIC errors_with_200
SVC
write_service oidc <<SVC
auth required @FAKEMODULE@ config=$OIDC
SVC
write_service ghissuer <<SVC
auth required @FAKEMODULE@ config=$CONF issuer=$MOCK_URL
SVC
write_service ghoffline <<SVC
auth required @FAKEMODULE@ config=$CONF offline_cache=yes
SVC

device_run() {
	local svc=$1 user=$2; shift 2
	: >"$OA2_FAKECLOCK_LOG"
	printf '\n\n\n' | pam_run "$svc" "$user" auth "$@" | sed -n 's/^auth=//p'
}
sleeps() { tr '\n' ' ' <"$OA2_FAKECLOCK_LOG" | sed 's/ $//'; }
last_decision() { grep 'decision' "$OA2_LOG_CAPTURE" | tail -1; }

# ---------------------------------------------------------------- approved
mock_reset
mock_scenario "{\"device_interval\": 2, \"slow_down_interval\": 13, \"device_poll_script\": [\"authorization_pending\", \"slow_down\", \"approve:$ALICE\"]}"
is "$(device_run gh "$ALICE")" PAM_SUCCESS "GitHub device flow: pending, slow_down, approved: PAM_SUCCESS"
is "$(sleeps)" "sleep 2000 sleep 13000" "errors in HTTP 200 followed; slow_down's new interval (13 s) used"
like "$(last_decision)" "user=$ALICE .*grant=device result=allow reason=ok .*sub=1001$" \
	"audit line: allowed, sub= is the numeric id"
like "$(cat "$TESTTMP/prompts")" "Open $MOCK_URL/login/device" "the prompt names GitHub's device page"
is "$(mock_count /.well-known/openid-configuration)" 0 "no discovery"
is "$(mock_count /jwks)" 0 "no JWKS"
is "$(mock_count /api/v3/user)" 1 "identity from the user API"
is "$(mock_last /login/oauth/access_token headers.accept)" "application/json" "token request asks for JSON"
is "$(mock_last /login/device/code headers.accept)" "application/json" "device code request asks for JSON"
like "$(mock_last /api/v3/user headers.user-agent)" "^pam_oauth2/" "user API request carries a User-Agent"
like "$(mock_last /api/v3/user headers.authorization)" "^Bearer gho_" "user API asked with the access token"
is "$(mock_form_param /login/device/code client_id)" "$(printf gh-client | od -An -tx1 -v | tr -d ' \n')" \
	"public client: client_id in the form"

# ---------------------------------------------------------------- refused
mock_reset
mock_scenario '{"device_interval": 1, "device_poll_script": ["authorization_pending", "access_denied"]}'
is "$(device_run gh "$ALICE")" PAM_AUTH_ERR "200 access_denied: PAM_AUTH_ERR"
like "$(last_decision)" "grant=device result=deny reason=access_denied" "logged as access_denied"

mock_reset
mock_scenario '{"device_interval": 1, "device_poll_script": ["expired_token"]}'
is "$(device_run gh "$ALICE")" PAM_AUTH_ERR "200 expired_token: PAM_AUTH_ERR"
like "$(last_decision)" "reason=expired_token" "logged as expired_token"

# Renamed at GitHub: same id, new login; the PAM user is the old name.
mock_reset
mock_scenario '{"device_interval": 1, "device_poll_script": ["approve:renamed"]}'
is "$(device_run gh "$ALICE")" PAM_AUTH_ERR "renamed login (same id): refused, the login is what binds"
like "$(last_decision)" "user=$ALICE .*result=deny reason=identity_mismatch .*sub=1001$" \
	"logged as identity_mismatch with the id"

# A new account with the login alice gave up: another id, same login.
mock_reset
mock_scenario '{"device_interval": 1, "device_poll_script": ["approve:squatter"]}'
is "$(device_run gh "$ALICE")" PAM_SUCCESS "same login, different id: allowed (the rename caveat, documented)"
like "$(last_decision)" "user=$ALICE .*result=allow .*sub=2002$" "the audit line shows the other id"

mock_reset
mock_scenario "{\"device_interval\": 1, \"device_poll_script\": [\"approve:$BOB\"]}"
is "$(device_run gh "$ALICE")" PAM_AUTH_ERR "approved by another GitHub user: refused"
like "$(last_decision)" "reason=identity_mismatch .*sub=1002$" "identity_mismatch, the other id"

mock_reset
mock_scenario '{"device_interval": 1, "device_poll_script": ["approve:noid"]}'
is "$(device_run gh "$ALICE")" PAM_AUTHINFO_UNAVAIL "id as a string: a malformed user API answer"
like "$(last_decision)" "reason=userinfo_malformed" "logged as userinfo_malformed"

# ---------------------------------------------------------------- the 200 rule
# Generic keys without errors_with_200: GitHub's 200 authorization_pending
# is no token response; the device flow retries until its deadline.
mock_reset
mock_scenario '{"device_interval": 5, "device_poll_script": ["authorization_pending", "authorization_pending", "authorization_pending"]}'
is "$(device_run ghgeneric "$ALICE")" PAM_AUTHINFO_UNAVAIL "generic keys, no errors_with_200: 200 + error is malformed"
like "$(last_decision)" "reason=malformed_token_response" "logged as malformed_token_response"

mock_reset
mock_scenario "{\"device_interval\": 2, \"device_poll_script\": [\"authorization_pending\", \"approve:$ALICE\"]}"
is "$(device_run ghgeneric200 "$ALICE")" PAM_SUCCESS "generic keys with errors_with_200: pending, then approved"
is "$(sleeps)" "sleep 2000" "pending in HTTP 200 understood"

# A standard (OpenID) provider's 200 with an error member stays malformed.
mock_reset
mock_scenario '{"token_status": 200, "token_body_raw": "{\"error\":\"invalid_grant\"}"}'
is "$(auth_with oidc "$BOB" x)" PAM_AUTHINFO_UNAVAIL "OIDC provider, 200 + error: not a refusal"
like "$(last_decision)" "reason=malformed_token_response" "logged as malformed_token_response"

# ---------------------------------------------------------------- config
is "$(device_run ghissuer "$ALICE")" PAM_SERVICE_ERR "provider = github with an issuer: configuration error"
like "$(grep 'configuration error' "$OA2_LOG_CAPTURE" | tail -1)" "provider github has no issuer" \
	"the error names the conflict"
is "$(device_run ghoffline "$ALICE")" PAM_SERVICE_ERR "offline_cache with a plain OAuth 2 provider: configuration error"
like "$(grep 'configuration error' "$OA2_LOG_CAPTURE" | tail -1)" "offline_cache is not available" \
	"the error names offline_cache"

done_testing
