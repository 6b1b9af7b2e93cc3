#!/usr/bin/env bash
# audit.sh - the audit record: every decision is one syslog line with
# stable key=value fields (pam_oauth2(8) AUDIT), sub= optionally hashed,
# and every reason code the man page lists is emitted by some case here,
# and every code emitted here is listed.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/common.sh"

MAN="$top_srcdir/man/pam_oauth2.8"
[ -f "$MAN" ] || bail "no man page $MAN"

U=oa2audit
PW='audit-Pa55'
SECRET='audit-secret'
add_user "$U"
cat >"$TESTTMP/users.json" <<JSON
{ "$U": { "password": "$PW", "sub": "sub-audit-1", "scope": "openid profile",
          "claims": { "groups": ["staff"] } } }
JSON
start_mock --users "$TESTTMP/users.json" --client-id pam-test --client-secret "$SECRET"

# conf NAME [extra lines...]: a config file $TESTTMP/NAME.conf and a
# service NAME using it (the fake-clock module, so device polling and
# deadlines take no real time).
conf() {
	local name=$1; shift
	{
		cat <<CONF
issuer = $MOCK_URL
client_id = pam-test
client_secret = $SECRET
ca_file = $PKI/ca.pem
cache_dir = $TESTTMP/cache
offline_dir = $TESTTMP/offline
timeout = ${OA2_TEST_TIMEOUT:-2}
connect_timeout = 1
qr_code = no
CONF
		local l
		for l in "$@"; do printf '%s\n' "$l"; done
	} | write_conf "$TESTTMP/$name.conf"
	write_service "$name" <<SVC
auth    required @FAKEMODULE@ config=$TESTTMP/$name.conf
account required @FAKEMODULE@ config=$TESTTMP/$name.conf
SVC
}

conf pw
conf pwhash "audit_hash_sub = yes"
conf otp "otp = prompt"
conf dev "grants = device" "device_timeout = 10"
conf first
write_service first <<SVC
auth    required @FAKEMODULE@ config=$TESTTMP/first.conf use_first_pass
SVC
conf real
write_service real <<SVC
auth    required @MODULE@ config=$TESTTMP/real.conf
SVC
conf grp "groups_claim = groups"
conf req "required_scopes = scope:pam:admin"
conf reqacct
write_service reqacct <<SVC
auth    required @FAKEMODULE@ config=$TESTTMP/reqacct.conf
account required @FAKEMODULE@ config=$TESTTMP/reqacct.conf required_scopes=scope:pam:admin
SVC
conf rclaim "required_claims = email_verified=true"
conf off "offline_cache = yes"
conf outage "outage_window = 30"
conf badclient
sed -i "s|^client_secret = .*|client_secret = wrong-secret|" "$TESTTMP/badclient.conf"
conf tls
sed -i "s|^ca_file = .*|ca_file = $PKI/other-ca.pem|" "$TESTTMP/tls.conf"
conf dns
sed -i "s|^issuer = .*|issuer = https://oa2-no-such-host.invalid|" "$TESTTMP/dns.conf"
conf conn
sed -i "s|^issuer = .*|issuer = https://127.0.0.1:9|" "$TESTTMP/conn.conf"

SEEN="$TESTTMP/seen"
: >"$SEEN"
nlines() { wc -l <"$OA2_LOG_CAPTURE"; }

# case WANT SERVICE SCENARIO-JSON [pamtest ops...] with the answers on
# stdin: runs one login on a cold mock and cache, then checks the last
# decision (or, with acct among the ops, account) line says reason=WANT.
case_() {
	local want=$1 svc=$2 scen=$3; shift 3
	local before line kind=decision
	[ $# -eq 0 ] && set -- auth
	case " $* " in *" acct "*) kind=account ;; esac
	mock_reset
	[ -n "$scen" ] && mock_scenario "$scen"
	before=$(nlines)
	pam_run "$svc" "${CASE_USER:-$U}" "$@" >/dev/null
	line=$(tail -n +"$((before + 1))" "$OA2_LOG_CAPTURE" | grep " $kind user=" | tail -1)
	like "$line" "reason=$want( |\$)" "reason=$want (${CASE_LABEL:-$svc $scen})"
	sed -n 's/.* reason=\([^ ]*\).*/\1/p' <<<"$line" >>"$SEEN"
}
# the password on stdin, then a case
# (never in a pipeline: the TAP counter lives in this shell)
pwcase() { case_ "$@" <<<"$PW"; }

