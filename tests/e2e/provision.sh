#!/usr/bin/env bash
# provision.sh - users who exist only at the IdP (provision = yes), through
# a real sshd (password and keyboard-interactive), su, sudo and login,
# against the real OpenID provider, with the built NSS module
# libnss_oauth2.so.2 serving the records and sshd's placeholder.
#
# Nothing of the machine is changed: inside this test's private mount
# namespace (e2e-lib.sh) overlays cover /etc (the test's nsswitch.conf
# with "oauth2", /etc/pam_oauth2-nss.conf, the test's group),
# /usr/lib/x86_64-linux-gnu (the built libnss_oauth2.so.2 where glibc,
# also in setuid su and sudo, looks for it) and /var/lib (the user
# database /var/lib/pam_oauth2-nss); the homes are under $TESTTMP.  Before
# the overlays go up, read-only views of the real /etc, library directory
# and /var/lib are kept, and the last checks compare them.
#
# Shows: a never-seen user logs in on the FIRST ssh attempt (the
# placeholder); id shows the provisioned UID, the private group and the
# mapped group; the home is the user's, mode 0700, from /etc/skel; a
# second connection (the other method) gets the same UID; getent shows the
# records; the placeholder carries only its own group and no group entry;
# a name outside provision_names gets no placeholder; a wrong password
# leaves no record and no home; su, sudo and a first login(1) (no
# placeholder there) work; lock and provision_max_age refuse in acct_mgmt;
# a second identity for the name is refused (name_reassigned) until the
# admin removes the record, and then gets a new UID; uid_claim on a first
# SSH login: the record is made with the claimed UID, that connection is
# refused (provisioned_reconnect), the next one logs in with it.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/e2e-lib.sh" "$@"

. "$top_srcdir/tests/e2e/provision-lib.sh"

e2e_need sshd ssh sshpass ssh-keygen expect su login sudo visudo getent id
prov_init

SVC=oa2e2e-psshd
ID=$E2E_ID
A=oa2e2e_p${ID}_alice      # first SSH login, then everything else
C=oa2e2e_p${ID}_carol      # wrong password only
D=oa2e2e_p${ID}_dave       # uid_claim
E=oa2e2e_p${ID}_erin       # first login through login(1)
F=oa2e2e_p${ID}_fred       # uid_claim, retrying on the same connection
G=oa2e2e_p${ID}_gina       # a local group has this name already
B=oa2e2e_q${ID}_bob        # outside provision_names
CALLER=nobody              # runs su (an unprivileged caller; no account made)
GRP=oa2gp${ID}             # the group claim:users maps to
A_PW='alice-Pr0vision'
B_PW='bob-Pr0vision'
C_PW='carol-Pr0vision'
D_PW='dave-Pr0vision'
E_PW='erin-Pr0vision'
F_PW='fred-Pr0vision'
G_PW='gina-Pr0vision'
# The range: small, so the numbers are easy to predict.
UMIN=1879048192
UMAX=1879048291
D_UID=$((UMAX - 3))
F_UID=$((UMAX - 4))

# ---------------------------------------------------------------- overlays
prov_overlays "^(oa2e2e_[pqc]${E2E_ID}_|oa2gp${E2E_ID}:)" <<NSSCONF
uid_range = $UMIN-$UMAX
provision_names = oa2e2e_p${ID}_*
home = $TESTTMP/home/%u
shell = /bin/sh
# /usr/bin/id: so that the test can see what sshd's placeholder is
placeholder_programs = /usr/sbin/sshd /usr/lib/openssh/sshd-session /usr/bin/id
NSSCONF
# The mapped group, in the overlay's /etc/group (prov_group).  Its GID
# is the last number of uid_range: the allocator must skip it.
GRP_GID=$UMAX
getent group "$GRP_GID" >/dev/null && bail "GID $GRP_GID is taken"
prov_group "$GRP" "$GRP_GID"
# A local group named like a user to be: its private group would clash.
printf '%s:x:%s:\n' "$G" "$((UMAX - 1))" >>/etc/group

