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
add_group() {
	getent group "$1" >/dev/null || groupadd "$1" || bail "groupadd $1"
	on_exit "groupdel $1"
}
for g in oa2gh_ops oa2gh_dev oa2gh_acme; do add_group "$g"; done
getent group oa2gh_missing >/dev/null && bail "oa2gh_missing must not exist"

# alice: in org acme (and three others, to page through) and in teams
# acme/ops and other/ops; bob: in org acme, in no mapped team.
cat >"$TESTTMP/users.json" <<JSON
{ "$ALICE": { "password": "x", "scope": "read:user read:org", "claims": { "id": 1001,
    "orgs": ["zeta", "acme", "beta", "gamma"],
    "teams": [{ "org": "other", "slug": "ops" }, { "org": "acme", "slug": "web" }, { "org": "acme", "slug": "ops" }] } },
  "$BOB": { "password": "x", "scope": "read:user", "claims": { "id": 1002, "orgs": ["acme"],
    "teams": [{ "org": "acme", "slug": "web" }] } },
  "renamed": { "password": "x", "scope": "read:user", "claims": { "login": "$ALICE-new", "id": 1001 } },
  "squatter": { "password": "x", "scope": "read:user", "claims": { "login": "$ALICE", "id": 2002 } },
  "noid": { "password": "x", "scope": "read:user", "claims": { "login": "$ALICE", "id": "1001" } },
  "upper": { "password": "x", "scope": "read:user", "claims": { "login": "${ALICE^^}", "id": 1003 } } }
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
# Teams and organisations as groups, and a team as the gate.
TEAMS="$TESTTMP/teams.conf"
write_conf "$TEAMS" <<CONF
provider = github
github_url = $MOCK_URL
client_id = gh-client
ca_file = $PKI/ca.pem
grants = device
qr_code = no
scope = read:user read:org
required_scopes = team:acme/ops
state_dir = $TESTTMP/state

[groups]
team:acme/ops = oa2gh_ops
team:acme/dev = oa2gh_dev
team:other/ops = oa2gh_missing
team:acme/web = root
org:acme = oa2gh_acme
CONF
write_service ghteams <<SVC
auth    required @FAKEMODULE@ config=$TEAMS
account required @FAKEMODULE@ config=$TEAMS
SVC
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
write_service ghpassword <<SVC
auth required @FAKEMODULE@ config=$CONF grants=password
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

# ---------------------------------------------------------------- the mock
# The mock behaves as GitHub documents (what the module must cope with).
mock_reset
ct=$(curl -sS --cacert "$PKI/ca.pem" -o /dev/null -w '%{content_type}' -d client_id=gh-client "$MOCK_URL/login/device/code")
like "$ct" "^application/x-www-form-urlencoded" "mock: the device code endpoint answers form-encoded without Accept: application/json"
st=$(curl -sS --cacert "$PKI/ca.pem" -o /dev/null -w '%{http_code}' -A '' -H 'Authorization: Bearer x' "$MOCK_URL/api/v3/user")
is "$st" 403 "mock: the user API refuses a request without User-Agent"

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

# GitHub logins are case-insensitive at GitHub; the binding is not.
mock_reset
mock_scenario '{"device_interval": 1, "device_poll_script": ["approve:upper"]}'
is "$(device_run gh "$ALICE")" PAM_AUTH_ERR "login ${ALICE^^} for the PAM user $ALICE: refused (no case folding)"
like "$(last_decision)" "user=$ALICE .*result=deny reason=identity_mismatch .*sub=1003$" \
	"logged as identity_mismatch with that id"

mock_reset
mock_scenario "{\"device_interval\": 1, \"device_poll_script\": [\"approve:$BOB\"]}"
is "$(device_run gh "$ALICE")" PAM_AUTH_ERR "approved by another GitHub user: refused"
like "$(last_decision)" "reason=identity_mismatch .*sub=1002$" "identity_mismatch, the other id"

mock_reset
mock_scenario '{"device_interval": 1, "device_poll_script": ["approve:noid"]}'
is "$(device_run gh "$ALICE")" PAM_AUTHINFO_UNAVAIL "id as a string: a malformed user API answer"
like "$(last_decision)" "reason=userinfo_malformed" "logged as userinfo_malformed"

# ---------------------------------------------------------------- orgs, teams
pamg() {
	local svc=$1 user=$2; shift 2
	: >"$OA2_FAKECLOCK_LOG"
	printf '\n\n\n' | LD_PRELOAD="$LOGSHIM" setpriv --clear-groups "$PAMTEST" "$TESTTMP/pam.d" "$svc" "$user" "$@" \
		2>"$TESTTMP/prompts"
}
mock_reset
mock_scenario "{\"device_interval\": 1, \"gh_per_page\": 1, \"device_poll_script\": [\"approve:$ALICE\"]}"
out=$(pamg ghteams "$ALICE" auth acct setcred groups)
like "$out" 'auth=PAM_SUCCESS' "in team acme/ops: authenticated"
like "$out" 'acct=PAM_SUCCESS' "the team gate passes"
is "$(echo "$out" | grep '^groups=' | tail -1)" "groups=oa2gh_acme,oa2gh_ops" \
	"setcred: the mapped, existing groups of team acme/ops and org acme only (not root, mapped from acme/web)"
