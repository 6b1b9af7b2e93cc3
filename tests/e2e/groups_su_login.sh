#!/usr/bin/env bash
# groups_su_login.sh - scopes and claims become local groups through the
# real setuid su (run by an unprivileged user) and login(1) on ptys, with
# the stacks of pam.d-examples/su and pam.d-examples/login +
# common-auth-oauth2, against the real OpenID provider.
#
# Shows: the shell su and login start has exactly the mapped groups of the
# login (admin: scope admin, scope pam:login, claim value admins; ordinary
# user: pam:login only), never a group that does not exist nor one with GID
# 0 (allow_gid0 = no), none when pam_unix (not the module) authenticated
# the login, and a user without the required scope gets no shell at all.
# group_sync is off: /etc/group is never written, so the groups come from
# the module's setcred in the su/login process, not from the group file.
#
# The shells write `id -Gn` to a file in their home: su through its -c
# command, login through the account's ~/.profile (a login shell reads it),
# because tests/e2e/pty.exp reports only `id -un`.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/e2e-lib.sh" "$@"

e2e_need expect su login groupadd groupdel cmp

P=oa2g${E2E_ID}
CALLER=oa2e2e_gs${E2E_ID}_caller     # runs su; no password anywhere
ADMIN=oa2e2e_gs${E2E_ID}_admin       # IdP: scopes admin, pam:login; claim admins
USER1=oa2e2e_gs${E2E_ID}_user        # IdP: pam:login; also a local password
NOLOGIN=oa2e2e_gs${E2E_ID}_nolog     # IdP: no pam:login scope
ADMIN_PW='admin-Gr0ups=su'
USER1_PW='user-Gr0ups=su'
USER1_LOCAL='local-Gr0ups:user1'
NOLOGIN_PW='nolog-Gr0ups=su'
MAPPED="${P}_wheel ${P}_ssh ${P}_admins ${P}_unused"

# /etc/group and /etc/gshadow must be exactly as they were at the end.
cp -p /etc/group "$TESTTMP/group.before" || bail "cannot copy /etc/group"
[ -f /etc/gshadow ] && { cp -p /etc/gshadow "$TESTTMP/gshadow.before" || bail "cannot copy /etc/gshadow"; }
for g in $MAPPED; do
	getent group "$g" >/dev/null && bail "group $g exists already"
	on_exit "groupdel $g"
	groupadd "$g" || bail "groupadd $g"
done
getent group "${P}_missing" >/dev/null && bail "group ${P}_missing exists"
[ "$(getent group root | cut -d: -f3)" = 0 ] || bail "no group root with GID 0"
e2e_add_user "$CALLER"
e2e_add_user "$ADMIN"
e2e_add_user "$USER1" "$USER1_LOCAL"
e2e_add_user "$NOLOGIN"
cp -p /etc/group "$TESTTMP/group.set-up"

e2e_op_users "$TESTTMP/op-users.json" \
	"$(e2e_spec "$ADMIN" "$ADMIN_PW" admin)" \
	"$(e2e_spec "$USER1" "$USER1_PW" user)" \
	"$(e2e_spec "$NOLOGIN" "$NOLOGIN_PW" nologin)"
start_op "$TESTTMP/op-users.json" "$top_srcdir/tests/op/clients.example.json"
CONF="$TESTTMP/pam_oauth2.conf"
write_conf "$CONF" <<CONF
# written by $(basename "$0")
issuer = $OP_URL
client_id = pam-basic
client_secret = pam-basic-secret-0123456789abcdef
ca_file = $PKI/ca.pem
scope = openid profile groups pam:login admin
timeout = 5
connect_timeout = 3
debug = yes
groups_claim = groups
required_scopes = scope:pam:login
state_dir = $TESTTMP/state

[groups]
scope:admin = ${P}_wheel, root, ${P}_missing
scope:pam:login = ${P}_ssh
claim:admins = ${P}_admins
claim:nobody-has-this = ${P}_unused
CONF

