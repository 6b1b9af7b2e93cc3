#!/usr/bin/env bash
# client_mtls.sh - client_auth = tls_client_auth and
# self_signed_tls_client_auth (RFC 8705 §2) through the real libpam:
# password logins against the real OpenID provider (tests/op with
# --mtls: oidc-provider's features.mTLS fed the certificate node's TLS
# layer received, certificate-bound access tokens on) with a certificate
# of the test CA and with a self-signed one made by pam_oauth2ctl keygen
# --cert, and with one of an intermediate CA sent with its chain; its
# mtls_endpoint_aliases used; an unregistered certificate, one of another
# CA, one with another subject and the intermediate's without the chain
# refused (invalid_client,
# PAM_AUTHINFO_UNAVAIL); the mock IdP for aliases that are not https or
# not an object; configuration errors (PAM_SERVICE_ERR, nothing sent).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/common.sh"
. "$top_srcdir/tests/lib/op.sh"

ALICE=oa2malice
ALICE_PW='mtls&pass=w+rd'
add_user "$ALICE"
CTL="$top_builddir/pam_oauth2ctl"
[ -x "$CTL" ] || bail "pam_oauth2ctl not built: $CTL"

K="$TESTTMP/keys"
mkdir -p "$K"
chmod 0700 "$K"
SUBJ="CN=host-tls.example,O=pam_oauth2 tests"
# ca_cert NAME CA SUBJECT [DAYS-OFFSET...]: a P-256 key NAME.pem and a client
# certificate NAME.crt for it issued by CA ($PKI/CA.pem, CA.key).
ca_cert() {
	local name=$1 ca=$2 subj=$3
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$K/$name.pem" 2>/dev/null &&
		chmod 0600 "$K/$name.pem" &&
		printf 'extendedKeyUsage = clientAuth\nbasicConstraints = CA:FALSE\n' >"$K/ext.cnf" &&
		openssl req -new -key "$K/$name.pem" -subj "/${subj//,//}" -out "$K/$name.csr" 2>/dev/null &&
		openssl x509 -req -in "$K/$name.csr" -CA "$PKI/$ca.pem" -CAkey "$PKI/$ca.key" \
			-CAcreateserial -days 2 -extfile "$K/ext.cnf" -out "$K/$name.crt" 2>/dev/null ||
		bail "cannot make the client certificate $name"
}
ca_cert tls ca "$SUBJ"
# An intermediate CA under the test CA, and a certificate it issued: the
# provider trusts only the test CA, so the handshake must carry the
# intermediate (client_cert_file with the chain after the certificate).
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$K/int.key" 2>/dev/null &&
	printf 'basicConstraints = critical,CA:TRUE,pathlen:0\nkeyUsage = critical,keyCertSign,cRLSign\n' >"$K/int.cnf" &&
	openssl req -new -key "$K/int.key" -subj "/CN=pam_oauth2 test intermediate CA" -out "$K/int.csr" 2>/dev/null &&
	openssl x509 -req -in "$K/int.csr" -CA "$PKI/ca.pem" -CAkey "$PKI/ca.key" -CAcreateserial \
		-days 2 -extfile "$K/int.cnf" -out "$K/int.pem" 2>/dev/null ||
	bail "cannot make the intermediate CA"
cp "$K/int.pem" "$K/int-ca.pem"
cp "$K/int.key" "$K/int-ca.key"
PKI=$K ca_cert leafonly int-ca "$SUBJ"
cp -p "$K/leafonly.pem" "$K/chain.pem"
cat "$K/leafonly.crt" "$K/int.pem" >"$K/chain.crt"
{ cat "$K/leafonly.crt"; printf -- '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n'; } >"$K/badchain.crt"
cp -p "$K/leafonly.pem" "$K/badchain.pem"
ca_cert foreign other-ca "$SUBJ"
ca_cert othersubj ca "CN=other-host.example,O=pam_oauth2 tests"
"$CTL" keygen --type ed25519 --cert "$K/ss.crt" --subject "CN=host-ss.example" "$K/ss.pem" \
	>"$K/ss.out" 2>/dev/null || bail "keygen --cert failed"
