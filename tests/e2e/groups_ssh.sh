#!/usr/bin/env bash
# groups_ssh.sh - scopes and claims become local groups through real ssh
# logins (a private sshd with UsePAM, the stack of pam.d-examples/sshd)
# against the real OpenID provider, with both the password and the
# keyboard-interactive methods.  keyboard-interactive is the hard case:
# sshd authenticates in a child process, so the grant reaches setcred only
# through the module's grant store.  Shows: id -Gn in the session is
# exactly the mapped groups for an admin and not for an ordinary user; a
# following public-key login of the same user gets none of them; a user
# lacking the required scope is refused; the grant store is left empty.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/e2e-lib.sh" "$@"

e2e_need sshd ssh sshpass ssh-keygen groupadd groupdel

SVC=oa2e2e-gsshd
ADMIN=oa2e2e_g_admin
USER1=oa2e2e_g_user
NOLOGIN=oa2e2e_g_nolog
ADMIN_PW='admin-Gr0ups'
USER1_PW='user-Gr0ups'
NOLOGIN_PW='nolog-Gr0ups'
STATE="$TESTTMP/state"
MAPPED="oa2g_e_wheel oa2g_e_ssh oa2g_e_admins"

cp -p /etc/group "$TESTTMP/group.before"
for g in $MAPPED oa2g_e_unused; do
	getent group "$g" >/dev/null && groupdel "$g"
	groupadd "$g" || bail "groupadd $g"
	on_exit "groupdel $g"
done
e2e_add_user "$ADMIN"
e2e_add_user "$USER1"
e2e_add_user "$NOLOGIN"

e2e_op_users "$TESTTMP/op-users.json" \
	"$(e2e_spec "$ADMIN" "$ADMIN_PW" admin)" \
	"$(e2e_spec "$USER1" "$USER1_PW" user)" \
	"$(e2e_spec "$NOLOGIN" "$NOLOGIN_PW" nologin)"
start_op "$TESTTMP/op-users.json" "$top_srcdir/tests/op/clients.example.json"
CONF="$TESTTMP/pam_oauth2.conf"
write_conf "$CONF" <<CONF
issuer = $OP_URL
client_id = pam-basic
client_secret = pam-basic-secret-0123456789abcdef
ca_file = $PKI/ca.pem
scope = openid profile groups pam:login admin
timeout = 5
debug = yes
groups_claim = groups
required_scopes = scope:pam:login
state_dir = $STATE

[groups]
scope:admin = oa2g_e_wheel
scope:pam:login = oa2g_e_ssh
claim:admins = oa2g_e_admins
claim:nobody-has-this = oa2g_e_unused
CONF
e2e_example sshd "$TESTTMP/pam.d/$SVC"
e2e_etc_file "/etc/pam.d/$SVC" 0644 <"$TESTTMP/pam.d/$SVC"

# ---------------------------------------------------------------- sshd
mkdir -p "$TESTTMP/ssh"
ssh-keygen -q -t ed25519 -N '' -f "$TESTTMP/ssh/user_ed25519" || bail "ssh-keygen"
for u in "$ADMIN" "$USER1"; do
	mkdir -p "$TESTTMP/home/$u/.ssh"
	cp "$TESTTMP/ssh/user_ed25519.pub" "$TESTTMP/home/$u/.ssh/authorized_keys"
	chown -R "$u:" "$TESTTMP/home/$u/.ssh"
	chmod 0700 "$TESTTMP/home/$u/.ssh"
done
e2e_sshd "$SVC" <<CFG
PubkeyAuthentication yes
AuthorizedKeysFile %h/.ssh/authorized_keys
AllowUsers oa2e2e_g_*
LoginGraceTime 60
CFG

SSH_OPTS=(-F /dev/null -p "$SSHD_PORT" -o UserKnownHostsFile=/dev/null
	-o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=no
	-o LogLevel=ERROR -o ConnectTimeout=10 -o ControlPath=none)
# The session's groups: id -Gn without the user's own group, sorted.
GROUPS_CMD='id -Gn | tr " " "\n" | grep -vx "$(id -gn)" | sort | tr "\n" " "'

