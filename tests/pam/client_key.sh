#!/usr/bin/env bash
# client_key.sh - client_auth = private_key_jwt (OpenID Connect Core §9,
# RFC 7523 §2.2) through the real libpam: password logins against the real
# OpenID provider (tests/op, oidc-provider) with the client's public keys
# registered there, for RS256, PS256, ES256 and EdDSA, also with keys
# made by pam_oauth2ctl keygen and registered from its output; a wrong key and an
# expired assertion refused by it; then the mock IdP for what a real
# provider cannot be made to do on demand (a replayed jti) and to read the
# assertion the module sent, and to put a device endpoint on another
# origin (no assertion sent there); a key file with unsafe permissions or that
# does not fit the algorithm is a configuration error (PAM_SERVICE_ERR)
# with nothing sent; neither the key nor an assertion reaches syslog, and
# neither the key nor the assertion's signature stays in freed memory.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/common.sh"
. "$top_srcdir/tests/lib/op.sh"

ALICE=oa2kalice
ALICE_PW='k3y&pass=w+rd'
add_user "$ALICE"
[ -f "$FAKEMODULE" ] || bail "fake-clock module not built: $FAKEMODULE"

# ---------------------------------------------------------------- keys
# key NAME TYPE: a PEM private key $TESTTMP/keys/NAME.pem, root-only, and
# its public JWK (kid NAME) in $TESTTMP/keys/NAME.jwk.
mkdir -p "$TESTTMP/keys"
chmod 0700 "$TESTTMP/keys"
key() {
	local name=$1 type=$2 f="$TESTTMP/keys/$1.pem"
	case $type in
	rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$f" 2>/dev/null ;;
	ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$f" 2>/dev/null ;;
	ed25519) openssl genpkey -algorithm ED25519 -out "$f" 2>/dev/null ;;
	esac || bail "openssl genpkey $type"
	chmod 0600 "$f"
	node -e '
		const crypto = require("crypto"), fs = require("fs");
		const jwk = crypto.createPublicKey(fs.readFileSync(process.argv[1])).export({ format: "jwk" });
		process.stdout.write(JSON.stringify({ ...jwk, kid: process.argv[2], use: "sig" }));
	' "$f" "$name" >"$TESTTMP/keys/$name.jwk" || bail "JWK of $name"
}
key rs rsa
key ps rsa
key es ec
key ed ed25519
key other ec          # registered nowhere

# ---------------------------------------------------------------- keygen
# pam_oauth2ctl keygen makes the keys of the clients host-kg-* below: the
# JWK it prints is what gets registered.
CTL="$top_builddir/pam_oauth2ctl"
[ -x "$CTL" ] || bail "pam_oauth2ctl not built: $CTL"
for t in rsa ec ed25519; do
	"$CTL" keygen --type "$t" "$TESTTMP/keys/kg-$t.pem" >"$TESTTMP/keys/kg-$t.jwk" 2>"$TESTTMP/kg.err"
	is "$?" 0 "keygen --type $t: exit 0"
	is "$(stat -c '%u %a' "$TESTTMP/keys/kg-$t.pem")" "0 600" "keygen --type $t: the key file is root's, mode 0600"
	out=$(cat "$TESTTMP/keys/kg-$t.jwk")
	unlike "$out" 'PRIVATE|"d"|"p"|"q"' "keygen --type $t: no private part on stdout"
	unlike "$(cat "$TESTTMP/kg.err")" 'PRIVATE' "keygen --type $t: nor on stderr"
	# The kid is the RFC 7638 thumbprint (computed here by jose), and the
	# JWK is the public half of the key in the file.
	is "$(node --input-type=module -e '
		import { createRequire } from "node:module";
		const require = createRequire(process.argv[1] + "/");
		const jose = await import(require.resolve("jose"));
		const crypto = await import("node:crypto");
		const fs = await import("node:fs");
		const jwk = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
		const pub = crypto.createPublicKey(fs.readFileSync(process.argv[3])).export({ format: "jwk" });
		const same = Object.keys(pub).every((k) => pub[k] === jwk[k]);
		console.log(`${await jose.calculateJwkThumbprint(jwk, "sha256") === jwk.kid} ${same} ${jwk.use}`);
	' "$top_srcdir/tests/op" "$TESTTMP/keys/kg-$t.jwk" "$TESTTMP/keys/kg-$t.pem")" "true true sig" \
		"keygen --type $t: kid = RFC 7638 thumbprint, the file's public key, use sig"