head -n 1 "$K/ss.out" >"$K/ss.jwk"
is "$(sed -n '2,$p' "$K/ss.out" | openssl x509 -noout -subject -ext extendedKeyUsage 2>/dev/null | tr -s ' \n' ' ')" \
	"subject=CN = host-ss.example X509v3 Extended Key Usage: TLS Web Client Authentication " \
	"keygen --cert prints the certificate: the subject asked for, clientAuth"
cmp -s <(sed -n '2,$p' "$K/ss.out") "$K/ss.crt"
ok $? "the printed certificate is the one written to --cert"
is "$(stat -c '%a' "$K/ss.pem") $(stat -c '%a' "$K/ss.crt")" "600 644" "key 0600, certificate 0644"
"$CTL" keygen --type ec --cert "$K/ss2.crt" "$K/ss2.pem" >/dev/null 2>&1 || bail "keygen --cert (2) failed"

# ---------------------------------------------------------------- provider
cat >"$TESTTMP/op-users.json" <<JSON
{ "$ALICE": { "password": "$ALICE_PW", "sub": "sub-$ALICE", "scopes": ["openid", "profile"] } }
JSON
cat >"$TESTTMP/op-clients.json" <<JSON
[
  { "client_id": "host-tls", "token_endpoint_auth_method": "tls_client_auth",
    "tls_client_auth_subject_dn": "$SUBJ",
    "grant_types": ["password"], "response_types": [], "redirect_uris": [] },
  { "client_id": "host-ss", "token_endpoint_auth_method": "self_signed_tls_client_auth",
    "jwks": { "keys": [ $(cat "$K/ss.jwk") ] },
    "grant_types": ["password"], "response_types": [], "redirect_uris": [] }
]
JSON
start_op "$TESTTMP/op-users.json" "$TESTTMP/op-clients.json" --mtls --verbose

# conf NAME ISSUER CLIENT AUTH KEY [lines on stdin]: a config and a service.
conf() {
	{
		cat <<CONF
issuer = $2
client_id = $3
client_auth = $4
client_key_file = $K/$5.pem
client_cert_file = $K/$5.crt
ca_file = $PKI/ca.pem
scope = openid profile
timeout = ${OA2_TEST_TIMEOUT:-10}
debug = yes
CONF
		cat
	} | write_conf "$TESTTMP/$1.conf"
	write_service "$1" <<SVC
auth required @MODULE@ config=$TESTTMP/$1.conf
SVC
}
last_decision() { grep 'decision' "$OA2_LOG_CAPTURE" | tail -1; }
aliased() { grep -c 'mtls alias POST /mtls/token' "$TESTTMP/op.err"; }

conf tls "$OP_URL" host-tls tls_client_auth tls </dev/null
conf ss "$OP_URL" host-ss self_signed_tls_client_auth ss </dev/null
conf ssother "$OP_URL" host-ss self_signed_tls_client_auth ss2 </dev/null
conf foreign "$OP_URL" host-tls tls_client_auth foreign </dev/null
conf othersubj "$OP_URL" host-tls tls_client_auth othersubj </dev/null
conf chain "$OP_URL" host-tls tls_client_auth chain </dev/null
conf leafonly "$OP_URL" host-tls tls_client_auth leafonly </dev/null

n0=$(aliased)
: >"$OA2_LOG_CAPTURE"
is "$(auth_with tls "$ALICE" "$ALICE_PW")" PAM_SUCCESS \
	"oidc-provider, tls_client_auth with a certificate of the CA: PAM_SUCCESS"
like "$(last_decision)" "result=allow reason=ok" "tls_client_auth: the allow decision logged"
is "$(($(aliased) - n0))" 1 "the token request went to mtls_endpoint_aliases.token_endpoint"
is "$(auth_with tls "$ALICE" 'wrong')" PAM_AUTH_ERR \
	"tls_client_auth, wrong user password: PAM_AUTH_ERR (the client was accepted)"
n0=$(aliased)
is "$(auth_with ss "$ALICE" "$ALICE_PW")" PAM_SUCCESS \
	"oidc-provider, self_signed_tls_client_auth with keygen's certificate: PAM_SUCCESS"