now=$(date +%s)

# ---------------------------------------------------------------- the line itself
mock_reset
pam_run real "$U" auth >/dev/null <<<"$PW"
line=$(grep ' decision user=' "$OA2_LOG_CAPTURE" | tail -1)
like "$line" "^<[0-9]+> [^:]*: pam_oauth2\(real:auth\): decision user=$U service=real rhost=- grant=password result=allow reason=ok pam=\"Success\" ms=[0-9]+ sub=sub-audit-1$" \
	"allow: one line with user, service, rhost, grant, result, reason, pam, ms, sub"
is "$(grep -c ' decision ' "$OA2_LOG_CAPTURE")" 1 "exactly one decision line per authentication"
echo ok >>"$SEEN"

mock_reset
pam_run pwhash "$U" auth >/dev/null <<<"$PW"
want=$(printf '%s' sub-audit-1 | sha256sum | cut -c1-16)
like "$(grep ' decision user=' "$OA2_LOG_CAPTURE" | tail -1)" "result=allow reason=ok .* sub=sha256:$want$" \
	"audit_hash_sub = yes: sub= is sha256: and the first 16 hex digits of SHA-256(sub)"
unlike "$(cat "$OA2_LOG_CAPTURE" | tail -1)" "sub-audit-1" "audit_hash_sub = yes: the sub itself is not logged"

mock_reset
pam_run pw "$U" auth >/dev/null <<<wrong
like "$(grep ' decision user=' "$OA2_LOG_CAPTURE" | tail -1)" "result=deny reason=invalid_grant pam=\"Authentication failure\" ms=[0-9]+ sub=-$" \
	"deny: sub=- when no identity was verified"
echo invalid_grant >>"$SEEN"

pam_run pw "$U" auth >/dev/null <<<"$PW"
line=$(grep ' decision user=' "$OA2_LOG_CAPTURE" | tail -1)
like "$line" "rhost=- " "no PAM_RHOST: rhost=-"

# ---------------------------------------------------------------- local decisions
CASE_USER=$'bad\001user' pwcase invalid_user_name pw ''
CASE_USER=oa2nosuchuser pwcase unknown_user pw ''
CASE_USER=root pwcase system_account pw ''
case_ empty_password pw '' <<<''
CASE_LABEL="sshd's fake password" case_ fake_password pw '' hexreply auth \
	<<<"$(printf '%s' $'\b\n\r\177INCORRECT' | od -An -tx1 -v | tr -d ' \n')"
case_ empty_otp otp '' <<<"$PW"$'\n'
case_ conversation pw '' failconv auth </dev/null
case_ no_password first '' </dev/null
case_ no_conversation dev '' nullconv auth </dev/null

# ---------------------------------------------------------------- IdP error codes (RFC 6749 5.2, RFC 8628 3.5)
pwcase invalid_client badclient ''
for code in invalid_request unauthorized_client unsupported_grant_type invalid_scope \
	server_error temporarily_unavailable; do
	pwcase "$code" pw "{\"token_status\": 400, \"token_body_raw\": \"{\\\"error\\\":\\\"$code\\\"}\"}"
done
for code in interaction_required mfa_required login_required consent_required; do
	pwcase "$code" pw "{\"password_grant_error\": \"$code\"}"
done
# invalid_grant refined by Keycloak's fixed descriptions (token.c).
for d in 'account_disabled:Account disabled' 'required_action:Account is not fully set up'; do
	pwcase "${d%%:*}" pw "{\"token_status\": 400, \"token_body_raw\": \"{\\\"error\\\":\\\"invalid_grant\\\",\\\"error_description\\\":\\\"${d#*:}\\\"}\"}"
done