e2e_example su "$TESTTMP/pam.d/su"
e2e_example login "$TESTTMP/pam.d/login"
e2e_example common-auth-oauth2 "$TESTTMP/pam.d/common-auth"
e2e_bind_pam su "$TESTTMP/pam.d/su"
e2e_bind_pam login "$TESTTMP/pam.d/login"
e2e_bind_pam common-auth "$TESTTMP/pam.d/common-auth"
grep -q "$MODULE" /etc/pam.d/su && grep -q "$MODULE" /etc/pam.d/login &&
	grep -q "$MODULE" /etc/pam.d/common-auth
ok $? "inside the test's namespace su, login and common-auth are the example stacks"

# The session's groups, without the user's own (primary) group, sorted,
# space-terminated; written to ~/groups.out by the shell itself.
GROUPS_CMD='id -Gn | tr " " "\n" | grep -vx "$(id -gn)" | sort | tr "\n" " " >"$HOME/groups.out"'
for u in "$ADMIN" "$USER1" "$NOLOGIN"; do
	printf '%s\n' "$GROUPS_CMD" >"$TESTTMP/home/$u/.profile"
	chown "$u:" "$TESTTMP/home/$u/.profile"
done

# try_su TARGET PASSWORD: $CALLER runs `su TARGET -c ...` on a pty.
try_su() {
	rm -f "$TESTTMP/home/$1/groups.out"
	PTY_OUT=$(cd / && timeout 60 env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME="$TESTTMP/home/$CALLER" USER="$CALLER" LOGNAME="$CALLER" TERM=dumb E2E_PW="$2" \
		setpriv --reuid="$CALLER" --regid="$(id -g "$CALLER")" --init-groups -- \
		expect -f "$PTY" cmd 30 su "$1" -c \
		"HOME=$TESTTMP/home/$1; $GROUPS_CMD; echo E2E:ID=\$(id -un):" 2>&1)
}
# try_login USER PASSWORD: root runs `login -p USER` on a pty, as getty
# would (-p keeps OA2_LOG_CAPTURE for the capture shim); the login shell
# runs ~/.profile.
try_login() {
	rm -f "$TESTTMP/home/$1/groups.out"
	PTY_OUT=$(cd / && timeout 60 env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin TERM=dumb \
		E2E_PW="$2" LD_PRELOAD="$LOGSHIM" OA2_LOG_CAPTURE="$OA2_LOG_CAPTURE" \
		expect -f "$PTY" login 40 login -p "$1" 2>&1)
}
pty_says() { printf '%s\n' "$PTY_OUT" | sed -n "s/^E2E:$1[= ]//p" | tr -d '\r' | tail -1; }
# shell_groups USER: what the shell wrote ("<none>" if it wrote nothing).
shell_groups() { cat "$TESTTMP/home/$1/groups.out" 2>/dev/null || echo "<none>"; }
diag() {
	local f=$_tap_fail
	"$@"
	[ "$_tap_fail" -eq "$f" ] || printf '%s\n' "$PTY_OUT" | sed 's/^/#   pty: /'
}

ADMIN_GROUPS="${P}_admins ${P}_ssh ${P}_wheel "
USER_GROUPS="${P}_ssh "

# ---------------------------------------------------------------- su
try_su "$ADMIN" "$ADMIN_PW"
diag is "$(pty_says ID)/$(pty_says EXIT)" "$ADMIN/0" "su to the admin with its IdP password: a shell as $ADMIN"
is "$(shell_groups "$ADMIN")" "$ADMIN_GROUPS" \
	"  su, admin: id -Gn in the shell is exactly the mapped groups (scopes admin, pam:login; claim value admins)"

try_su "$USER1" "$USER1_PW"
diag is "$(pty_says ID)/$(pty_says EXIT)" "$USER1/0" "su to the ordinary user with its IdP password"
is "$(shell_groups "$USER1")" "$USER_GROUPS" "  su, ordinary user: only pam:login's group, none of the admin's"

