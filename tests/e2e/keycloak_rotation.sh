#!/usr/bin/env bash
# keycloak_rotation.sh - Keycloak's signing key rotated through its admin
# REST API while password logins go on, back to back, through the real
# libpam (tests/pam/pamtest) with a warm metadata cache:
#   1. a new key provider (rsa-generated, priority 200) is added: it is the
#      active RS256 key at once, so the next ID token names a kid the
#      cached JWKS lacks;
#   2. the old key is made passive (still published, no longer signing);
#   3. then disabled (no longer published);
#   4. then its provider is removed.
# Every login must succeed; the only cost allowed is the documented one:
# one JWKS refetch when the unknown kid first shows (README.md, "Metadata
# cache").  The logins run in a loop of their own while the admin calls
# are made, one login at a time (each a fresh process, as sshd forks).
#
# Keycloak: the run's (tests/run-all.sh) or one of its own
# (tests/lib/keycloak.sh kc_use); the rotation happens in a realm of its
# own, a copy of tests/keycloak/realm.json made and deleted by the admin
# API, so no other test sees the new keys.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/common.sh"
. "$top_srcdir/tests/lib/keycloak.sh"

kc_use
REALM=oa2rot$$
# Not in $( ): kc_realm_copy registers the realm's deletion on exit.
kc_realm_copy "$REALM" >/dev/null
ISSUER="$KC_URL/realms/$REALM"
# A user of this test only (the PID in the name), in the realm copy and
# locally: another script's users are never touched.
U=oa2e2e_kr$$_alice
PW='alice-Rot=pass+1 %20'
kc_admin POST "/$REALM/users" "$(node -e 'const [u, pw] = process.argv.slice(1);
	console.log(JSON.stringify({ username: u, enabled: true, email: u + "@example.test",
		emailVerified: true, firstName: u, lastName: "Test",
		credentials: [{ type: "password", value: pw, temporary: false }] }));' "$U" "$PW")" >/dev/null ||
	bail "cannot create Keycloak user $U (HTTP $KC_HTTP)"
add_user "$U"

CONF="$TESTTMP/oauth2.conf"
write_conf "$CONF" <<CONF
issuer = $ISSUER
client_id = pam-servers
client_secret = pam-servers-secret-0123456789abcdef
ca_file = $KC_CA
timeout = $((${OA2_TEST_TIMEOUT:-5} * 2))
debug = yes
CONF
write_service rot <<SVC
auth required @MODULE@ config=$CONF
SVC

# rot_json EXPR: evaluate EXPR over the JSON on stdin (as j), print it.
rot_json() {
	node -e 'let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
		const j = JSON.parse(s); const v = eval(process.argv[1]);
		console.log(typeof v === "string" ? v : JSON.stringify(v)); });' "$1"
}
# rot_keys: "kid status priority" of every RS256 key of the realm.
rot_keys() {
	kc_admin GET "/$REALM/keys" | rot_json \
		'j.keys.filter(k => k.algorithm === "RS256").map(k => `${k.kid} ${k.status} ${k.providerPriority}`).sort().join("\n")'
}
# rot_published: the RS256 kids in the JWKS the world sees, sorted.
rot_published() {
	curl -sS --max-time 10 --cacert "$KC_CA" "$ISSUER/protocol/openid-connect/certs" |
		rot_json 'j.keys.filter(k => k.alg === "RS256").map(k => k.kid).sort().join(" ")'
}
# rot_signing_kid: the kid of an ID token Keycloak issues now.  Asked as
# another user: with brute-force detection on, Keycloak refuses a password
# login of a user while another one of the same user is in flight
# ("Invalid user credentials"), and the loop logs alice in all the time.
rot_signing_kid() {
	curl -sS --max-time 10 --cacert "$KC_CA" -u pam-servers:pam-servers-secret-0123456789abcdef \
		--data-urlencode grant_type=password --data-urlencode "username=oa2e2e_kc_bob" \
		--data-urlencode "password=bob-Kc-pass-2" --data-urlencode scope=openid \
		"$ISSUER/protocol/openid-connect/token" |
		rot_json 'j.id_token ? JSON.parse(Buffer.from(j.id_token.split(".")[0], "base64url")).kid : "error " + JSON.stringify(j)'
}
# rot_component_set ID KEY VALUE: change one config entry of a component
# (GET, edit, PUT the whole representation, as the admin console does).
rot_component_set() {
	local rep
	rep=$(kc_admin GET "/$REALM/components/$1" |
		rot_json "(j.config['$2'] = ['$3'], j)") || return 1
	kc_admin PUT "/$REALM/components/$1" "$rep" >/dev/null
}

# ---------------------------------------------------------------- the login loop
LOGINS="$TESTTMP/logins"
: >"$LOGINS"
rot_loop() {
	while [ ! -e "$TESTTMP/stop" ]; do
		r=$(printf '%s\n' "$PW" | pam_run rot "$U" auth | sed -n 's/^auth=//p')
		echo "$(date +%s.%N | cut -c1-14) ${r:-none}" >>"$LOGINS"
	done
}
# rot_wait_logins N: until N more logins have finished (bounded).
rot_wait_logins() {
	local want=$(($(wc -l <"$LOGINS") + $1)) i
	for ((i = 0; i < 600; i++)); do
		[ "$(wc -l <"$LOGINS")" -ge "$want" ] && return 0
		sleep 0.1
	done
	return 1
}
# rot_step NAME: mark the log of logins with the step that begins.
rot_step() { echo "# step $1" >>"$LOGINS"; }

