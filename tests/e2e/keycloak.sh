#!/usr/bin/env bash
# keycloak.sh - the password grant against a real Keycloak (26.4.7, the
# pinned release of tests/lib/keycloak.sh), with the module configured
# only as docs/providers/keycloak.md says, through a private sshd (both the
# password and the keyboard-interactive methods), sudo and su:
#  * right password in, wrong one out; a user disabled in Keycloak out
#    with reason=account_disabled; a pending required action out with
#    reason=required_action;
#  * realm roles, a client role and a group membership (one `groups`
#    claim in the ID token, by the realm's mappers) become local groups in
#    the session (id -Gn);
#  * the direct grant with TOTP (otp = prompt), codes computed with
#    oathtool from the secret seeded in tests/keycloak/realm.json;
#  * brute-force detection: once Keycloak locks the user, the right
#    password is a refusal (PAM_AUTH_ERR), never the offline verifier
#    nor the local stack;
#  * pam_oauth2ctl check prints a clean report and pam_oauth2ctl login a
#    successful login.
# In the run's Keycloak (tests/run-all.sh) it works on its own copy of
# the realm (kc_realm_copy: same clients, users and secrets, fresh
# lock-out and one-time-code state); run alone, it starts a Keycloak of
# its own and uses the realm imported at start.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/e2e-lib.sh" "$@"
. "$top_srcdir/tests/lib/keycloak.sh"

e2e_need sshd ssh sshpass ssh-keygen expect su sudo visudo groupadd groupdel oathtool od
CTL="$top_builddir/pam_oauth2ctl"
[ -x "$CTL" ] || bail "pam_oauth2ctl not built: $CTL"

# The realm file's users (Keycloak user name = local user name).
ALICE=oa2e2e_kc_alice   # roles ssh-login, server-admin; client role db-operator; group /ops
BOB=oa2e2e_kc_bob       # ssh-login only
CAROL=oa2e2e_kc_carol   # disabled in Keycloak
DAVE=oa2e2e_kc_dave     # TOTP
ERIN=oa2e2e_kc_erin     # required action UPDATE_PASSWORD
FRANK=oa2e2e_kc_frank   # brute-force target
ALICE_PW='alice-Kc=pass+1 %20'
BOB_PW='bob-Kc-pass-2'
CAROL_PW='carol-Kc-pass-3'
DAVE_PW='dave-Kc-pass-4'
ERIN_PW='erin-Kc-pass-5'
FRANK_PW='frank-Kc-pass-6'
DAVE_SEED=pam-oauth2-test-totp-seed
CALLER=oa2e2e_kc${E2E_ID}_caller
SVC=oa2e2e-kcsshd-$E2E_ID
SUDOSVC=oa2e2e-kcsudo-$E2E_ID
GROUPS_ALL="oa2g_kc_login oa2g_kc_admin oa2g_kc_db oa2g_kc_ops"

cp -p /etc/group "$TESTTMP/group.before" || bail "cannot copy /etc/group"
for g in $GROUPS_ALL; do
	getent group "$g" >/dev/null && groupdel "$g"
	groupadd "$g" || bail "groupadd $g"
	on_exit "groupdel $g"
done
for u in "$ALICE" "$BOB" "$CAROL" "$DAVE" "$ERIN" "$FRANK" "$CALLER"; do
	e2e_add_user "$u"
done

# ---------------------------------------------------------------- Keycloak
kc_use
if [ "$KC_OWN" = 1 ]; then
	# A Keycloak of our own: its imported realm is fresh.
	REALM=$KC_REALM
	ISSUER=$KC_ISSUER
else
	REALM=pam-e2e-$E2E_ID
	t0=$(date +%s)
	ISSUER=$(kc_realm_copy "$REALM")
	echo "# realm $REALM made from tests/keycloak/realm.json in $(($(date +%s) - t0)) s"
