#!/usr/bin/env bash
# groups_sudo.sh - a sudoers %group rule that matches only a mapped group,
# with group_sync = yes, through the real setuid su and sudo against the
# real OpenID provider.
#
# sudo (1.9, checked here) matches a %group rule when the invoking process
# has the group or the group database lists the user in it.  So the
# scenario is that of README "Local groups": a user logs in through the
# module (su, stack of pam.d-examples/su) with group_sync, which writes the
# mapped memberships into /etc/group; a later, separate session of that
# user (setpriv --init-groups, as cron or another login would start it;
# and once with no supplementary groups at all, so only the group file can
# say it) runs `sudo -S`
# (stack of pam.d-examples/sudo) under a drop-in whose only rule is
# "%<mapped group> ALL=(ALL:ALL) ALL".  The admin is let in; the ordinary
# user, whose login did not add the membership, is kept out by sudoers
# (with the right IdP password); after the admin scope is taken away at the
# IdP, the admin's next login removes the membership and sudo refuses.
# Between, as documented, the old membership stays, and sudo's own
# authentication (setcred for the target user root) does not change it.
#
# /etc/group and /etc/gshadow are compared byte for byte with copies taken
# first; every group, user, PAM service and drop-in is removed, also on
# failure (exit trap).  Only the test's own groups are ever in the mapping.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/e2e-lib.sh" "$@"

e2e_need expect su sudo visudo groupadd groupdel usermod cmp diff

P=oa2g${E2E_ID}
SVC=oa2e2e-gsudo-$E2E_ID
CALLER=oa2e2e_gd${E2E_ID}_caller     # runs su; no password anywhere
ADMIN=oa2e2e_gd${E2E_ID}_admin       # IdP: scopes admin, pam:login
USER1=oa2e2e_gd${E2E_ID}_user        # IdP: pam:login
ADMIN_PW='admin-Gr0ups=sudo'
USER1_PW='user-Gr0ups=sudo'
SUDOGRP=${P}_sudo      # mapped from the scope admin; the sudoers rule's group
LOGINGRP=${P}_login    # mapped from the scope pam:login
OTHERGRP=${P}_other    # not in the mapping; the admin is a member throughout

# /etc/group and /etc/gshadow must be exactly as they were at the end.
cp -p /etc/group "$TESTTMP/group.before" || bail "cannot copy /etc/group"
[ -f /etc/gshadow ] && { cp -p /etc/gshadow "$TESTTMP/gshadow.before" || bail "cannot copy /etc/gshadow"; }
for g in "$SUDOGRP" "$LOGINGRP" "$OTHERGRP"; do
	getent group "$g" >/dev/null && bail "group $g exists already"
	on_exit "groupdel $g"
	groupadd "$g" || bail "groupadd $g"
done
e2e_add_user "$CALLER"
e2e_add_user "$ADMIN"
e2e_add_user "$USER1"
usermod -a -G "$OTHERGRP" "$ADMIN" || bail "usermod -a -G $OTHERGRP $ADMIN"
cp -p /etc/group "$TESTTMP/group.0"

write_op_users() { # ADMIN_KIND
	e2e_op_users "$TESTTMP/op-users.json" \
		"$(e2e_spec "$ADMIN" "$ADMIN_PW" "$1")" \
		"$(e2e_spec "$USER1" "$USER1_PW" user)"
}
write_conf_now() {
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
required_scopes = scope:pam:login
state_dir = $TESTTMP/state
group_sync = yes

[groups]
scope:admin = $SUDOGRP
scope:pam:login = $LOGINGRP
CONF
}
CONF="$TESTTMP/pam_oauth2.conf"
write_op_users admin
start_op "$TESTTMP/op-users.json" "$top_srcdir/tests/op/clients.example.json"
write_conf_now

# su: the example stack, visible only in this test's mount namespace.
e2e_example su "$TESTTMP/pam.d/su"
e2e_bind_pam su "$TESTTMP/pam.d/su"
# sudo: the example stack as a service of its own, for the test users.
e2e_example sudo "$TESTTMP/pam.d/$SVC"
e2e_etc_file "/etc/pam.d/$SVC" 0644 <"$TESTTMP/pam.d/$SVC"
mkdir -m 0700 "$TESTTMP/sudo-ts" "$TESTTMP/sudo-lectured"
cat >"$TESTTMP/sudoers" <<SUDOERS
# pam_oauth2 e2e test ($0); removed when the test ends
Defaults:$ADMIN, $USER1 pam_service=$SVC, pam_login_service=$SVC
Defaults:$ADMIN, $USER1 timestamp_timeout=0, passwd_tries=1, lecture=never
Defaults:$ADMIN, $USER1 !mail_badpass, !mail_no_user, !mail_no_perms
Defaults:$ADMIN, $USER1 timestampdir=$TESTTMP/sudo-ts, lecture_status_dir=$TESTTMP/sudo-lectured
%$SUDOGRP ALL=(ALL:ALL) ALL
SUDOERS
e2e_etc_file "/etc/sudoers.d/oa2e2e_gsudo_$E2E_ID" 0440 <"$TESTTMP/sudoers"
grep -q "$MODULE" /etc/pam.d/su
ok $? "inside the test's namespace su is the example stack; sudo's drop-in names only %$SUDOGRP"

