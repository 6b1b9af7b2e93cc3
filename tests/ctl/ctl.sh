#!/usr/bin/env bash
# ctl.sh - pam_oauth2ctl(8): check, login, cache list/clear and --help,
# against the mock IdP.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/common.sh"

CTL="$top_builddir/pam_oauth2ctl"
[ -x "$CTL" ] || bail "pam_oauth2ctl not built: $CTL"

U=oa2ctlu
PW='ctl-Pa55 &=+%'
add_user "$U"
cat >"$TESTTMP/users.json" <<JSON
{ "$U": { "password": "$PW", "sub": "sub-ctl-1", "scope": "openid profile pam:login",
          "claims": { "groups": ["admins", "staff"] } } }
JSON
start_mock --users "$TESTTMP/users.json" --client-id pam-test --client-secret ctl-secret

CONF="$TESTTMP/ctl.conf"
base_conf() {
	cat <<CONF
issuer = $MOCK_URL
client_id = pam-test
client_secret = ctl-secret
ca_file = $PKI/ca.pem
cache_dir = $TESTTMP/cache
offline_dir = $TESTTMP/offline
timeout = ${OA2_TEST_TIMEOUT:-5}
CONF
}
{ base_conf; cat <<CONF
grants = password device
groups_claim = groups
required_scopes = scope:pam:login
[groups]
claim:admins = adm, oa2-no-such-group
scope:admins = oa2-no-such-group2
CONF
} | write_conf "$CONF"

ctl() { "$CTL" "$@" 2>&1; }

# ---------------------------------------------------------------- --help
out=$(ctl --help); st=$?
is "$st" 0 "--help exits 0"
for w in check login 'cache list' 'cache clear' --offline --config --grant; do
	like "$out" "$w" "--help mentions $w"
done
out=$(ctl); st=$?
is "$st" 2 "no command: usage, exit 2"
out=$(ctl frobnicate); st=$?
is "$st" 2 "unknown command: exit 2"
out=$(ctl --config relative.conf check); st=$?
is "$st" 2 "a relative --config is refused"

# ---------------------------------------------------------------- check
mock_reset
out=$(ctl --config "$CONF" check); st=$?
is "$st" 0 "check: a good configuration exits 0"
like "$out" "configuration $CONF: parsed" "check: parsed the file"
like "$out" "mode 0600" "check: shows the file mode"
like "$out" "token endpoint: +$MOCK_URL/token" "check: shows the discovered token endpoint"
like "$out" "device endpoint: +$MOCK_URL/device_authorization" "check: shows the device endpoint"
like "$out" "JWKS: 4 usable signing keys" "check: counts the JWKS keys"
like "$out" "no problems found" "check: says so"
is "$(mock_count /.well-known/openid-configuration)" 1 "check: fetched discovery"
is "$(mock_count /jwks)" 1 "check: fetched the JWKS"
out=$(ctl check --config "$CONF"); st=$?
is "$st" 0 "check: --config may follow the command"
is "$(mock_count /jwks)" 2 "check: asks the network again (the cache would hide an outage)"

like "$out" "trust: ca_file" "check: says the store is ca_file"
like "$out" "ca_file $PKI/ca.pem: a bundle of 1 certificate, all parsed at every login" "check: counts the bundle's certificates"
unlike "$out" "note: a bundle of more than" "check: no ca_path suggestion for one certificate"

# A large bundle: the test CA after 24 copies of the other one.
for i in $(seq 1 24); do cat "$PKI/other-ca.pem"; done >"$TESTTMP/big.pem"
cat "$PKI/ca.pem" >>"$TESTTMP/big.pem"
TRUSTCONF="$TESTTMP/trust.conf"
{ base_conf | sed "s|^ca_file.*|ca_file = $TESTTMP/big.pem|"; } | write_conf "$TRUSTCONF"
out=$(ctl --config "$TRUSTCONF" check); st=$?
is "$st" 0 "check: a 25-certificate ca_file exits 0"
like "$out" "ca_file $TESTTMP/big.pem: a bundle of 25 certificates" "check: counts 25 certificates"
like "$out" "note: a bundle of more than 20 certificates .*ca_path = DIR" "check: suggests ca_path for a large bundle"