# ssh_pw METHOD USER PASSWORD: sets OUT and RC.
ssh_pw() {
	OUT=$(cd / && SSHPASS="$3" timeout 30 sshpass -e -P assword \
		ssh "${SSH_OPTS[@]}" -o PreferredAuthentications="$1" \
		-o PubkeyAuthentication=no -o NumberOfPasswordPrompts=1 \
		"$2@127.0.0.1" "$GROUPS_CMD" </dev/null 2>>"$TESTTMP/ssh.err")
	RC=$?
}
# ssh_key USER: a public-key login; sets OUT and RC.
ssh_key() {
	OUT=$(cd / && timeout 30 ssh "${SSH_OPTS[@]}" -o BatchMode=yes \
		-o PreferredAuthentications=publickey -o IdentitiesOnly=yes \
		-i "$TESTTMP/ssh/user_ed25519" "$1@127.0.0.1" "$GROUPS_CMD" \
		</dev/null 2>>"$TESTTMP/ssh.err")
	RC=$?
}
sshd_said() { # METHOD USER
	grep -E "(Accepted|Failed) $1 for $2 from" "$SSHD_LOG" | tail -1 | awk '{print $1}'
}

for method in password keyboard-interactive; do
	sm=$method; [ "$method" = keyboard-interactive ] && sm=keyboard-interactive/pam
	ssh_pw "$method" "$ADMIN" "$ADMIN_PW"
	is "$OUT" "oa2g_e_admins oa2g_e_ssh oa2g_e_wheel " \
		"ssh $method, admin: id -Gn shows exactly the mapped groups (scopes admin, pam:login; claim value admins)"
	is "$(sshd_said "$sm" "$ADMIN")" Accepted "  sshd accepted $sm"
	ssh_key "$ADMIN"
	is "$RC/$OUT" "0/" "  a following public-key login of the same user: none of them"
	is "$(sshd_said publickey "$ADMIN")" Accepted "  (sshd accepted publickey)"

	ssh_pw "$method" "$USER1" "$USER1_PW"
	is "$OUT" "oa2g_e_ssh " "ssh $method, ordinary user: only pam:login's group"
	ssh_key "$USER1"
	is "$RC/$OUT" "0/" "  then by public key: none"

	ssh_pw "$method" "$NOLOGIN" "$NOLOGIN_PW"
	ok "$([ "$RC" -ne 0 ] && [ -z "$OUT" ] && echo 0 || echo 1)" \
		"ssh $method, user without the pam:login scope: refused (rc=$RC)"
	is "$(sshd_said "$sm" "$NOLOGIN")" Failed "  sshd logged 'Failed $sm'"
done
pw_deny=$(grep "decision user=$NOLOGIN " "$OA2_LOG_CAPTURE" | tail -1)
like "$pw_deny" 'result=deny reason=missing_required pam="Authentication failure" .* missing=scope:pam:login$' \
	"authenticate said PAM_AUTH_ERR naming the scope (password method; kbd-int logs to syslog)"
is "$(ls -A "$STATE" 2>/dev/null)" "" "the grant store is empty after the logins (every record consumed)"
st=$(stat -c '%a %U' "$STATE" 2>/dev/null)
is "$st" "700 root" "the grant store was used: $STATE is root's, mode 0700"
# Control: with the grant store unusable (others may enter state_dir),
# keyboard-interactive logins still work but get no groups, while the
# password method (PAM data in one process) still does.  So the store is
# what carried the groups above, and nothing else.
chmod 0755 "$STATE"
ssh_pw keyboard-interactive "$ADMIN" "$ADMIN_PW"
is "$RC/$OUT" "0/" "control: state_dir unsafe: keyboard-interactive logs in without groups"
ssh_pw password "$ADMIN" "$ADMIN_PW"
is "$OUT" "oa2g_e_admins oa2g_e_ssh oa2g_e_wheel " "control: the password method still has them"
chmod 0700 "$STATE"
grep -q "Accepted keyboard-interactive/pam for $ADMIN" "$SSHD_LOG"
ok $? "sshd really used keyboard-interactive (PAM in a child process)"

log=$(cat "$OA2_LOG_CAPTURE" "$SSHD_LOG")
unlike "$log" 'admin-Gr0ups|user-Gr0ups|nolog-Gr0ups|pam-basic-secret' "no password or secret in the logs"
kill -TERM "$SSHD_PID" 2>/dev/null
wait "$SSHD_PID" 2>/dev/null
for g in $MAPPED oa2g_e_unused; do groupdel "$g"; done
is "$(grep -c '^oa2g_e_' /etc/group)" 0 "the test's groups are gone"
e2e_done
