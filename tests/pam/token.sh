#!/usr/bin/env bash
# token.sh - grants = token through the real libpam against the mock IdP:
# JWT access tokens (RFC 9068) crafted with jwtcraft.js and verified
# locally (no request with a warm cache), every refusal with its reason
# code and PAM code, the "token password" routing (a token-shaped answer
# never reaches the token endpoint as a password), RFC 7662 introspection
# active/inactive, the audit line, and that no token is logged or kept.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/common.sh"

ALICE=oa2tokalice
BOB=oa2tokbob
PW='alice-Pa55-word'
SECRET='tok-secret'
CID=pam-test
AUD='ssh://hosts.example'
JWTCRAFT="$top_srcdir/tests/pam/jwtcraft.js"
add_user "$ALICE"
add_user "$BOB"
cat >"$TESTTMP/users.json" <<JSON
{ "$ALICE": { "password": "$PW", "sub": "sub-alice", "scope": "openid profile" },
  "$BOB": { "password": "bob-Pa55", "sub": "sub-bob", "scope": "openid" } }
JSON
start_mock --users "$TESTTMP/users.json" --client-id "$CID" --client-secret "$SECRET"

KEYS="$TESTTMP/keys"
node "$JWTCRAFT" "$KEYS" init || bail "jwtcraft init"
JWKS_JSON=$(node -e 'process.stdout.write(JSON.stringify(require("fs").readFileSync(process.argv[1], "utf8")))' "$KEYS/jwks.json")

# conf NAME [extra lines...]: $TESTTMP/NAME.conf and a service NAME.
conf() {
	local name=$1; shift
	{
		cat <<CONF
issuer = $MOCK_URL
client_id = $CID
client_secret = $SECRET
ca_file = $PKI/ca.pem
timeout = ${OA2_TEST_TIMEOUT:-3}
token_audience = $AUD
token_clients = ci-deploy $CID
CONF
		local l
		for l in "$@"; do printf '%s\n' "$l"; done
	} | write_conf "$TESTTMP/$name.conf"
	write_service "$name" <<SVC
auth    required @MODULE@ config=$TESTTMP/$name.conf
account required @MODULE@ config=$TESTTMP/$name.conf
SVC
}
conf tok "grants = token" "offline_cache = yes"
conf tokpw "grants = token password" "offline_cache = yes"
conf never "grants = token" "token_introspection = never"
conf always "grants = token" "token_introspection = always"
conf intro "grants = token" "username_claim = username"
conf req "grants = token" "required_scopes = scope:pam:login"
conf grp "grants = token" "groups_claim = roles"
printf '[groups]\nclaim:deployers = %s\n' "$(id -gn "$BOB")" >>"$TESTTMP/grp.conf"
# token_audience missing: a configuration error, not a refusal.
conf noaud "grants = token"
sed -i '/^token_audience/d' "$TESTTMP/noaud.conf"
# token_clients missing: a configuration error too (review finding 2).
conf noclients "grants = token"
sed -i '/^token_clients/d' "$TESTTMP/noclients.conf"

