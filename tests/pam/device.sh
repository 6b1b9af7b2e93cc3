#!/usr/bin/env bash
# device.sh - the Device Authorization Grant (RFC 8628) through the real
# libpam against the mock IdP.  The module is the fake-clock build: every
# wait between polls is recorded in $OA2_FAKECLOCK_LOG instead of slept.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/common.sh"

ALICE=oa2dalice
BOB=oa2dbob
ALICE_PW='alice-Pw'
SECRET='dev-secret'
add_user "$ALICE"
add_user "$BOB"
[ -f "$FAKEMODULE" ] || bail "fake-clock module not built: $FAKEMODULE"

cat >"$TESTTMP/users.json" <<JSON
{ "$ALICE": { "password": "$ALICE_PW", "sub": "sub-alice", "scope": "openid profile" },
  "$BOB": { "password": "bob-Pw", "sub": "sub-bob", "scope": "openid" } }
JSON
start_mock --users "$TESTTMP/users.json" --client-id pam-dev --client-secret "$SECRET"

CONF="$TESTTMP/oauth2.conf"
write_conf "$CONF" <<CONF
issuer = $MOCK_URL
client_id = pam-dev
client_secret = $SECRET
ca_file = $PKI/ca.pem
cache_dir = $TESTTMP/cache
offline_dir = $TESTTMP/offline
scope = openid profile
grants = device
CONF
write_service dev <<SVC
auth required @FAKEMODULE@ config=$CONF debug
SVC
write_service devnoqr <<SVC
auth required @FAKEMODULE@ config=$CONF qr_code=no
SVC
write_service devshort <<SVC
auth required @FAKEMODULE@ config=$CONF device_timeout=10
SVC
write_service pwdev <<SVC
auth required @FAKEMODULE@ config=$CONF [grants=password device]
SVC
write_service pwonly <<SVC
auth required @FAKEMODULE@ config=$CONF grants=password
SVC

# device_run SERVICE USER [pamtest modifiers]: one login, answering every
# prompt with an empty line (Enter); prints the auth code.
device_run() {
	local svc=$1 user=$2; shift 2
	: >"$OA2_FAKECLOCK_LOG"
	printf '\n\n\n' | pam_run "$svc" "$user" auth "$@" | sed -n 's/^auth=//p'
}
sleeps() { tr '\n' ' ' <"$OA2_FAKECLOCK_LOG" | sed 's/ $//'; }
last_decision() { grep 'decision' "$OA2_LOG_CAPTURE" | tail -1; }
count_path() { mock_count "$1"; }
unhex() { node -e 'process.stdout.write(Buffer.from(require("fs").readFileSync(0, "utf8").trim(), "hex"))'; }

# ---------------------------------------------------------------- approved
mock_reset
mock_scenario '{"device_interval": 2, "device_poll_script": ["approve"]}'
is "$(device_run dev "$ALICE")" PAM_SUCCESS "approved at the first poll: PAM_SUCCESS"
is "$(sleeps)" "" "the first poll follows Enter at once (no wait)"
is "$(count_path /token)" 1 "one poll"
prompt=$(cat "$TESTTMP/prompts")
like "$prompt" "^PROMPT\[2\]: Sign in to $(hostname) as $ALICE" "echo-on prompt names the host and user"
like "$prompt" "Open $MOCK_URL/device\?user_code=[B-Z]{4}-[B-Z]{4}" "verification_uri_complete in the prompt"
like "$prompt" "Confirm the code [B-Z]{4}-[B-Z]{4}, then press Enter" "user code in the prompt"
like "$prompt" "█" "a QR code (half blocks) comes with it"
is "$(grep -c '^PROMPT' "$TESTTMP/prompts")" 1 "one prompt, no password asked"
like "$(last_decision)" "grant=device result=allow reason=ok" "syslog: device grant allowed"
is "$(mock_form_param /device_authorization scope)" "$(printf 'openid profile' | od -An -tx1 -v | tr -d ' \n')" \
	"device authorization carries the scope, form-encoded"
like "$(mock_last /device_authorization headers.authorization)" '^Basic ' \
	"device authorization carries the client authentication"