# ca_path: a hashed directory, and one without hash links.
mkdir -m 0755 "$TESTTMP/cadir" "$TESTTMP/nolinks"
cp "$PKI/ca.pem" "$PKI/other-ca.pem" "$TESTTMP/cadir/"
cp "$PKI/ca.pem" "$TESTTMP/nolinks/"
openssl rehash "$TESTTMP/cadir" || bail "openssl rehash"
{ base_conf | sed "s|^ca_file.*|ca_path = $TESTTMP/cadir|"; } | write_conf "$TRUSTCONF"
out=$(ctl --config "$TRUSTCONF" check); st=$?
is "$st" 0 "check: ca_path exits 0"
like "$out" "trust: ca_path" "check: says the store is ca_path"
like "$out" "ca_path $TESTTMP/cadir: a hashed directory, 2 hash links, looked up lazily" "check: counts the hash links"
{ base_conf; echo "ca_path = $TESTTMP/cadir"; } | write_conf "$TRUSTCONF"
out=$(ctl --config "$TRUSTCONF" check); st=$?
like "$out" "trust: ca_file and ca_path \(both\)" "check: says both are trusted"
{ base_conf | sed "s|^ca_file.*|ca_path = $TESTTMP/nolinks|"; } | write_conf "$TRUSTCONF"
out=$(ctl --config "$TRUSTCONF" check); st=$?
is "$st" 1 "check: ca_path without hash links exits 1"
like "$out" "PROBLEM: ca_path $TESTTMP/nolinks: no hash links .*openssl rehash" "check: says to run openssl rehash"
chmod 0775 "$TESTTMP/cadir"
{ base_conf | sed "s|^ca_file.*|ca_path = $TESTTMP/cadir|"; } | write_conf "$TRUSTCONF"
out=$(ctl --config "$TRUSTCONF" check); st=$?
is "$st" 1 "check: a group-writable ca_path exits 1"
like "$out" "configuration error: .*ca_path $TESTTMP/cadir: group or world writable" "check: says why, as the module logs it"

BAD="$TESTTMP/bad.conf"
{ base_conf; echo "isuer = $MOCK_URL"; } | write_conf "$BAD"
out=$(ctl --config "$BAD" check); st=$?
is "$st" 1 "check: a misspelled key exits 1"
line=$(grep -n '^isuer' "$BAD" | cut -d: -f1)
like "$out" "configuration error: $BAD:$line: unknown option \"isuer\"" "check: names the key and file:line ($line), as the module logs it"

base_conf | write_conf "$BAD"
chmod 0620 "$BAD"
out=$(ctl --config "$BAD" check); st=$?
is "$st" 1 "check: a group-writable file exits 1"
like "$out" "group or world writable" "check: says why"
chmod 0644 "$BAD"
out=$(ctl --config "$BAD" check); st=$?
like "$out" "readable by others than root" "check: a world-readable file with client_secret is refused"
chmod 0600 "$BAD"

{ base_conf | sed "s|^ca_file.*|ca_file = $PKI/other-ca.pem|"; } | write_conf "$BAD"
out=$(ctl --config "$BAD" check); st=$?
is "$st" 1 "check: an untrusted certificate exits 1"
like "$out" "PROBLEM: discovery failed \(tls_failed\): the TLS handshake failed" "check: TLS problem in plain words"

{ base_conf | sed "s|^issuer.*|issuer = https://127.0.0.1:9|"; } | write_conf "$BAD"
out=$(ctl --config "$BAD" check); st=$?
is "$st" 1 "check: nothing listening exits 1"
like "$out" "connect_failed\): could not connect" "check: connection problem in plain words"

mock_reset
mock_scenario '{"discovery_overrides": {"issuer": "https://evil.example"}}'
out=$(ctl --config "$CONF" check); st=$?
is "$st" 1 "check: foreign issuer in discovery exits 1"
like "$out" "discovery_issuer_mismatch\): the discovery document names another issuer" "check: issuer mismatch in plain words"

mock_reset
mock_scenario '{"jwks_raw": "{\"keys\":[]}"}'
out=$(ctl --config "$CONF" check); st=$?
is "$st" 1 "check: a JWKS without keys exits 1"
like "$out" "jwks_no_keys" "check: says the JWKS has no usable key"