try_su "$USER1" "$USER1_LOCAL"
diag is "$(pty_says ID)/$(pty_says EXIT)" "$USER1/0" "su to the ordinary user with its LOCAL password (pam_unix)"
is "$(shell_groups "$USER1")" "" "  authenticated by pam_unix, not the module: no mapped groups"

try_su "$NOLOGIN" "$NOLOGIN_PW"
diag ok "$([ -z "$(pty_says ID)" ] && [ "$(pty_says EXIT)" = 1 ] && echo 0 || echo 1)" \
	"su to a user without the pam:login scope, right IdP password: refused (required_scopes)"
is "$(shell_groups "$NOLOGIN")" "<none>" "  no shell ran"
diag like "$PTY_OUT" 'E2E:SAID su: Authentication failure' \
	"  su: Authentication failure (authenticate applies required_scopes; pam_unix then had no local password)"

# ---------------------------------------------------------------- login
try_login "$ADMIN" "$ADMIN_PW"
diag is "$(pty_says ID)" "$ADMIN" "login on a pty, admin with its IdP password: a shell"
is "$(shell_groups "$ADMIN")" "$ADMIN_GROUPS" "  login, admin: id -Gn in the login shell is exactly the mapped groups"
gl=$(grep "groups user=$ADMIN " "$OA2_LOG_CAPTURE" | tail -1)
like "$gl" "granted=${P}_wheel,${P}_ssh,${P}_admins source=pam_data sync=off result=ok" \
	"  the module logged the groups it granted (setcred, one process, group_sync off)"
like "$(cat "$OA2_LOG_CAPTURE")" "group ${P}_missing \\(mapped from scope:admin\\) does not exist: not granted" \
	"  the mapped group that does not exist was logged, not granted"
like "$(cat "$OA2_LOG_CAPTURE")" 'group root \(mapped from scope:admin\) has GID 0: not granted without allow_gid0' \
	"  the mapped GID 0 group root was logged, not granted (allow_gid0 off)"

try_login "$USER1" "$USER1_PW"
diag is "$(pty_says ID)" "$USER1" "login, ordinary user with its IdP password: a shell"
is "$(shell_groups "$USER1")" "$USER_GROUPS" "  login, ordinary user: only pam:login's group"

try_login "$NOLOGIN" "$NOLOGIN_PW"
diag is "$(pty_says ID)" "" "login, user without the pam:login scope: no shell"
is "$(shell_groups "$NOLOGIN")" "<none>" "  no shell ran"
like "$(grep "decision user=$NOLOGIN " "$OA2_LOG_CAPTURE" | tail -1)" \
	'result=deny reason=missing_required .* missing=scope:pam:login$' "  authenticate refused it naming the missing scope"

# ---------------------------------------------------------------- after
cmp -s /etc/group "$TESTTMP/group.set-up"
ok $? "group_sync off: /etc/group was not written by any of the logins"
log=$(cat "$OA2_LOG_CAPTURE")
unlike "$log" 'admin-Gr0ups|user-Gr0ups|local-Gr0ups|nolog-Gr0ups|pam-basic-secret' \
	"no password or client secret in the module's syslog"
stop_op
ok $? "the OpenID provider stopped cleanly"
for g in $MAPPED; do groupdel "$g"; done
for u in "$CALLER" "$ADMIN" "$USER1" "$NOLOGIN"; do userdel -f "$u"; done
cmp -s /etc/group "$TESTTMP/group.before"
ok $? "/etc/group is byte for byte what it was before the test"
if [ -f "$TESTTMP/gshadow.before" ]; then
	cmp -s /etc/gshadow "$TESTTMP/gshadow.before"
	ok $? "/etc/gshadow is byte for byte what it was before the test"
fi
e2e_done