# ---------------------------------------------------------------- provider
# op_users FILE A_SUB: the provider's users (A's sub is the argument).
op_users() {
	node -e '
		const [file, asub, ...specs] = process.argv.slice(1);
		const out = {};
		for (const spec of specs) {
			const [name, pw, sub, uidn] = spec.split("|");
			const u = { password: pw, sub: sub,
				scopes: ["openid", "profile", "groups", "pam:login"],
				claims: { groups: ["users"] } };
			if (uidn) u.claims.uid_number = Number(uidn);
			out[name] = u;
		}
		out[specs[0].split("|")[0]].sub = asub;
		require("fs").writeFileSync(file, JSON.stringify(out, null, 1));' "$1" "$2" \
		"$A|$A_PW|sub-alice" "$B|$B_PW|sub-bob" "$C|$C_PW|sub-carol" \
		"$D|$D_PW|sub-dave|$D_UID" "$E|$E_PW|sub-erin" "$F|$F_PW|sub-fred|$F_UID" "$G|$G_PW|sub-gina" || bail "cannot write $1"
}
op_users "$TESTTMP/op-users.json" sub-alice
start_op "$TESTTMP/op-users.json" "$top_srcdir/tests/op/clients.example.json"
CONF="$TESTTMP/pam_oauth2.conf"
write_pconf() { # extra lines on stdin
	write_conf "$CONF" <<CONFTEXT
issuer = $OP_URL
client_id = pam-basic
client_secret = pam-basic-secret-0123456789abcdef
ca_file = $PKI/ca.pem
scope = openid profile groups pam:login
timeout = ${OA2_TEST_TIMEOUT:-5}
debug = yes
groups_claim = groups
provision = yes
$(cat)

[groups]
claim:users = $GRP
CONFTEXT
}
write_pconf </dev/null

# ---------------------------------------------------------------- services
e2e_example sshd "$TESTTMP/pam.d/$SVC"
e2e_etc_file "/etc/pam.d/$SVC" 0644 <"$TESTTMP/pam.d/$SVC"
e2e_example su "$TESTTMP/pam.d/su"
e2e_example login "$TESTTMP/pam.d/login"
e2e_example common-auth-oauth2 "$TESTTMP/pam.d/common-auth"
e2e_bind_pam su "$TESTTMP/pam.d/su"
e2e_bind_pam login "$TESTTMP/pam.d/login"
e2e_bind_pam common-auth "$TESTTMP/pam.d/common-auth"
SUDOSVC=oa2e2e-psudo-$ID
e2e_example sudo "$TESTTMP/pam.d/$SUDOSVC"
e2e_etc_file "/etc/pam.d/$SUDOSVC" 0644 <"$TESTTMP/pam.d/$SUDOSVC"
mkdir -m 0700 "$TESTTMP/sudo-ts" "$TESTTMP/sudo-lectured"
cat >"$TESTTMP/sudoers" <<SUDOERS
Defaults:$A pam_service=$SUDOSVC, pam_login_service=$SUDOSVC
Defaults:$A timestamp_timeout=0, passwd_tries=1, lecture=never, !mail_badpass
Defaults:$A timestampdir=$TESTTMP/sudo-ts, lecture_status_dir=$TESTTMP/sudo-lectured
$A ALL=(root) /usr/bin/id
SUDOERS
e2e_etc_file "/etc/sudoers.d/oa2e2e_psudo_$ID" 0440 <"$TESTTMP/sudoers"

e2e_sshd "$SVC" <<CFG
AllowUsers oa2e2e_*
LoginGraceTime 60
PubkeyAuthentication yes
AuthorizedKeysFile %h/.ssh/authorized_keys
CFG
ssh-keygen -q -t ed25519 -N '' -f "$TESTTMP/user_ed25519" || bail "ssh-keygen"
prov_ssh_init
acct_line() { grep "account user=$1 " "$OA2_LOG_CAPTURE" | tail -1; }

# pam_oauth2ctl check sees what provisioning needs, and says what is missing.
out=$("$CTL" -c "$CONF" check 2>&1)
like "$out" "provisioning \(/etc/pam_oauth2-nss.conf\): uid_range $UMIN-$UMAX, 1 provision_names pattern" \
	"pam_oauth2ctl check: reads the provisioning shape"