now() { date +%s; }
# at [CLAIM-OVERRIDES [HEADER-OVERRIDES [KEY]]]: a JWT access token for
# alice (typ at+jwt), overrides merged (null deletes).
at() {
	local pay
	pay=$(node -e '
		const [iss, aud, user, now, over] = process.argv.slice(1);
		const p = { iss, aud: [aud, "other-api"], sub: "sub-alice",
			client_id: "ci-deploy", jti: "jti-" + now + "-" + Math.random().toString(36).slice(2),
			exp: Number(now) + 300, iat: Number(now),
			preferred_username: user, scope: "pam:login deploy" };
		for (const [k, v] of Object.entries(JSON.parse(over || "{}")))
			if (v === null) delete p[k]; else p[k] = v;
		process.stdout.write(JSON.stringify(p));' \
		"$MOCK_URL" "$AUD" "$ALICE" "$(now)" "${1-}")
	node "$JWTCRAFT" "$KEYS" sign RS256 "${3:-rsa}" "${2:-{\"typ\":\"at+jwt\"\}}" "$pay"
}

# Requests the mock saw, other than its control API.
nreq() {
	mock_ctl requests | node -e '
		let s = ""; process.stdin.on("data", d => s += d).on("end", () =>
			console.log(JSON.parse(s).filter(x => !x.path.startsWith("/_control")).length));'
}
lastline() { grep ' decision user=' "$OA2_LOG_CAPTURE" | tail -1; }
cold() { mock_reset; mock_scenario "{\"jwks_raw\": $JWKS_JSON}"; }

# tcase WANT-PAM WANT-REASON SERVICE TOKEN [USER]: one login, cold cache.
tcase() {
	local code
	cold
	[ -n "${SCEN-}" ] && mock_scenario "$SCEN"
	code=$(auth_with "$3" "${5:-$ALICE}" "$4")
	is "$code" "$1" "$2: $1"
	like "$(lastline)" "grant=token result=deny reason=$2 " "$2: decision line says grant=token reason=$2"
	is "$(mock_count /token)" 0 "$2: nothing sent to the token endpoint"
}

# ---------------------------------------------------------------- a good JWT
cold
T=$(at)
out=$(printf '%s\n' "$T" | pam_run tok "$ALICE" auth acct setcred)
like "$out" '^auth=PAM_SUCCESS' "JWT access token: auth PAM_SUCCESS"
like "$out" 'acct=PAM_SUCCESS' "JWT access token: acct PAM_SUCCESS"
line=$(lastline)
jti=$(node -e 'const p = JSON.parse(Buffer.from(process.argv[1].split(".")[1], "base64url")); console.log(p.jti)' "$T")
like "$line" "decision user=$ALICE service=tok rhost=- grant=token result=allow reason=ok pam=\"Success\" ms=[0-9]+ sub=sub-alice token=jti:$jti\$" \
	"audit line: grant=token, sub and token=jti:JTI"
is "$(mock_count /token)" 0 "cold cache: no token request"
is "$(mock_count /introspect)" 0 "cold cache: no introspection"
is "$(mock_count /jwks)" 1 "cold cache: one JWKS request"
grep -F -q "$T" "$OA2_LOG_CAPTURE"; is $? 1 "the token is not in syslog"
grep -F -q "${T##*.}" "$OA2_LOG_CAPTURE"; is $? 1 "not even its signature"
is "$(ls -A "$TESTTMP/offline" 2>/dev/null | wc -l)" 0 "offline_cache = yes: no verifier made from a token"

# Warm cache: not a single request.
mock_ctl reset '{}' >/dev/null
code=$(auth_with tok "$ALICE" "$(at)")
is "$code" PAM_SUCCESS "warm cache: PAM_SUCCESS"
is "$(nreq)" 0 "warm cache: zero HTTP requests for a JWT token login"

# ---------------------------------------------------------------- refusals
tcase PAM_AUTH_ERR not_access_token tok "$(at '' '{"typ":"JWT"}')"
tcase PAM_AUTH_ERR not_access_token tok "$(at '' '{"typ":null}')"
# An ID token of this client: typ JWT and aud = client_id.
tcase PAM_AUTH_ERR not_access_token tok "$(at "{\"aud\":\"$CID\",\"azp\":\"$CID\",\"nonce\":\"n\",\"client_id\":null}" '{"typ":"JWT"}')"
tcase PAM_AUTH_ERR aud_mismatch tok "$(at '{"aud":"https://other.example"}')"
tcase PAM_AUTH_ERR aud_mismatch tok "$(at "{\"aud\":\"$CID\"}")"
tcase PAM_AUTH_ERR expired tok "$(at "{\"exp\":$(( $(now) - 120 )),\"iat\":$(( $(now) - 600 ))}")"
tcase PAM_AUTH_ERR iss_mismatch tok "$(at '{"iss":"https://evil.example"}')"
tcase PAM_AUTH_ERR claim_missing tok "$(at '{"client_id":null}')"
# RFC 9068 §2.2: jti is required.
tcase PAM_AUTH_ERR claim_missing tok "$(at '{"jti":null}')"
tcase PAM_AUTH_ERR claim_type tok "$(at '{"jti":7}')"
# The issuing client must be in token_clients (client_id, and azp when
# present).
tcase PAM_AUTH_ERR client_not_allowed tok "$(at '{"client_id":"other-app"}')"
like "$(lastline)" "token=jti:" "client_not_allowed: a verified token, named by its jti"
tcase PAM_AUTH_ERR client_not_allowed tok "$(at '{"azp":"other-app"}')"
cold
is "$(auth_with tok "$ALICE" "$(at '{"azp":"ci-deploy"}')")" PAM_SUCCESS "azp in token_clients: PAM_SUCCESS"
# A sender-constrained token (DPoP, mTLS) is no bearer token.
tcase PAM_AUTH_ERR sender_constrained tok "$(at '{"cnf":{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}}')"
tcase PAM_AUTH_ERR sender_constrained tok "$(at '{"cnf":{"x5t#S256":"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}}')"
tcase PAM_AUTH_ERR identity_mismatch tok "$(at)" "$BOB"
like "$(lastline)" "sub=sub-alice token=jti:" "identity_mismatch: the token's own sub and jti in the audit line"
# Signed by a key outside the JWKS, under a published kid.
IMP=$(at '' '' imposter)
tcase PAM_AUTH_ERR bad_signature tok "$IMP"
like "$(lastline)" "token=sha256:[0-9a-f]{16}\$" "a refused JWS is named by a hash of it, never by its unverified jti"
is "$(lastline | sed -n 's/.*token=sha256://p')" "$(printf '%s' "$IMP" | sha256sum | cut -c1-16)" \
	"  the hash is the SHA-256 prefix an admin can compute from the token he holds"
# An unknown kid: the JWKS is fetched once more, then not again for a
# minute (the rate limit of the ID token path).
cold
auth_with tok "$ALICE" "$(at)" >/dev/null
mock_ctl reset '{}' >/dev/null
mock_scenario "{\"jwks_raw\": $JWKS_JSON}"
code=$(auth_with tok "$ALICE" "$(at '' '{"typ":"at+jwt","kid":"k-unknown"}')")
is "$code" PAM_AUTH_ERR "unknown kid: PAM_AUTH_ERR"
like "$(lastline)" "reason=no_key " "unknown kid: reason=no_key"
is "$(mock_count /jwks)" 1 "unknown kid: the JWKS refetched once"
auth_with tok "$ALICE" "$(at '' '{"typ":"at+jwt","kid":"k-unknown2"}')" >/dev/null
is "$(mock_count /jwks)" 1 "a second unknown kid within a minute: no refetch"
# Those misses are the presenter's: they never hold back the refetch an
# ID token needs after a real key rotation (review finding 7).
mock_reset
mock_scenario '{"jwks_kids": ["RS256"]}'
is "$(auth_with tokpw "$ALICE" "$PW")" PAM_SUCCESS "rotation: a password login caches a JWKS of one key"
mock_ctl reset '{}' >/dev/null
mock_scenario '{"jwks_kids": ["RS256"]}'
auth_with tokpw "$ALICE" "$(at '' '{"typ":"at+jwt","kid":"k-made-up"}')" >/dev/null
like "$(lastline)" "grant=token result=deny reason=no_key " "rotation: an access token with a made-up kid: no_key"
is "$(mock_count /jwks)" 1 "  after one refetch"
mock_ctl reset '{}' >/dev/null
mock_scenario '{"alg": "ES256"}'
is "$(auth_with tokpw "$ALICE" "$PW")" PAM_SUCCESS "rotation: an ID token with a new kid right after it: refetched, PAM_SUCCESS"
is "$(mock_count /jwks)" 1 "  the JWKS was fetched again for the ID token"
# grants = token alone: a password is refused unsent.
tcase PAM_AUTH_ERR not_a_token tok "$PW"
is "$(nreq)" 0 "not_a_token: no request at all"
tcase PAM_AUTH_ERR opaque_refused never "$(head -c 32 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d =)"
# token_audience missing: a configuration error.
code=$(auth_with noaud "$ALICE" "$(at)")
is "$code" PAM_SERVICE_ERR "no token_audience: PAM_SERVICE_ERR"
like "$(grep 'configuration error' "$OA2_LOG_CAPTURE" | tail -1)" "grants = token needs token_audience" \
	"no token_audience: the log says what is missing"
code=$(auth_with noclients "$ALICE" "$(at)")
is "$code" PAM_SERVICE_ERR "no token_clients: PAM_SERVICE_ERR"
like "$(grep 'configuration error' "$OA2_LOG_CAPTURE" | tail -1)" "grants = token needs token_clients" \
	"no token_clients: the log says what is missing"

# ---------------------------------------------------------------- gates and groups
cold
is "$(auth_with req "$ALICE" "$(at)")" PAM_SUCCESS "required_scopes from the token's scope claim: PAM_SUCCESS"
tcase PAM_AUTH_ERR missing_required req "$(at '{"scope":"deploy"}')"
tcase PAM_AUTH_ERR missing_required req "$(at '{"scope":null}')"
cold
is "$(printf '%s\n' "$(at "{\"sub\":\"sub-bob\",\"preferred_username\":\"$BOB\",\"roles\":[\"deployers\"]}")" |
	pam_run grp "$BOB" auth acct setcred | tr '\n' ' ')" "auth=PAM_SUCCESS acct=PAM_SUCCESS setcred=PAM_SUCCESS " \
	"groups_claim from the token: auth, acct, setcred succeed"