done
like "$(cat "$TESTTMP/keys/kg-rsa.jwk")" '"alg":"RS256"' "keygen rsa: alg RS256"
is "$(openssl pkey -in "$TESTTMP/keys/kg-rsa.pem" -noout -text 2>/dev/null | sed -n 's/.*Private-Key: (\([0-9]*\) bit.*/\1/p')" 3072 \
	"keygen rsa: 3072 bits"
like "$(cat "$TESTTMP/keys/kg-ec.jwk")" '"crv":"P-256".*"alg":"ES256"' "keygen ec: P-256, ES256"
like "$(cat "$TESTTMP/keys/kg-ed25519.jwk")" '"crv":"Ed25519".*"alg":"EdDSA"' "keygen ed25519: EdDSA"
sum=$(sha256sum <"$TESTTMP/keys/kg-ec.pem")
"$CTL" keygen --type ec "$TESTTMP/keys/kg-ec.pem" >"$TESTTMP/kg.out" 2>"$TESTTMP/kg.err"
is "$?" 1 "keygen over an existing file: exit 1"
like "$(cat "$TESTTMP/kg.err")" "exists: refusing to overwrite it" "and says why"
is "$(sha256sum <"$TESTTMP/keys/kg-ec.pem")$(wc -c <"$TESTTMP/kg.out")" "${sum}0" \
	"the existing key is untouched and nothing printed"
ln -s /nonexistent-oa2 "$TESTTMP/keys/kg-link.pem"
"$CTL" keygen "$TESTTMP/keys/kg-link.pem" >/dev/null 2>&1
is "$?:$(readlink "$TESTTMP/keys/kg-link.pem"):$([ -e /nonexistent-oa2 ]; echo $?)" "1:/nonexistent-oa2:1" \
	"keygen through a dangling symbolic link: refused, nothing created"
"$CTL" keygen --type ec --alg RS256 "$TESTTMP/keys/kg-bad.pem" >/dev/null 2>"$TESTTMP/kg.err"
is "$?:$([ -e "$TESTTMP/keys/kg-bad.pem" ]; echo $?)" "2:1" "keygen --type ec --alg RS256: usage error, no file"
like "$(cat "$TESTTMP/kg.err")" "does not fit the key type" "and says why"
"$CTL" keygen --type rsa --alg PS256 --set "$TESTTMP/keys/kg-ps.pem" >"$TESTTMP/keys/kg-ps.jwks" 2>/dev/null
like "$(cat "$TESTTMP/keys/kg-ps.jwks")" '^\{"keys":\[\{"kty":"RSA".*"alg":"PS256"' "keygen --set --alg PS256: a JWK Set"

# ---------------------------------------------------------------- provider
cat >"$TESTTMP/op-users.json" <<JSON
{ "$ALICE": { "password": "$ALICE_PW", "sub": "sub-$ALICE", "scopes": ["openid", "profile"] } }
JSON
# jwt_client ID ALG KEYNAME: a private_key_jwt client with one public key.
jwt_client() {
	printf '{"client_id": "%s", "token_endpoint_auth_method": "private_key_jwt",
	  "token_endpoint_auth_signing_alg": "%s", "jwks": {"keys": [%s]},
	  "grant_types": ["password"], "response_types": [], "redirect_uris": []}' \
		"$1" "$2" "$(cat "$TESTTMP/keys/$3.jwk")"
}
{
	echo "["
	jwt_client host-rs RS256 rs; echo ","
	jwt_client host-ps PS256 ps; echo ","
	jwt_client host-es ES256 es; echo ","
	jwt_client host-ed EdDSA ed; echo ","
	for t in rsa ec ed25519; do
		printf '{"client_id": "host-kg-%s", "token_endpoint_auth_method": "private_key_jwt",
		  "jwks": {"keys": [%s]}, "grant_types": ["password"], "response_types": [],
		  "redirect_uris": []},' "$t" "$(cat "$TESTTMP/keys/kg-$t.jwk")"
	done
	printf '{"client_id": "host-kg-ps", "token_endpoint_auth_method": "private_key_jwt",
	  "jwks": %s, "grant_types": ["password"], "response_types": [], "redirect_uris": []}' \
		"$(cat "$TESTTMP/keys/kg-ps.jwks")"
	echo "]"
} >"$TESTTMP/op-clients.json"
start_op "$TESTTMP/op-users.json" "$TESTTMP/op-clients.json"