unlike "$out" "PROBLEM" "  and finds no problem"
cp /etc/nsswitch.conf "$TESTTMP/nsswitch.ok"
sed -i -E 's/^(group:.*) oauth2$/\1/' /etc/nsswitch.conf
out=$("$CTL" -c "$CONF" check 2>&1)
like "$out" "PROBLEM: provision = yes, but the group line of /etc/nsswitch.conf does not name oauth2" \
	"  without oauth2 on the group line: a PROBLEM naming it"
cat "$TESTTMP/nsswitch.ok" >/etc/nsswitch.conf

# ---------------------------------------------------------------- placeholder
is "$(getent passwd "$A")" "" "before any login: no passwd entry for $A (getent is not sshd: no placeholder)"
# id NAME: getpwnam gives the placeholder; getpwuid and getgrgid of its
# number give nothing (no names after the numbers), and NSS initgroups
# gives no group at all (coreutils id, finding no passwd entry by UID,
# asks getgrouplist with GID -1: 4294967295 is that, nothing else).
PH=$(id "$A" 2>&1)
like "$PH" "^uid=$UMIN gid=$UMIN groups=($UMIN|4294967295)\$" \
	"the placeholder (seen through a placeholder program, id): the next free UID, the same GID, no group but its own, no name for either number"
is "$(getent group "$UMIN")" "" "  and no group is served for its number"
is "$(id "$B" 2>&1 | grep -c uid=)" 0 "a name outside provision_names gets no placeholder"

# ---------------------------------------------------------------- wrong password
ssh_pw password "$C" "${C_PW}x"
ok "$([ "$RC" -ne 0 ] && [ -z "$OUT" ]; echo $?)" "ssh password, $C with a wrong password: refused"
like "$(sshd_said "$C")" "Failed password for $C from" "  sshd had the placeholder (not 'invalid user'): PAM saw the real password"
like "$(e2e_decision "$C")" 'result=deny reason=invalid_grant' "  the IdP said no"
has_record "$C"; ok $([ $? -ne 0 ]; echo $?) "  no record"
ok "$([ ! -e "$TESTTMP/home/$C" ]; echo $?)" "  no home"
like "$(id "$C" 2>&1)" "^uid=$UMIN gid=$UMIN groups=($UMIN|4294967295)\$" "  still only a placeholder with no group but its own (id)"

ssh_pw password "$B" "$B_PW"
ok "$([ "$RC" -ne 0 ] && [ -z "$OUT" ]; echo $?)" "ssh password, $B (outside provision_names), right password: refused"
like "$(grep "Invalid user $B" "$SSHD_LOG")" "Invalid user $B from" "  sshd found no such user (no placeholder)"
has_record "$B"; ok $([ $? -ne 0 ]; echo $?) "  no record"

# ---------------------------------------------------------------- first login
ssh_pw password "$A" "$A_PW"
is "$RC" 0 "ssh password, $A never seen before: logged in on the FIRST attempt"
A_UID=$(field U)
is "$A_UID" "$UMIN" "  id -u is the provisioned UID (the placeholder's: $UMIN)"
is "$(field G)" "$A" "  id -gn is the private group $A"
is "$(field GS)" "$A,$GRP" "  id -Gn: the private group and the mapped group $GRP, nothing else"
is "$(field H)" "$TESTTMP/home/$A" "  HOME is the configured home"
is "$(field S)" "$A:$A:700" "  the home is the user's, mode 0700"
skel=$(ls -A /etc/skel | head -1)
if [ -n "$skel" ]; then
	like "$(field F)" "(^|,)$skel(,|$)" "  the home holds /etc/skel's $skel"
fi
like "$(prov_line "$A")" "provision user=$A provisioned=$UMIN gid=$UMIN groups=$GRP sub=sub-alice reason=ok" \
	"  logged: provision user=... provisioned=UID ... sub=..."
like "$(grep "session user=$A " "$OA2_LOG_CAPTURE" | tail -1)" "result=created uid=$UMIN mode=0700" "  logged: the home was created at the first session"

