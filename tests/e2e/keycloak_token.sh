#!/usr/bin/env bash
# keycloak_token.sh - grants = token against a real Keycloak (26.4.7, the
# pinned release of tests/lib/keycloak.sh) through a private sshd, both
# the password and the keyboard-interactive methods, the token fed by
# SSH_ASKPASS as in docs/credentials.md:
#  * a service account's client credentials token: an audience mapper
#    (oidc-audience-mapper) puts token_audience into aud, a hardcoded
#    claim mapper the local account into preferred_username;
#  * with the client attribute access.token.header.type.rfc9068 = true
#    Keycloak signs typ "at+jwt": verified locally, no introspection;
#  * by default its access tokens are typ "JWT": refused
#    (not_access_token) with token_introspection = auto, accepted through
#    Keycloak's introspection endpoint with token_introspection = always,
#    and refused there (inactive_token) once revoked;
#  * a Keycloak ID token of a user (ID token substitution): refused.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/e2e-lib.sh" "$@"
. "$top_srcdir/tests/lib/keycloak.sh"

e2e_need sshd ssh setsid

SVC=oa2e2e-ktsshd-$E2E_ID
CIUSER=oa2e2e_kt${E2E_ID}_ci
ALICE=oa2e2e_kc_alice            # tests/keycloak/realm.json
ALICE_PW='alice-Kc=pass+1 %20'
AUD="https://ssh.kc.e2e.example/$E2E_ID"
e2e_add_user "$CIUSER"
e2e_add_user "$ALICE"

kc_use
if [ "$KC_OWN" = 1 ]; then
	REALM=$KC_REALM
	ISSUER=$KC_ISSUER
else
	REALM=pam-kt-$E2E_ID
	ISSUER=$(kc_realm_copy "$REALM")