# conf FILE ISSUER CLIENT KEYNAME [more lines on stdin]
conf() {
	local file=$1 iss=$2 cid=$3 k=$4
	{
		cat <<CONF
issuer = $iss
client_id = $cid
client_auth = private_key_jwt
client_key_file = $TESTTMP/keys/$k.pem
ca_file = $PKI/ca.pem
scope = openid profile
timeout = ${OA2_TEST_TIMEOUT:-10}
debug = yes
CONF
		cat
	} | write_conf "$file"
}
last_decision() { grep 'decision' "$OA2_LOG_CAPTURE" | tail -1; }

for spec in rs:host-rs:RS256 ps:host-ps:PS256 es:host-es:ES256 ed:host-ed:EdDSA; do
	IFS=: read -r k cid alg <<<"$spec"
	extra=
	[ "$alg" = PS256 ] && extra="client_key_alg = PS256"
	conf "$TESTTMP/$k.conf" "$OP_URL" "$cid" "$k" <<<"$extra
client_key_id = $k"
	write_service "op-$k" <<SVC
auth required @MODULE@ config=$TESTTMP/$k.conf
SVC
	: >"$OA2_LOG_CAPTURE"
	is "$(auth_with "op-$k" "$ALICE" "$ALICE_PW")" PAM_SUCCESS \
		"oidc-provider, private_key_jwt $alg: PAM_SUCCESS"
	like "$(last_decision)" "result=allow reason=ok" "$alg: the allow decision logged"
done
# The keys keygen made, registered as it printed them; client_key_id is
# the kid it printed, client_key_alg what it was asked for.
for t in rsa ec ed25519 ps; do
	kid=$(sed -n 's/.*"kid":"\([^"]*\)".*/\1/p' "$TESTTMP/keys/kg-$t.jwk"* | head -n 1)
	extra="client_key_id = $kid"
	[ "$t" = ps ] && extra="$extra
client_key_alg = PS256"
	conf "$TESTTMP/kg-$t.conf" "$OP_URL" "host-kg-$t" "kg-$t" <<<"$extra"
	write_service "op-kg-$t" <<SVC
auth required @MODULE@ config=$TESTTMP/kg-$t.conf
SVC
	is "$(auth_with "op-kg-$t" "$ALICE" "$ALICE_PW")" PAM_SUCCESS \
		"oidc-provider, the key of keygen ($t) as registered from its output: PAM_SUCCESS"
done
is "$(auth_with op-es "$ALICE" 'wrong')" PAM_AUTH_ERR \
	"ES256 client, wrong user password: PAM_AUTH_ERR (the client was accepted)"

# The assertion's audience as the issuer instead of the token endpoint.
conf "$TESTTMP/es-iss.conf" "$OP_URL" host-es es <<<"client_assertion_aud = issuer"
write_service op-es-iss <<SVC
auth required @MODULE@ config=$TESTTMP/es-iss.conf
SVC
is "$(auth_with op-es-iss "$ALICE" "$ALICE_PW")" PAM_SUCCESS \
	"oidc-provider, client_assertion_aud = issuer: PAM_SUCCESS"

# A key the provider does not know for this client.
conf "$TESTTMP/wrong.conf" "$OP_URL" host-es other </dev/null
write_service op-wrong <<SVC
auth required @MODULE@ config=$TESTTMP/wrong.conf
SVC
: >"$OA2_LOG_CAPTURE"
is "$(auth_with op-wrong "$ALICE" "$ALICE_PW")" PAM_AUTHINFO_UNAVAIL \
	"oidc-provider, assertion signed with an unregistered key: PAM_AUTHINFO_UNAVAIL"
like "$(last_decision)" "result=deny reason=invalid_client" "logged as invalid_client"
like "$(grep -c 'invalid_client' "$OA2_LOG_CAPTURE")" '^[1-9]' "invalid_client in syslog"

# The module's clock ten minutes slow: its assertion has expired when the
# provider reads it.
write_service op-late <<SVC
auth required @FAKEMODULE@ config=$TESTTMP/es.conf
SVC
: >"$OA2_LOG_CAPTURE"
is "$(OA2_FAKECLOCK_WALL_OFFSET=-600 auth_with op-late "$ALICE" "$ALICE_PW")" PAM_AUTHINFO_UNAVAIL \
	"oidc-provider, expired assertion (clock 600 s slow): PAM_AUTHINFO_UNAVAIL"
