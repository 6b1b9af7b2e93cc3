#!/usr/bin/env bash
# sudo.sh - the real setuid sudo, run by test users (sudo -S), through the
# stack of pam.d-examples/sudo ("IdP only, no fallback") against the real
# OpenID provider, then with the provider stopped.
#
# sudo is setuid, so no LD_PRELOAD (pam_wrapper, capture shim) reaches it;
# it is pointed at the test stack /etc/pam.d/oa2e2e-sudo-PID by a drop-in
# /etc/sudoers.d/oa2e2e_sudo_PID with "Defaults:USER pam_service=...", which
# affects the test users only.  Both files are removed on exit.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/e2e-lib.sh" "$@"

e2e_need sudo visudo

SVC=oa2e2e-sudo-$E2E_ID
ADMIN=oa2e2e_d${E2E_ID}_admin          # IdP password only
USER1=oa2e2e_d${E2E_ID}_user           # IdP password and a different local one
OUTSIDER=oa2e2e_d${E2E_ID}_outsider    # valid IdP login, not in sudoers
ADMIN_PW='admin-Passw0rd'
USER1_PW='user&pass=1+2%20x'
USER1_LOCAL='local-Passw0rd:user1'
OUT_PW='outsider-Passw0rd'

e2e_add_user "$ADMIN"
e2e_add_user "$USER1" "$USER1_LOCAL"
e2e_add_user "$OUTSIDER"

e2e_op_users "$TESTTMP/op-users.json" \
	"$(e2e_spec "$ADMIN" "$ADMIN_PW" admin)" \
	"$(e2e_spec "$USER1" "$USER1_PW" user)" \
	"$(e2e_spec "$OUTSIDER" "$OUT_PW" user)"
start_op "$TESTTMP/op-users.json" "$top_srcdir/tests/op/clients.example.json"
CONF="$TESTTMP/pam_oauth2.conf"
e2e_write_conf "$OP_URL" pam-basic pam-basic-secret-0123456789abcdef

e2e_example sudo "$TESTTMP/pam.d/$SVC"
e2e_etc_file "/etc/pam.d/$SVC" 0644 <"$TESTTMP/pam.d/$SVC"

# sudo keeps its time stamps and lecture marks in the temporary directory,
# asks every time, once, and sends no mail about bad passwords.
mkdir -m 0700 "$TESTTMP/sudo-ts" "$TESTTMP/sudo-lectured"
cat >"$TESTTMP/sudoers" <<SUDOERS
# pam_oauth2 e2e test ($0); removed when the test ends
Defaults:$ADMIN, $USER1, $OUTSIDER pam_service=$SVC, pam_login_service=$SVC
Defaults:$ADMIN, $USER1, $OUTSIDER timestamp_timeout=0, passwd_tries=1, lecture=never
Defaults:$ADMIN, $USER1, $OUTSIDER !mail_badpass, !mail_no_user, !mail_no_perms
Defaults:$ADMIN, $USER1, $OUTSIDER timestampdir=$TESTTMP/sudo-ts, lecture_status_dir=$TESTTMP/sudo-lectured
$ADMIN ALL=(ALL:ALL) ALL
$USER1 ALL=(ALL:ALL) ALL
SUDOERS
e2e_etc_file /etc/sudoers.d/oa2e2e_sudo_$E2E_ID 0440 <"$TESTTMP/sudoers"

# run_sudo USER PASSWORD CMD...: sudo -S as USER (not root: real and
# effective uid, groups) with PASSWORD on stdin; sets SUDO_OUT (stdout),
# SUDO_ERR (stderr), SUDO_RC.
run_sudo() {
	local u=$1 pw=$2; shift 2
	SUDO_OUT=$(cd / && printf '%s\n' "$pw" | timeout 30 env -i \
		PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$TESTTMP/home/$u" USER="$u" LOGNAME="$u" \
		setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups -- \
		sudo -S -p 'SUDO-PROMPT:' "$@" 2>"$TESTTMP/sudo.err")
	SUDO_RC=$?
	SUDO_ERR=$(cat "$TESTTMP/sudo.err")
}

# ---------------------------------------------------------------- IdP up
run_sudo "$ADMIN" "$ADMIN_PW" id -un
is "$SUDO_OUT" root "sudo -S, admin with the IdP password: id -un is root"
is "$SUDO_RC" 0 "  exit status 0"
like "$SUDO_ERR" '^SUDO-PROMPT:$' "  sudo showed its own prompt once, nothing else"

run_sudo "$ADMIN" "${ADMIN_PW}x" id -un
is "$SUDO_OUT" "" "sudo -S, wrong password: the command did not run"
is "$SUDO_RC" 1 "  exit status 1"
like "$SUDO_ERR" 'incorrect password attempt' "  sudo: incorrect password attempt"

run_sudo "$USER1" "$USER1_PW" id -un
is "$SUDO_OUT" root "sudo -S, user with the IdP password: root"

run_sudo "$USER1" "$USER1_LOCAL" id -un
ok "$([ "$SUDO_RC" -ne 0 ] && [ -z "$SUDO_OUT" ] && echo 0 || echo 1)" \
	"sudo -S, the local password while the IdP answers: refused"

run_sudo "$OUTSIDER" "$OUT_PW" id -un
ok "$([ "$SUDO_RC" -ne 0 ] && [ -z "$SUDO_OUT" ] && echo 0 || echo 1)" \
	"sudo -S, right IdP password but not in sudoers: refused"
like "$SUDO_ERR" 'not in the sudoers file|is not allowed' "  sudo: not in the sudoers file"

run_sudo "$ADMIN" "$ADMIN_PW" -u "$USER1" -- id -un
is "$SUDO_OUT" "$USER1" "sudo -S -u another user: id -un is $USER1"

# ---------------------------------------------------------------- IdP down
stop_op
ok $? "the OpenID provider stopped cleanly"
run_sudo "$USER1" "$USER1_LOCAL" id -un
ok "$([ "$SUDO_RC" -ne 0 ] && [ -z "$SUDO_OUT" ] && echo 0 || echo 1)" \
	"IdP down, the right LOCAL password: refused (example says: no fallback)"
run_sudo "$ADMIN" "$ADMIN_PW" id -un
ok "$([ "$SUDO_RC" -ne 0 ] && [ -z "$SUDO_OUT" ] && echo 0 || echo 1)" \
	"IdP down, the IdP password: refused"

# ---------------------------------------------------------------- after
ok "$([ -z "$(ls -A "$TESTTMP/sudo-lectured")" ] && echo 0 || echo 1)" "no lecture mark written"
left=
for u in "$ADMIN" "$USER1" "$OUTSIDER"; do
	[ -e "/run/sudo/ts/$u" ] && left="$left /run/sudo/ts/$u"
	[ -e "/var/lib/sudo/lectured/$u" ] && left="$left /var/lib/sudo/lectured/$u"
done
is "$left" "" "sudo wrote no time stamp or lecture file outside the temporary directory"
e2e_done