OLD_KID=$(rot_signing_kid)
OLD_ID=$(kc_admin GET "/$REALM/keys" | rot_json "j.keys.find(k => k.kid === '$OLD_KID').providerId")
like "$OLD_KID $OLD_ID" '^[A-Za-z0-9_-]{20,} [0-9a-f-]{36}$' "the realm signs with its imported key $OLD_KID (provider $OLD_ID)"
REALM_ID=$(kc_admin GET "/$REALM" | rot_json 'j.id')

rot_loop &
LOOP_PID=$!
on_exit "touch '$TESTTMP/stop'; kill $LOOP_PID"
rot_wait_logins 3
ok $? "logins go on with a warm cache (3 done)"

# 1: a new key, higher priority: Keycloak signs with it at once.
rot_step new-key
kc_admin POST "/$REALM/components" "{\"name\":\"rsa-rotated-$$\",\"providerId\":\"rsa-generated\",
	\"providerType\":\"org.keycloak.keys.KeyProvider\",\"parentId\":\"$REALM_ID\",
	\"config\":{\"priority\":[\"200\"],\"enabled\":[\"true\"],\"active\":[\"true\"],
	\"keySize\":[\"2048\"],\"algorithm\":[\"RS256\"]}}" >/dev/null
ok $? "admin API: POST components, a new rsa-generated key provider with priority 200 (HTTP $KC_HTTP)"
NEW_KID=$(rot_signing_kid)
ok "$([ -n "$NEW_KID" ] && [ "$NEW_KID" != "$OLD_KID" ] && echo 0 || echo 1)" \
	"  ID tokens are now signed with the new key $NEW_KID"
is "$(rot_published)" "$(printf '%s\n' "$OLD_KID" "$NEW_KID" | sort | tr '\n' ' ' | sed 's/ $//')" \
	"  the JWKS publishes both keys"
rot_wait_logins 4
ok $? "  4 more logins"

# 2: the old key passive: published, not signing.
rot_step old-passive
rot_component_set "$OLD_ID" active false
ok $? "admin API: the old key's provider set active=false (HTTP $KC_HTTP)"
like "$(rot_keys)" "$OLD_KID PASSIVE 100" "  the old key is PASSIVE"
rot_wait_logins 3
ok $? "  3 more logins"

# 3: the old key disabled: no longer published.
rot_step old-disabled
rot_component_set "$OLD_ID" enabled false
ok $? "admin API: the old key's provider set enabled=false (HTTP $KC_HTTP)"
like "$(rot_keys)" "$OLD_KID DISABLED 100" "  the old key is DISABLED"
is "$(rot_published)" "$NEW_KID" "  the JWKS publishes the new key only"
rot_wait_logins 3
ok $? "  3 more logins"

# 4: the old key's provider removed.
rot_step old-removed
kc_admin DELETE "/$REALM/components/$OLD_ID" >/dev/null
ok $? "admin API: DELETE the old key's provider (HTTP $KC_HTTP)"
unlike "$(rot_keys)" "$OLD_KID" "  the old key is gone from the realm"
rot_wait_logins 3
ok $? "  3 more logins"
touch "$TESTTMP/stop"
wait "$LOOP_PID"

sed "s/^/# login: /" "$LOGINS"
grep -o "decision .*" "$OA2_LOG_CAPTURE" | sed "s/^/# syslog: /"
total=$(grep -vc '^#' "$LOGINS")
failed=$(grep -v '^#' "$LOGINS" | grep -vc ' PAM_SUCCESS$')
is "$failed" 0 "none of the $total logins during the rotation failed"
like "$(grep -c 'decision user=.* result=allow reason=ok' "$OA2_LOG_CAPTURE")" "^$total$" \
	"  $total decision lines, all allow reason=ok"
grep 'decision user=.* result=deny' "$OA2_LOG_CAPTURE" | head -5 | sed 's/^/#   /'
is "$(grep -c 'unknown signing key: fetching the JWKS again' "$OA2_LOG_CAPTURE")" 1 \
	"  the JWKS was fetched again exactly once (when the new kid first showed)"

# A cold cache after the rotation: only the new key, still a login.
rm -rf "$TESTTMP/cache"
is "$(auth_with rot "$U" "$PW")" PAM_SUCCESS "a cold login after the rotation (JWKS with the new key only)"
is "$(rot_signing_kid)" "$NEW_KID" "  signed with the new key"
echo "# $(basename "$0"): realm $REALM, keys $OLD_KID -> $NEW_KID"
kc_realm_delete "$REALM"
kc_admin GET "/$REALM" >/dev/null
is "$KC_HTTP" 404 "the realm $REALM is deleted"
done_testing
