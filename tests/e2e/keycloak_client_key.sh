#!/usr/bin/env bash
# keycloak_client_key.sh - client authentication without a shared secret
# against a real Keycloak (tests/lib/keycloak.sh), through the real libpam
# (tests/pam/pamtest):
#  * the realm's client pam-jwt uses Keycloak's "Signed JWT" authenticator
#    (client-jwt): this test makes keys (one with pam_oauth2ctl keygen),
#    registers their public JWKS on the client through the admin REST API
#    ("use.jwks.string"), and logs in with client_auth = private_key_jwt
#    for ES256, RS256, PS256 and EdDSA; a key Keycloak does not know is
#    refused as invalid_client (PAM_AUTHINFO_UNAVAIL);
#  * the client pam-x509 uses the "X509 certificate" authenticator
#    (client-x509, subject CN=host-x509.example): Keycloak runs with
#    --https-client-auth=request and trusts the client CA of
#    tests/lib/keycloak.sh; client_auth = tls_client_auth with a
#    certificate of that CA logs in, one with another subject is refused.
#
# Keycloak: the run's (tests/run-all.sh) or one of its own (kc_use); the
# keys are set in a realm of this test's own (kc_realm_copy of
# tests/keycloak/realm.json), deleted on exit.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/common.sh"
. "$top_srcdir/tests/lib/keycloak.sh"

kc_use
REALM=oa2ck$$
# Not in $( ): kc_realm_copy registers the realm's deletion on exit.
kc_realm_copy "$REALM" >/dev/null
ISSUER="$KC_URL/realms/$REALM"
U=oa2e2e_kk$$_alice
PW='alice-Jwt=pass+1 %20'
kc_admin POST "/$REALM/users" "$(node -e 'const [u, pw] = process.argv.slice(1);
	console.log(JSON.stringify({ username: u, enabled: true, email: u + "@example.test",
		emailVerified: true, firstName: u, lastName: "Test",
		credentials: [{ type: "password", value: pw, temporary: false }] }));' "$U" "$PW")" >/dev/null ||
	bail "cannot create Keycloak user $U (HTTP $KC_HTTP)"
add_user "$U"

# ---------------------------------------------------------------- keys
mkdir -p "$TESTTMP/keys"
chmod 0700 "$TESTTMP/keys"
# key NAME TYPE: $TESTTMP/keys/NAME.pem (0600) and its public JWK (kid NAME).
key() {
	local f="$TESTTMP/keys/$1.pem"
	case $2 in
	rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$f" 2>/dev/null ;;
	ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$f" 2>/dev/null ;;
	esac || bail "openssl genpkey $2"
	chmod 0600 "$f"
	node -e '
		const crypto = require("crypto"), fs = require("fs");
		const jwk = crypto.createPublicKey(fs.readFileSync(process.argv[1])).export({ format: "jwk" });
		process.stdout.write(JSON.stringify({ ...jwk, kid: process.argv[2], use: "sig" }));
	' "$f" "$1" >"$TESTTMP/keys/$1.jwk" || bail "JWK of $1"
}
key es ec
key rs rsa
key other ec
CTL="$top_builddir/pam_oauth2ctl"
[ -x "$CTL" ] || bail "pam_oauth2ctl not built: $CTL"
"$CTL" keygen --type ed25519 "$TESTTMP/keys/kg.pem" >"$TESTTMP/keys/kg.jwk" 2>/dev/null ||
	bail "pam_oauth2ctl keygen failed"
KG_KID=$(sed -n 's/.*"kid":"\([^"]*\)".*/\1/p' "$TESTTMP/keys/kg.jwk")

# kc_client_jwks JWK...: the public keys of client pam-jwt (GET the
# client, set the attributes, PUT it back, as the admin console does).
kc_client_jwks() {
	local id rep jwks
	jwks=$(printf '%s,' "$@")
	jwks="{\"keys\": [${jwks%,}]}"
	id=$(kc_admin GET "/$REALM/clients?clientId=pam-jwt" |
		node -e 'let s = ""; process.stdin.on("data", d => s += d).on("end", () => console.log(JSON.parse(s)[0].id))')
	[ -n "$id" ] || bail "client pam-jwt not found in realm $REALM"
	rep=$(kc_admin GET "/$REALM/clients/$id" | node -e '
		let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
			const c = JSON.parse(s);
			c.attributes["use.jwks.url"] = "false";
			c.attributes["use.jwks.string"] = "true";
			c.attributes["jwks.string"] = process.argv[1];
			console.log(JSON.stringify(c)); });' "$jwks")
	kc_admin PUT "/$REALM/clients/$id" "$rep" >/dev/null ||
		bail "cannot set the JWKS of pam-jwt (HTTP $KC_HTTP)"
}
kc_client_jwks "$(cat "$TESTTMP/keys/es.jwk")" "$(cat "$TESTTMP/keys/rs.jwk")" "$(cat "$TESTTMP/keys/kg.jwk")"

