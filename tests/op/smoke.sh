#!/usr/bin/env bash
# Smoke test for the loopback OpenID provider in tests/op (server.js).
#
# usage: tests/op/smoke.sh [--certs DIR] [--keep]
#   --certs DIR  use DIR/ca.pem, DIR/server.pem, DIR/server.key instead of
#                generating a throwaway CA + server certificate with openssl
#   --keep       keep the temporary directory (server log: op.stderr)
#
# Needs: node, npm dependencies installed (npm ci in tests/op), openssl, curl.
# Everything runs on 127.0.0.1; nothing is fetched from the network.
# Prints one PASS/FAIL line per step and exits non-zero if any step failed.

set -u
set -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CERTDIR=
KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
        --certs) CERTDIR=${2:?--certs needs a directory}; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "smoke.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

for tool in node openssl curl; do
    command -v "$tool" >/dev/null 2>&1 || { echo "smoke.sh: $tool not found" >&2; exit 2; }
done
if [ ! -d "$HERE/node_modules/oidc-provider" ]; then
    echo "smoke.sh: $HERE/node_modules/oidc-provider missing; run: (cd $HERE && npm ci)" >&2
    exit 2
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/op-smoke.XXXXXX")
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null
    fi
    if [ "$KEEP" = 1 ]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

FAILS=0
PASSES=0
pass() { PASSES=$((PASSES + 1)); echo "PASS: $*"; }
fail() { FAILS=$((FAILS + 1)); echo "FAIL: $*"; }
# COMMANDS; result NAME: PASS if the preceding command (list) succeeded
result() { if [ $? -eq 0 ]; then pass "$1"; else fail "$1"; fi; }

# jget JSON EXPR: print a member of a JSON document (EXPR is a JS expression
# on `j`, e.g. 'j.keys.length'); arrays/objects are printed as JSON.
jget() {
    node -e '
        let j; try { j = JSON.parse(process.argv[1]); } catch { process.exit(1); }
        let v; try { v = eval(process.argv[2]); } catch { process.exit(1); }
        if (v === undefined || v === null) process.exit(1);
        process.stdout.write(typeof v === "object" ? JSON.stringify(v) : String(v));
    ' "$1" "$2"
}
# jwt_part TOKEN N: decoded JSON of part N (0 header, 1 payload) of a JWS
jwt_part() {
    node -e '
        const p = (process.argv[1] || "").split(".");
        if (p.length !== 3) process.exit(1);
        process.stdout.write(Buffer.from(p[Number(process.argv[2])], "base64url").toString("utf8"));
    ' "$1" "$2"
}
# html_value FILE NAME: value="" of the first input named NAME
html_value() {
    sed -n "s/.*name=\"$2\" value=\"\\([^\"]*\\)\".*/\\1/p" "$1" | head -n 1
}

# ---------------------------------------------------------------- certificates
if [ -n "$CERTDIR" ]; then
    CA=$CERTDIR/ca.pem; CERT=$CERTDIR/server.pem; KEY=$CERTDIR/server.key
else
    CA=$TMP/ca.pem; CERT=$TMP/server.pem; KEY=$TMP/server.key
    if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout "$TMP/ca.key" -out "$CA" -days 2 -subj "/CN=pam_oauth2 test CA" \
            -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
            >/dev/null 2>&1 \
        && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout "$KEY" -out "$TMP/server.csr" -subj "/CN=127.0.0.1" >/dev/null 2>&1 \
        && printf '%s\n' 'subjectAltName=IP:127.0.0.1,DNS:localhost' 'basicConstraints=CA:FALSE' \
            'keyUsage=critical,digitalSignature' 'extendedKeyUsage=serverAuth' > "$TMP/ext.cnf" \
        && openssl x509 -req -in "$TMP/server.csr" -CA "$CA" -CAkey "$TMP/ca.key" \
            -CAcreateserial -out "$CERT" -days 2 -extfile "$TMP/ext.cnf" >/dev/null 2>&1
    then pass "generate throwaway CA and server certificate"
    else fail "generate throwaway CA and server certificate"; exit 1
    fi