# A repeat login that keeps the groups stamps the time in place: the
# same users.db (inode), a later "last seen".
DB=/var/lib/pam_oauth2-nss/users.db
db_ino=$(stat -c %i "$DB")
seen() { "$CTL" user show "$A" | sed -n 's/^last seen: //p'; }
seen0=$(seen)
sleep 1
ssh_pw keyboard-interactive "$A" "$A_PW"
is "$RC/$(field U)/$(field GS)" "0/$A_UID/$A,$GRP" "ssh keyboard-interactive, another connection: the same UID and groups"
is "$(stat -c %i "$DB")" "$db_ino" "  the repeat login did not replace users.db (same inode: last seen stamped in place)"
ok "$([ -n "$seen0" ] && [ "$(seen)" \> "$seen0" ]; echo $?)" "  and moved its last seen ($seen0 -> $(seen))"
like "$(sshd_said "$A")" "Accepted keyboard-interactive/pam for $A" "  (sshd accepted keyboard-interactive)"
is "$(getent passwd "$A")" "$A:*:$A_UID:$A_UID::$TESTTMP/home/$A:/bin/sh" "getent passwd $A: the record"
like "$(getent group "$A")" "^$A:[^:]*:$A_UID:\$" "getent group $A: the private group, same number, no members"
like "$(getent passwd | grep -c "^$A:")" '^1$' "getent passwd (enumeration) lists $A once"
like "$(id "$A")" "^uid=$A_UID\\($A\\) gid=$A_UID\\($A\\) groups=$A_UID\\($A\\),$GRP_GID\\($GRP\\)\$" \
	"id $A (NSS initgroups, outside any login): the private and the mapped group"
like "$("$CTL" user list)" "^$A +$A_UID +active " "pam_oauth2ctl user list shows $A"

ssh_pw password "$G" "$G_PW"
ok "$([ "$RC" -ne 0 ] && [ -z "$OUT" ]; echo $?)" "a verified user whose name a local group already has: refused"
like "$(e2e_decision "$G")" "result=deny reason=group_name_taken" "  reason=group_name_taken"
has_record "$G"; ok $([ $? -ne 0 ]; echo $?) "  no record"

# ---------------------------------------------------------------- su, sudo, login
try_su() { # TARGET PASSWORD
	PTY_OUT=$(cd / && timeout 60 env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/ TERM=dumb E2E_PW="$2" \
		setpriv --reuid="$CALLER" --regid="$(id -g "$CALLER")" --init-groups -- \
		expect -f "$PTY" cmd 30 su "$1" -c 'echo E2E:ID=$(id -un):' 2>&1)
}
try_login() { # USER PASSWORD
	PTY_OUT=$(cd / && timeout 60 env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin TERM=dumb \
		E2E_PW="$2" LD_PRELOAD="$LOGSHIM" OA2_LOG_CAPTURE="$OA2_LOG_CAPTURE" \
		expect -f "$PTY" login 40 login -p "$1" 2>&1)
}
pty_says() { printf '%s\n' "$PTY_OUT" | sed -n "s/^E2E:$1[= ]//p" | tr -d '\r' | tail -1; }
try_su "$A" "$A_PW"
is "$(pty_says ID)/$(pty_says EXIT)" "$A/0" "su $A (setuid su, no placeholder there) with the IdP password"
SUDO_OUT=$(cd / && printf '%s\n' "$A_PW" | timeout 30 env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	HOME="$TESTTMP/home/$A" USER="$A" LOGNAME="$A" \
	setpriv --reuid="$A" --regid="$A_UID" --init-groups -- \
	sudo -S -p 'SUDO-PROMPT:' /usr/bin/id -un 2>"$TESTTMP/sudo.err")
is "$SUDO_OUT" root "sudo -S by the provisioned $A (sudo looks it up through NSS), IdP password: root"
try_login "$E" "$E_PW"
is "$(pty_says ID)" "$E" "login(1), $E never seen before (no placeholder outside sshd): a shell on the first try"
E_UID=$(getent passwd "$E" | cut -d: -f3)
is "$E_UID" "$((UMIN + 1))" "  the next UID, $((UMIN + 1))"
is "$(stat -c %U:%a "$TESTTMP/home/$E" 2>&1)" "$E:700" "  home made at the first session, the user's, 0700"