like "$(grep 'group root' "$OA2_LOG_CAPTURE" | tail -1)" "group root \(mapped from team:acme/web\) has GID 0: not granted without allow_gid0" \
	"a team mapped to a GID 0 group: not granted, logged"
is "$(mock_count /api/v3/user/orgs)" 4 "orgs read over 4 pages (Link rel=next)"
is "$(mock_count /api/v3/user/teams)" 3 "teams read over 3 pages"
like "$(mock_last /api/v3/user/teams url)" "page=3" "the last page followed"
like "$(mock_last /api/v3/user/teams headers.user-agent)/$(mock_last /api/v3/user/orgs headers.user-agent)" \
	"^pam_oauth2/.*/pam_oauth2/" "the membership lists are asked with a User-Agent too"
like "$(grep 'oa2gh_missing' "$OA2_LOG_CAPTURE" | tail -1)" "oa2gh_missing" "a mapped group that does not exist is logged"

mock_reset
mock_scenario "{\"device_interval\": 1, \"device_poll_script\": [\"approve:$BOB\"]}"
out=$(pamg ghteams "$BOB" auth acct setcred groups)
like "$out" "^auth=PAM_AUTH_ERR" "in no mapped team: refused by the gate (authenticate)"
like "$(grep decision "$OA2_LOG_CAPTURE" | tail -1)" "user=$BOB .*result=deny reason=missing_required .*missing=team:acme/ops" \
	"logged: the missing team"
is "$(echo "$out" | grep '^groups=' | tail -1)" "groups=" "no groups for a refused login"

# More pages than MEMBERSHIP_MAX_PAGES (10): refused, not read in part.
cat >"$TESTTMP/many.json" <<JSON
{ "many": { "password": "x", "scope": "read:org", "claims": { "login": "$ALICE", "id": 1001,
    "orgs": ["o1","o2","o3","o4","o5","o6","o7","o8","o9","o10","o11"], "teams": [{ "org": "acme", "slug": "ops" }] } } }
JSON
mock_ctl users "$(cat "$TESTTMP/many.json")" >/dev/null
mock_reset
mock_scenario '{"device_interval": 1, "gh_per_page": 1, "device_poll_script": ["approve:many"]}'
out=$(pamg ghteams "$ALICE" auth)
is "$out" "auth=PAM_AUTHINFO_UNAVAIL" "11 pages of orgs: refused (page cap)"
like "$(grep decision "$OA2_LOG_CAPTURE" | tail -1)" "reason=memberships_too_many" "logged as memberships_too_many"
is "$(mock_count /api/v3/user/orgs)" 10 "no more than 10 pages asked for"

# ---------------------------------------------------------------- the 200 rule
# Generic keys without errors_with_200: GitHub's 200 authorization_pending
# is no token response; the device flow retries until its deadline.
mock_reset
mock_scenario '{"device_interval": 5, "device_poll_script": ["authorization_pending", "authorization_pending", "authorization_pending"]}'
is "$(device_run ghgeneric "$ALICE")" PAM_AUTHINFO_UNAVAIL "generic keys, no errors_with_200: 200 + error is malformed"
like "$(last_decision)" "reason=malformed_token_response" "logged as malformed_token_response"

mock_reset
mock_scenario "{\"device_interval\": 2, \"device_poll_script\": [\"authorization_pending\", \"authorization_pending\", \"approve:$ALICE\"]}"
is "$(device_run ghgeneric200 "$ALICE")" PAM_SUCCESS "generic keys with errors_with_200: pending twice, then approved"
is "$(sleeps)" "sleep 2000 sleep 2000" "pending in HTTP 200 understood (the interval, not a back-off)"

# A standard (OpenID) provider's 200 with an error member stays malformed.
mock_reset
mock_scenario '{"token_status": 200, "token_body_raw": "{\"error\":\"invalid_grant\"}"}'
is "$(auth_with oidc "$BOB" x)" PAM_AUTHINFO_UNAVAIL "OIDC provider, 200 + error: not a refusal"
like "$(last_decision)" "reason=malformed_token_response" "logged as malformed_token_response"

# ---------------------------------------------------------------- config
is "$(device_run ghissuer "$ALICE")" PAM_SERVICE_ERR "provider = github with an issuer: configuration error"
like "$(grep 'configuration error' "$OA2_LOG_CAPTURE" | tail -1)" "provider github has no issuer" \
	"the error names the conflict"
is "$(auth_with ghpassword "$ALICE" x)" PAM_SERVICE_ERR "provider = github with grants=password: configuration error"
like "$(grep 'configuration error' "$OA2_LOG_CAPTURE" | tail -1)" "provider github has no password grant: use grants = device" \
	"the error says GitHub has no password grant"
is "$(mock_count /login/oauth/access_token)" 0 "  nothing sent"
is "$(device_run ghoffline "$ALICE")" PAM_SERVICE_ERR "offline_cache with a plain OAuth 2 provider: configuration error"
like "$(grep 'configuration error' "$OA2_LOG_CAPTURE" | tail -1)" "offline_cache is not available" \
	"the error names offline_cache"

done_testing