fi

cp "$HERE/users.example.json" "$TMP/users.json"
cp "$HERE/clients.example.json" "$TMP/clients.json"

# ---------------------------------------------------------------- start server
INTERVAL=1
node "$HERE/server.js" --port 0 --cert "$CERT" --key "$KEY" --ca "$CA" \
    --users "$TMP/users.json" --clients "$TMP/clients.json" \
    --device-interval "$INTERVAL" --verbose \
    >"$TMP/op.stdout" 2>"$TMP/op.stderr" &
SERVER_PID=$!
PORT=
for _ in $(seq 1 200); do
    if [ -s "$TMP/op.stdout" ] && read -r word port < "$TMP/op.stdout" && [ "$word" = READY ]; then PORT=$port; break; fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$PORT" ]; then
    fail "server start (READY line)"; cat "$TMP/op.stderr" >&2; exit 1
fi
if [ "$(wc -l < "$TMP/op.stdout")" -eq 1 ]; then pass "server start: READY $PORT, nothing else on stdout"
else fail "server start: stdout has more than the READY line"; fi

ISS="https://127.0.0.1:$PORT"
CURL=(curl -sS --cacert "$CA" --max-time 10)

# ---------------------------------------------------------------- discovery/jwks
DISC=$("${CURL[@]}" "$ISS/.well-known/openid-configuration")
[ "$(jget "$DISC" j.issuer)" = "$ISS" ]; result "discovery: issuer is $ISS"
TOKEN_EP=$(jget "$DISC" j.token_endpoint)
DEVICE_EP=$(jget "$DISC" j.device_authorization_endpoint)
USERINFO_EP=$(jget "$DISC" j.userinfo_endpoint)
INTROSPECT_EP=$(jget "$DISC" j.introspection_endpoint)
REVOKE_EP=$(jget "$DISC" j.revocation_endpoint)
JWKS_URI=$(jget "$DISC" j.jwks_uri)
[ -n "$TOKEN_EP" ] && [ -n "$DEVICE_EP" ] && [ -n "$USERINFO_EP" ] && [ -n "$INTROSPECT_EP" ] \
    && [ -n "$REVOKE_EP" ] && [ -n "$JWKS_URI" ]; result "discovery: token/device/userinfo/introspection/revocation/jwks endpoints"
jget "$DISC" 'j.grant_types_supported.includes("password") && j.grant_types_supported.includes("urn:ietf:params:oauth:grant-type:device_code") || undefined' >/dev/null; result "discovery: grant types password + device_code"
jget "$DISC" '["pam:login","admin","groups","profile"].every(s => j.scopes_supported.includes(s)) || undefined' >/dev/null; result "discovery: scopes include pam:login admin groups"

JWKS=$("${CURL[@]}" "$JWKS_URI")
jget "$JWKS" 'j.keys.some(k => k.alg === "RS256" && k.kty === "RSA") && j.keys.some(k => k.alg === "ES256" && k.crv === "P-256") && j.keys.every(k => !k.d) || undefined' >/dev/null; result "jwks: RS256 and ES256 public keys (no private parts)"

# ---------------------------------------------------------------- password grant
U1=oa2user
P1=$(node -e 'process.stdout.write(require(process.argv[1]).oa2user.password)' "$TMP/users.json")
BASIC_ID=pam-basic;  BASIC_SECRET=pam-basic-secret-0123456789abcdef
POST_ID=pam-post;    POST_SECRET=pam-post-secret-0123456789abcdef
SCOPE="openid profile groups pam:login"