mock_reset
mock_scenario '{"status_for_path": {"/jwks": 404}}'
out=$(ctl --config "$CONF" check); st=$?
is "$st" 1 "check: JWKS 404 exits 1"
like "$out" "JWKS $MOCK_URL/jwks failed \(metadata_http_status\)" "check: names the failing URL"

mock_reset
mock_scenario '{"discovery_overrides": {"device_authorization_endpoint": null}}'
out=$(ctl --config "$CONF" check); st=$?
is "$st" 1 "check: device grant without a device endpoint exits 1"
like "$out" "PROBLEM: grants include device" "check: says the device endpoint is missing"

# grants = token: the introspection endpoint and the audience.
TOKCONF="$TESTTMP/tok.conf"
{ base_conf | grep -v '^grants'; echo "grants = token password"; echo "token_audience = ssh://ctl"; echo "token_clients = pam-test"; } | write_conf "$TOKCONF"
mock_reset
out=$(ctl --config "$TOKCONF" check); st=$?
is "$st" 0 "check, grants = token: exits 0"
like "$out" "introspection: +$MOCK_URL/introspect" "check: shows the discovered introspection endpoint"
like "$out" "token_audience: +ssh://ctl \(token_introspection = auto\)" "check: shows token_audience"
like "$out" "token_clients: +pam-test" "check: shows token_clients"
unlike "$out" "warning: no introspection endpoint" "check: an introspection endpoint, no warning"
mock_reset
mock_scenario '{"discovery_overrides": {"introspection_endpoint": null}}'
out=$(ctl --config "$TOKCONF" check); st=$?
is "$st" 0 "check, token_introspection = auto without an introspection endpoint: exits 0"
like "$out" "warning: no introspection endpoint: opaque tokens are refused \(no_introspection_endpoint\)" \
	"check: warns that opaque tokens cannot be checked"
{ base_conf | grep -v '^grants'; echo "grants = token password device"; echo "token_audience = ssh://ctl"; echo "token_clients = pam-test"; } | write_conf "$TOKCONF"
mock_reset
out=$(ctl --config "$TOKCONF" check)
like "$out" "grants: token password device" "check: shows all three grants"
{ base_conf | grep -v '^grants'; echo "grants = token"; echo "token_audience = ssh://ctl"; echo "token_clients = pam-test"; echo "token_introspection = always"; } | write_conf "$TOKCONF"
mock_reset
mock_scenario '{"discovery_overrides": {"introspection_endpoint": null}}'
out=$(ctl --config "$TOKCONF" check); st=$?
is "$st" 1 "check: token_introspection = always without an introspection endpoint exits 1"
like "$out" "PROBLEM: token_introspection = always, but the provider advertises no introspection_endpoint" \
	"check: says the introspection endpoint is missing"

# login --grant token: an opaque token the mock issued, introspected.
{ base_conf | grep -v '^grants'; echo "grants = token password"; echo "token_audience = ssh://ctl"; echo "token_clients = pam-test"; } | write_conf "$TOKCONF"
mock_reset
mock_scenario "{\"introspection_claims\": {\"aud\": \"ssh://ctl\", \"preferred_username\": \"$U\"}}"
OT=$(curl -sS --cacert "$PKI/ca.pem" -u pam-test:ctl-secret -d grant_type=password \
	--data-urlencode "username=$U" --data-urlencode "password=$PW" -d scope=openid "$MOCK_URL/token" |
	node -e 'let s = ""; process.stdin.on("data", d => s += d).on("end", () => process.stdout.write(JSON.parse(s).access_token));')