fi
CONF="$TESTTMP/pam_oauth2.conf"
# The module's configuration: docs/providers/keycloak.md, "Password
# grant" and "Roles and groups as local groups", with the issuer, CA and
# the test's group names; debug for the test's eyes.  EXTRA: more lines.
kc_conf() {
	write_conf "$CONF" <<CONF
# written by $(basename "$0")
issuer = $ISSUER
client_id = pam-servers
client_secret = pam-servers-secret-0123456789abcdef
ca_file = $KC_CA
scope = openid profile
groups_claim = groups
required_scopes = claim:ssh-login
timeout = ${OA2_TEST_TIMEOUT:-10}
connect_timeout = 3
debug = yes
${1:-}

[groups]
claim:ssh-login = oa2g_kc_login
claim:server-admin = oa2g_kc_admin
claim:db-operator = oa2g_kc_db
claim:/ops = oa2g_kc_ops
CONF
}
kc_conf

# ---------------------------------------------------------------- programs
e2e_example sshd "$TESTTMP/pam.d/$SVC"
e2e_etc_file "/etc/pam.d/$SVC" 0644 <"$TESTTMP/pam.d/$SVC"
e2e_sshd "$SVC" <<CFG
PubkeyAuthentication no
AuthorizedKeysFile none
AllowUsers oa2e2e_kc_*
LoginGraceTime 60
CFG
e2e_example sudo "$TESTTMP/pam.d/$SUDOSVC"
e2e_etc_file "/etc/pam.d/$SUDOSVC" 0644 <"$TESTTMP/pam.d/$SUDOSVC"
mkdir -m 0700 "$TESTTMP/sudo-ts" "$TESTTMP/sudo-lectured"
SUDOERS_USERS="$ALICE, $CAROL, $DAVE, $FRANK"
cat >"$TESTTMP/sudoers" <<SUDOERS
# pam_oauth2 e2e test ($0); removed when the test ends
Defaults:$SUDOERS_USERS pam_service=$SUDOSVC, pam_login_service=$SUDOSVC
Defaults:$SUDOERS_USERS timestamp_timeout=0, passwd_tries=1, lecture=never
Defaults:$SUDOERS_USERS !mail_badpass, !mail_no_user, !mail_no_perms
Defaults:$SUDOERS_USERS timestampdir=$TESTTMP/sudo-ts, lecture_status_dir=$TESTTMP/sudo-lectured
$SUDOERS_USERS ALL=(ALL:ALL) ALL
SUDOERS
e2e_etc_file "/etc/sudoers.d/oa2e2e_kcsudo_$E2E_ID" 0440 <"$TESTTMP/sudoers"
e2e_example su "$TESTTMP/pam.d/su"
e2e_bind_pam su "$TESTTMP/pam.d/su"

SSH_OPTS=(-F /dev/null -p "$SSHD_PORT" -o UserKnownHostsFile=/dev/null
	-o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=no
	-o LogLevel=ERROR -o ConnectTimeout=10 -o ControlPath=none
	-o PubkeyAuthentication=no -o NumberOfPasswordPrompts=1)