like "$(grep "groups user=$BOB" "$OA2_LOG_CAPTURE" | tail -1)" "granted=$(id -gn "$BOB")" "groups_claim from the token maps the group"

# ---------------------------------------------------------------- token password routing
cold
code=$(auth_with tokpw "$ALICE" "$(at '{"aud":"https://other.example"}')")
is "$code" PAM_AUTH_ERR "token password: a refused JWT: PAM_AUTH_ERR"
like "$(lastline)" "grant=token result=deny reason=aud_mismatch" "token password: a JWT-shaped answer is a token"
is "$(mock_count /token)" 0 "token password: the JWT never reached the token endpoint as a password"
mock_reset
code=$(auth_with tokpw "$ALICE" "$PW")
is "$code" PAM_SUCCESS "token password: a password still works"
like "$(lastline)" "grant=password result=allow" "token password: a password goes to the password grant"
is "$(mock_count /token)" 1 "token password: one token request for the password"
nver=$(ls -A "$TESTTMP/offline" 2>/dev/null | wc -l)
ok "$([ "$nver" -ge 1 ] && echo 0 || echo 1)" "token password: the password login kept an offline verifier ($nver)"
cold
auth_with tokpw "$ALICE" "$(at '{"aud":"https://other.example"}')" >/dev/null
like "$(lastline)" "grant=token result=deny reason=aud_mismatch" "token password: a refused token"
is "$(ls -A "$TESTTMP/offline" 2>/dev/null | wc -l)" "$nver" "  leaves the offline verifier alone (a token says nothing of the password)"
OPAQUE=$(head -c 32 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d =)
cold
code=$(auth_with tokpw "$ALICE" "$OPAQUE")
is "$code" PAM_AUTH_ERR "token password: an unknown opaque token: PAM_AUTH_ERR"
like "$(lastline)" "grant=token result=deny reason=inactive_token" "token password: an opaque-shaped answer is introspected"
is "$(mock_count /token)" 0 "token password: the opaque token never reached the token endpoint"
is "$(mock_count /introspect)" 1 "token password: one introspection request"
like "$(lastline)" "token=-\$" "token password: a refused opaque answer (maybe a password) is logged as token=-, no hash"
# A long passphrase of the b64token alphabet is taken for a token: never
# a hash of it in syslog.
LONGPW='correct-horse-battery-staple-and-more-words'
cold
auth_with tokpw "$ALICE" "$LONGPW" >/dev/null
like "$(lastline)" "grant=token result=deny reason=inactive_token .*token=-\$" "a long passphrase: introspected, logged as token=-"
unlike "$(cat "$OA2_LOG_CAPTURE")" "sha256:$(printf '%s' "$LONGPW" | sha256sum | cut -c1-16)" "  no hash of the passphrase anywhere in syslog"
# The answer routed to the token grant is not left in PAM_AUTHTOK for
# the modules after this one (pam_exec expose_authtok here).
printf '#!/bin/sh\ncat >%s\n' "$TESTTMP/authtok.out" >"$TESTTMP/authtok.sh"
chmod 0700 "$TESTTMP/authtok.sh"
write_service tokexec <<SVC
auth    required @MODULE@ config=$TESTTMP/tokpw.conf
auth    optional pam_exec.so expose_authtok quiet $TESTTMP/authtok.sh
SVC
cold
: >"$TESTTMP/authtok.out"
T=$(at)
printf '%s\n' "$T" | pam_run tokexec "$ALICE" auth >/dev/null
like "$(lastline)" "grant=token result=allow" "PAM_AUTHTOK: the token logged in"
test -s "$TESTTMP/authtok.out" && grep -F -q "${T:0:64}" "$TESTTMP/authtok.out"; is $? 1 "  the next module does not get the token as PAM_AUTHTOK (pam_exec reads its first 512 bytes)"
mock_reset
: >"$TESTTMP/authtok.out"
printf '%s\n' "$PW" | pam_run tokexec "$ALICE" auth >/dev/null
is "$(tr -d '\0\n' <"$TESTTMP/authtok.out")" "$PW" "  a password still is PAM_AUTHTOK for the next module"
# A password with a dot-separated shape that is no JWS is a password.
cold
auth_with tokpw "$ALICE" "a.b.c" >/dev/null
like "$(lastline)" "grant=password" "token password: 'a.b.c' is a password, not a token"

# ---------------------------------------------------------------- an IdP outage
# After a 503 (outage_window), a password login fails fast; a JWT with a
# warm cache still logs in, makes no request and leaves the stamp.
conf outage "grants = token password" "outage_window = 30"
cold
auth_with outage "$ALICE" "$(at)" >/dev/null          # warms the cache
mock_ctl reset '{}' >/dev/null
mock_scenario '{"status_for_path": {"/token": 503}}'
is "$(auth_with outage "$ALICE" "$PW")" PAM_AUTHINFO_UNAVAIL "outage: the password login gets a 503: PAM_AUTHINFO_UNAVAIL"
is "$(auth_with outage "$ALICE" "$(at)")" PAM_SUCCESS "outage: a JWT token login with a warm cache still succeeds"
is "$(mock_count /token)" 1 "outage: the token login made no request"
is "$(auth_with outage "$ALICE" "$PW")" PAM_AUTHINFO_UNAVAIL "outage: the next password login: PAM_AUTHINFO_UNAVAIL"
like "$(lastline)" "reason=idp_down_recently " "  fails fast: the token login left the outage stamp"
is "$(mock_count /token)" 1 "  and sent nothing"

# ---------------------------------------------------------------- token device
write_service tokdev <<SVC
auth    required @FAKEMODULE@ config=$TESTTMP/tokdev.conf
SVC
{ sed '/^grants/d' "$TESTTMP/tok.conf"; echo "grants = token device"; echo "qr_code = no"; echo "device_timeout = 10"; } |
	write_conf "$TESTTMP/tokdev.conf"
mock_reset
mock_scenario '{"device_poll_script": ["approve:'"$ALICE"'"], "device_interval": 1}'
code=$(auth_with tokdev "$ALICE" "")
is "$code" PAM_SUCCESS "token device: an empty answer signs in with the device grant"
like "$(lastline)" "grant=device result=allow" "  decision grant=device"
grep -q "Access token (leave empty to sign in with a browser): " "$TESTTMP/prompts"
is $? 0 "  the prompt asks for an access token, or empty for a browser"
cold
is "$(auth_with tokdev "$ALICE" "$(at)")" PAM_SUCCESS "token device: a token answer is a token login"
like "$(lastline)" "grant=token result=allow" "  decision grant=token"
is "$(mock_count /device_authorization)" 0 "  no device authorization request"

# ---------------------------------------------------------------- introspection
# An opaque access token issued by the mock (its password grant).
opaque_token() {
	curl -sS --cacert "$PKI/ca.pem" -u "$CID:$SECRET" -d grant_type=password \
		--data-urlencode "username=$ALICE" --data-urlencode "password=$PW" \
		-d scope=openid "$MOCK_URL/token" | node -e '
		let s = ""; process.stdin.on("data", d => s += d).on("end", () =>
			process.stdout.write(JSON.parse(s).access_token));'
}
INTRO="{\"introspection_claims\": {\"aud\": [\"$AUD\"], \"scope\": \"pam:login\"}}"
# fresh_opaque [SCENARIO]: a reset mock (it forgets its tokens at a reset),
# then a new opaque token in OT and the scenario.
fresh_opaque() {
	mock_reset
	OT=$(opaque_token)
	[ "${#OT}" -ge 40 ] || bail "the mock's access token is not opaque-shaped: ${#OT} characters"
	mock_scenario "$1"
}
fresh_opaque "$INTRO"
out=$(printf '%s\n' "$OT" | pam_run intro "$ALICE" auth acct)
like "$out" '^auth=PAM_SUCCESS' "introspection, active: PAM_SUCCESS"
is "$(mock_count /introspect)" 1 "introspection: one request"
is "$(mock_count /token)" 1 "introspection: no token request (only the one that issued the token)"
is "$(mock_form_param /introspect token)" "$(printf '%s' "$OT" | od -An -tx1 -v | tr -d ' \n')" "introspection: the token in the form body"
like "$(mock_last /introspect headers.authorization)" "^Basic " "introspection: authenticated as the client (login_post)"
like "$(lastline)" "grant=token result=allow reason=ok .* token=sha256:[0-9a-f]{16}\$" \
	"introspection: no jti, the audit line names a hash of the token"
grep -F -q "$OT" "$OA2_LOG_CAPTURE"; is $? 1 "introspection: the token is not in syslog"
SCEN="$INTRO" tcase PAM_AUTH_ERR inactive_token intro "$OPAQUE"
fresh_opaque '{"introspection_claims": {"aud": "other"}}'
is "$(auth_with intro "$ALICE" "$OT")" PAM_AUTH_ERR "introspection, other audience: PAM_AUTH_ERR"
like "$(lastline)" "reason=aud_mismatch " "introspection, other audience: aud_mismatch"
mock_scenario "{\"introspection_claims\": {\"aud\": \"$AUD\", \"exp\": $(( $(now) - 600 ))}}"
is "$(auth_with intro "$ALICE" "$OT")" PAM_AUTH_ERR "introspection, expired: PAM_AUTH_ERR"
like "$(lastline)" "reason=expired " "introspection, exp in the past: expired"
mock_scenario "{\"introspection_claims\": {\"aud\": \"$AUD\", \"typ\": \"ID\"}}"
is "$(auth_with intro "$ALICE" "$OT")" PAM_AUTH_ERR "introspection of an ID token: PAM_AUTH_ERR"
like "$(lastline)" "reason=not_access_token " "introspection, typ ID: not_access_token"
mock_scenario '{"introspection_claims": {"active": "true"}}'
is "$(auth_with intro "$ALICE" "$OT")" PAM_AUTHINFO_UNAVAIL "introspection, active a string: PAM_AUTHINFO_UNAVAIL"
like "$(lastline)" "reason=introspection_malformed " "introspection, active a string: introspection_malformed"
mock_scenario '{"status_for_path": {"/introspect": 401}}'
is "$(auth_with intro "$ALICE" "$OT")" PAM_AUTHINFO_UNAVAIL "introspection refused the client: PAM_AUTHINFO_UNAVAIL"
like "$(lastline)" "reason=introspection_refused " "introspection 401: introspection_refused"
mock_scenario '{"status_for_path": {"/introspect": 404}}'
is "$(auth_with intro "$ALICE" "$OT")" PAM_AUTHINFO_UNAVAIL "introspection 404: PAM_AUTHINFO_UNAVAIL"
like "$(lastline)" "reason=introspection_http_status " "introspection 404: introspection_http_status"
SCEN='{"discovery_overrides": {"introspection_endpoint": null}}' tcase PAM_AUTH_ERR no_introspection_endpoint intro "$OPAQUE"
# Not an outage: a password login right after it is not failed fast.
conf nointro "grants = token password" "outage_window = 30"
mock_reset
mock_scenario '{"discovery_overrides": {"introspection_endpoint": null}}'
is "$(auth_with nointro "$ALICE" "$OPAQUE")" PAM_AUTH_ERR "no introspection endpoint, outage_window set: PAM_AUTH_ERR"
is "$(auth_with nointro "$ALICE" "$PW")" PAM_SUCCESS "  and no outage stamp: the next password login succeeds"
# The issuing client of an introspected token.
fresh_opaque "{\"introspection_claims\": {\"aud\": \"$AUD\", \"client_id\": \"other-app\"}}"
is "$(auth_with intro "$ALICE" "$OT")" PAM_AUTH_ERR "introspection, client_id not in token_clients: PAM_AUTH_ERR"
like "$(lastline)" "reason=client_not_allowed " "  client_not_allowed"
mock_scenario "{\"introspection_claims\": {\"aud\": \"$AUD\", \"client_id\": null}}"
is "$(auth_with intro "$ALICE" "$OT")" PAM_AUTH_ERR "introspection without client_id or azp: PAM_AUTH_ERR"
like "$(lastline)" "reason=client_missing " "  client_missing"
mock_scenario "{\"introspection_claims\": {\"aud\": \"$AUD\", \"cnf\": {\"jkt\": \"abc\"}}}"
is "$(auth_with intro "$ALICE" "$OT")" PAM_AUTH_ERR "introspection of a sender-constrained token: PAM_AUTH_ERR"
like "$(lastline)" "reason=sender_constrained " "  sender_constrained"
# An OAuth error answer is classified by its code: invalid_client is the
# client's problem (as at the token endpoint), and no outage.
mock_scenario '{"error_for_path": {"/introspect": {"status": 400, "error": "invalid_client"}}}'
is "$(auth_with intro "$ALICE" "$OT")" PAM_AUTHINFO_UNAVAIL "introspection 400 invalid_client: PAM_AUTHINFO_UNAVAIL"
like "$(lastline)" "reason=invalid_client " "  reason=invalid_client"
# token_introspection = always: a JWT goes to introspection too.
SCEN= tcase PAM_AUTH_ERR inactive_token always "$(at)"
is "$(mock_count /introspect)" 1 "token_introspection = always: the JWT was introspected"
unset SCEN

done_testing