out=$(printf '%s\n' "$OT" | ctl --config "$TOKCONF" login "$U"); st=$?
is "$st" 0 "login, grants = token first: the token grant, exit 0"
like "$out" "access token: read, [0-9]+ characters \(not shown\), an opaque token" "login: says what it read, not the token"
like "$out" "token: introspection \(RFC 7662\)" "login: says the token is introspected"
like "$out" "token: sha256:[0-9a-f]{16} \(the audit line's token=\)" "login: shows the audit id"
like "$out" "result: allow, reason=ok \(PAM_SUCCESS\), 2 requests" "login: allowed (discovery, introspection)"
unlike "$out" "$OT" "login: the token is not printed"
is "$(mock_count /token)" 1 "login --grant token: no token request (only the one that issued it)"
mock_scenario "{\"introspection_claims\": {\"aud\": \"ssh://ctl\", \"preferred_username\": \"$U\", \"client_id\": \"other-app\"}}"
out=$(printf '%s\n' "$OT" | ctl --config "$TOKCONF" login "$U"); st=$?
is "$st" 1 "login, a token of a client not in token_clients: exit 1"
like "$out" "result: deny, reason=client_not_allowed \(PAM_AUTH_ERR\): the token was issued to a client that is not in token_clients" \
	"  the reason in plain words"
out=$(printf 'not-a-token\n' | ctl --config "$TOKCONF" login "$U" --grant token); st=$?
is "$st" 1 "login --grant token, an unknown opaque answer: exit 1"
like "$out" "result: deny, reason=(inactive_token|opaque_refused)" "login --grant token: the refusal's reason"

# A JWS over the introspection form's room (32 KiB form, 8 KiB kept for
# the client authentication): refused unsent as too_large, not a
# configuration error.
{ base_conf | grep -v '^grants'; echo "grants = token"; echo "token_audience = ssh://ctl"; echo "token_clients = pam-test"; echo "token_introspection = always"; } | write_conf "$TOKCONF"
mock_reset
b64u() { printf '%s' "$1" | base64 -w0 | tr '+/' '-_' | tr -d =; }
BIG="$(b64u '{"alg":"RS256","typ":"at+jwt"}').$(b64u "{\"pad\":\"$(head -c 30000 /dev/zero | tr '\0' a)\"}").AAAA"
out=$(printf '%s\n' "$BIG" | ctl --config "$TOKCONF" login "$U" --grant token); st=$?
is "$st" 1 "login --grant token, a 40 KiB JWS for introspection: exit 1"
like "$out" "result: deny, reason=too_large \(PAM_AUTH_ERR\)" "  refused as too_large (PAM_AUTH_ERR), not a configuration error"
is "$(mock_count /introspect)" 0 "  nothing sent to introspection"

# ---------------------------------------------------------------- login
mock_reset
out=$(printf '%s\n' "$PW" | ctl --config "$CONF" login "$U"); st=$?
is "$st" 0 "login: right password exits 0"
like "$out" "request: password grant" "login: prints the request"
like "$out" "identity: preferred_username=$U \(bound to the user $U\)" "login: prints the identity binding"
like "$out" "identity: sub=sub-ctl-1" "login: prints sub"
like "$out" "values \(scopes and groups_claim\): scope:openid scope:profile scope:pam:login claim:admins claim:staff" \
	"login: prints the granted values with their sources"
like "$out" "account: allow" "login: required_scopes passed"
unlike "$out" "oa2-no-such-group2" "login: the claim value admins does not map through scope:admins"
like "$out" "groups: adm$" "login: prints the mapped groups"
like "$out" "oa2-no-such-group.*does not exist" "login: shows the library's warning about a missing group"
like "$out" "result: allow, reason=ok" "login: prints the result"
like "$out" "password: read, ${#PW} characters" "login: says the password length"
unlike "$out" "ctl-Pa55" "login: never prints the password"
unlike "$out" "ctl-secret" "login: never prints the client secret"
is "$(mock_form_param /token password)" "$(printf '%s' "$PW" | od -An -tx1 -v | tr -d ' \n')" \
	"login: the IdP got the exact password from stdin"

mock_reset
out=$(printf 'wrong\n' | ctl --config "$CONF" login "$U"); st=$?
is "$st" 1 "login: wrong password exits 1"
like "$out" "result: deny, reason=invalid_grant \(PAM_AUTH_ERR\)" "login: prints the reason and the PAM code"

mock_reset
mock_scenario '{"token_response_overrides": {"scope": "openid profile"}}'
out=$(printf '%s\n' "$PW" | ctl --config "$CONF" login "$U"); st=$?
is "$st" 1 "login: required_scopes not granted exits 1"
like "$out" "gate: deny, required_scopes entry scope:pam:login not granted" "login: names the missing entry"
like "$out" "result: deny, reason=missing_required \(PAM_AUTH_ERR\)" "login: as authenticate decides it"