# ---------------------------------------------------------------- transport
pwcase connect_failed conn ''
pwcase dns_failed dns ''
pwcase tls_failed tls ''
pwcase timeout pw "{\"delay_ms_for_path\": {\"/token\": $(( (${OA2_TEST_TIMEOUT:-2} + 2) * 1000 ))}}"
pwcase redirect pw '{"redirect_for_path": {"/token": "https://127.0.0.1:9/elsewhere"}}'
pwcase response_too_large pw '{"huge_body_for_path": {"/token": 400000}}'
pwcase http_failed pw '{"close_for_path": {"/token": true}}'

# ---------------------------------------------------------------- HTTP status and malformed answers
pwcase http_5xx pw '{"status_for_path": {"/token": 503}}'
pwcase http_429 pw '{"status_for_path": {"/token": 429}}'
pwcase http_status pw '{"token_status": 404, "token_body_raw": "<html>not found</html>"}'
pwcase http_401 pw '{"token_status": 401, "token_body_raw": ""}'
pwcase metadata_http_status pw '{"discovery_status": 404}'
pwcase malformed_json pw '{"token_status": 200, "token_body_raw": "<html>oops</html>"}'
pwcase malformed_token_response pw '{"token_response_overrides": {"token_type": "mac"}}'
pwcase malformed_error pw '{"token_status": 400, "token_body_raw": "{\"error\": 5}"}'
pwcase malformed_discovery pw '{"discovery_raw": "not json"}'
pwcase discovery_incomplete pw '{"discovery_overrides": {"token_endpoint": null}}'
pwcase discovery_bad_endpoint pw '{"discovery_overrides": {"jwks_uri": "http://127.0.0.1/jwks"}}'
pwcase discovery_issuer_mismatch pw '{"discovery_overrides": {"issuer": "https://evil.example"}}'
pwcase jwks_malformed pw '{"jwks_raw": "[1,2]"}'

# ---------------------------------------------------------------- ID token checks
pwcase malformed pw '{"id_token_raw": "not-a-jwt"}'
pwcase too_large pw "{\"id_token_raw\": \"$(head -c 70000 /dev/zero | tr '\0' a)\"}"
pwcase alg_refused pw '{"alg": "none"}'
pwcase header_refused pw '{"id_token_header": {"jku": "https://127.0.0.1:9/keys"}}'
pwcase typ_refused pw '{"id_token_header": {"typ": "at+jwt"}}'
pwcase no_key pw '{"jwks_kids": ["ES256"]}'
pwcase key_mismatch pw '{"id_token_header": {"alg": "ES256"}}'
pwcase bad_signature pw '{"id_token_bad_signature": true}'
pwcase claim_missing pw '{"id_token_claims": {"exp": null}}'
pwcase claim_type pw '{"id_token_claims": {"exp": "soon"}}'
pwcase iss_mismatch pw '{"id_token_claims": {"iss": "https://evil.example"}}'
pwcase aud_mismatch pw '{"id_token_claims": {"aud": "someone-else"}}'
pwcase aud_untrusted pw '{"id_token_claims": {"aud": ["pam-test", "someone-else"], "azp": "pam-test"}}'
pwcase azp_mismatch pw '{"id_token_claims": {"azp": "someone-else"}}'
pwcase expired pw '{"id_token_claims": {"exp": 1000}}'
pwcase not_yet_valid pw "{\"id_token_claims\": {\"nbf\": $((now + 3600))}}"
pwcase iat_future pw "{\"id_token_claims\": {\"iat\": $((now + 3600))}}"

# ---------------------------------------------------------------- identity
pwcase identity_mismatch pw '{"id_token_claims": {"preferred_username": "oa2bob"}}'
pwcase claim_invalid pw '{"id_token_claims": {"preferred_username": ""}}'
pwcase no_identity pw '{"omit_id_token": true, "discovery_overrides": {"userinfo_endpoint": null}}'
pwcase userinfo_refused pw '{"omit_id_token": true, "userinfo_status": 401}'
pwcase userinfo_http_status pw '{"omit_id_token": true, "userinfo_status": 500}'
pwcase userinfo_malformed pw '{"omit_id_token": true, "userinfo_raw": "not json"}'
pwcase userinfo_sub_mismatch pw '{"id_token_claims": {"preferred_username": null}, "userinfo_claims": {"sub": "other-sub"}}'
pwcase groups_claim_type grp '{"id_token_claims": {"groups": 5}}'