is "$(mock_form_param /token grant_type | unhex)" "urn:ietf:params:oauth:grant-type:device_code" \
	"poll uses the device_code grant type"

mock_reset
mock_scenario '{"device_interval": 2, "device_poll_script": ["authorization_pending", "authorization_pending", "authorization_pending", "approve"]}'
is "$(device_run dev "$ALICE")" PAM_SUCCESS "approved at the 4th poll: PAM_SUCCESS"
is "$(sleeps)" "sleep 2000 sleep 2000 sleep 2000" "waited the interval between polls"

mock_reset
mock_scenario '{"device_interval": 1, "device_poll_script": ["slow_down", "slow_down", "authorization_pending", "approve"]}'
is "$(device_run dev "$ALICE")" PAM_SUCCESS "slow_down twice, then approved"
is "$(sleeps)" "sleep 6000 sleep 11000 sleep 11000" "slow_down adds 5 s for good (RFC 8628 3.5)"

mock_reset
mock_scenario '{"device_response_overrides": {"interval": null}, "device_poll_script": ["authorization_pending", "approve"]}'
is "$(device_run dev "$ALICE")" PAM_SUCCESS "no interval in the response"
is "$(sleeps)" "sleep 5000" "5 s when the interval is absent"

mock_reset
mock_scenario '{"device_interval": 0, "device_poll_script": ["authorization_pending", "approve"]}'
is "$(device_run dev "$ALICE")" PAM_SUCCESS "interval 0"
is "$(sleeps)" "sleep 1000" "clamped to at least 1 s"

mock_reset
mock_scenario '{"device_interval": 3600, "device_poll_script": ["authorization_pending", "approve"]}'
is "$(device_run dev "$ALICE")" PAM_SUCCESS "interval 3600"
is "$(sleeps)" "sleep 60000" "clamped to at most 60 s"

# ---------------------------------------------------------------- refused
mock_reset
mock_scenario '{"device_interval": 1, "device_poll_script": ["authorization_pending", "access_denied"]}'
is "$(device_run dev "$ALICE")" PAM_AUTH_ERR "denied: PAM_AUTH_ERR"
like "$(last_decision)" "grant=device result=deny reason=access_denied" "logged as access_denied"

mock_reset
mock_scenario '{"device_interval": 1, "device_poll_script": ["expired_token"]}'
is "$(device_run dev "$ALICE")" PAM_AUTH_ERR "expired: PAM_AUTH_ERR"
like "$(last_decision)" "reason=expired_token" "logged as expired_token"

mock_reset
mock_scenario '{"device_interval": 5}'
is "$(device_run devshort "$ALICE")" PAM_AUTH_ERR "never approved, device_timeout=10: PAM_AUTH_ERR"
is "$(sleeps)" "sleep 5000 sleep 5000" "polled until the 10 s deadline and no longer"
like "$(last_decision)" "reason=device_timeout" "logged as device_timeout"

mock_reset
mock_scenario '{"device_interval": 2, "device_expires_in": 5}'
is "$(device_run dev "$ALICE")" PAM_AUTH_ERR "never approved, expires_in=5 < device_timeout"
is "$(sleeps)" "sleep 2000 sleep 2000 sleep 1000" "the deadline is expires_in when smaller"

mock_reset
mock_scenario "{\"device_interval\": 1, \"device_poll_script\": [\"approve:$BOB\"]}"
is "$(device_run dev "$ALICE")" PAM_AUTH_ERR "approved by another user: PAM_AUTH_ERR"
like "$(last_decision)" "user=$ALICE .*grant=device result=deny reason=identity_mismatch" \
	"logged as identity_mismatch"

# ---------------------------------------------------------------- network
mock_reset
# A dropped reused connection is retried once by libcurl itself; dropped
# twice it is an error.
mock_scenario '{"device_interval": 1, "device_poll_script": ["http_503", "close", "close", "authorization_pending", "approve"]}'
is "$(device_run dev "$ALICE")" PAM_SUCCESS "503 and dropped connections while polling, then approved"
is "$(sleeps)" "sleep 1000 sleep 2000 sleep 1000" "network errors back off (1 s, 2 s), then the interval again"