mock_reset
out=$(printf '%s\n' "$PW" | ctl --config "$CONF" login oa2nosuchuser); st=$?
is "$st" 1 "login: unknown local user exits 1"
like "$out" "reason=unknown_user" "login: unknown_user, as the module"
is "$(mock_count /token)" 0 "login: nothing sent for an unknown user"

mock_reset
out=$(printf '\n' | ctl --config "$CONF" login "$U"); st=$?
like "$out" "reason=empty_password" "login: empty password refused without a request"
is "$(mock_count /token)" 0 "login: nothing sent for an empty password"

mock_reset
mock_scenario "{\"device_poll_script\": [\"authorization_pending\", \"approve:$U\"], \"device_interval\": 1}"
out=$(printf '\n' | ctl --config "$CONF" login "$U" --grant device); st=$?
is "$st" 0 "login --grant device: approved sign-in exits 0"
like "$out" "Confirm the code [A-Z]{4}-[A-Z]{4}" "login --grant device: shows the prompt with the user code"
like "$out" "result: allow" "login --grant device: allowed"
device_code=$(mock_form_param /token device_code)
device_code=$(printf "$(printf '%s' "$device_code" | sed 's/../\\x&/g')")
ok $([ ${#device_code} -gt 8 ] && ! printf '%s' "$out" | grep -qF -- "$device_code"; echo $?) \
	"login --grant device: never prints the device code"

mock_reset
mock_scenario '{"device_poll_script": ["access_denied"]}'
out=$(printf '\n' | ctl --config "$CONF" login "$U" --grant device); st=$?
is "$st" 1 "login --grant device: denied sign-in exits 1"
like "$out" "reason=access_denied" "login --grant device: prints access_denied"

out=$(printf '\n' | ctl --config "$CONF" login "$U" --grant carrier-pigeon); st=$?
is "$st" 2 "login --grant with an unknown grant exits 2"

# ---------------------------------------------------------------- cache
mock_reset
printf '%s\n' "$PW" | ctl --config "$CONF" login "$U" >/dev/null
out=$(ctl --config "$CONF" cache list); st=$?
is "$st" 0 "cache list exits 0"
like "$out" "m-[0-9a-f]{64} +discovery" "cache list: the discovery document"
like "$out" "m-[0-9a-f]{64} +JWKS" "cache list: the JWKS"
like "$out" "fresh for" "cache list: freshness"

# An offline verifier, written by a real module login.
OFF="$TESTTMP/off.conf"
{ base_conf; echo "offline_cache = yes"; } | write_conf "$OFF"
write_service oa2ctl <<SVC
auth    required @MODULE@ config=$OFF
SVC
is "$(auth_with oa2ctl "$U" "$PW")" PAM_SUCCESS "a module login keeps an offline verifier"
uhash=$(printf '%s' "$U" | sha256sum | cut -c1-64)
out=$(ctl --config "$OFF" cache list)
like "$out" "u-$uhash +verified by the IdP [0-9]+ s ago, 0 failed" "cache list: the verifier, by hash and age"
unlike "$out" "$U" "cache list: no user name in the listing"
out=$(ctl --config "$OFF" cache clear); st=$?
is "$st" 0 "cache clear exits 0"
like "$out" "kept \(--offline removes them\)" "cache clear: says the verifiers were kept"
is "$(ls "$TESTTMP/cache" | grep -c '^m-')" 0 "cache clear: metadata entries gone"
is "$(ls "$TESTTMP/offline" | grep -c '^u-')" 1 "cache clear: verifier kept"
out=$(ctl --config "$OFF" cache clear --offline); st=$?
is "$st" 0 "cache clear --offline exits 0"
is "$(ls "$TESTTMP/offline" | grep -c '^u-')" 0 "cache clear --offline: verifier gone"
out=$(ctl --config "$OFF" cache list)
is "$(printf '%s\n' "$out" | sed -n 2p)" "  (empty)" "cache list after clear: empty"
out=$(ctl --config "$OFF" cache frob); st=$?
is "$st" 2 "cache with an unknown action exits 2"

done_testing