like "$(last_decision)" "result=deny reason=invalid_client" "expired assertion: invalid_client"
# pam_oauth2ctl check names the method and key, never the key itself;
# pam_oauth2ctl login authenticates the client the same way.
out=$("$CTL" --config "$TESTTMP/es.conf" check 2>&1)
is "$?" 0 "pam_oauth2ctl check with private_key_jwt: exit 0"
like "$out" "client authentication: private_key_jwt \\(ES256 key $TESTTMP/keys/es.pem, kid es, aud token endpoint\\)" \
	"check names the method, alg, key file, kid and aud"
like "$out" "client_key_file $TESTTMP/keys/es.pem: owner uid 0, mode 0600" "check shows the key file's owner and mode"
leaks=0
while read -r line; do
	case $line in -----*) continue ;; esac
	case $out in *"$line"*) leaks=$((leaks + 1)) ;; esac
done <"$TESTTMP/keys/es.pem"
is "$leaks" 0 "no line of the key in check's output"
out=$(printf '%s\n' "$ALICE_PW" | "$CTL" --config "$TESTTMP/ps.conf" login "$ALICE" 2>&1)
is "$?" 0 "pam_oauth2ctl login with private_key_jwt (PS256): exit 0"
stop_op; ok $? "oidc-provider exited cleanly"

# ---------------------------------------------------------------- mock IdP
CID=host-mock
printf '{"keys": [%s, %s]}' "$(cat "$TESTTMP/keys/rs.jwk")" "$(cat "$TESTTMP/keys/ed.jwk")" \
	>"$TESTTMP/mock-jwks.json"
cat >"$TESTTMP/users.json" <<JSON
{ "$ALICE": { "password": "$ALICE_PW", "sub": "sub-alice", "scope": "openid profile" } }
JSON
start_mock --users "$TESTTMP/users.json" --client-id "$CID" --client-jwks "$TESTTMP/mock-jwks.json"
conf "$TESTTMP/m.conf" "$MOCK_URL" "$CID" ed <<<"client_key_id = ed"
write_service m <<SVC
auth required @MODULE@ config=$TESTTMP/m.conf
SVC
write_service mdev <<SVC
auth required @FAKEMODULE@ config=$TESTTMP/m.conf grants=device qr_code=no
SVC

# claims_of ASSERTION: its header and claims as one JSON object.
claims_of() {
	node -e '
		const [h, c] = process.argv[1].split(".").slice(0, 2)
			.map((p) => JSON.parse(Buffer.from(p, "base64url").toString()));
		console.log(JSON.stringify({ h, c }));' "$1"
}
unhex() { node -e 'process.stdout.write(Buffer.from(process.argv[1], "hex"))' "$1"; }
jget() { node -e 'let v = JSON.parse(process.argv[1]); for (const p of process.argv[2].split(".")) v = v?.[p]; console.log(v === undefined ? "undefined" : typeof v === "string" ? v : JSON.stringify(v))' "$1" "$2"; }

mock_reset
: >"$OA2_LOG_CAPTURE"
is "$(auth_with m "$ALICE" "$ALICE_PW")" PAM_SUCCESS "mock, private_key_jwt EdDSA: PAM_SUCCESS"
A1=$(unhex "$(mock_form_param /token client_assertion)")
is "$(unhex "$(mock_form_param /token client_assertion_type)")" \
	"urn:ietf:params:oauth:client-assertion-type:jwt-bearer" "client_assertion_type sent"
is "$(unhex "$(mock_form_param /token client_id)")" "$CID" "client_id sent beside it"
is "$(mock_form_param /token client_secret)" absent "no client_secret in the body"
is "$(mock_last /token headers.authorization)" undefined "no Authorization header"
J=$(claims_of "$A1")
is "$(jget "$J" h.alg)/$(jget "$J" h.kid)/$(jget "$J" h.typ)" "EdDSA/ed/JWT" "header: alg, kid, typ"
is "$(jget "$J" c.iss)/$(jget "$J" c.sub)" "$CID/$CID" "iss = sub = client_id"
is "$(jget "$J" c.aud)" "$MOCK_URL/token" "aud = the token endpoint (the default)"
is "$(node -e 'const c = JSON.parse(process.argv[1]).c; console.log(c.exp - c.iat)' "$J")" 60 "exp = iat + 60"
now=$(date +%s)
iat=$(jget "$J" c.iat)
ok "$([ $((now - iat)) -ge 0 ] && [ $((now - iat)) -le 10 ]; echo $?)" "iat is now ($iat, $now)"