# ---------------------------------------------------------------- gates in authenticate
pwcase missing_required req ''
like "$(grep ' decision user=' "$OA2_LOG_CAPTURE" | tail -1)" "reason=missing_required pam=\"Authentication failure\" ms=[0-9]+ sub=sub-audit-1 missing=scope:pam:admin\$" \
	"a gate refusal: sub= of the verified identity, then missing= naming the entry"
pwcase required_claim rclaim '{"id_token_claims": {"email_verified": "true"}}'
like "$(grep ' decision user=' "$OA2_LOG_CAPTURE" | tail -1)" " sub=sub-audit-1 missing=email_verified\$" \
	"required_claim: missing= names the claim"

# ---------------------------------------------------------------- device grant
enter() { case_ "$@" <<<''; }
enter no_device_endpoint dev '{"discovery_overrides": {"device_authorization_endpoint": null}}'
enter malformed_device_response dev '{"device_response_overrides": {"device_code": null}}'
enter device_response_refused dev '{"device_response_overrides": {"expires_in": 0}}'
enter verification_uri_refused dev '{"device_response_overrides": {"verification_uri": "http://127.0.0.1/device"}}'
enter access_denied dev '{"device_poll_script": ["access_denied"]}'
enter expired_token dev '{"device_poll_script": ["expired_token"]}'
enter device_timeout dev '{"device_poll_script": ["authorization_pending", "authorization_pending", "authorization_pending", "authorization_pending", "authorization_pending"]}'
enter ok dev "{\"device_poll_script\": [\"approve:$U\"]}"
# private_key_jwt and a device endpoint off the token endpoint's origin:
# no assertion sent there.
mkdir -p "$TESTTMP/keys"
chmod 0700 "$TESTTMP/keys"
openssl genpkey -algorithm ED25519 -out "$TESTTMP/keys/pkj.pem" 2>/dev/null || bail "openssl genpkey"
chmod 0600 "$TESTTMP/keys/pkj.pem"
conf pkj "grants = device" "device_timeout = 10" "client_auth = private_key_jwt" \
	"client_key_file = $TESTTMP/keys/pkj.pem"
sed -i '/^client_secret = /d' "$TESTTMP/pkj.conf"
enter assertion_origin pkj "{\"discovery_overrides\": {\"device_authorization_endpoint\": \"https://localhost:$MOCK_PORT/device_authorization\"}}"

# ---------------------------------------------------------------- offline verifier
pwcase ok off ''
pwcase offline off '{"status_for_path": {"/token": 503}}'
for i in 1 2 3; do case_ offline_wrong_password off '{"status_for_path": {"/token": 503}}' <<<wrong; done
pwcase offline_rate_limited off '{"status_for_path": {"/token": 503}}'

# ---------------------------------------------------------------- outage window
# A 503 starts the window (outage_window); the next login does not ask.
# Not case_: its mock_reset would empty cache_dir, the stamp with it.
mock_reset
mock_scenario '{"status_for_path": {"/token": 503}}'
pam_run outage "$U" auth >/dev/null <<<"$PW"
before=$(nlines)
pam_run outage "$U" auth >/dev/null <<<"$PW"
line=$(tail -n +"$((before + 1))" "$OA2_LOG_CAPTURE" | grep " decision user=" | tail -1)
like "$line" "reason=idp_down_recently( |\$)" "reason=idp_down_recently (a login within outage_window after a 503)"
sed -n 's/.* reason=\([^ ]*\).*/\1/p' <<<"$line" >>"$SEEN"

