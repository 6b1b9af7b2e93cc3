#!/usr/bin/env bash
# keycloak_device.sh - the device grant (RFC 8628) against Keycloak, end
# to end: real ssh logins with keyboard-interactive on 80x24 tmux screens
# (tests/e2e/term-lib.sh), through a private sshd (UsePAM yes) whose stack
# is pam.d-examples/sshd, approved in headless Chromium on Keycloak's own
# pages (tests/e2e/approve-browser.js --provider keycloak):
#   1. grants=device: the code typed into Keycloak's "Device Login" page,
#      signed in as the right user, consent: logged in;
#   2. the same user's next code (the URL the terminal shows) approved by
#      a browser signed in as another user: refused, identity_mismatch;
#   also su (setuid, run by an unprivileged user) with the device grant;
#   3. grants = password device, a user with a required action pending
#      (UPDATE_PASSWORD): Keycloak refuses the password grant with
#      invalid_grant "Account is not fully set up"; the audit line of a
#      password-only login says reason=required_action; over ssh the module
#      goes on with the device grant, the user updates the password on
#      Keycloak's page, consents, and is logged in; the new password then
#      works with the password grant.
# Keycloak: the run's (tests/run-all.sh) or one of its own (kc_use); the
# test works in a copy of the realm tests/keycloak/realm.json made and
# deleted by the admin API (the required action is used up), with the
# device client's polling interval lowered to 1 s there.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/e2e-lib.sh" "$@"
. "$top_srcdir/tests/lib/keycloak.sh"

e2e_need sshd ssh ssh-keygen openssl
. "$top_srcdir/tests/e2e/term-lib.sh"
term_need_browser

kc_use
REALM=oa2kcdev$E2E_ID
# Not in $( ): kc_realm_copy registers the realm's deletion on exit.
kc_realm_copy "$REALM" >/dev/null
ISSUER="$KC_URL/realms/$REALM"

# The device client (pam-device) with a 1 s polling interval in this copy.
CID=$(kc_admin GET "/$REALM/clients?clientId=pam-device" | node -e '
	let s = ""; process.stdin.on("data", d => s += d).on("end", () => console.log(JSON.parse(s)[0].id));')
rep=$(kc_admin GET "/$REALM/clients/$CID" | node -e '
	let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
		const c = JSON.parse(s); c.attributes["oauth2.device.polling.interval"] = "1";
		console.log(JSON.stringify(c)); });')
kc_admin PUT "/$REALM/clients/$CID" "$rep" >/dev/null
ok $? "realm $REALM (a copy of tests/keycloak/realm.json): pam-device polls every 1 s (HTTP $KC_HTTP)"

