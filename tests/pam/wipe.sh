#!/usr/bin/env bash
# wipe.sh - no secret is left in freed memory: during full password and
# device logins through the real PAM stack, every block freed in the
# process (tests/lib/freescan.so interposes free and realloc, and scans
# each block over its malloc_usable_size) is searched for the canary
# password, client secret (plain, HTTP Basic and form-encoded), access,
# refresh and ID tokens and device code.  Each hit names the library that
# freed the block; the test wants none, whichever library it is (the
# module, json-c, libcurl, OpenSSL).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/common.sh"

ALICE=oa2wa$RANDOM
CID=pam-wipe
FREESCAN="$top_builddir/tests/lib/.libs/freescan.so"
JWTCRAFT="$top_srcdir/tests/pam/jwtcraft.js"
[ -f "$FREESCAN" ] || bail "freescan not built: $FREESCAN"
add_user "$ALICE"

# Canaries as in hygiene.sh: distinctive, and left unchanged by form
# encoding, so the encoded and plain forms are the same bytes.
C_PW=CanaryPassw0rdQ7x
C_CS=CanarySecretZ9k
C_AT=CanaryAccessTokenM4v
C_RT=CanaryRefreshTokenP2w
C_DC=CanaryDeviceCodeH8j

# "gh" is the same person at the mock's GitHub mode (login $ALICE).
cat >"$TESTTMP/users.json" <<JSON
{ "$ALICE": { "password": "$C_PW", "sub": "sub-alice" },
  "gh": { "password": "-", "scope": "read:user read:org", "claims": { "login": "$ALICE", "id": 7001,
    "orgs": ["zeta", "acme"], "teams": [{ "org": "acme", "slug": "web" }, { "org": "acme", "slug": "ops" }] } } }
JSON
start_mock --users "$TESTTMP/users.json" --client-id "$CID" --client-secret "$C_CS"

CONF="$TESTTMP/oauth2.conf"
write_conf "$CONF" <<CONF
issuer = $MOCK_URL
client_id = $CID
client_secret = $C_CS
ca_file = $PKI/ca.pem
timeout = ${OA2_TEST_TIMEOUT:-5}
debug = yes
CONF
write_service w <<SVC
auth    required @MODULE@ config=$CONF
account required @MODULE@ config=$CONF
SVC
write_service wpost <<SVC
auth required @MODULE@ config=$CONF client_auth=post
SVC
write_service wdev <<SVC
auth required @FAKEMODULE@ config=$CONF grants=device qr_code=no device_timeout=20
SVC