# try_su TARGET PASSWORD: $CALLER runs `su TARGET -c ...` on a pty.
try_su() {
	PTY_OUT=$(cd / && timeout 60 env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME="$TESTTMP/home/$CALLER" USER="$CALLER" LOGNAME="$CALLER" TERM=dumb E2E_PW="$2" \
		setpriv --reuid="$CALLER" --regid="$(id -g "$CALLER")" --init-groups -- \
		expect -f "$PTY" cmd 30 su "$1" -c 'echo E2E:ID=$(id -un):' 2>&1)
}
pty_says() { printf '%s\n' "$PTY_OUT" | sed -n "s/^E2E:$1[= ]//p" | tr -d '\r' | tail -1; }
su_ok() { # TARGET PASSWORD DESCRIPTION
	local f=$_tap_fail
	try_su "$1" "$2"
	is "$(pty_says ID)/$(pty_says EXIT)" "$1/0" "$3"
	[ "$_tap_fail" -eq "$f" ] || printf '%s\n' "$PTY_OUT" | sed 's/^/#   pty: /'
}
# run_sudo USER PASSWORD CMD...: a new process of USER (setpriv
# --init-groups: its groups from the group database; $SUDO_GROUPS can say
# --clear-groups) runs sudo -S with PASSWORD on stdin; sets SUDO_OUT,
# SUDO_ERR, SUDO_RC.
run_sudo() {
	local u=$1 pw=$2; shift 2
	SUDO_OUT=$(cd / && printf '%s\n' "$pw" | timeout 30 env -i \
		PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$TESTTMP/home/$u" USER="$u" LOGNAME="$u" \
		setpriv --reuid="$u" --regid="$(id -g "$u")" "${SUDO_GROUPS:---init-groups}" -- \
		sudo -S -p 'SUDO-PROMPT:' "$@" 2>"$TESTTMP/sudo.err")
	SUDO_RC=$?
	SUDO_ERR=$(cat "$TESTTMP/sudo.err")
}
sudo_in() { # USER PASSWORD DESCRIPTION
	run_sudo "$1" "$2" id -un
	is "$SUDO_RC/$SUDO_OUT" "0/root" "$3"
	[ "$SUDO_RC" = 0 ] || echo "#   sudo said: $SUDO_ERR"
}
sudo_out() { # USER PASSWORD DESCRIPTION
	run_sudo "$1" "$2" id -un
	ok "$([ "$SUDO_RC" -ne 0 ] && [ -z "$SUDO_OUT" ] && echo 0 || echo 1)" "$3"
	like "$SUDO_ERR" "$1 is not in the sudoers file|$1 is not allowed" \
		"  sudoers refused it (the IdP password was right)"
}
members() { getent group "$1" | cut -d: -f4; }
# The session's groups, as a new session of USER gets them.
session_groups() { e2e_as "$1" id -Gn | tr ' ' '\n' | grep -vx "$1" | sort | tr '\n' ' '; }

# ---------------------------------------------------------------- before
is "$(members "$SUDOGRP")/$(members "$LOGINGRP")/$(members "$OTHERGRP")" "//$ADMIN" \
	"before any login: the mapped groups have no members; $ADMIN is in the unmapped $OTHERGRP"
sudo_out "$ADMIN" "$ADMIN_PW" "before any login: sudo as the admin is refused (no rule for it yet)"
cmp -s /etc/group "$TESTTMP/group.0"
ok $? "  sudo's own authentication through the module wrote nothing into /etc/group"

# ---------------------------------------------------------------- admin
su_ok "$ADMIN" "$ADMIN_PW" "the admin logs in (su, IdP password, group_sync = yes)"
is "$(members "$SUDOGRP")/$(members "$LOGINGRP")/$(members "$OTHERGRP")" "$ADMIN/$ADMIN/$ADMIN" \
	"  /etc/group: the admin is now in $SUDOGRP (admin) and $LOGINGRP (pam:login); $OTHERGRP untouched"
changed=$(diff "$TESTTMP/group.0" /etc/group | grep '^[<>]' | cut -c3- | cut -d: -f1 | sort -u | tr '\n' ' ')
is "$changed" "$LOGINGRP $SUDOGRP " "  only the two mapped groups' lines changed, every other line byte for byte"
is "$(stat -c '%a %U %G' /etc/group)" "$(stat -c '%a %U %G' "$TESTTMP/group.before")" \
	"  /etc/group kept its owner and mode"
is "$(session_groups "$ADMIN")" "$LOGINGRP $OTHERGRP $SUDOGRP " \
	"  a new session of the admin (initgroups) has them"
cp -p /etc/group "$TESTTMP/group.1"
sudo_in "$ADMIN" "$ADMIN_PW" "then sudo -S as the admin, from that new session: id -un is root (%$SUDOGRP matched)"
like "$SUDO_ERR" '^SUDO-PROMPT:$' "  sudo asked for the password once (the IdP decided it), nothing else"
cmp -s /etc/group "$TESTTMP/group.1"
ok $? "  sudo's own login through the module (setcred for root, not the admin) did not write /etc/group"
run_sudo "$ADMIN" "$ADMIN_PW" id -Gn
is "$SUDO_RC/$SUDO_OUT" "0/root" "  the command sudo ran as root has root's groups only, none of the admin's mapped ones"
SUDO_GROUPS=--clear-groups sudo_in "$ADMIN" "$ADMIN_PW" \
	"  also from a process with no supplementary groups: sudo read the membership group_sync wrote"

# ---------------------------------------------------------------- user
su_ok "$USER1" "$USER1_PW" "the ordinary user logs in (su, IdP password, group_sync = yes)"
is "$(members "$SUDOGRP")/$(members "$LOGINGRP")" "$ADMIN/$ADMIN,$USER1" \
	"  /etc/group: the ordinary user was added to $LOGINGRP only, not to $SUDOGRP"
sudo_out "$USER1" "$USER1_PW" "sudo -S as the ordinary user, right IdP password: refused"

# ---------------------------------------------------------------- revoked
# The IdP takes the admin scope away (a restart with the new users table).
stop_op
ok $? "the OpenID provider stopped cleanly (to take the admin scope away)"
write_op_users user
start_op "$TESTTMP/op-users.json" "$top_srcdir/tests/op/clients.example.json"
write_conf_now
sudo_in "$ADMIN" "$ADMIN_PW" "scope revoked at the IdP, no login yet: sudo still lets the admin in (README: memberships stay until the next login)"
is "$(members "$SUDOGRP")" "$ADMIN" "  and sudo's own authentication did not remove the membership (setcred was for root)"
su_ok "$ADMIN" "$ADMIN_PW" "the former admin logs in again (su)"
is "$(members "$SUDOGRP")/$(members "$LOGINGRP")/$(members "$OTHERGRP")" "/$ADMIN,$USER1/$ADMIN" \
	"  /etc/group: removed from $SUDOGRP, still in $LOGINGRP; the unmapped $OTHERGRP untouched"
sudo_out "$ADMIN" "$ADMIN_PW" "then sudo -S as the former admin: refused"
is "$(session_groups "$ADMIN")" "$LOGINGRP $OTHERGRP " "  a new session of the former admin has no $SUDOGRP"

# ---------------------------------------------------------------- after
ok "$([ -z "$(ls -A "$TESTTMP/sudo-lectured")" ] && echo 0 || echo 1)" "no lecture mark written"
left=
for u in "$ADMIN" "$USER1"; do
	[ -e "/run/sudo/ts/$u" ] && left="$left /run/sudo/ts/$u"
	[ -e "/var/lib/sudo/lectured/$u" ] && left="$left /var/lib/sudo/lectured/$u"
done
is "$left" "" "sudo wrote no time stamp or lecture file outside the temporary directory"
unlike "$(cat "$OA2_LOG_CAPTURE" "$TESTTMP/sudo.err")" 'Gr0ups=su|pam-basic-secret' \
	"no password or client secret in the captured logs"
stop_op
ok $? "the OpenID provider stopped cleanly"
for g in "$SUDOGRP" "$LOGINGRP" "$OTHERGRP"; do groupdel "$g"; done
for u in "$CALLER" "$ADMIN" "$USER1"; do userdel -f "$u"; done
cmp -s /etc/group "$TESTTMP/group.before"
ok $? "/etc/group is byte for byte what it was before the test"
if [ -f "$TESTTMP/gshadow.before" ]; then
	cmp -s /etc/gshadow "$TESTTMP/gshadow.before"
	ok $? "/etc/gshadow is byte for byte what it was before the test"
fi
e2e_done
