#!/usr/bin/env bash
# ssh.sh - real logins through a private sshd (UsePAM yes) with the stack of
# pam.d-examples/sshd and the lines of pam.d-examples/sshd_config, by the
# real ssh client with both the password and the keyboard-interactive
# methods, against the real OpenID provider (tests/op); a token naming
# another user refused; the fallback to the local password once the
# provider is stopped.
#
# sshd takes its PAM service name from its program name (__progname), so it
# runs through a symlink $TESTTMP/oa2e2e-sshd-PID -> /usr/sbin/sshd and
# reads /etc/pam.d/oa2e2e-sshd-PID (created here, removed on exit); the machine's
# /etc/pam.d/sshd is not touched.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/e2e-lib.sh" "$@"

e2e_need sshd ssh sshpass ssh-keygen

SVC=oa2e2e-sshd-$E2E_ID
USER1=oa2e2e_s${E2E_ID}_user       # IdP password, and a different local password
ADMIN=oa2e2e_s${E2E_ID}_admin      # IdP password only (account locked locally)
ALIAS=oa2e2e_s${E2E_ID}_alias      # its tokens name $USER1
USER1_PW='user&pass=1+2%20ü'
USER1_LOCAL='local-Passw0rd:user1'
ADMIN_PW='admin-Passw0rd'
ALIAS_PW='alias-Passw0rd'

e2e_add_user "$USER1" "$USER1_LOCAL"
e2e_add_user "$ADMIN"
e2e_add_user "$ALIAS"

# ---------------------------------------------------------------- provider
e2e_op_users "$TESTTMP/op-users.json" \
	"$(e2e_spec "$USER1" "$USER1_PW" user)" \
	"$(e2e_spec "$ADMIN" "$ADMIN_PW" admin)" \
	"$(e2e_spec "$ALIAS" "$ALIAS_PW" "alias=$USER1")" \
	"$(e2e_spec "oa2e2e_s${E2E_ID}_nologin" nologin-Passw0rd nologin)"
start_op "$TESTTMP/op-users.json" "$top_srcdir/tests/op/clients.example.json"
CONF="$TESTTMP/pam_oauth2.conf"
e2e_write_conf "$OP_URL" pam-basic pam-basic-secret-0123456789abcdef

e2e_example sshd "$TESTTMP/pam.d/$SVC"
e2e_etc_file "/etc/pam.d/$SVC" 0644 <"$TESTTMP/pam.d/$SVC"

# ---------------------------------------------------------------- sshd
e2e_sshd "$SVC" <<CFG
PubkeyAuthentication no
AuthorizedKeysFile none
AllowUsers oa2e2e_s${E2E_ID}_*
LoginGraceTime 60
CFG

# ssh_login METHOD USER PASSWORD [COMMAND]: run COMMAND (default id -un)
# over ssh; sets SSH_OUT (its stdout) and SSH_RC.  The password is given to sshpass in
# the environment (-e), which answers any prompt containing "assword".
ssh_login() {
	local method=$1 user=$2 pw=$3 cmd=${4:-id -un}
	SSH_OUT=$(cd / && SSHPASS="$pw" timeout 30 sshpass -e -P assword \
		ssh -F /dev/null -p "$SSHD_PORT" \
		-o UserKnownHostsFile=/dev/null -o GlobalKnownHostsFile=/dev/null \
		-o StrictHostKeyChecking=no -o LogLevel=ERROR \
		-o PreferredAuthentications="$method" -o PubkeyAuthentication=no \
		-o NumberOfPasswordPrompts=1 -o ConnectTimeout=10 \
		-o ServerAliveInterval=5 -o ControlPath=none \
		"$user@127.0.0.1" "$cmd" </dev/null 2>"$TESTTMP/ssh.err")
	SSH_RC=$?
}
# sshd's verdict for the latest attempt of USER with METHOD.
sshd_said() { # METHOD USER
	grep -E "(Accepted|Failed) $1 for $2 from" "$SSHD_LOG" | tail -1 | awk '{print $1}'
}
# pw_only ASSERTION...: only for the password method.  With
# keyboard-interactive sshd runs PAM in a child whose environment it
# empties, so the capture shim loses OA2_LOG_CAPTURE and the module's
# lines go to the real syslog; sshd's own log still tells the outcome.
pw_only() { [ "$method" = password ] && "$@"; return 0; }

# ---------------------------------------------------------------- IdP up
for method in password keyboard-interactive; do
	sm=$method; [ "$method" = keyboard-interactive ] && sm=keyboard-interactive/pam
	ssh_login "$method" "$USER1" "$USER1_PW"; out=$SSH_OUT
	is "$out" "$USER1" "ssh $method, IdP password: logged in, id -un is $USER1"
	is "$(sshd_said "$sm" "$USER1")" Accepted "  sshd logged 'Accepted $sm for $USER1'"
	pw_only like "$(e2e_decision "$USER1")" "service=$SVC rhost=127.0.0.1 grant=password result=allow" \
		"  the module allowed it (PAM service $SVC, rhost from sshd)"

	ssh_login "$method" "$USER1" "${USER1_PW}x"; out=$SSH_OUT
	ok "$([ "$SSH_RC" -ne 0 ] && [ -z "$out" ] && echo 0 || echo 1)" \
		"ssh $method, wrong password: refused (rc=$SSH_RC)"
	is "$(sshd_said "$sm" "$USER1")" Failed "  sshd logged 'Failed $sm for $USER1'"
	pw_only like "$(e2e_decision "$USER1")" "result=deny reason=invalid_grant" "  the IdP said invalid_grant"

	ssh_login "$method" "$USER1" "$USER1_LOCAL"; out=$SSH_OUT
	ok "$([ "$SSH_RC" -ne 0 ] && [ -z "$out" ] && echo 0 || echo 1)" \
		"ssh $method, the LOCAL password while the IdP answers: refused (default=die, no fallback)"