# conf NAME KEY [lines on stdin]
conf() {
	{
		cat <<CONF
issuer = $ISSUER
client_id = pam-jwt
client_auth = private_key_jwt
client_key_file = $TESTTMP/keys/$2.pem
client_key_id = $2
ca_file = $KC_CA
timeout = $((${OA2_TEST_TIMEOUT:-5} * 2))
debug = yes
CONF
		cat
	} | write_conf "$TESTTMP/$1.conf"
	write_service "$1" <<SVC
auth required @MODULE@ config=$TESTTMP/$1.conf
SVC
}
last_decision() { grep 'decision' "$OA2_LOG_CAPTURE" | tail -1; }

conf kes es </dev/null
conf krs rs </dev/null
conf kps rs <<<"client_key_alg = PS256"
conf kiss es <<<"client_assertion_aud = issuer"
conf kother other <<<"client_key_id = es"
conf kkg kg <<<"client_key_id = $KG_KID"
for svc in kes:ES256 krs:RS256 kps:PS256 kiss:"ES256, aud = issuer" kkg:"EdDSA, a key of pam_oauth2ctl keygen"; do
	: >"$OA2_LOG_CAPTURE"
	is "$(auth_with "${svc%%:*}" "$U" "$PW")" PAM_SUCCESS \
		"Keycloak Signed JWT, ${svc#*:}: PAM_SUCCESS"
	like "$(last_decision)" "result=allow reason=ok" "${svc#*:}: the allow decision logged"
done
is "$(auth_with kes "$U" 'wrong-password')" PAM_AUTH_ERR \
	"Signed JWT client, wrong user password: PAM_AUTH_ERR (the client was accepted)"
: >"$OA2_LOG_CAPTURE"
is "$(auth_with kother "$U" "$PW")" PAM_AUTHINFO_UNAVAIL \
	"Keycloak, an assertion signed by a key it does not know: PAM_AUTHINFO_UNAVAIL"
like "$(last_decision)" "result=deny reason=invalid_client" "logged as invalid_client"

# ---------------------------------------------------------------- X509 certificate
[ -n "$KC_CLIENT_CA" ] && [ -f "$KC_CLIENT_CA_KEY" ] ||
	bail "this Keycloak has no client CA (OA2_KC_CLIENT_CA): started by an older tests/lib/keycloak.sh?"
# x509 NAME CN: a key NAME.pem and a client certificate NAME.crt of the
# client CA.
x509() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$TESTTMP/keys/$1.pem" 2>/dev/null &&
		chmod 0600 "$TESTTMP/keys/$1.pem" &&
		printf 'extendedKeyUsage = clientAuth\nbasicConstraints = CA:FALSE\n' >"$TESTTMP/keys/ext.cnf" &&
		openssl req -new -key "$TESTTMP/keys/$1.pem" -subj "/CN=$2" -out "$TESTTMP/keys/$1.csr" 2>/dev/null &&
		openssl x509 -req -in "$TESTTMP/keys/$1.csr" -CA "$KC_CLIENT_CA" -CAkey "$KC_CLIENT_CA_KEY" \
			-CAserial "$TESTTMP/keys/ca.srl" -CAcreateserial -days 2 -extfile "$TESTTMP/keys/ext.cnf" \
			-out "$TESTTMP/keys/$1.crt" 2>/dev/null || bail "cannot make the client certificate $1"
}
x509 x509 host-x509.example
x509 x509other other-host.example
# xconf NAME KEY
xconf() {
	write_conf "$TESTTMP/$1.conf" <<CONF
issuer = $ISSUER
client_id = pam-x509
client_auth = tls_client_auth
client_key_file = $TESTTMP/keys/$2.pem
client_cert_file = $TESTTMP/keys/$2.crt
ca_file = $KC_CA
timeout = $((${OA2_TEST_TIMEOUT:-5} * 2))
debug = yes
CONF
	write_service "$1" <<SVC
auth required @MODULE@ config=$TESTTMP/$1.conf
SVC
}
xconf kx509 x509
xconf kx509other x509other
: >"$OA2_LOG_CAPTURE"
is "$(auth_with kx509 "$U" "$PW")" PAM_SUCCESS "Keycloak X509 certificate, tls_client_auth: PAM_SUCCESS"
like "$(last_decision)" "result=allow reason=ok" "X509: the allow decision logged"
is "$(auth_with kx509 "$U" 'wrong-password')" PAM_AUTH_ERR \
	"X509 client, wrong user password: PAM_AUTH_ERR (the client was accepted)"
: >"$OA2_LOG_CAPTURE"
is "$(auth_with kx509other "$U" "$PW")" PAM_AUTHINFO_UNAVAIL \
	"Keycloak X509, a certificate of the CA with another subject: PAM_AUTHINFO_UNAVAIL"
like "$(last_decision)" "result=deny reason=invalid_client" "another subject: invalid_client"

done_testing