# The session's groups: id -Gn without the user's own group, sorted.
GROUPS_CMD='echo "ID=$(id -un)"; id -Gn | tr " " "\n" | grep -vx "$(id -gn)" | sort | tr "\n" " "'
# ssh_login METHOD USER PASSWORD: sets OUT (the session's groups), WHO
# (its user) and RC.
ssh_login() {
	local raw
	raw=$(cd / && SSHPASS="$3" timeout 40 sshpass -e -P assword \
		ssh "${SSH_OPTS[@]}" -o PreferredAuthentications="$1" \
		"$2@127.0.0.1" "$GROUPS_CMD" </dev/null 2>>"$TESTTMP/ssh.err")
	RC=$?
	WHO=$(printf '%s\n' "$raw" | sed -n 's/^ID=//p')
	OUT=$(printf '%s\n' "$raw" | grep -v '^ID=')
}
refused() { [ "$RC" -ne 0 ] && [ -z "$WHO" ] && echo 0 || echo 1; }
sshd_said() { # METHOD USER
	grep -E "(Accepted|Failed) $1 for $2 from" "$SSHD_LOG" | tail -1 | awk '{print $1}'
}
decision() { e2e_decision "$1"; }
# run_sudo USER ANSWERS CMD...: USER runs sudo -S; ANSWERS (one a line)
# on stdin; sets SUDO_OUT, SUDO_ERR, SUDO_RC.
run_sudo() {
	local u=$1 answers=$2; shift 2
	SUDO_OUT=$(cd / && printf '%s\n' "$answers" | timeout 40 env -i \
		PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$TESTTMP/home/$u" USER="$u" LOGNAME="$u" \
		setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups -- \
		sudo -S -p 'SUDO-PROMPT:' "$@" 2>"$TESTTMP/sudo.err")
	SUDO_RC=$?
	SUDO_ERR=$(cat "$TESTTMP/sudo.err")
}
# try_su TARGET PASSWORD: $CALLER runs `su TARGET -c ...` on a pty.
try_su() {
	PTY_OUT=$(cd / && timeout 60 env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME="$TESTTMP/home/$CALLER" USER="$CALLER" LOGNAME="$CALLER" TERM=dumb E2E_PW="$2" \
		setpriv --reuid="$CALLER" --regid="$(id -g "$CALLER")" --init-groups -- \
		expect -f "$PTY" cmd 40 su "$1" -c 'echo E2E:ID=$(id -un):' 2>&1)
}
pty_says() { printf '%s\n' "$PTY_OUT" | sed -n "s/^E2E:$1[= ]//p" | tr -d '\r' | tail -1; }
# su_is TARGET PASSWORD WANT DESCRIPTION: WANT is "ID/EXIT"; the pty's
# report is shown on failure.
su_is() {
	local f=$_tap_fail
	try_su "$1" "$2"
	is "$(pty_says ID)/$(pty_says EXIT)" "$3" "$4"
	[ "$_tap_fail" -eq "$f" ] || printf '%s\n' "$PTY_OUT" | sed 's/^/#   pty: /'
}

# ---------------------------------------------------------------- password grant
for method in password keyboard-interactive; do
	sm=$method; [ "$method" = keyboard-interactive ] && sm=keyboard-interactive/pam
	ssh_login "$method" "$ALICE" "$ALICE_PW"
	is "$WHO" "$ALICE" "ssh $method, $ALICE, Keycloak password: logged in"
	is "$OUT" "oa2g_kc_admin oa2g_kc_db oa2g_kc_login oa2g_kc_ops " \
		"  id -Gn: realm roles ssh-login and server-admin, client role db-operator, group /ops"
	is "$(sshd_said "$sm" "$ALICE")" Accepted "  sshd logged 'Accepted $sm'"
	[ "$method" = password ] &&
		like "$(decision "$ALICE")" "service=$SVC rhost=127.0.0.1 grant=password result=allow reason=ok " \
			"  the module allowed it"

	ssh_login "$method" "$ALICE" "${ALICE_PW}x"
	ok "$(refused)" "ssh $method, $ALICE, wrong password: refused (rc=$RC)"
	is "$(sshd_said "$sm" "$ALICE")" Failed "  sshd logged 'Failed $sm'"
	[ "$method" = password ] &&
		like "$(decision "$ALICE")" 'result=deny reason=invalid_grant pam="Authentication failure"' \
			"  reason=invalid_grant (PAM_AUTH_ERR)"

	ssh_login "$method" "$BOB" "$BOB_PW"
	is "$WHO/$OUT" "$BOB/oa2g_kc_login " "ssh $method, $BOB (role ssh-login only): logged in with only oa2g_kc_login"

	ssh_login "$method" "$CAROL" "$CAROL_PW"
	ok "$(refused)" "ssh $method, $CAROL (disabled in Keycloak), right password: refused"
	[ "$method" = password ] &&
		like "$(decision "$CAROL")" 'result=deny reason=account_disabled pam="Authentication failure"' \
			"  reason=account_disabled"

	ssh_login "$method" "$ERIN" "$ERIN_PW"
	ok "$(refused)" "ssh $method, $ERIN (required action UPDATE_PASSWORD), right password: refused"
	[ "$method" = password ] &&
		like "$(decision "$ERIN")" 'result=deny reason=required_action pam="Authentication failure"' \
			"  reason=required_action"
done

run_sudo "$ALICE" "$ALICE_PW" id -un
is "$SUDO_RC/$SUDO_OUT" "0/root" "sudo -S as $ALICE, Keycloak password: id -un is root"
run_sudo "$ALICE" "${ALICE_PW}x" id -un
ok "$([ "$SUDO_RC" -ne 0 ] && [ -z "$SUDO_OUT" ] && echo 0 || echo 1)" "sudo -S as $ALICE, wrong password: refused"
run_sudo "$CAROL" "$CAROL_PW" id -un
ok "$([ "$SUDO_RC" -ne 0 ] && [ -z "$SUDO_OUT" ] && echo 0 || echo 1)" "sudo -S as $CAROL (disabled): refused"

su_is "$ALICE" "$ALICE_PW" "$ALICE/0" "su $ALICE, Keycloak password: a shell as $ALICE"
su_is "$ALICE" "${ALICE_PW}x" "/1" "su $ALICE, wrong password: refused"
su_is "$CAROL" "$CAROL_PW" "/1" "su $CAROL (disabled): refused"
su_is "$ERIN" "$ERIN_PW" "/1" "su $ERIN (required action): refused"
kill -0 "$SSHD_PID" 2>/dev/null
ok $? "sshd still runs"

# ---------------------------------------------------------------- TOTP
# Without otp = prompt, a user with OTP is refused as with a wrong password.
ssh_login password "$DAVE" "$DAVE_PW"
ok "$(refused)" "ssh password, $DAVE (has OTP), no otp option: refused"
like "$(decision "$DAVE")" 'result=deny reason=invalid_grant ' "  reason=invalid_grant"
# otp = prompt: "Password:" then "One-time code:", the code sent as
# Keycloak's totp field (otp_param's default).  Keycloak accepts the codes
# of the previous, current and next 30 s step once each (look-around 1,
# codes not reusable): each login takes one not used yet.
kc_conf "otp = prompt"
DAVE_KEY=$(printf '%s' "$DAVE_SEED" | od -An -tx1 | tr -d ' \n')
_used=" "
# fresh_code: CODE = the code of this step, or of the next one when this
# one's was used (run in the test's shell, not $(...), to remember it).
fresh_code() {
	local off
	for off in 0 30; do
		CODE=$(oathtool --totp -N "@$(($(date +%s) + off))" "$DAVE_KEY") || bail "oathtool failed"
		case "$_used" in *" $CODE "*) continue ;; esac
		_used="$_used$CODE "
		return 0
	done
	bail "no unused TOTP code in this step and the next"
}
cat >"$TESTTMP/otp.exp" <<'EXP'
# otp.exp: ssh with keyboard-interactive; answer the password and the
# one-time code prompts from the environment; print the session's output.
set timeout 40
log_user 0
spawn -noecho {*}$argv
expect {
	-re {[Pp]assword: ?$} { send -- "$env(E2E_PW)\r" }
	timeout { puts "E2E:NOPROMPT"; exit 3 }
	eof { puts "E2E:EOF"; exit 4 }
}
expect {
	-re {One-time code: ?$} { puts "E2E:OTPPROMPT"; send -- "$env(E2E_OTP)\r" }
	timeout { puts "E2E:NOOTPPROMPT"; exit 3 }
	eof { puts "E2E:EOF"; exit 4 }
}
expect {
	-re {ID=([a-z0-9_]+)} { puts "E2E:ID=$expect_out(1,string)"; exp_continue }
	-re {[Pp]assword: ?$} { puts "E2E:ASKED-AGAIN"; exit 5 }
	eof {}
	timeout { puts "E2E:TIMEOUT"; exit 5 }
}
EXP
ssh_otp() { # USER PASSWORD CODE: sets PTY_OUT
	PTY_OUT=$(cd / && E2E_PW="$2" E2E_OTP="$3" timeout 60 expect -f "$TESTTMP/otp.exp" \
		ssh "${SSH_OPTS[@]}" -o PreferredAuthentications=keyboard-interactive \
		"$1@127.0.0.1" 'echo ID=$(id -un)' 2>&1)
}
fresh_code
ssh_otp "$DAVE" "$DAVE_PW" "$CODE"
is "$(pty_says ID)" "$DAVE" "ssh keyboard-interactive, $DAVE, password and TOTP code (oathtool): logged in"
[ "$(pty_says ID)" = "$DAVE" ] || { printf '%s\n' "$PTY_OUT"; tail -5 "$TESTTMP/ssh.err"; tail -5 "$SSHD_LOG"; } | sed 's/^/#   /'
like "$PTY_OUT" 'E2E:OTPPROMPT' "  the module asked 'One-time code:' after the password"
is "$(sshd_said keyboard-interactive/pam "$DAVE")" Accepted "  sshd accepted keyboard-interactive/pam"
wrong=$(printf '%06d' $(((10#$CODE + 500000) % 1000000)))
ssh_otp "$DAVE" "$DAVE_PW" "$wrong"
is "$(pty_says ID)" "" "ssh keyboard-interactive, $DAVE, right password, wrong code: refused"
is "$(sshd_said keyboard-interactive/pam "$DAVE")" Failed "  sshd logged 'Failed keyboard-interactive/pam'"
# sshd's password method answers every hidden prompt with the password:
# the code field gets the password, and Keycloak refuses it.
ssh_login password "$DAVE" "$DAVE_PW"
is "$WHO" "" "ssh password method, $DAVE: refused (two prompts need keyboard-interactive)"
fresh_code
run_sudo "$DAVE" "$DAVE_PW
$CODE" id -un
is "$SUDO_RC/$SUDO_OUT" "0/root" "sudo -S as $DAVE: password and code on two prompts: root"
[ "$SUDO_RC" = 0 ] || echo "#   sudo said: $SUDO_ERR"
ssh_login keyboard-interactive "$ALICE" "$ALICE_PW"
is "$WHO" "" "with otp = prompt, a user without OTP who answers no code: refused (empty_otp)"
# Keycloak's Conditional OTP skips the step for a user without an OTP
# credential: any code will do (the guide says so: the prompt enforces
# nothing; Keycloak's flow decides).
ssh_otp "$BOB" "$BOB_PW" 000000
is "$(pty_says ID)" "$BOB" "with otp = prompt, $BOB (no OTP credential) and code 000000: logged in (Keycloak ignores the code)"
kc_conf

# ---------------------------------------------------------------- brute force
# The realm: failureFactor 3, temporary lock-out 60 s.  The offline
# verifier is on here, so that a lock-out taken for an outage would show:
# the right password after the lock-out must be refused at each door.
kc_conf "offline_cache = yes"
ssh_login password "$FRANK" "$FRANK_PW"
is "$WHO" "$FRANK" "brute force: $FRANK logs in (an offline verifier is kept)"
ls "$TESTTMP/offline" 2>/dev/null | grep -q "^u-"
ok $? "  the offline verifier exists"
for i in 1 2 3; do
	ssh_login password "$FRANK" "wrong-$i"
done
like "$(decision "$FRANK")" 'result=deny reason=invalid_grant' "three wrong passwords: refused (invalid_grant)"
uid=$(kc_admin GET "/$REALM/users?username=$FRANK&exact=true" | sed -n 's/^\[{"id":"\([^"]*\)".*/\1/p')
bf=$(kc_admin GET "/$REALM/attack-detection/brute-force/users/$uid")
like "$bf" '"disabled":true' "Keycloak's brute-force detection has locked $FRANK (admin API: $bf)"
ssh_login password "$FRANK" "$FRANK_PW"
ok "$(refused)" "locked: ssh password with the RIGHT password: refused"
like "$(decision "$FRANK")" 'result=deny reason=invalid_grant pam="Authentication failure"' \
	"  PAM_AUTH_ERR (reason invalid_grant), not an outage: no offline verifier, no pam_unix"
is "$(ls -A "$TESTTMP/offline" 2>/dev/null | grep -c "^u-")" 0 "  and the refusal deleted the offline verifier (u-* file)"
ssh_login keyboard-interactive "$FRANK" "$FRANK_PW"
ok "$(refused)" "locked: ssh keyboard-interactive, right password: refused"
run_sudo "$FRANK" "$FRANK_PW" id -un
ok "$([ "$SUDO_RC" -ne 0 ] && [ -z "$SUDO_OUT" ] && echo 0 || echo 1)" "locked: sudo -S, right password: refused"
su_is "$FRANK" "$FRANK_PW" "/1" "locked: su, right password: refused"
unlike "$(grep "$FRANK" "$OA2_LOG_CAPTURE")" 'offline verifier matched|result=allow.*grant=offline' \
	"  no login by the offline verifier"
kc_conf

# ---------------------------------------------------------------- pam_oauth2ctl
out=$("$CTL" --config "$CONF" check 2>&1); st=$?
is "$st" 0 "pam_oauth2ctl check against Keycloak: exit 0"
like "$out" "token endpoint: +$ISSUER/protocol/openid-connect/token" "  the discovered token endpoint"
like "$out" "no problems found" "  no problems found"
unlike "$out" "PROBLEM|warning" "  no PROBLEM or warning line"
[ "$st" = 0 ] || printf '%s\n' "$out" | sed 's/^/#   /'
out=$(printf '%s\n' "$ALICE_PW" | "$CTL" --config "$CONF" login "$ALICE" 2>&1); st=$?
is "$st" 0 "pam_oauth2ctl login $ALICE: exit 0"
like "$out" "preferred_username=$ALICE|$ALICE" "  names the user"
unlike "$out" "alice-Kc|pam-servers-secret" "  prints no password or secret"
[ "$st" = 0 ] || printf '%s\n' "$out" | sed 's/^/#   /'

# ---------------------------------------------------------------- after
log=$(cat "$OA2_LOG_CAPTURE" "$SSHD_LOG" "$TESTTMP/sudo.err" 2>/dev/null)
unlike "$log" 'alice-Kc|bob-Kc|carol-Kc|dave-Kc|erin-Kc|frank-Kc|pam-servers-secret' \
	"no password or client secret in sshd's log, sudo's or the module's"
kill -TERM "$SSHD_PID" 2>/dev/null
wait "$SSHD_PID" 2>/dev/null
if [ "$KC_OWN" = 0 ]; then
	kc_realm_delete "$REALM"
	is "$KC_HTTP" 204 "the test's copy of the realm is deleted"
fi
for g in $GROUPS_ALL; do groupdel "$g"; done
for u in "$ALICE" "$BOB" "$CAROL" "$DAVE" "$ERIN" "$FRANK" "$CALLER"; do userdel -f "$u"; done
cmp -s /etc/group "$TESTTMP/group.before"
ok $? "/etc/group is byte for byte what it was before the test"
diff "$TESTTMP/group.before" /etc/group | head -10 | sed 's/^/#   /'
e2e_done