# ---------------------------------------------------------------- lock, max age
# An SSH key in the provisioned home (the user's own directory).
ssh_key() { # USER: sets OUT and RC
	OUT=$(cd / && timeout 40 ssh -o PubkeyAuthentication=yes "${SSH_OPTS[@]}" -o BatchMode=yes \
		-o PreferredAuthentications=publickey -o IdentitiesOnly=yes -i "$TESTTMP/user_ed25519" \
		"$1@127.0.0.1" "$SESSION_CMD" </dev/null 2>>"$TESTTMP/ssh.err")
	RC=$?
}
install -d -m 0700 -o "$A" -g "$A" "$TESTTMP/home/$A/.ssh"
install -m 0600 -o "$A" -g "$A" "$TESTTMP/user_ed25519.pub" "$TESTTMP/home/$A/.ssh/authorized_keys"
ssh_key "$A"
is "$RC/$(field U)" "0/$A_UID" "an SSH-key login of the provisioned user (no IdP involved)"
"$CTL" user lock "$A" >/dev/null
ssh_pw password "$A" "$A_PW"
ok "$([ "$RC" -ne 0 ] && [ -z "$OUT" ]; echo $?)" "pam_oauth2ctl user lock: the next ssh login is refused"
like "$(acct_line "$A")" "result=deny reason=locked" "  by acct_mgmt, reason=locked"
nlocked() { grep -c "account user=$A .*result=deny reason=locked" "$OA2_LOG_CAPTURE"; }
n1=$(nlocked)
ssh_key "$A"
ok "$([ "$RC" -ne 0 ] && [ -z "$OUT" ]; echo $?)" "  an SSH-key login too (acct_mgmt runs for it)"
is "$(($(nlocked) - n1))" 1 "  refused by acct_mgmt, reason=locked (one more such line)"
like "$(sshd_said "$A")" "Failed publickey for $A from .* ED25519 " "  sshd: the key matched, the account check failed it ('Failed publickey ... ED25519 ...')"
"$CTL" user unlock "$A" >/dev/null
ssh_pw password "$A" "$A_PW"
is "$RC/$(field U)" "0/$A_UID" "user unlock: logs in again"
# provision_max_age, as an SSH-key login meets it (acct_mgmt alone, no
# authenticate): the fake-clock module, 31 days on.
write_service acct-only <<SVCF
account required @FAKEMODULE@ config=$CONF
account required pam_permit.so
SVCF
res=$(OA2_FAKECLOCK_WALL_OFFSET=$((31 * 86400)) pam_run acct-only "$A" acct </dev/null)
is "$res" "acct=PAM_PERM_DENIED" "acct_mgmt alone (as for an SSH key), 31 days after the last login: PAM_PERM_DENIED"
like "$(acct_line "$A")" "result=deny reason=not_seen" "  reason=not_seen"
res=$(pam_run acct-only "$A" acct </dev/null)
is "$res" "acct=PAM_SUCCESS" "  the same now: nothing to refuse (PAM_IGNORE, pam_permit decides)"

# ---------------------------------------------------------------- another identity
stop_op
op_users "$TESTTMP/op-users.json" sub-alice-the-second
start_op "$TESTTMP/op-users.json" "$top_srcdir/tests/op/clients.example.json"
write_pconf </dev/null
ssh_pw password "$A" "$A_PW"
ok "$([ "$RC" -ne 0 ] && [ -z "$OUT" ]; echo $?)" "the name now belongs to another sub at the IdP: refused"
like "$(e2e_decision "$A")" "result=deny reason=name_reassigned .*sub=sub-alice-the-second" "  reason=name_reassigned, the new sub logged"
like "$(getent passwd "$A")" "^$A:\\*:$A_UID:" "  the record is unchanged"
like "$("$CTL" user remove "$A")" "removed; UID $A_UID stays reserved" "pam_oauth2ctl user remove $A"
rm -rf "${TESTTMP:?}/home/$A"
ssh_pw password "$A" "$A_PW"
is "$RC" 0 "after the admin removed the old record, the new identity logs in"
A2_UID=$(field U)
ok "$([ -n "$A2_UID" ] && [ "$A2_UID" != "$A_UID" ]; echo $?)" "  with a new UID ($A2_UID), never the old one's ($A_UID)"
like "$(prov_line "$A")" "provisioned=$A2_UID .*sub=sub-alice-the-second" "  bound to the new sub"