# Chromium trusts the server's key only (approve-browser.js): the
# certificate Keycloak serves, checked against the test CA first.
KC_PORT=${KC_URL##*:}
openssl s_client -connect "127.0.0.1:$KC_PORT" -servername 127.0.0.1 </dev/null 2>/dev/null |
	openssl x509 >"$TESTTMP/kc-server.pem" 2>/dev/null
openssl verify -CAfile "$KC_CA" "$TESTTMP/kc-server.pem" >/dev/null 2>&1 ||
	bail "the certificate Keycloak serves does not verify with $KC_CA"

# Users of this test only, in the realm copy (admin API) and locally, named
# with the test's PID: another script's users of tests/keycloak/realm.json
# are not touched, even by a run under another lock.
ALICE=oa2e2e_kd${E2E_ID}_alice ALICE_PW='alice-Dev=pass+1 %20'
BOB=oa2e2e_kd${E2E_ID}_bob BOB_PW='bob-Dev-pass-2'
ERIN=oa2e2e_kd${E2E_ID}_erin ERIN_PW='erin-Dev-pass-5' ERIN_NEW='erin-Dev-new-pass-7'
# kcd_user NAME PASSWORD [REQUIRED_ACTION]: a Keycloak user with a complete
# profile (else Keycloak asks for one at the first sign-in).
kcd_user() {
	local json
	json=$(node -e 'const [u, pw, ra] = process.argv.slice(1);
		console.log(JSON.stringify({ username: u, enabled: true, email: u + "@example.test",
			emailVerified: true, firstName: u, lastName: "Test",
			credentials: [{ type: "password", value: pw, temporary: false }],
			requiredActions: ra ? [ra] : [] }));' "$@")
	kc_admin POST "/$REALM/users" "$json" >/dev/null || bail "cannot create Keycloak user $1 (HTTP $KC_HTTP)"
	e2e_add_user "$1"
}
kcd_user "$ALICE" "$ALICE_PW"
kcd_user "$BOB" "$BOB_PW"
kcd_user "$ERIN" "$ERIN_PW" UPDATE_PASSWORD
CALLER=oa2e2e_kd${E2E_ID}_caller   # local only: runs su
e2e_add_user "$CALLER"

CONF="$TESTTMP/pam_oauth2.conf"
write_conf "$CONF" <<CONF
# written by $(basename "$0"): docs/providers/keycloak.md, device grant
issuer = $ISSUER
client_id = pam-device
client_secret = pam-device-secret-0123456789abcdef
ca_file = $KC_CA
grants = password device
timeout = $((${OA2_TEST_TIMEOUT:-5} * 2))
connect_timeout = 3
debug = yes
CONF

# kcd_sshd SVC [MODULE-ARGS]: the example stack (module arguments added to
# its auth line) as /etc/pam.d/SVC, and a private sshd for it with
# keyboard-interactive only.
kcd_sshd() {
	local svc=$1 args=${2:-}
	e2e_example sshd "$TESTTMP/pam.d/$svc"
	[ -z "$args" ] || sed -i -e "/^auth.*pam_oauth2/ s/\$/ $args/" "$TESTTMP/pam.d/$svc"
	e2e_etc_file "/etc/pam.d/$svc" 0644 <"$TESTTMP/pam.d/$svc"
	e2e_sshd "$svc" <<CFG
PubkeyAuthentication no
AuthorizedKeysFile none
PasswordAuthentication no
AllowUsers oa2e2e_kd${E2E_ID}_*
LoginGraceTime 90
CFG
}
kcd_stop_sshd() {
	kill -TERM "$SSHD_PID" 2>/dev/null
	wait "$SSHD_PID" 2>/dev/null
}

# ---------------------------------------------------------------- 1: device grant, right user
SVC=oa2e2e-sshd-$E2E_ID
kcd_sshd "$SVC" grants=device
is "$(grep -c '^auth.*pam_oauth2.*config=.* grants=device$' "$TESTTMP/pam.d/$SVC")" 1 \
	"PAM stack: pam.d-examples/sshd with 'grants=device' on the module's auth line"

term_ssh alice "$ALICE"
read_prompt alice
ok $? "ssh -tt as $ALICE, keyboard-interactive, 80x24: the device prompt is on the screen"
is "$(printf '%s\n' "$URL" | sed -E 's/[A-Z]{4}-[A-Z]{4}$/CODE/')" "$ISSUER/device?user_code=CODE" \
	"  'Open $URL': Keycloak's verification_uri_complete"
is "${URL##*=}" "$CODE" "  the code of the 'Confirm the code $CODE' line is the one in the URL"
term_approve "$URL" "$CODE" "$ALICE" "$ALICE_PW" "$TESTTMP/kc-server.pem" --provider keycloak --type-code
ok $? "headless Chromium, Keycloak's pages: 'Device Login' with the code $CODE typed in, sign-in as $ALICE, consent, 'Device Login Successful' ($BROWSER_MS ms)"
is "$(wait_rc alice 1)" running "  ssh still waits for Enter"
tmx send-keys -t alice Enter
is "$(wait_rc alice 30)" 0 "Enter: ssh exits 0"
like "$(term_screen alice -J)" "^LOGGED-IN-AS $ALICE" "  the session ran as $ALICE"
is "$(sshd_said keyboard-interactive/pam "$ALICE")" Accepted "  sshd logged 'Accepted keyboard-interactive/pam for $ALICE'"
like "$(e2e_decision "$ALICE")" "service=$SVC rhost=127\.0\.0\.1 grant=device result=allow reason=ok " \
	"  the module's decision: device grant, allowed"

# ---------------------------------------------------------------- 2: another user approves
CODE1=$CODE
term_ssh alice2 "$ALICE"
read_prompt alice2
ok $? "ssh as $ALICE again: a new device prompt"
ok "$([ "$CODE" != "$CODE1" ] && echo 0 || echo 1)" "  with a new code ($CODE, not $CODE1)"
term_approve "$URL" "$CODE" "$BOB" "$BOB_PW" "$TESTTMP/kc-server.pem" --provider keycloak
ok $? "headless Chromium opens the URL of $ALICE's screen and signs in as $BOB: Keycloak says 'Device Login Successful' ($BROWSER_MS ms)"
tmx send-keys -t alice2 Enter
is "$(wait_rc alice2 30)" 255 "Enter: ssh exits 255 (authentication refused)"
like "$(term_screen alice2 -J)" "Permission denied \(keyboard-interactive\)" "  ssh printed 'Permission denied (keyboard-interactive)'"
unlike "$(term_screen alice2 -J)" "LOGGED-IN-AS" "  no session ran"
is "$(sshd_said keyboard-interactive/pam "$ALICE")" Failed "  sshd logged 'Failed keyboard-interactive/pam for $ALICE'"
like "$(e2e_decision "$ALICE")" "service=$SVC rhost=127\.0\.0\.1 grant=device result=deny reason=identity_mismatch " \
	"  the module refused it: identity_mismatch (Keycloak's tokens name $BOB)"
kcd_stop_sshd

# ---------------------------------------------------------------- su, device grant
# The setuid su run by an unprivileged user on an 80x24 tmux screen, its
# stack pam.d-examples/su (the module limited to the device grant),
# bind-mounted over /etc/pam.d/su in this test's namespace only.
e2e_example su "$TESTTMP/pam.d/su"
sed -i -e '/^auth.*pam_oauth2/ s/$/ grants=device/' "$TESTTMP/pam.d/su"
e2e_bind_pam su "$TESTTMP/pam.d/su"
grep -q "$MODULE.* grants=device$" /etc/pam.d/su
ok $? "inside the test's namespace /etc/pam.d/su is pam.d-examples/su with 'grants=device'"
term_su su "$CALLER" "$ALICE"
read_prompt su
ok $? "$CALLER runs 'su $ALICE' on an 80x24 screen: the device prompt"
term_approve "$URL" "$CODE" "$ALICE" "$ALICE_PW" "$TESTTMP/kc-server.pem" --provider keycloak
ok $? "  approved in headless Chromium on Keycloak's pages as $ALICE ($BROWSER_MS ms)"
tmx send-keys -t su Enter
is "$(wait_rc su 30)" 0 "  Enter: su exits 0"
like "$(term_screen su -J)" "^LOGGED-IN-AS $ALICE" "  su's command ran as $ALICE"

# ---------------------------------------------------------------- 3: a required action
# The password grant alone (real libpam, pamtest): the audit line names
# the reason.
write_service pwonly <<SVCF
auth required @MODULE@ config=$CONF grants=password
SVCF
is "$(auth_with pwonly "$ERIN" "$ERIN_PW")" PAM_AUTH_ERR \
	"$ERIN (UPDATE_PASSWORD pending), password grant only, right password: PAM_AUTH_ERR"
like "$(e2e_decision "$ERIN")" "grant=password result=deny reason=required_action " \
	"  the audit line says reason=required_action (Keycloak: invalid_grant 'Account is not fully set up')"

SVC2=oa2e2e-sshd2-$E2E_ID
kcd_sshd "$SVC2"
term_ssh erin "$ERIN"
wait_screen erin 'Password \(leave empty to sign in with a browser\): ?$' 20
ok $? "ssh as $ERIN with 'grants = password device': the prompt 'Password (leave empty to sign in with a browser):'"
tmx send-keys -t erin -l "$ERIN_PW"
tmx send-keys -t erin Enter
read_prompt erin
ok $? "  the password typed: the device prompt follows"
like "$(grep 'continuing with the device grant' "$OA2_LOG_CAPTURE" | tail -1)" \
	"the provider requires interaction \(required_action\): continuing with the device grant" \
	"  syslog: the password grant's refusal (required_action), then the device grant"
APPROVE_NEW_PASSWORD=$ERIN_NEW term_approve "$URL" "$CODE" "$ERIN" "$ERIN_PW" "$TESTTMP/kc-server.pem" --provider keycloak
ok $? "headless Chromium: sign-in as $ERIN, Keycloak's 'Update password' page, consent, 'Device Login Successful' ($BROWSER_MS ms)"
like "$(cat "$TESTTMP/browser.out")" 'required action: "Update password"' "  the browser went through the required action"
tmx send-keys -t erin Enter
is "$(wait_rc erin 30)" 0 "Enter: ssh exits 0"
like "$(term_screen erin -J)" "^LOGGED-IN-AS $ERIN" "  the session ran as $ERIN"
is "$(sshd_said keyboard-interactive/pam "$ERIN")" Accepted "  sshd logged 'Accepted keyboard-interactive/pam for $ERIN'"
like "$(e2e_decision "$ERIN")" "service=$SVC2 rhost=127\.0\.0\.1 grant=device result=allow reason=ok " \
	"  the module's decision: device grant, allowed"
kcd_stop_sshd
is "$(auth_with pwonly "$ERIN" "$ERIN_NEW")" PAM_SUCCESS "  the required action is done: the new password logs in with the password grant"
is "$(auth_with pwonly "$ERIN" "$ERIN_PW")" PAM_AUTH_ERR "  and the old one is refused"

# ---------------------------------------------------------------- after
log=$(cat "$OA2_LOG_CAPTURE" "$SSHD_LOG")
unlike "$log" 'alice-Dev=pass|bob-Dev-pass|erin-Dev-|pam-device-secret' \
	"no password or client secret in sshd's log or the module's syslog"
tmx kill-server
kc_realm_delete "$REALM"
kc_admin GET "/$REALM" >/dev/null
is "$KC_HTTP" 404 "the realm $REALM is deleted"
e2e_done