is "$(($(aliased) - n0))" 1 "self_signed_tls_client_auth: the alias too"

# A certificate of an intermediate CA: accepted with the chain in
# client_cert_file, which the module sends with the certificate.
: >"$OA2_LOG_CAPTURE"
is "$(auth_with chain "$ALICE" "$ALICE_PW")" PAM_SUCCESS \
	"oidc-provider, tls_client_auth with a certificate of an intermediate CA and the chain: PAM_SUCCESS"
like "$(last_decision)" "result=allow reason=ok" "  the allow decision logged"
for c in ssother:"self-signed certificate not registered" foreign:"certificate of another CA" \
	othersubj:"CA certificate with another subject" \
	leafonly:"certificate of an intermediate CA without the chain"; do
	: >"$OA2_LOG_CAPTURE"
	is "$(auth_with "${c%%:*}" "$ALICE" "$ALICE_PW")" PAM_AUTHINFO_UNAVAIL \
		"oidc-provider, ${c#*:}: PAM_AUTHINFO_UNAVAIL"
	like "$(last_decision)" "result=deny reason=invalid_client" "${c#*:}: invalid_client"
done
# The certificate is what authenticates: without client_cert_file the
# same client_id is a public client the provider does not know.
write_conf "$TESTTMP/nocert.conf" <<CONF
issuer = $OP_URL
client_id = host-tls
client_auth = none
ca_file = $PKI/ca.pem
CONF
write_service nocert <<SVC
auth required @MODULE@ config=$TESTTMP/nocert.conf
SVC
is "$(auth_with nocert "$ALICE" "$ALICE_PW")" PAM_AUTHINFO_UNAVAIL \
	"the same client_id without the certificate: PAM_AUTHINFO_UNAVAIL"
out=$("$CTL" --config "$TESTTMP/tls.conf" check 2>&1)
is "$?" 0 "pam_oauth2ctl check with tls_client_auth: exit 0"
like "$out" "client authentication: tls_client_auth \\(certificate $K/tls.crt, key $K/tls.pem\\)" \
	"check names the method, the certificate and the key file"
out=$(printf '%s\n' "$ALICE_PW" | "$CTL" --config "$TESTTMP/ss.conf" login "$ALICE" 2>&1)
is "$?" 0 "pam_oauth2ctl login with self_signed_tls_client_auth: exit 0"
stop_op
ok $? "oidc-provider exited cleanly"

# ---------------------------------------------------------------- mock IdP
# The mock asks for no certificate and takes the client_id alone: it shows
# which endpoints the module uses and how it treats bad aliases.
cat >"$TESTTMP/users.json" <<JSON
{ "$ALICE": { "password": "$ALICE_PW", "sub": "sub-alice", "scope": "openid profile" } }
JSON
start_mock --users "$TESTTMP/users.json" --client-id host-tls
conf m "$MOCK_URL" host-tls tls_client_auth tls </dev/null
mock_reset
mock_scenario "{\"discovery_overrides\": {\"mtls_endpoint_aliases\": {\"token_endpoint\": \"$MOCK_URL/token?via=mtls\"}}}"
is "$(auth_with m "$ALICE" "$ALICE_PW")" PAM_SUCCESS "mock, tls_client_auth: PAM_SUCCESS"
is "$(mock_last /token url)" "/token?via=mtls" "the token request went to the alias"
is "$(node -e 'process.stdout.write(Buffer.from(process.argv[1], "hex"))' "$(mock_form_param /token client_id)")" \
	host-tls "client_id in the form body"