fi
# ci_client ID RFC9068: a confidential client with a service account, the
# audience and username mappers; RFC9068 true: typ at+jwt.  Only the
# "basic" client scope (sub): the ssh client reads at most 1023 bytes of
# a password (OpenSSH's readpass.c), and Keycloak's default scopes (roles,
# profile, email, ...) make a service account's token longer than that.
ci_client() {
	kc_admin POST "/$REALM/clients" "{\"clientId\": \"$1\", \"enabled\": true,
		\"publicClient\": false, \"secret\": \"$1-secret\",
		\"serviceAccountsEnabled\": true, \"standardFlowEnabled\": false,
		\"directAccessGrantsEnabled\": false,
		\"defaultClientScopes\": [\"basic\"], \"optionalClientScopes\": [],
		\"attributes\": {\"access.token.header.type.rfc9068\": \"$2\"},
		\"protocolMappers\": [
		 {\"name\": \"ssh audience\", \"protocol\": \"openid-connect\",
		  \"protocolMapper\": \"oidc-audience-mapper\",
		  \"config\": {\"included.custom.audience\": \"$AUD\",
		   \"access.token.claim\": \"true\", \"introspection.token.claim\": \"true\"}},
		 {\"name\": \"local account\", \"protocol\": \"openid-connect\",
		  \"protocolMapper\": \"oidc-hardcoded-claim-mapper\",
		  \"config\": {\"claim.name\": \"preferred_username\", \"claim.value\": \"$CIUSER\",
		   \"jsonType.label\": \"String\", \"access.token.claim\": \"true\",
		   \"introspection.token.claim\": \"true\"}}]}" >/dev/null ||
		bail "creating client $1: HTTP $KC_HTTP"
}
ci_client ci-at true
ci_client ci-plain false
TOKEN_URL="$ISSUER/protocol/openid-connect/token"
# mint CLIENT: its client credentials access token.
mint() {
	curl -sS --fail --cacert "$KC_CA" -u "$1:$1-secret" -d grant_type=client_credentials "$TOKEN_URL" |
		node -e 'let s = ""; process.stdin.on("data", d => s += d).on("end", () =>
			process.stdout.write(JSON.parse(s).access_token));'
}
header() { node -e 'console.log(Buffer.from(process.argv[1].split(".")[0], "base64url").toString().replace(/\s/g, ""))' "$1"; }

CONF="$TESTTMP/pam_oauth2.conf"
conf() {
	write_conf "$CONF" <<CONF
issuer = $ISSUER
client_id = pam-servers
client_secret = pam-servers-secret-0123456789abcdef
ca_file = $KC_CA
scope = openid profile
timeout = ${OA2_TEST_TIMEOUT:-10}
connect_timeout = 3
debug = yes
grants = token password
token_audience = $AUD
token_clients = ci-at ci-plain
cache_dir = $TESTTMP/cache
${1:-}
CONF
}
conf

e2e_example sshd "$TESTTMP/pam.d/$SVC"
e2e_etc_file "/etc/pam.d/$SVC" 0644 <"$TESTTMP/pam.d/$SVC"
e2e_sshd "$SVC" <<CFG
PubkeyAuthentication no
AuthorizedKeysFile none
AllowUsers $CIUSER $ALICE
LoginGraceTime 60
CFG

ASKPASS="$TESTTMP/askpass.sh"
printf '#!/bin/sh\nexec cat "%s"\n' "$TESTTMP/token" >"$ASKPASS"
chmod 0700 "$ASKPASS"
ssh_token() { # METHOD USER TOKEN: SSH_OUT, SSH_RC
	(umask 077; printf '%s' "$3" >"$TESTTMP/token")
	SSH_OUT=$(cd / && SSH_ASKPASS="$ASKPASS" SSH_ASKPASS_REQUIRE=force \
		timeout 30 setsid ssh -F /dev/null -p "$SSHD_PORT" \
		-o UserKnownHostsFile=/dev/null -o GlobalKnownHostsFile=/dev/null \
		-o StrictHostKeyChecking=no -o LogLevel=ERROR \
		-o PreferredAuthentications="$1" -o PubkeyAuthentication=no \
		-o NumberOfPasswordPrompts=1 -o ConnectTimeout=10 -o ControlPath=none \
		"$2@127.0.0.1" 'id -un' </dev/null 2>"$TESTTMP/ssh.err")
	SSH_RC=$?
	rm -f "$TESTTMP/token"
}
sshd_said() { grep -E "(Accepted|Failed) $1 for $2 from" "$SSHD_LOG" | tail -1 | awk '{print $1}'; }
pw_only() { [ "$method" = password ] && "$@"; return 0; }
refused() { [ "$SSH_RC" -ne 0 ] && [ -z "$SSH_OUT" ] && echo 0 || echo 1; }

# ---------------------------------------------------------------- typ at+jwt: local
AT=$(mint ci-at)
like "$(header "$AT")" '"typ":"at\+jwt"' "Keycloak with access.token.header.type.rfc9068: typ at+jwt"
ok "$([ "${#AT}" -le 1023 ] && echo 0 || echo 1)" "the token fits ssh's 1023-byte password limit (${#AT} bytes)"
for method in password keyboard-interactive; do
	sm=$method; [ "$method" = keyboard-interactive ] && sm=keyboard-interactive/pam
	ssh_token "$method" "$CIUSER" "$AT"
	is "$SSH_OUT" "$CIUSER" "ssh $method, Keycloak at+jwt access token: logged in as $CIUSER"
	is "$(sshd_said "$sm" "$CIUSER")" Accepted "  sshd logged 'Accepted $sm for $CIUSER'"
	pw_only like "$(e2e_decision "$CIUSER")" "grant=token result=allow reason=ok .* token=jti:" \
		"  decision grant=token, the token's jti"
done
pw_only true
grep -q 'introspection: status' "$OA2_LOG_CAPTURE"
is $? 1 "the at+jwt tokens were verified locally: no introspection"

# ---------------------------------------------------------------- Keycloak's default typ JWT
PLAIN=$(mint ci-plain)
like "$(header "$PLAIN")" '"typ":"JWT"' "Keycloak's default access token header: typ JWT"
for method in password keyboard-interactive; do
	ssh_token "$method" "$CIUSER" "$PLAIN"
	ok "$(refused)" "ssh $method, typ JWT with token_introspection = auto: refused"
	pw_only like "$(e2e_decision "$CIUSER")" "grant=token result=deny reason=not_access_token" "  reason=not_access_token"
done
conf "token_introspection = always"
for method in password keyboard-interactive; do
	sm=$method; [ "$method" = keyboard-interactive ] && sm=keyboard-interactive/pam
	ssh_token "$method" "$CIUSER" "$PLAIN"
	is "$SSH_OUT" "$CIUSER" "ssh $method, typ JWT with token_introspection = always: logged in (Keycloak's introspection)"
	is "$(sshd_said "$sm" "$CIUSER")" Accepted "  sshd logged 'Accepted $sm for $CIUSER'"
	pw_only like "$(e2e_decision "$CIUSER")" "grant=token result=allow reason=ok" "  decision allow"
done
curl -sS --fail --cacert "$KC_CA" -u "ci-plain:ci-plain-secret" --data-urlencode "token=$PLAIN" \
	"$ISSUER/protocol/openid-connect/revoke" >/dev/null || bail "revocation at Keycloak failed"
for method in password keyboard-interactive; do
	ssh_token "$method" "$CIUSER" "$PLAIN"
	ok "$(refused)" "ssh $method, the token after its revocation at Keycloak: refused"
	pw_only like "$(e2e_decision "$CIUSER")" "grant=token result=deny reason=inactive_token" "  reason=inactive_token"
done

# ---------------------------------------------------------------- ID token substitution
# A user's ID token from Keycloak (pam-servers' password grant) is longer
# than ssh's 1023-byte password limit (its groups, roles, profile): it
# goes straight through libpam (pamtest) with the same configuration.
conf
write_service kttok <<SVC
auth required @MODULE@ config=$CONF
SVC
IDT=$(curl -sS --fail --cacert "$KC_CA" -u pam-servers:pam-servers-secret-0123456789abcdef \
	-d grant_type=password --data-urlencode "username=$ALICE" --data-urlencode "password=$ALICE_PW" \
	-d scope=openid "$TOKEN_URL" | node -e 'let s = ""; process.stdin.on("data", d => s += d).on("end", () =>
		process.stdout.write(JSON.parse(s).id_token));')
like "$(header "$IDT")" '"typ":"JWT"' "Keycloak's ID token: typ JWT (${#IDT} bytes)"
is "$(auth_with kttok "$ALICE" "$IDT")" PAM_AUTH_ERR "a Keycloak ID token of $ALICE presented as an access token: PAM_AUTH_ERR"
like "$(e2e_decision "$ALICE")" "grant=token result=deny reason=not_access_token" "  reason=not_access_token"
conf "token_introspection = always"
is "$(auth_with kttok "$ALICE" "$IDT")" PAM_AUTH_ERR "the ID token with token_introspection = always: PAM_AUTH_ERR"
like "$(e2e_decision "$ALICE")" "grant=token result=deny reason=not_access_token" \
	"  Keycloak's introspection answer says typ ID: not_access_token"

log=$(cat "$OA2_LOG_CAPTURE" "$SSHD_LOG")
ok "$(grep -F -q -e "$AT" -e "$PLAIN" -e "$IDT" <<<"$log" && echo 1 || echo 0)" "no token in the logs"
kill -TERM "$SSHD_PID" 2>/dev/null
wait "$SSHD_PID" 2>/dev/null
e2e_done