done

ssh_login keyboard-interactive "$ADMIN" "$ADMIN_PW" 'id -un; id -Gn'; out=$SSH_OUT
is "$(echo "$out" | head -1)" "$ADMIN" "ssh keyboard-interactive, admin (IdP-only account): logged in"
like "$(echo "$out" | tail -1)" "^$ADMIN( |$)" "  id -Gn: $(echo "$out" | tail -1)"
grep -q 'Postponed keyboard-interactive for\|Postponed keyboard-interactive/pam for' "$SSHD_LOG"
ok $? "  sshd's keyboard-interactive round trip was postponed (the PAM prompt went to the client)"

# ---------------------------------------------------------------- other user
# The real provider, configured as an IdP that maps one login name onto
# another account: $ALIAS's password is right, but its tokens say
# preferred_username=$USER1.
for method in password keyboard-interactive; do
	sm=$method; [ "$method" = keyboard-interactive ] && sm=keyboard-interactive/pam
	ssh_login "$method" "$ALIAS" "$ALIAS_PW"; out=$SSH_OUT
	ok "$([ "$SSH_RC" -ne 0 ] && [ -z "$out" ] && echo 0 || echo 1)" \
		"ssh $method as $ALIAS, token from the real OP names $USER1: refused"
	is "$(sshd_said "$sm" "$ALIAS")" Failed "  sshd logged 'Failed $sm for $ALIAS'"
	pw_only like "$(e2e_decision "$ALIAS")" "result=deny reason=identity_mismatch" "  reason=identity_mismatch"
done

# The scriptable mock IdP behind the same sshd: a correct password grant
# whose ID token names another local user.
printf '{"%s": {"password": "mock-Pa55", "scope": "openid profile"}}' "$USER1" >"$TESTTMP/mock-users.json"
start_mock --users "$TESTTMP/mock-users.json" \
	--client-id pam-mock --client-secret mock-secret
e2e_write_conf "$MOCK_URL" pam-mock mock-secret
ssh_login password "$USER1" mock-Pa55; out=$SSH_OUT
is "$out" "$USER1" "mock IdP, honest token: ssh password login works (control)"
mock_scenario "{\"id_token_claims\": {\"preferred_username\": \"$ADMIN\"}}"
ssh_login password "$USER1" mock-Pa55 'id -un'; out=$SSH_OUT
ok "$([ "$SSH_RC" -ne 0 ] && [ -z "$out" ] && echo 0 || echo 1)" \
	"mock IdP, ID token names $ADMIN for $USER1: ssh refused"
like "$(e2e_decision "$USER1")" "result=deny reason=identity_mismatch" "  reason=identity_mismatch"
stop_mock
e2e_write_conf "$OP_URL" pam-basic pam-basic-secret-0123456789abcdef

# ---------------------------------------------------------------- IdP down
stop_op
ok $? "the OpenID provider stopped cleanly"
for method in password keyboard-interactive; do
	ssh_login "$method" "$USER1" "$USER1_LOCAL"; out=$SSH_OUT
	is "$out" "$USER1" "IdP down, ssh $method, local password: logged in (authinfo_unavail=ignore -> pam_unix)"
	pw_only like "$(e2e_decision "$USER1")" 'result=deny reason=connect_failed pam="Authentication service cannot retrieve authentication info"' \
		"  the module said PAM_AUTHINFO_UNAVAIL (connect_failed)"
	ssh_login "$method" "$USER1" "$USER1_PW"; out=$SSH_OUT
	ok "$([ "$SSH_RC" -ne 0 ] && [ -z "$out" ] && echo 0 || echo 1)" \
		"IdP down, ssh $method, the IdP password (not the local one): refused"
done
ssh_login keyboard-interactive "$ADMIN" "$ADMIN_PW"; out=$SSH_OUT
ok "$([ "$SSH_RC" -ne 0 ] && [ -z "$out" ] && echo 0 || echo 1)" \
	"IdP down, account without a local password: refused"

# ---------------------------------------------------------------- after
log=$(cat "$OA2_LOG_CAPTURE" "$SSHD_LOG")
unlike "$log" 'user&pass|local-Passw0rd|admin-Passw0rd|alias-Passw0rd|mock-Pa55|pam-basic-secret' \
	"no password or client secret in sshd's log or the module's syslog"
kill -TERM "$SSHD_PID" 2>/dev/null
wait "$SSHD_PID" 2>/dev/null
e2e_done