is "$(mock_last /token headers.authorization)" undefined "no Authorization header"
# The token grant's introspection authenticates the client too, so it
# goes to the introspection alias (an opaque token the mock issued).
mock_reset
OT=$(curl -sS --cacert "$PKI/ca.pem" -d grant_type=password -d client_id=host-tls \
	--data-urlencode "username=$ALICE" --data-urlencode "password=$ALICE_PW" \
	-d scope=openid "$MOCK_URL/token" | node -e '
	let s = ""; process.stdin.on("data", d => s += d).on("end", () =>
		process.stdout.write(JSON.parse(s).access_token || ""));')
[ "${#OT}" -ge 40 ] || bail "the mock's access token is not opaque-shaped: ${#OT} characters"
conf mtok "$MOCK_URL" host-tls tls_client_auth tls <<CONF
grants = token
token_audience = ssh://fleet
token_clients = host-tls
token_introspection = always
username_claim = username
CONF
mock_scenario "{\"introspection_claims\": {\"aud\": \"ssh://fleet\"}, \"discovery_overrides\": {\"mtls_endpoint_aliases\": {\"introspection_endpoint\": \"$MOCK_URL/introspect?via=mtls\"}}}"
is "$(auth_with mtok "$ALICE" "$OT")" PAM_SUCCESS "mock, tls_client_auth, an introspected token: PAM_SUCCESS"
is "$(mock_count /introspect)" 1 "  one introspection request"
is "$(mock_last /introspect url)" "/introspect?via=mtls" "  it went to mtls_endpoint_aliases.introspection_endpoint"
mock_reset
mock_scenario "{\"discovery_overrides\": {\"mtls_endpoint_aliases\": {\"token_endpoint\": \"http://127.0.0.1:$MOCK_PORT/token\"}}}"
: >"$OA2_LOG_CAPTURE"
is "$(auth_with m "$ALICE" "$ALICE_PW")" PAM_AUTHINFO_UNAVAIL "an http:// alias: PAM_AUTHINFO_UNAVAIL"
like "$(cat "$OA2_LOG_CAPTURE")" "discovery_bad_endpoint" "logged as discovery_bad_endpoint"
is "$(mock_count /token)" 0 "nothing sent to it"
mock_reset
mock_scenario '{"discovery_overrides": {"mtls_endpoint_aliases": "https://127.0.0.1/x"}}'
is "$(auth_with m "$ALICE" "$ALICE_PW")" PAM_AUTHINFO_UNAVAIL "aliases not an object: PAM_AUTHINFO_UNAVAIL"
mock_reset
mock_scenario '{"discovery_overrides": {"mtls_endpoint_aliases": {"token_endpoint": 7}}}'
is "$(auth_with m "$ALICE" "$ALICE_PW")" PAM_AUTHINFO_UNAVAIL "an alias that is a number: PAM_AUTHINFO_UNAVAIL"

# ---------------------------------------------------------------- config errors
cfg_error() { # NAME WANT DESCRIPTION (config on stdin)
	write_conf "$TESTTMP/$1.conf"
	write_service "$1" <<SVC
auth required @MODULE@ config=$TESTTMP/$1.conf
SVC
	: >"$OA2_LOG_CAPTURE"
	is "$(auth_with "$1" "$ALICE" "$ALICE_PW")" PAM_SERVICE_ERR "$3: PAM_SERVICE_ERR"
	like "$(cat "$OA2_LOG_CAPTURE")" "$2" "$3: syslog says \"$2\""
}
base="issuer = $MOCK_URL
client_id = host-tls
ca_file = $PKI/ca.pem"
mock_reset
cfg_error e1 "needs client_cert_file and client_key_file" "tls_client_auth without a key" <<CONF
$base
client_auth = tls_client_auth
client_cert_file = $K/tls.crt
CONF
cfg_error e2 "needs client_cert_file and client_key_file" "tls_client_auth without a certificate" <<CONF
$base
client_auth = tls_client_auth
client_key_file = $K/tls.pem
CONF
cfg_error e3 "tls.crt: is not the certificate of client_key_file" "a certificate of another key" <<CONF
$base
client_auth = tls_client_auth
client_key_file = $K/foreign.pem
client_cert_file = $K/tls.crt
CONF
cfg_error e4 "client_cert_file is only used with client_auth = tls_client_auth" \
	"client_cert_file with private_key_jwt" <<CONF
$base
client_auth = private_key_jwt
client_key_file = $K/tls.pem
client_cert_file = $K/tls.crt
CONF
cfg_error e5 "does not use client_secret" "tls_client_auth with a client_secret" <<CONF
$base
client_auth = tls_client_auth
client_secret = s3cret
client_key_file = $K/tls.pem
client_cert_file = $K/tls.crt
CONF
cp -p "$K/tls.pem" "$K/g.pem"; chmod 0640 "$K/g.pem"
cfg_error e6 "g.pem: readable by others than root" "a key file of mode 0640" <<CONF
$base
client_auth = tls_client_auth
client_key_file = $K/g.pem
client_cert_file = $K/tls.crt
CONF
cp -p "$K/tls.crt" "$K/w.crt"; chmod 0666 "$K/w.crt"
cfg_error e7 "w.crt: group or world writable" "a world-writable certificate" <<CONF
$base
client_auth = tls_client_auth
client_key_file = $K/tls.pem
client_cert_file = $K/w.crt
CONF
openssl x509 -req -in "$K/tls.csr" -CA "$PKI/ca.pem" -CAkey "$PKI/ca.key" -CAcreateserial \
	-not_before 20200101000000Z -not_after 20200201000000Z -out "$K/old.crt" 2>/dev/null ||
	openssl x509 -req -in "$K/tls.csr" -CA "$PKI/ca.pem" -CAkey "$PKI/ca.key" -CAcreateserial \
		-days -1 -out "$K/old.crt" 2>/dev/null
cfg_error e8 "old.crt: has expired" "an expired certificate" <<CONF
$base
client_auth = tls_client_auth
client_key_file = $K/tls.pem
client_cert_file = $K/old.crt
CONF
cfg_error e9 "client_key_alg and client_key_id are only used with client_auth = private_key_jwt" \
	"client_key_id with tls_client_auth" <<CONF
$base
client_auth = tls_client_auth
client_key_file = $K/tls.pem
client_cert_file = $K/tls.crt
client_key_id = x
CONF
cfg_error e10 "badchain.crt: certificate 2 of the file \\(the chain\\) is not a PEM certificate" \
	"a damaged certificate after the client's" <<CONF
$base
client_auth = tls_client_auth
client_key_file = $K/badchain.pem
client_cert_file = $K/badchain.crt
CONF
is "$(mock_count /token)$(mock_count /.well-known/openid-configuration)" 00 \
	"no configuration error sent anything"

# ---------------------------------------------------------------- hygiene
leaks=0
for f in "$K/tls.pem" "$K/ss.pem"; do
	while read -r line; do
		case $line in -----*) continue ;; esac
		grep -qF -- "$line" "$OA2_LOG_CAPTURE" && leaks=$((leaks + 1))
	done <"$f"