mock_reset
mock_scenario '{"device_interval": 2, "status_for_path": {"/token": 503}}'
is "$(device_run devshort "$ALICE")" PAM_AUTHINFO_UNAVAIL "token endpoint down for the whole deadline: PAM_AUTHINFO_UNAVAIL"
is "$(sleeps)" "sleep 2000 sleep 4000 sleep 4000" "backoff doubles within the 10 s deadline"

mock_reset
mock_scenario '{"status_for_path": {"/device_authorization": 500}}'
is "$(device_run dev "$ALICE")" PAM_AUTHINFO_UNAVAIL "device authorization endpoint 500: PAM_AUTHINFO_UNAVAIL"
is "$(grep -c '^PROMPT' "$TESTTMP/prompts")" 0 "nothing was shown"

# ---------------------------------------------------------------- bad responses
mock_reset
mock_scenario "{\"device_response_overrides\": {\"verification_uri\": \"http://127.0.0.1:$MOCK_PORT/device\", \"verification_uri_complete\": null}}"
is "$(device_run dev "$ALICE")" PAM_AUTHINFO_UNAVAIL "http verification URI refused"
is "$(count_path /token)" 0 "no polling"
is "$(grep -c '^PROMPT' "$TESTTMP/prompts")" 0 "and nothing shown"

mock_reset
mock_scenario '{"device_response_overrides": {"user_code": "AB\u001b[2JCD"}}'
is "$(device_run dev "$ALICE")" PAM_AUTHINFO_UNAVAIL "escape sequence in the user code refused"

mock_reset
mock_scenario '{"device_response_overrides": {"verification_uri_complete": "https://x/\n\u001b]0;evil"}}'
is "$(device_run dev "$ALICE")" PAM_AUTHINFO_UNAVAIL "control characters in verification_uri_complete refused"

mock_reset
mock_scenario '{"device_response_overrides": {"expires_in": "600"}}'
is "$(device_run dev "$ALICE")" PAM_AUTHINFO_UNAVAIL "expires_in as a string: bad response"

mock_reset
mock_scenario '{"device_response_overrides": {"device_code": null}}'
is "$(device_run dev "$ALICE")" PAM_AUTHINFO_UNAVAIL "no device_code: bad response"

# ---------------------------------------------------------------- conversation
# Only PAM_IGNORE lets this stack go on to pam_permit; any error dies.
write_service devignore <<SVC
auth [success=done ignore=ignore default=die] @FAKEMODULE@ config=$CONF
auth required pam_permit.so
SVC
mock_reset
out=$(pam_run devignore "$ALICE" auth nullconv </dev/null)
is "$out" "auth=PAM_SUCCESS" "no conversation function: PAM_IGNORE (the stack went on to pam_permit)"
like "$(last_decision)" "grant=device result=ignore reason=no_conversation" "logged as ignored"
is "$(count_path /device_authorization)" 0 "and no device request at all"

mock_reset
out=$(pam_run dev "$ALICE" auth failconv </dev/null)
is "$out" "auth=PAM_CONV_ERR" "the prompt fails: PAM_CONV_ERR"
is "$(count_path /token)" 0 "and no polling"

mock_reset
out=$(pam_run dev "$ALICE" auth nullreply </dev/null)
is "$out" "auth=PAM_CONV_ERR" "NULL reply to the prompt: PAM_CONV_ERR"
is "$(count_path /token)" 0 "and no polling"

mock_reset
is "$(device_run dev oa2nosuchuser)" PAM_USER_UNKNOWN "unknown local user: PAM_USER_UNKNOWN"
is "$(count_path /device_authorization)" 0 "no device request for an unknown user"

# ---------------------------------------------------------------- QR
mock_reset
mock_scenario '{"device_poll_script": ["approve"]}'
is "$(device_run devnoqr "$ALICE")" PAM_SUCCESS "qr_code=no"
unlike "$(cat "$TESTTMP/prompts")" "█|▀|▄" "no QR code drawn"
like "$(cat "$TESTTMP/prompts")" "Confirm the code" "the text is still there"