# ---------------------------------------------------------------- uid_claim
write_pconf <<<"uid_claim = uid_number"
ssh_pw password "$D" "$D_PW"
ok "$([ "$RC" -ne 0 ] && [ -z "$OUT" ]; echo $?)" "uid_claim, first SSH login: sshd holds the placeholder's UID, not the claimed $D_UID: this connection is refused"
like "$(e2e_decision "$D")" "result=deny reason=provisioned_reconnect" "  reason=provisioned_reconnect"
like "$(getent passwd "$D")" "^$D:\\*:$D_UID:$D_UID:" "  the record was made with the claimed UID"
ssh_pw keyboard-interactive "$D" "$D_PW"
is "$RC/$(field U)/$(field G)" "0/$D_UID/$D" "  the next connection logs in as UID $D_UID"
# The same, but the client tries again on the same connection: sshd
# still holds the placeholder, so the second try must be refused too.
# (sshpass gives up at the second prompt: expect answers both; ssh takes
# the first value of an option, so NumberOfPasswordPrompts=2 comes first.)
cat >"$TESTTMP/retry.exp" <<'EXP'
set timeout 30
log_user 0
spawn -noecho {*}$argv
set n 0
expect {
	-re {assword: ?$} { incr n; send -- "$env(E2E_PW)\r"; exp_continue }
	-re {U=[0-9]+} { puts "SESSION"; exp_continue }
	eof {}
	timeout { puts "TIMEOUT" }
}
puts "PROMPTS=$n"
lassign [wait] pid sid oserr st
exit $st
EXP
OUT=$(cd / && E2E_PW="$F_PW" timeout 60 expect -f "$TESTTMP/retry.exp" ssh \
	-o NumberOfPasswordPrompts=2 "${SSH_OPTS[@]}" -o PreferredAuthentications=password \
	"$F@127.0.0.1" "$SESSION_CMD" 2>>"$TESTTMP/ssh.err")
RC=$?
is "$RC/$(echo $OUT)" "255/PROMPTS=2" "uid_claim, the password typed twice on one connection after provisioned_reconnect: refused both times, no session"
is "$(grep "decision user=$F " "$OA2_LOG_CAPTURE" | sed -n 's/.* reason=\([a-z_]*\) .*/\1/p' | sort -u | tr '\n' ' ')" \
	"placeholder_stale provisioned_reconnect " "  reasons: provisioned_reconnect, then placeholder_stale (sshd holds the placeholder)"
is "$(grep -c "Accepted .* for $F " "$SSHD_LOG")" 0 "  sshd accepted nothing for $F on that connection"
ssh_pw password "$A" "$A_PW"
is "$RC/$(field U)" "0/$A2_UID" "uid_claim and a provisioned user whose IdP sends no such claim: logs in with its record's UID"

log=$(cat "$OA2_LOG_CAPTURE" "$SSHD_LOG")
unlike "$log" 'Pr0vision|pam-basic-secret' "no password or secret in the logs"
kill -TERM "$SSHD_PID" 2>/dev/null
wait "$SSHD_PID" 2>/dev/null
for u in "$A" "$C" "$D" "$E" "$F"; do rm -rf "${TESTTMP:?}/home/$u"; done
is "$(prov_real_stamp | tr '\n' ' ')" "$(printf '%s\n' "$PROV_REAL_BEFORE" | tr '\n' ' ')" "the machine's account files have none of the test's names; nsswitch.conf, the library directory, /var/lib and /home are as they were"
e2e_done