is "$(auth_with m "$ALICE" "$ALICE_PW")" PAM_SUCCESS "a second login: PAM_SUCCESS (the mock refuses a reused jti)"
A2=$(unhex "$(mock_form_param /token client_assertion)")
J2=$(claims_of "$A2")
ok "$([ "$(jget "$J" c.jti)" != "$(jget "$J2" c.jti)" ]; echo $?)" "each login a new jti"

# The device flow's authorization request authenticates the client too.
mock_reset
mock_scenario '{"device_poll_script": ["approve"]}'
is "$(printf '\n\n' | pam_run mdev "$ALICE" auth | sed -n 's/^auth=//p')" PAM_SUCCESS \
	"mock, device grant with private_key_jwt: PAM_SUCCESS"
D=$(claims_of "$(unhex "$(mock_form_param /device_authorization client_assertion)")")
is "$(jget "$D" c.iss)" "$CID" "the device authorization request carries an assertion"
T=$(claims_of "$(unhex "$(mock_form_param /token client_assertion)")")
ok "$([ "$(jget "$D" c.jti)" != "$(jget "$T" c.jti)" ]; echo $?)" \
	"device authorization and token request: two assertions, two jti"

# An assertion goes only to the token endpoint's origin (scheme, host,
# port): a device authorization endpoint on another host name (the same
# mock, so anything sent would be seen) or another port is refused before
# anything is sent, PAM_SERVICE_ERR, reason assertion_origin (the device
# grant above, on the same origin, sent one).
for o in "https://localhost:$MOCK_PORT:another host" "https://127.0.0.1:$((MOCK_PORT == 65535 ? 1 : MOCK_PORT + 1)):another port"; do
	mock_reset
	mock_scenario "{\"discovery_overrides\": {\"device_authorization_endpoint\": \"${o%:*}/device_authorization\"}, \"device_poll_script\": [\"approve\"]}"
	: >"$OA2_LOG_CAPTURE"
	is "$(printf '\n\n' | pam_run mdev "$ALICE" auth | sed -n 's/^auth=//p')" PAM_SERVICE_ERR \
		"device endpoint on ${o##*:}: PAM_SERVICE_ERR"
	like "$(last_decision)" "result=deny reason=assertion_origin" "  ${o##*:}: reason assertion_origin"
	like "$(cat "$OA2_LOG_CAPTURE")" "not sending the client assertion to ${o%:*}/device_authorization: not on the origin" \
		"  ${o##*:}: syslog names the endpoint"
	is "$(mock_count /device_authorization)$(mock_count /token)" 00 "  ${o##*:}: nothing sent"
done
mock_reset
mock_scenario '{"assertion_replayed": true}'
: >"$OA2_LOG_CAPTURE"
is "$(auth_with m "$ALICE" "$ALICE_PW")" PAM_AUTHINFO_UNAVAIL \
	"mock, the provider says the jti was used before: PAM_AUTHINFO_UNAVAIL"
like "$(last_decision)" "result=deny reason=invalid_client" "replayed jti: invalid_client"

mock_reset
write_service mlate <<SVC
auth required @FAKEMODULE@ config=$TESTTMP/m.conf
SVC
: >"$OA2_LOG_CAPTURE"
is "$(OA2_FAKECLOCK_WALL_OFFSET=-120 auth_with mlate "$ALICE" "$ALICE_PW")" PAM_AUTHINFO_UNAVAIL \
	"mock, expired assertion: PAM_AUTHINFO_UNAVAIL"
like "$(last_decision)" "result=deny reason=invalid_client" "expired assertion: invalid_client"

mock_reset
conf "$TESTTMP/mwrong.conf" "$MOCK_URL" "$CID" other </dev/null
write_service mwrong <<SVC
auth required @MODULE@ config=$TESTTMP/mwrong.conf
SVC
: >"$OA2_LOG_CAPTURE"
is "$(auth_with mwrong "$ALICE" "$ALICE_PW")" PAM_AUTHINFO_UNAVAIL \
	"mock, wrong key: PAM_AUTHINFO_UNAVAIL"