# ---------------------------------------------------------------- password + device
mock_reset
mock_scenario '{"device_poll_script": ["approve"]}'
is "$(device_run pwdev "$ALICE")" PAM_SUCCESS "grants=password device, empty password: device sign-in"
like "$(head -1 "$TESTTMP/prompts")" "PROMPT\[1\]: Password \(leave empty to sign in with a browser\): " \
	"the password prompt says so"
is "$(count_path /device_authorization)" 1 "one device authorization"

mock_reset
: >"$OA2_FAKECLOCK_LOG"
out=$(printf '%s\n' "$ALICE_PW" | pam_run pwdev "$ALICE" auth)
is "$out" "auth=PAM_SUCCESS" "grants=password device, a password: password grant"
is "$(count_path /device_authorization)" 0 "no device request"

mock_reset
mock_scenario '{"password_grant_error": "interaction_required", "device_poll_script": ["approve"]}'
out=$(printf '%s\n\n' "$ALICE_PW" | pam_run pwdev "$ALICE" auth)
is "$out" "auth=PAM_SUCCESS" "password grant says interaction_required: falls over to the device grant"
like "$(last_decision)" "grant=device result=allow" "decided by the device grant"
like "$(cat "$OA2_LOG_CAPTURE")" "requires interaction \(interaction_required\)" "the fall-over is logged"

mock_reset
mock_scenario '{"password_grant_error": "interaction_required"}'
out=$(printf '%s\n' "$ALICE_PW" | pam_run pwonly "$ALICE" auth)
is "$out" "auth=PAM_AUTH_ERR" "interaction_required without the device grant allowed: PAM_AUTH_ERR"

mock_reset
out=$(printf '\n' | pam_run pwonly "$ALICE" auth)
is "$out" "auth=PAM_AUTH_ERR" "grants=password: an empty password is refused"
is "$(count_path /device_authorization)" 0 "and starts no device flow"

# ---------------------------------------------------------------- OTP
write_service otp <<SVC
auth required @FAKEMODULE@ config=$CONF grants=password otp=prompt
SVC
write_service otpappend <<SVC
auth required @FAKEMODULE@ config=$CONF grants=password otp=prompt otp_append=yes otp_param=otp
SVC
mock_reset
mock_scenario '{"password_grant_error": "invalid_grant"}'
printf '%s\n123456\n' "$ALICE_PW" | pam_run otp "$ALICE" auth >/dev/null
is "$(mock_form_param /token totp | unhex)" "123456" "otp=prompt: the code goes in the totp field"
is "$(mock_form_param /token password | unhex)" "$ALICE_PW" "and the password alone in password"
like "$(sed -n 2p "$TESTTMP/prompts")" "PROMPT\[1\]: One-time code: " "asked with echo off after the password"
printf '%s\n654321\n' "$ALICE_PW" | pam_run otpappend "$ALICE" auth >/dev/null
is "$(mock_form_param /token password | unhex)" "${ALICE_PW}654321" "otp_append=yes: appended to the password"
is "$(mock_form_param /token otp)" "absent" "and no separate field"

# ---------------------------------------------------------------- secrets
mock_reset
mock_scenario '{"device_interval": 1, "device_poll_script": ["authorization_pending", "approve"]}'
is "$(device_run dev "$ALICE")" PAM_SUCCESS "a device login with debug on"
codes=$(mock_ctl requests | node -e '
	let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
		for (const r of JSON.parse(s)) {
			const b = Buffer.from(r.body_b64, "base64").toString();
			const m = /device_code=([^&]+)/.exec(b);
			if (m) console.log(decodeURIComponent(m[1]));
		}
	});' | sort -u)
ok "$([ -n "$codes" ] && echo 0 || echo 1)" "device codes were sent in this run"
leak=1
for c in $codes; do grep -qF -- "$c" "$OA2_LOG_CAPTURE" && leak=0; done
ok "$([ "$leak" = 1 ] && echo 0 || echo 1)" "no device code in syslog (debug on)"
done_testing