# check_token_response NAME JSON USER CLIENT
check_token_response() {
    local name=$1 resp=$2 user=$3 client=$4 idt payload
    echo "  token response: $resp"
    idt=$(jget "$resp" j.id_token) || { fail "$name: no id_token"; return; }
    payload=$(jwt_part "$idt" 1) || { fail "$name: id_token is not a JWS"; return; }
    echo "  id_token payload: $payload"
    if [ "$(jget "$resp" j.token_type)" = Bearer ] && jget "$resp" j.access_token >/dev/null \
        && [ "$(jget "$resp" j.expires_in)" -gt 0 ] && jget "$resp" j.scope >/dev/null \
        && [ "$(jget "$payload" j.preferred_username)" = "$user" ] \
        && [ "$(jget "$payload" j.iss)" = "$ISS" ] \
        && [ "$(jget "$payload" j.aud)" = "$client" ] \
        && jget "$payload" j.sub >/dev/null
    then pass "$name"
    else fail "$name"
    fi
}

R=$("${CURL[@]}" -u "$BASIC_ID:$BASIC_SECRET" "$TOKEN_EP" -d grant_type=password \
    --data-urlencode "username=$U1" --data-urlencode "password=$P1" --data-urlencode "scope=$SCOPE")
check_token_response "password grant, client_secret_basic, $U1" "$R" "$U1" "$BASIC_ID"
AT=$(jget "$R" j.access_token)
[ "$(jget "$R" j.scope)" = "$SCOPE" ]; result "password grant: granted scope is '$SCOPE'"

R2=$("${CURL[@]}" "$TOKEN_EP" -d grant_type=password -d "client_id=$POST_ID" \
    --data-urlencode "client_secret=$POST_SECRET" \
    --data-urlencode "username=$U1" --data-urlencode "password=$P1" --data-urlencode "scope=$SCOPE")
check_token_response "password grant, client_secret_post, $U1" "$R2" "$U1" "$POST_ID"

R3=$("${CURL[@]}" -w '\n%{http_code}' -u "$BASIC_ID:$BASIC_SECRET" "$TOKEN_EP" -d grant_type=password \
    --data-urlencode "username=$U1" --data-urlencode "password=${P1}x" --data-urlencode "scope=$SCOPE")
echo "  wrong password response: $(echo "$R3" | tr '\n' ' ')"
[ "$(echo "$R3" | tail -n 1)" = 400 ] && [ "$(jget "$(echo "$R3" | head -n 1)" j.error)" = invalid_grant ]; result "password grant, wrong password -> 400 invalid_grant"

R4=$("${CURL[@]}" -w '\n%{http_code}' -u "$BASIC_ID:$BASIC_SECRET" "$TOKEN_EP" -d grant_type=password \
    -d username=nosuchuser -d password=whatever)
[ "$(echo "$R4" | tail -n 1)" = 400 ] && [ "$(jget "$(echo "$R4" | head -n 1)" j.error)" = invalid_grant ]; result "password grant, unknown user -> 400 invalid_grant"

R5=$("${CURL[@]}" -u "$BASIC_ID:$BASIC_SECRET" "$TOKEN_EP" -d grant_type=password \
    -d username=oa2nologin -d password=nologin-Passw0rd --data-urlencode "scope=openid pam:login")
[ "$(jget "$R5" j.scope)" = openid ]; result "password grant: scope intersected with the user's scopes (oa2nologin has no pam:login)"

R6=$("${CURL[@]}" -u "pam-es256:pam-es256-secret-0123456789abcdef" "$TOKEN_EP" -d grant_type=password \
    -d username=oa2admin -d password=admin-Passw0rd --data-urlencode "scope=openid groups admin pam:login")
H6=$(jwt_part "$(jget "$R6" j.id_token)" 0)
P6=$(jwt_part "$(jget "$R6" j.id_token)" 1)
[ "$(jget "$H6" j.alg)" = ES256 ] && jget "$P6" 'j.groups.includes("admins") || undefined' >/dev/null; result "password grant: ES256 client gets an ES256 id_token with groups [admins,...]"