# ---------------------------------------------------------------- grants = token
conf tok "grants = token" "token_audience = ssh://audit" "token_clients = ci pam-test"
conf toknever "grants = token" "token_audience = ssh://audit" "token_clients = ci pam-test" "token_introspection = never"
b64u() { printf '%s' "$1" | base64 -w0 | tr '+/' '-_' | tr -d =; }
# An ID-token-shaped JWS (typ JWT): refused at the header, before any key.
IDJWT="$(b64u '{"alg":"RS256","typ":"JWT"}').$(b64u '{}').AAAA"
OPAQUE=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdEf
case_ not_access_token tok '' <<<"$IDJWT"
case_ not_a_token tok '' <<<"$PW"
case_ opaque_refused toknever '' <<<"$OPAQUE"
case_ inactive_token tok '' <<<"$OPAQUE"
case_ no_introspection_endpoint tok '{"discovery_overrides": {"introspection_endpoint": null}}' <<<"$OPAQUE"
case_ introspection_refused tok '{"status_for_path": {"/introspect": 401}}' <<<"$OPAQUE"
case_ introspection_http_status tok '{"status_for_path": {"/introspect": 404}}' <<<"$OPAQUE"
# A token the mock issued (its password grant), introspected with a
# malformed "active".  Not case_: its mock_reset forgets the token.
mock_reset
OT=$(curl -sS --cacert "$PKI/ca.pem" -u "pam-test:$SECRET" -d grant_type=password \
	--data-urlencode "username=$U" --data-urlencode "password=$PW" "$MOCK_URL/token" |
	node -e 'let s = ""; process.stdin.on("data", d => s += d).on("end", () => process.stdout.write(JSON.parse(s).access_token));')
mock_scenario '{"introspection_claims": {"active": "yes"}}'
before=$(nlines)
pam_run tok "$U" auth >/dev/null <<<"$OT"
line=$(tail -n +"$((before + 1))" "$OA2_LOG_CAPTURE" | grep " decision user=" | tail -1)
like "$line" "grant=token result=deny reason=introspection_malformed( |\$)" "reason=introspection_malformed (active not a boolean)"
sed -n 's/.* reason=\([^ ]*\).*/\1/p' <<<"$line" >>"$SEEN"
# The same token, other answers: the issuing client and cnf.
for c in 'client_not_allowed {"aud": "ssh://audit", "client_id": "other-app"}' \
	'client_missing {"aud": "ssh://audit", "client_id": null}' \
	'sender_constrained {"aud": "ssh://audit", "cnf": {"jkt": "abc"}}'; do
	mock_scenario "{\"introspection_claims\": ${c#* }}"
	before=$(nlines)
	pam_run tok "$U" auth >/dev/null <<<"$OT"
	line=$(tail -n +"$((before + 1))" "$OA2_LOG_CAPTURE" | grep " decision user=" | tail -1)
	like "$line" "grant=token result=deny reason=${c%% *}( |\$)" "reason=${c%% *}"
	sed -n 's/.* reason=\([^ ]*\).*/\1/p' <<<"$line" >>"$SEEN"
done

# ---------------------------------------------------------------- account decisions
pwcase ok pw '' auth acct
pwcase missing_scope reqacct '' auth acct
pwcase other_user pw '' auth setuser=root acct

# ---------------------------------------------------------------- the man page's list
# Codes between the reason-codes markers of pam_oauth2.8 (".It Cm CODE").
sed -n '/^\.\\" reason-codes-begin/,/^\.\\" reason-codes-end/p' "$MAN" |
	sed -n 's/^\.It Cm \([a-z0-9_]*\).*/\1/p' | sort -u >"$TESTTMP/listed"
sort -u "$SEEN" >"$TESTTMP/emitted"
ok $([ "$(wc -l <"$TESTTMP/listed")" -ge 60 ]; echo $?) "the man page lists the reason codes ($(wc -l <"$TESTTMP/listed"))"
missing=$(comm -23 "$TESTTMP/listed" "$TESTTMP/emitted" | tr '\n' ' ')
is "$missing" "" "every reason code the man page lists is emitted by some case"
unlisted=$(comm -13 "$TESTTMP/listed" "$TESTTMP/emitted" | tr '\n' ' ')
is "$unlisted" "" "every reason code emitted is listed in the man page"
# All decision/account lines of this run carry only listed codes.
all=$(sed -n 's/.* \(decision\|account\) user=.* reason=\([^ ]*\).*/\2/p' "$OA2_LOG_CAPTURE" | sort -u |
	comm -23 - "$TESTTMP/listed" | tr '\n' ' ')
is "$all" "" "no line of this run has an unlisted reason"
unlike "$(cat "$OA2_LOG_CAPTURE")" "$PW|$SECRET" "no secret in any line"

done_testing