like "$(last_decision)" "result=deny reason=invalid_client" "wrong key: invalid_client"

# ---------------------------------------------------------------- config errors
# svc_conf NAME KEYFILE [lines]: a service whose configuration names KEYFILE.
svc_conf() {
	local name=$1 kf=$2
	{
		cat <<CONF
issuer = $MOCK_URL
client_id = $CID
client_auth = private_key_jwt
client_key_file = $kf
ca_file = $PKI/ca.pem
CONF
		cat
	} | write_conf "$TESTTMP/$name.conf"
	write_service "$name" <<SVC
auth required @MODULE@ config=$TESTTMP/$name.conf
SVC
}
cfg_error() { # NAME KEYFILE WANT-IN-SYSLOG DESCRIPTION [lines on stdin]
	svc_conf "$1" "$2"
	: >"$OA2_LOG_CAPTURE"
	is "$(auth_with "$1" "$ALICE" "$ALICE_PW")" PAM_SERVICE_ERR "$4: PAM_SERVICE_ERR"
	like "$(cat "$OA2_LOG_CAPTURE")" "$3" "$4: syslog says \"$3\""
}
mock_reset
cp -p "$TESTTMP/keys/ed.pem" "$TESTTMP/keys/g.pem"; chmod 0640 "$TESTTMP/keys/g.pem"
cfg_error cg "$TESTTMP/keys/g.pem" "g.pem: readable by others than root" "key file mode 0640" </dev/null
cp -p "$TESTTMP/keys/ed.pem" "$TESTTMP/keys/w.pem"; chmod 0604 "$TESTTMP/keys/w.pem"
cfg_error cw "$TESTTMP/keys/w.pem" "w.pem: readable by others than root" "key file mode 0604" </dev/null
cp -p "$TESTTMP/keys/ed.pem" "$TESTTMP/keys/u.pem"; chown nobody "$TESTTMP/keys/u.pem"
cfg_error cu "$TESTTMP/keys/u.pem" "u.pem: not owned by root" "key file owned by nobody" </dev/null
ln -s "$TESTTMP/keys/ed.pem" "$TESTTMP/keys/l.pem"
cfg_error cl "$TESTTMP/keys/l.pem" "l.pem: refusing a symbolic link" "key file a symbolic link" </dev/null
cfg_error cm "$TESTTMP/keys/missing.pem" "missing.pem: cannot open" "key file missing" </dev/null
cfg_error ca "$TESTTMP/keys/rs.pem" "client_key_alg ES256 does not fit an RSA key" \
	"RSA key with client_key_alg = ES256" <<<"client_key_alg = ES256"
openssl pkey -in "$TESTTMP/keys/rs.pem" -pubout -out "$TESTTMP/keys/pub.pem" 2>/dev/null; chmod 0600 "$TESTTMP/keys/pub.pem"
cfg_error cp "$TESTTMP/keys/pub.pem" "not a PEM private key" "a public key as client_key_file" </dev/null
cfg_error cs "$TESTTMP/keys/ed.pem" "private_key_jwt does not use client_secret" \
	"private_key_jwt with client_secret set" <<<"client_secret = s3cret"
svc_conf cn "" </dev/null
sed -i '/^client_key_file/d' "$TESTTMP/cn.conf"
: >"$OA2_LOG_CAPTURE"
is "$(auth_with cn "$ALICE" "$ALICE_PW")" PAM_SERVICE_ERR "private_key_jwt without client_key_file: PAM_SERVICE_ERR"
like "$(cat "$OA2_LOG_CAPTURE")" "private_key_jwt needs client_key_file" "and says so"
svc_conf cb "$TESTTMP/keys/ed.pem" </dev/null
sed -i 's/^client_auth = .*/client_auth = private-key-jwt/' "$TESTTMP/cb.conf"
: >"$OA2_LOG_CAPTURE"
is "$(auth_with cb "$ALICE" "$ALICE_PW")" PAM_SERVICE_ERR "a misspelt client_auth: PAM_SERVICE_ERR"
like "$(cat "$OA2_LOG_CAPTURE")" "client_auth must be basic, post, none" "and names the values"
is "$(mock_count /token)$(mock_count /.well-known/openid-configuration)" 00 \
	"no configuration error sent anything"

