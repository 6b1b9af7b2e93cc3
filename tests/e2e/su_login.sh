#!/usr/bin/env bash
# su_login.sh - the real su (setuid, run by an unprivileged test user) and
# login(1) on pseudo-terminals (expect), through the stacks of
# pam.d-examples/su ("either password") and pam.d-examples/login with
# pam.d-examples/common-auth-oauth2 ("local password only when the IdP
# cannot be asked"), against the real OpenID provider, then with it stopped.
#
# su and login have their PAM service names compiled in ("su", "login"), and
# su is setuid (no LD_PRELOAD): inside this test's private mount namespace
# (see e2e-lib.sh) the test stacks are bind-mounted over /etc/pam.d/su,
# /etc/pam.d/login and /etc/pam.d/common-auth.  Only this test's processes
# see them; the machine's files are never written.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/e2e-lib.sh" "$@"

e2e_need expect su login

CALLER=oa2e2e_u${E2E_ID}_caller      # runs su; no password anywhere
USER1=oa2e2e_u${E2E_ID}_user         # IdP password, and a different local one
ADMIN=oa2e2e_u${E2E_ID}_admin        # IdP password only
USER1_PW='user&pass=1+2%20x'
USER1_LOCAL='local-Passw0rd:user1'
ADMIN_PW='admin-Passw0rd'

e2e_add_user "$CALLER"
e2e_add_user "$USER1" "$USER1_LOCAL"
e2e_add_user "$ADMIN"

e2e_op_users "$TESTTMP/op-users.json" \
	"$(e2e_spec "$USER1" "$USER1_PW" user)" \
	"$(e2e_spec "$ADMIN" "$ADMIN_PW" admin)"
start_op "$TESTTMP/op-users.json" "$top_srcdir/tests/op/clients.example.json"
CONF="$TESTTMP/pam_oauth2.conf"
e2e_write_conf "$OP_URL" pam-basic pam-basic-secret-0123456789abcdef

e2e_example su "$TESTTMP/pam.d/su"
e2e_example login "$TESTTMP/pam.d/login"
e2e_example common-auth-oauth2 "$TESTTMP/pam.d/common-auth"
e2e_bind_pam su "$TESTTMP/pam.d/su"
e2e_bind_pam login "$TESTTMP/pam.d/login"
e2e_bind_pam common-auth "$TESTTMP/pam.d/common-auth"
grep -q "$MODULE" /etc/pam.d/su && grep -q "$MODULE" /etc/pam.d/common-auth
ok $? "inside the test's namespace su and common-auth are the example stacks"

# try_su TARGET PASSWORD: $CALLER runs `su TARGET -c ...` on a pty.
try_su() {
	PTY_OUT=$(cd / && E2E_PW="$2" timeout 60 env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME="$TESTTMP/home/$CALLER" USER="$CALLER" LOGNAME="$CALLER" TERM=dumb E2E_PW="$2" \
		setpriv --reuid="$CALLER" --regid="$(id -g "$CALLER")" --init-groups -- \
		expect -f "$PTY" cmd 30 su "$1" -c 'echo E2E:ID=$(id -un):' 2>&1)
}
# try_login USER PASSWORD: root runs `login -p USER` on a pty, as getty
# would; -p keeps OA2_LOG_CAPTURE for the capture shim, so the module's
# syslog lines are readable.
try_login() {
	PTY_OUT=$(cd / && timeout 60 env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin TERM=dumb \
		E2E_PW="$2" LD_PRELOAD="$LOGSHIM" OA2_LOG_CAPTURE="$OA2_LOG_CAPTURE" \
		expect -f "$PTY" login 40 login -p "$1" 2>&1)
}
# pty_says WORD: the value of the E2E:WORD line ("" if none).
pty_says() { printf '%s\n' "$PTY_OUT" | sed -n "s/^E2E:$1[= ]//p" | tr -d '\r' | tail -1; }
# diag ASSERTION...: run it; on failure show what the pty said.
diag() {
	local f=$_tap_fail
	"$@"
	[ "$_tap_fail" -eq "$f" ] || printf '%s\n' "$PTY_OUT" | sed 's/^/#   pty: /'
}

su_ok() { # TARGET PASSWORD DESCRIPTION
	try_su "$1" "$2"
	diag is "$(pty_says ID)/$(pty_says EXIT)" "$1/0" "$3"
}
su_refused() { # TARGET PASSWORD DESCRIPTION
	try_su "$1" "$2"
	diag ok "$([ -z "$(pty_says ID)" ] && [ "$(pty_says EXIT)" = 1 ] && echo 0 || echo 1)" "$3"
}
login_ok() { # USER PASSWORD DESCRIPTION
	try_login "$1" "$2"
	diag is "$(pty_says ID)" "$1" "$3"
}
login_refused() { # USER PASSWORD DESCRIPTION
	try_login "$1" "$2"
	diag ok "$([ -z "$(pty_says ID)" ] && printf '%s' "$PTY_OUT" | grep -q '^E2E:DENIED' && echo 0 || echo 1)" "$3"
}

# ---------------------------------------------------------------- IdP up
su_ok "$USER1" "$USER1_PW" "su, IdP password: id -un is $USER1, exit 0"
like "$(pty_says PROMPT)" '^Password:$' "  su showed the module's prompt"
su_refused "$USER1" "${USER1_PW}x" "su, wrong password: refused, exit 1"
like "$PTY_OUT" 'E2E:SAID su: Authentication failure' "  su: Authentication failure"
su_ok "$USER1" "$USER1_LOCAL" "su, the LOCAL password while the IdP answers: accepted (sufficient -> pam_unix)"
su_ok "$ADMIN" "$ADMIN_PW" "su to the admin with its IdP password"
su_refused "$ADMIN" "local-guess" "su to an IdP-only account with another password: refused"

login_ok "$USER1" "$USER1_PW" "login on a pty, IdP password: a shell as $USER1"
like "$(e2e_decision "$USER1")" 'service=login .*result=allow' "  the module (service login) allowed it"
login_refused "$USER1" "${USER1_PW}x" "login, wrong password: Login incorrect"
like "$(e2e_decision "$USER1")" 'result=deny reason=invalid_grant' "  the IdP said invalid_grant"
login_refused "$USER1" "$USER1_LOCAL" "login, the LOCAL password while the IdP answers: Login incorrect (default=die)"

# ---------------------------------------------------------------- IdP down
stop_op
ok $? "the OpenID provider stopped cleanly"
su_ok "$USER1" "$USER1_LOCAL" "IdP down, su with the local password: accepted"
su_refused "$USER1" "$USER1_PW" "IdP down, su with the IdP password: refused"
su_refused "$ADMIN" "$ADMIN_PW" "IdP down, su to an account without a local password: refused"
login_ok "$USER1" "$USER1_LOCAL" "IdP down, login with the local password: a shell (authinfo_unavail=ignore -> pam_unix)"
like "$(e2e_decision "$USER1")" 'result=deny reason=connect_failed' "  the module could not reach the IdP"
login_refused "$USER1" "$USER1_PW" "IdP down, login with the IdP password: Login incorrect"
login_refused "$ADMIN" "$ADMIN_PW" "IdP down, login to an account without a local password: Login incorrect"

log=$(cat "$OA2_LOG_CAPTURE")
unlike "$log" 'user&pass|local-Passw0rd|admin-Passw0rd|pam-basic-secret' "no password or client secret in the module's syslog"
e2e_done