done
is "$leaks" 0 "no line of a private key in syslog"

# ---------------------------------------------------------------- freed memory
# Not under tests/run-sanitizers.sh's ASan build (OA2_NO_FREESCAN): the
# free() scanner cannot be preloaded in front of ASan's allocator; the
# plain make check runs these checks (as it runs wipe.sh).
if [ -n "${OA2_NO_FREESCAN:-}" ]; then
	echo "# freed-memory checks left to the plain build (OA2_NO_FREESCAN: ASan's allocator)"
else
# No line of the private key's PEM in any block freed during a login with
# the certificate on the handle (tests/lib/freescan.so, as wipe.sh).
FREESCAN="$top_builddir/tests/lib/.libs/freescan.so"
[ -f "$FREESCAN" ] || bail "freescan not built: $FREESCAN"
canaries=$(grep -v '^-----' "$K/tls.pem" | awk '{ printf "key_line_%d=%s\n", NR, $0 }')
mock_reset
printf '%s\n' "$ALICE_PW" | OA2_FREESCAN_CANARIES="$canaries" OA2_FREESCAN_OUT="$TESTTMP/hits" \
	LD_PRELOAD="$LOGSHIM:$FREESCAN" "$PAMTEST" "$TESTTMP/pam.d" m "$ALICE" auth >"$TESTTMP/out" 2>/dev/null
is "$(sed -n 's/^auth=//p' "$TESTTMP/out")" PAM_SUCCESS "login with the client certificate under the free() scanner: PAM_SUCCESS"
like "$(sed -n 's/^scanned //p' "$TESTTMP/hits")" '^[0-9]{3,}$' "the scanner ran"
is "$(grep -v '^scanned ' "$TESTTMP/hits" | sort | uniq -c | sed 's/^ *//')" "" \
	"no line of the private key in any freed block"

fi
done_testing