# ---------------------------------------------------------------- hygiene
# With debug on, neither a line of the private key nor an assertion the
# module sent may reach syslog.
mock_reset
: >"$OA2_LOG_CAPTURE"
is "$(auth_with m "$ALICE" "$ALICE_PW")" PAM_SUCCESS "debug login for the hygiene check"
A3=$(unhex "$(mock_form_param /token client_assertion)")
leaks=0
while read -r line; do
	case $line in -----*) continue ;; esac
	grep -qF -- "$line" "$OA2_LOG_CAPTURE" && leaks=$((leaks + 1))
done <"$TESTTMP/keys/ed.pem"
for a in "$A1" "$A2" "$A3"; do
	grep -qF -- "${a##*.}" "$OA2_LOG_CAPTURE" && leaks=$((leaks + 1))
	grep -qF -- "${a%%.*}.${a#*.}" "$OA2_LOG_CAPTURE" && leaks=$((leaks + 1))
done
like "$(wc -l <"$OA2_LOG_CAPTURE")" '^[1-9]' "debug lines were logged"
is "$leaks" 0 "no key line and no assertion (nor its signature) in syslog"

# ---------------------------------------------------------------- freed memory
# Not under tests/run-sanitizers.sh's ASan build (OA2_NO_FREESCAN): the
# free() scanner cannot be preloaded in front of ASan's allocator; the
# plain make check runs these checks (as it runs wipe.sh).
if [ -n "${OA2_NO_FREESCAN:-}" ]; then
	echo "# freed-memory checks left to the plain build (OA2_NO_FREESCAN: ASan's allocator)"
else
# No line of the private key's PEM in any block freed during a login
# (tests/lib/freescan.so, as tests/pam/wipe.sh uses it): the file's text,
# the parsed key and the signing leave nothing behind.
FREESCAN="$top_builddir/tests/lib/.libs/freescan.so"
[ -f "$FREESCAN" ] || bail "freescan not built: $FREESCAN"
conf "$TESTTMP/mrs.conf" "$MOCK_URL" "$CID" rs <<<"client_key_id = rs"
write_service mrs <<SVC
auth required @MODULE@ config=$TESTTMP/mrs.conf
SVC
for k in ed rs; do
	canaries=$(grep -v '^-----' "$TESTTMP/keys/$k.pem" | awk '{ printf "key_line_%d=%s\n", NR, $0 }')
	svc=m; [ "$k" = rs ] && svc=mrs
	mock_reset
	rm -f "$TESTTMP/freed.$k"
	printf '%s\n' "$ALICE_PW" | OA2_FREESCAN_CANARIES="$canaries" OA2_FREESCAN_OUT="$TESTTMP/hits.$k" \
		OA2_FREESCAN_DUMP="$TESTTMP/freed.$k" \
		LD_PRELOAD="$LOGSHIM:$FREESCAN" "$PAMTEST" "$TESTTMP/pam.d" "$svc" "$ALICE" auth \
		>"$TESTTMP/out.$k" 2>/dev/null
	is "$(sed -n 's/^auth=//p' "$TESTTMP/out.$k")" PAM_SUCCESS "$k key, login under the free() scanner: PAM_SUCCESS"
	like "$(sed -n 's/^scanned //p' "$TESTTMP/hits.$k")" '^[0-9]{3,}$' "$k: the scanner ran"
	is "$(grep -v '^scanned ' "$TESTTMP/hits.$k" | sort | uniq -c | sed 's/^ *//')" "" \
		"$k: no line of the private key in any freed block"
	# The signature (the part of the assertion no one else can make) is
	# known only once the mock has it: every freed block was dumped, and
	# neither half of its raw bytes (an ECDSA DER holds R and S apart)
	# may be in it.  The control: the signing input, not a secret, is.
	A=$(unhex "$(mock_form_param /token client_assertion)")
	is "$(node -e '
		const fs = require("fs");
		const [a, f] = process.argv.slice(1);
		const freed = fs.readFileSync(f);
		const sig = Buffer.from(a.split(".")[2], "base64url");
		const h = sig.length >> 1;
		const found = (b) => freed.indexOf(b) >= 0;
		console.log(`${sig.length > 0} ${found(sig.subarray(0, h))} ${found(sig.subarray(h))} ` +
			`${found(Buffer.from(a.split(".")[0]))}`);
	' "$A" "$TESTTMP/freed.$k")" "true false false true" \
		"$k: the assertion's signature in no freed block (its header is: the dump works)"
	rm -f "$TESTTMP/freed.$k"
done

fi
done_testing