# A crafted, valid ID token whose text we know.
KEYS="$TESTTMP/keys"
node "$JWTCRAFT" "$KEYS" init || bail "jwtcraft init"
pay=$(node -e 'const [i, c, u] = process.argv.slice(1); const n = Math.floor(Date.now() / 1000);
	process.stdout.write(JSON.stringify({ iss: i, aud: c, sub: "sub-alice", exp: n + 300, iat: n,
		preferred_username: u }));' "$MOCK_URL" "$CID" "$ALICE")
C_IDT=$(node "$JWTCRAFT" "$KEYS" sign RS256 rsa '{}' "$pay")
JWKS=$(node -e 'process.stdout.write(JSON.stringify(require("fs").readFileSync(process.argv[1], "utf8")))' "$KEYS/jwks.json")

# grants = token: a crafted JWT access token (RFC 9068) verified locally,
# and an opaque token (the mock issues it, then introspects it).
write_service wtok <<SVC
auth required @MODULE@ config=$CONF grants=token token_audience=ssh://wipe token_clients=ci,$CID
SVC
atpay=$(node -e 'const [i, u] = process.argv.slice(1); const n = Math.floor(Date.now() / 1000);
	process.stdout.write(JSON.stringify({ iss: i, aud: "ssh://wipe", sub: "sub-alice", client_id: "ci",
		jti: "wipe-jti", exp: n + 300, iat: n, preferred_username: u }));' "$MOCK_URL" "$ALICE")
C_JAT=$(node "$JWTCRAFT" "$KEYS" sign RS256 rsa '{"typ":"at+jwt"}' "$atpay")
C_OPQ=CanaryOpaqueTokenR5tCanaryOpaqueTokenR5tW

# The encoded forms the module sends: Basic base64(id:secret) (RFC 7617)
# and the form-encoded secret (client_auth=post, RFC 6749 §2.3.1).
C_CS_BASIC=$(printf '%s:%s' "$CID" "$C_CS" | base64 -w0)
C_CS_FORM=$(node -e 'process.stdout.write(encodeURIComponent(process.argv[1]))' "$C_CS")
is "$C_CS_FORM" "$C_CS" "the client secret canary is its own form encoding"

# name=value, one a line.  The tails (the last 10 bytes) also catch a
# copy whose start was overwritten when the buffer was reused.
CANARIES="password=$C_PW
client_secret=$C_CS
client_secret_basic=$C_CS_BASIC
access_token=$C_AT
refresh_token=$C_RT
device_code=$C_DC
id_token=$C_IDT
id_token_sig=${C_IDT##*.}
password_tail=${C_PW: -10}
client_secret_tail=${C_CS: -10}
access_token_tail=${C_AT: -10}
refresh_token_tail=${C_RT: -10}
device_code_tail=${C_DC: -10}
jwt_access_token=$C_JAT
jwt_access_token_sig=${C_JAT##*.}
opaque_token=$C_OPQ
opaque_token_tail=${C_OPQ: -10}"
[ "$C_CS_FORM" = "$C_CS" ] || CANARIES+=$'\n'"client_secret_form=$C_CS_FORM"

HITS="$TESTTMP/hits"
n=0
# wrun SCENARIO SERVICE ANSWERS...: login number $n (auth, then acct)
# with the interposer loaded; its report goes to $HITS.$n; prints the auth
# code.  It runs in $(...), so the caller counts n.
wrun() {
	local scen=$1 svc=$2
	shift 2
	mock_reset
	mock_scenario "$scen"
	printf '%s\n' "$@" | OA2_FREESCAN_CANARIES="$CANARIES" OA2_FREESCAN_OUT="$HITS.$n" \
		LD_PRELOAD="$LOGSHIM:$FREESCAN" "$PAMTEST" "$TESTTMP/pam.d" "$svc" "$ALICE" \
		auth acct >"$TESTTMP/out.$n" 2>"$TESTTMP/err.$n"
	sed -n 's/^auth=//p' "$TESTTMP/out.$n"
}
# hits N: the hit lines of login N, one per canary and library.
hits() { grep -v '^scanned ' "$HITS.$1" 2>/dev/null | sort | uniq -c | sed 's/^ *//'; }
# scanned N: how many blocks login N's process freed through the scan.
scanned() { sed -n 's/^scanned //p' "$HITS.$1" 2>/dev/null; }

# ---------------------------------------------------------------- control
# The interposer finds a canary in a block freed, and in one realloc moved.
OA2_FREESCAN_CANARIES="$CANARIES" OA2_FREESCAN_OUT="$HITS.0" OA2_FREESCAN_SELFTEST=1 \
	LD_PRELOAD="$FREESCAN" /bin/true
is "$(grep '^password ' "$HITS.0" | awk '{print $1, $2, $3}' | sed 's|/.*/||' | sort | tr '\n' ' ')" \
	"password free freescan.so password realloc freescan.so " \
	"control: a freed block and a moved block holding the password are reported, with the freeing library"

# ---------------------------------------------------------------- logins
tokens="\"id_token_raw\": \"$C_IDT\", \"jwks_raw\": $JWKS, \"token_response_overrides\": {\"access_token\": \"$C_AT\", \"refresh_token\": \"$C_RT\"}"

n=$((n + 1))
is "$(wrun "{$tokens}" w "$C_PW")" PAM_SUCCESS "password login, client secret in HTTP Basic: PAM_SUCCESS"
is "$(mock_last /token headers.authorization)" "Basic $C_CS_BASIC" "the client secret canary was sent (Basic)"
is "$(mock_form_param /token password)" "$(printf '%s' "$C_PW" | od -An -tx1 | tr -d ' \n')" "the password canary was sent"
is "$(sed -n 's/^acct=//p' "$TESTTMP/out.$n")" PAM_SUCCESS "and acct_mgmt: PAM_SUCCESS"
like "$(scanned $n)" '^[0-9]{3,}$' "the interposer scanned the blocks this process freed ($(scanned $n))"
is "$(hits $n)" "" "no canary in any block freed during the password login"

n=$((n + 1))
is "$(wrun "{$tokens}" wpost "$C_PW")" PAM_SUCCESS "password login, client_auth=post: PAM_SUCCESS"
is "$(mock_form_param /token client_secret)" "$(printf '%s' "$C_CS" | od -An -tx1 | tr -d ' \n')" \
	"the client secret canary was sent in the form"
is "$(hits $n)" "" "no canary in any block freed (client_auth=post)"

n=$((n + 1))
is "$(wrun "{\"omit_id_token\": true, \"access_token\": \"$C_AT\", \"token_response_overrides\": {\"refresh_token\": \"$C_RT\"}}" w "$C_PW")" \
	PAM_SUCCESS "password login through userinfo (the access token canary as the bearer token): PAM_SUCCESS"
is "$(mock_last /userinfo headers.authorization)" "Bearer $C_AT" "the access token canary was sent to userinfo"
is "$(hits $n)" "" "no canary in any block freed (userinfo)"

n=$((n + 1))
is "$(wrun "{\"device_code\": \"$C_DC\", \"device_poll_script\": [\"authorization_pending\", \"approve\"], \"device_interval\": 1, $tokens}" wdev "")" \
	PAM_SUCCESS "device login with the device code canary, pending then approved: PAM_SUCCESS"
is "$(mock_form_param /token device_code)" "$(printf '%s' "$C_DC" | od -An -tx1 | tr -d ' \n')" \
	"the device code canary was polled with"
is "$(mock_count /token)" 2 "two polls"
is "$(hits $n)" "" "no canary in any block freed during the device login"

# A plain OAuth 2 provider (GitHub mode, provider = github): the access
# token goes to the user API and to every page of the membership lists
# (one entry a page, Link rel=next), never stored (the cache and state
# directories are searched too).
GHCONF="$TESTTMP/github.conf"
write_conf "$GHCONF" <<CONF
provider = github
github_url = $MOCK_URL
client_id = $CID
ca_file = $PKI/ca.pem
grants = device
qr_code = no
device_timeout = 20
scope = read:user read:org
required_scopes = team:acme/ops org:acme
CONF
write_service wgh <<SVC
auth    required @FAKEMODULE@ config=$GHCONF
account required @FAKEMODULE@ config=$GHCONF
SVC
n=$((n + 1))
is "$(wrun "{\"device_code\": \"$C_DC\", \"access_token\": \"$C_AT\", \"gh_per_page\": 1, \"device_interval\": 1, \"device_poll_script\": [\"authorization_pending\", \"approve:gh\"]}" wgh "")" \
	PAM_SUCCESS "GitHub device login (errors in HTTP 200, user API, orgs and teams over pages): PAM_SUCCESS"
is "$(sed -n 's/^acct=//p' "$TESTTMP/out.$n")" PAM_SUCCESS "  and acct_mgmt (the team gate): PAM_SUCCESS"
is "$(mock_last /api/v3/user/teams headers.authorization)" "Bearer $C_AT" "  the access token canary was sent to the teams list"
is "$(mock_count /api/v3/user/orgs)/$(mock_count /api/v3/user/teams)" 2/2 "  two pages of each list"
is "$(mock_form_param /login/oauth/access_token device_code)" "$(printf '%s' "$C_DC" | od -An -tx1 | tr -d ' \n')" \
	"  the device code canary was polled with"
is "$(hits $n)" "" "no canary in any block freed during the GitHub login"
is "$(grep -rlF -e "$C_AT" -e "$C_DC" "$TESTTMP/cache" "$TESTTMP/state" 2>/dev/null)" "" \
	"  nor in a file of the cache or state directory (the token is never kept)"
n=$((n + 1))
is "$(wrun "{\"jwks_raw\": $JWKS}" wtok "$C_JAT")" PAM_SUCCESS "token login, JWT access token canary verified locally: PAM_SUCCESS"
is "$(hits $n)" "" "no canary in any block freed during the JWT token login"

# The mock issues the opaque canary (a password grant), then answers its
# introspection; not wrun: its mock_reset would forget the token.
n=$((n + 1))
mock_reset
mock_scenario "{\"access_token\": \"$C_OPQ\", \"introspection_claims\": {\"aud\": \"ssh://wipe\", \"preferred_username\": \"$ALICE\"}}"
curl -sS --cacert "$PKI/ca.pem" -u "$CID:$C_CS" -d grant_type=password \
	--data-urlencode "username=$ALICE" --data-urlencode "password=$C_PW" "$MOCK_URL/token" >/dev/null
printf '%s\n' "$C_OPQ" | OA2_FREESCAN_CANARIES="$CANARIES" OA2_FREESCAN_OUT="$HITS.$n" \
	LD_PRELOAD="$LOGSHIM:$FREESCAN" "$PAMTEST" "$TESTTMP/pam.d" wtok "$ALICE" auth >"$TESTTMP/out.$n" 2>"$TESTTMP/err.$n"
is "$(sed -n 's/^auth=//p' "$TESTTMP/out.$n")" PAM_SUCCESS "token login, opaque token canary introspected: PAM_SUCCESS"
is "$(mock_form_param /introspect token)" "$(printf '%s' "$C_OPQ" | od -An -tx1 | tr -d ' \n')" "the opaque canary was introspected"
is "$(hits $n)" "" "no canary in any block freed during the introspected token login"

# ---------------------------------------------------------------- pam_oauth2ctl
# The same code linked into the admin tool (not a module): a login as root.
CTL="$top_builddir/pam_oauth2ctl"
[ -x "$CTL" ] || bail "pam_oauth2ctl not built: $CTL"
n=$((n + 1))
mock_reset
mock_scenario "{$tokens}"
printf '%s\n' "$C_PW" | OA2_FREESCAN_CANARIES="$CANARIES" OA2_FREESCAN_OUT="$HITS.$n" \
	LD_PRELOAD="$FREESCAN" "$CTL" --config "$CONF" login "$ALICE" >"$TESTTMP/out.$n" 2>&1
is "$?" 0 "pam_oauth2ctl login with the canaries: exit 0"
is "$(mock_last /token headers.authorization)" "Basic $C_CS_BASIC" "pam_oauth2ctl sent the client secret canary"
is "$(hits $n)" "" "no canary in any block pam_oauth2ctl freed"

# ---------------------------------------------------------------- refused responses
# Tokens in token responses refused after parsing (a bad token_type),
# after the value (trailing garbage) and mid-parse (cut short: the tree
# json-c had built so far is freed by its tokener).
n=$((n + 1))
is "$(wrun "{\"token_status\": 200, \"token_body_raw\": \"{\\\"access_token\\\":\\\"$C_AT\\\",\\\"refresh_token\\\":\\\"$C_RT\\\",\\\"token_type\\\":\\\"mac\\\"}\"}" w "$C_PW")" \
	PAM_AUTHINFO_UNAVAIL "tokens in a response with token_type mac: PAM_AUTHINFO_UNAVAIL"
is "$(hits $n)" "" "no canary in any block freed (refused after parsing)"
n=$((n + 1))
is "$(wrun "{\"token_status\": 200, \"token_body_raw\": \"{\\\"access_token\\\":\\\"$C_AT\\\",\\\"token_type\\\":\\\"Bearer\\\",\\\"refresh_token\\\":\\\"$C_RT\\\"} x\"}" w "$C_PW")" \
	PAM_AUTHINFO_UNAVAIL "tokens in a response with trailing garbage: PAM_AUTHINFO_UNAVAIL"
is "$(hits $n)" "" "no canary in any block freed (trailing garbage)"
n=$((n + 1))
is "$(wrun "{\"token_status\": 200, \"token_body_raw\": \"{\\\"token_type\\\":\\\"Bearer\\\",\\\"refresh_token\\\":\\\"$C_RT\\\",\\\"x\\\":{\\\"access_token\\\":\\\"$C_AT\\\",\\\"y\\\":[\\\"$C_DC\\\"\"}" w "$C_PW")" \
	PAM_AUTHINFO_UNAVAIL "tokens in a response cut short, nested: PAM_AUTHINFO_UNAVAIL"
is "$(hits $n)" "" "no canary in any block freed (cut short)"

done_testing