# client_secret_basic: id and secret are form-urlencoded before base64 (RFC 6749 2.3.1)
SPECIAL_AUTH=$(node -e '
    const enc = (s) => encodeURIComponent(s).replace(/%20/g, "+");
    process.stdout.write(Buffer.from(enc("pam-special") + ":" + enc("sp&c=i+l%2F:s cret")).toString("base64"));')
R7=$("${CURL[@]}" -H "Authorization: Basic $SPECIAL_AUTH" "$TOKEN_EP" -d grant_type=password \
    -d username=oa2admin -d password=admin-Passw0rd -d scope=openid)
jget "$R7" j.access_token >/dev/null; result "password grant: client_secret_basic with a secret needing form-encoding"

# ---------------------------------------------------------------- userinfo etc.
UI=$("${CURL[@]}" -H "Authorization: Bearer $AT" "$USERINFO_EP")
echo "  userinfo: $UI"
[ "$(jget "$UI" j.preferred_username)" = "$U1" ] && jget "$UI" 'j.groups.includes("users") || undefined' >/dev/null; result "userinfo with the access token"

IN=$("${CURL[@]}" -u "$BASIC_ID:$BASIC_SECRET" "$INTROSPECT_EP" --data-urlencode "token=$AT")
echo "  introspection: $IN"
[ "$(jget "$IN" j.active)" = true ] && [ "$(jget "$IN" j.client_id)" = "$BASIC_ID" ] \
    && [ "$(jget "$IN" j.scope)" = "$SCOPE" ]; result "introspection: active, client_id, scope"

RV=$("${CURL[@]}" -o /dev/null -w '%{http_code}' -u "$BASIC_ID:$BASIC_SECRET" "$REVOKE_EP" --data-urlencode "token=$AT")
IN2=$("${CURL[@]}" -u "$BASIC_ID:$BASIC_SECRET" "$INTROSPECT_EP" --data-urlencode "token=$AT")
[ "$RV" = 200 ] && [ "$(jget "$IN2" j.active)" = false ]; result "revocation -> 200, then introspection active=false"

# ---------------------------------------------------------------- device flow
# device_flow_start CLIENT_ARGS...: sets DA (response), DC, UC
device_poll() {
    "${CURL[@]}" -u "$BASIC_ID:$BASIC_SECRET" "$TOKEN_EP" \
        -d grant_type=urn:ietf:params:oauth:grant-type:device_code --data-urlencode "device_code=$1"
}

DA=$("${CURL[@]}" -u "$BASIC_ID:$BASIC_SECRET" "$DEVICE_EP" --data-urlencode "scope=openid profile groups pam:login admin")
echo "  device authorization: $DA"
DC=$(jget "$DA" j.device_code); UC=$(jget "$DA" j.user_code); VURI=$(jget "$DA" j.verification_uri)
[ -n "$DC" ] && [ -n "$UC" ] && [ "$VURI" = "$ISS/device" ] && [ "$(jget "$DA" j.expires_in)" -gt 0 ] \
    && [ "$(jget "$DA" j.interval)" = "$INTERVAL" ]; result "device authorization: device_code, user_code, verification_uri, expires_in, interval=$INTERVAL"

P=$(device_poll "$DC")
[ "$(jget "$P" j.error)" = authorization_pending ]; result "device poll before approval -> authorization_pending"

JAR=$TMP/cookies.txt
WEB=(curl -sS --cacert "$CA" --max-time 10 -b "$JAR" -c "$JAR")

# step 1: GET verification_uri -> user code form (hidden xsrf, text user_code)
"${WEB[@]}" -o "$TMP/p1.html" "$VURI"
XSRF=$(html_value "$TMP/p1.html" xsrf)
[ -n "$XSRF" ] && grep -q 'name="user_code"' "$TMP/p1.html" && ! grep -Eq 'https?://[^1]' "$TMP/p1.html"; result "device page 1: user code form (xsrf + user_code, no off-loopback URLs)"

# step 2: POST xsrf + user_code -> confirm form (hidden xsrf, user_code, confirm=yes)
"${WEB[@]}" -o "$TMP/p2.html" "$VURI" --data-urlencode "xsrf=$XSRF" --data-urlencode "user_code=$UC"
XSRF2=$(html_value "$TMP/p2.html" xsrf)
[ -n "$XSRF2" ] && grep -q 'name="confirm" value="yes"' "$TMP/p2.html"; result "device page 2: confirm form (xsrf, user_code, confirm=yes)"

# step 3: POST confirm -> 303 to /interaction/<uid>
L3=$("${WEB[@]}" -o "$TMP/p3.html" -w '%{http_code} %{redirect_url}' "$VURI" \
    --data-urlencode "xsrf=$XSRF2" --data-urlencode "user_code=$UC" -d confirm=yes)
LOGIN_URL=${L3#* }
[ "${L3%% *}" = 303 ] && [[ "$LOGIN_URL" == "$ISS/interaction/"* ]]; result "device page 3: confirm -> redirect to login interaction ($L3)"

# step 4: GET login page (username, password)
"${WEB[@]}" -o "$TMP/p4.html" "$LOGIN_URL"
grep -q 'name="username"' "$TMP/p4.html" && grep -q 'name="password"' "$TMP/p4.html"; result "device page 4: login form with username/password"
ACTION=$(sed -n 's/.*<form id="login" method="post" action="\([^"]*\)".*/\1/p' "$TMP/p4.html")

# step 5a: wrong password -> login form again with an error
"${WEB[@]}" -o "$TMP/p5a.html" "$ISS$ACTION" -d username=oa2admin -d password=wrong
grep -q 'id="error"' "$TMP/p5a.html"; result "device page 5a: wrong password re-renders the form with an error"

# step 5b: good credentials -> 303 back to the OP (device resume: /device/<uid>)
L5=$("${WEB[@]}" -o /dev/null -w '%{http_code} %{redirect_url}' "$ISS$ACTION" \
    -d username=oa2admin -d password=admin-Passw0rd)
RESUME_URL=${L5#* }
[ "${L5%% *}" = 303 ] && [[ "$RESUME_URL" == "$ISS/device/"?* ]]; result "device page 5b: login -> redirect to device resume ($L5)"

# step 6: GET resume (follow any further redirects) -> success page
S6=$("${WEB[@]}" -L -o "$TMP/p6.html" -w '%{http_code}' "$RESUME_URL")
[ "$S6" = 200 ] && grep -q 'id="success"' "$TMP/p6.html"; result "device page 6: success page"

sleep "$INTERVAL"
P=$(device_poll "$DC")
echo "  device token response: $P"
PAYLOAD=$(jwt_part "$(jget "$P" j.id_token)" 1)
echo "  id_token payload: $PAYLOAD"
jget "$P" j.access_token >/dev/null && [ "$(jget "$PAYLOAD" j.preferred_username)" = oa2admin ] \
    && [ "$(jget "$PAYLOAD" j.iss)" = "$ISS" ] && jget "$PAYLOAD" 'j.groups.includes("admins") || undefined' >/dev/null; result "device poll after approval -> tokens; id_token names oa2admin, groups has admins"
jget "$P" '(s => s.includes("pam:login") && s.includes("admin"))(j.scope.split(" ")) || undefined' >/dev/null; result "device tokens: scope contains pam:login and admin"

P=$(device_poll "$DC")
[ "$(jget "$P" j.error)" = invalid_grant ]; result "device poll again -> invalid_grant (code already used)"

# device flow via verification_uri_complete, approved by oa2user whose password
# has & = + % and a non-ASCII character; "admin" is requested but not granted
DA3=$("${CURL[@]}" "$DEVICE_EP" -d client_id=$POST_ID --data-urlencode "client_secret=$POST_SECRET" \
    --data-urlencode "scope=openid profile pam:login admin")
DC3=$(jget "$DA3" j.device_code); VURIC=$(jget "$DA3" j.verification_uri_complete)
JAR=$TMP/cookies3.txt
WEB=(curl -sS --cacert "$CA" --max-time 10 -b "$JAR" -c "$JAR")
# GET verification_uri_complete -> auto-submitting form (hidden xsrf + user_code) = confirm page input
"${WEB[@]}" -o "$TMP/r1.html" "$VURIC"
"${WEB[@]}" -o "$TMP/r2.html" "$VURI" --data-urlencode "xsrf=$(html_value "$TMP/r1.html" xsrf)" \
    --data-urlencode "user_code=$(html_value "$TMP/r1.html" user_code)"
L3=$("${WEB[@]}" -o /dev/null -w '%{redirect_url}' "$VURI" --data-urlencode "xsrf=$(html_value "$TMP/r2.html" xsrf)" \
    --data-urlencode "user_code=$(html_value "$TMP/r2.html" user_code)" -d confirm=yes)
"${WEB[@]}" -o "$TMP/r4.html" "$L3"
ACTION=$(sed -n 's/.*<form id="login" method="post" action="\([^"]*\)".*/\1/p' "$TMP/r4.html")
S6=$("${WEB[@]}" -L -o "$TMP/r6.html" -w '%{http_code}' "$ISS$ACTION" \
    --data-urlencode "username=$U1" --data-urlencode "password=$P1")
P3=$("${CURL[@]}" "$TOKEN_EP" -d client_id=$POST_ID --data-urlencode "client_secret=$POST_SECRET" \
    -d grant_type=urn:ietf:params:oauth:grant-type:device_code --data-urlencode "device_code=$DC3")
PAYLOAD3=$(jwt_part "$(jget "$P3" j.id_token)" 1)
[ "$S6" = 200 ] && grep -q 'id="success"' "$TMP/r6.html" \
    && [ "$(jget "$PAYLOAD3" j.preferred_username)" = "$U1" ] && [ "$(jget "$P3" j.scope)" = "openid profile pam:login" ]
result "device flow via verification_uri_complete, $U1 (special-character password), admin scope dropped"

# device flow denied by the user: abort on the confirm page -> access_denied
DA2=$("${CURL[@]}" "$DEVICE_EP" -d client_id=pam-public --data-urlencode "scope=openid pam:login")
DC2=$(jget "$DA2" j.device_code); UC2=$(jget "$DA2" j.user_code)
JAR=$TMP/cookies2.txt
WEB=(curl -sS --cacert "$CA" --max-time 10 -b "$JAR" -c "$JAR")
"${WEB[@]}" -o "$TMP/q1.html" "$VURI"
"${WEB[@]}" -o "$TMP/q2.html" "$VURI" --data-urlencode "xsrf=$(html_value "$TMP/q1.html" xsrf)" --data-urlencode "user_code=$UC2"
"${WEB[@]}" -o "$TMP/q3.html" "$VURI" --data-urlencode "xsrf=$(html_value "$TMP/q2.html" xsrf)" \
    --data-urlencode "user_code=$UC2" -d abort=yes
P2=$("${CURL[@]}" "$TOKEN_EP" -d client_id=pam-public \
    -d grant_type=urn:ietf:params:oauth:grant-type:device_code --data-urlencode "device_code=$DC2")
[ "$(jget "$P2" j.error)" = access_denied ]; result "device flow aborted by the user -> access_denied (public client)"

# ---------------------------------------------------------------- shutdown
kill -TERM "$SERVER_PID"
STOPPED=0
for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || { STOPPED=1; break; }; sleep 0.1; done
wait "$SERVER_PID" 2>/dev/null; RC=$?
[ "$STOPPED" = 1 ] && [ "$RC" = 0 ]; result "server exits cleanly on SIGTERM (rc=$RC)"
SERVER_PID=

echo "$PASSES passed, $FAILS failed"
if [ "$FAILS" -ne 0 ]; then
    echo "--- server stderr ---" >&2
    cat "$TMP/op.stderr" >&2
    exit 1
fi
exit 0
