#!/usr/bin/env bash
# token_ssh.sh - grants = token through a private sshd (the stack of
# pam.d-examples/sshd) by the real ssh client, both the password and the
# keyboard-interactive methods, with access tokens minted by the real
# OpenID provider (tests/op, oidc-provider): its client credentials grant
# with a resource indicator (RFC 8707) gives a JWT access token (RFC 9068,
# typ at+jwt, aud = the resource), verified locally, its scope mapped to a
# local group (id -Gn); an opaque one is
# introspected (RFC 7662).  The token is handed to ssh the way the CI
# example of docs/credentials.md does it: SSH_ASKPASS with
# SSH_ASKPASS_REQUIRE=force, no sshpass.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/e2e-lib.sh" "$@"

e2e_need sshd ssh setsid

SVC=oa2e2e-sshd-$E2E_ID
CIUSER=oa2e2e_t${E2E_ID}_ci        # a CI job's account = its client_id
HUMAN=oa2e2e_t${E2E_ID}_user       # a person with an IdP password
HUMAN_PW='human-Passw0rd'
CI_SECRET='ci-secret-0123456789abcdef'
AUD="https://ssh.e2e.example/$E2E_ID"
OPAQUE_AUD="https://ssh-opaque.e2e.example/$E2E_ID"
e2e_add_user "$CIUSER"
e2e_add_user "$HUMAN"
GRP=oa2g_t$E2E_ID                 # mapped from the token's scope pam:login
getent group "$GRP" >/dev/null && groupdel "$GRP"
groupadd "$GRP" || bail "groupadd $GRP"
on_exit "groupdel $GRP"

# ---------------------------------------------------------------- provider
e2e_op_users "$TESTTMP/op-users.json" "$(e2e_spec "$HUMAN" "$HUMAN_PW" user)"
node -e '
	const fs = require("fs");
	const [src, out, id, secret] = process.argv.slice(1);
	const clients = JSON.parse(fs.readFileSync(src, "utf8"));
	clients.push({ client_id: id, client_secret: secret,
		client_name: "CI deploy job", token_endpoint_auth_method: "client_secret_basic",
		grant_types: ["client_credentials"], scope: "pam:login",
		response_types: [], redirect_uris: [] });
	fs.writeFileSync(out, JSON.stringify(clients));' \
	"$top_srcdir/tests/op/clients.example.json" "$TESTTMP/clients.json" "$CIUSER" "$CI_SECRET"
start_op "$TESTTMP/op-users.json" "$TESTTMP/clients.json" \
	--resource "$AUD" --opaque-resource "$OPAQUE_AUD"
CONF="$TESTTMP/pam_oauth2.conf"
# conf AUDIENCE [extra lines]: the module's configuration for this phase.
conf() {
	local aud=$1; shift
	e2e_write_conf "$OP_URL" pam-basic pam-basic-secret-0123456789abcdef
	{
		echo "grants = token password"
		echo "token_audience = $aud"
		echo "token_clients = $CIUSER"
		echo "cache_dir = $TESTTMP/cache"
		local l
		for l in "$@"; do printf '%s\n' "$l"; done
		echo "[groups]"
		echo "scope:pam:login = $GRP"
	} >>"$CONF"
}
conf "$AUD"

e2e_example sshd "$TESTTMP/pam.d/$SVC"
e2e_etc_file "/etc/pam.d/$SVC" 0644 <"$TESTTMP/pam.d/$SVC"
e2e_sshd "$SVC" <<CFG
PubkeyAuthentication no
AuthorizedKeysFile none
AllowUsers oa2e2e_t${E2E_ID}_*
LoginGraceTime 60
CFG

# mint RESOURCE: a client credentials token of the CI client for RESOURCE
# (what the CI job does with curl).
mint() {
	curl -sS --fail --cacert "$PKI/ca.pem" -u "$CIUSER:$CI_SECRET" \
		-d grant_type=client_credentials -d scope=pam:login \
		--data-urlencode "resource=$1" "$OP_URL/token" |
		node -e 'let s = ""; process.stdin.on("data", d => s += d).on("end", () =>
			process.stdout.write(JSON.parse(s).access_token));'
}

# The askpass helper of the CI example: prints the token from a file
# only root can read; ssh runs it for every prompt (the password method's
# "password:", keyboard-interactive's "Access token:" or "Password:").
ASKPASS="$TESTTMP/askpass.sh"
cat >"$ASKPASS" <<SH
#!/bin/sh
exec cat "$TESTTMP/token"
SH
chmod 0700 "$ASKPASS"

# ssh_token METHOD USER TOKEN [COMMAND]: run COMMAND (default id -un)
# over ssh with TOKEN as the answer; SSH_OUT, SSH_RC.
ssh_token() {
	local method=$1 user=$2 cmd=${4:-id -un}
	(umask 077; printf '%s' "$3" >"$TESTTMP/token")
	SSH_OUT=$(cd / && SSH_ASKPASS="$ASKPASS" SSH_ASKPASS_REQUIRE=force DISPLAY= \
		timeout 30 setsid ssh -F /dev/null -p "$SSHD_PORT" \
		-o UserKnownHostsFile=/dev/null -o GlobalKnownHostsFile=/dev/null \
		-o StrictHostKeyChecking=no -o LogLevel=ERROR \
		-o PreferredAuthentications="$method" -o PubkeyAuthentication=no \
		-o NumberOfPasswordPrompts=1 -o ConnectTimeout=10 -o ControlPath=none \
		"$user@127.0.0.1" "$cmd" </dev/null 2>"$TESTTMP/ssh.err")
	SSH_RC=$?
	rm -f "$TESTTMP/token"
}
sshd_said() { # METHOD USER
	grep -E "(Accepted|Failed) $1 for $2 from" "$SSHD_LOG" | tail -1 | awk '{print $1}'
}
pw_only() { [ "$method" = password ] && "$@"; return 0; }
refused() { [ "$SSH_RC" -ne 0 ] && [ -z "$SSH_OUT" ] && echo 0 || echo 1; }

# ---------------------------------------------------------------- JWT access tokens
JWT=$(mint "$AUD")
hdr=$(node -e 'console.log(Buffer.from(process.argv[1].split(".")[0], "base64url").toString())' "$JWT")
like "$hdr" '"typ":"at\+jwt"' "oidc-provider minted a JWT access token (typ at+jwt): $hdr"
for method in password keyboard-interactive; do
	sm=$method; [ "$method" = keyboard-interactive ] && sm=keyboard-interactive/pam
	ssh_token "$method" "$CIUSER" "$JWT" 'id -un; id -Gn'
	is "$(head -1 <<<"$SSH_OUT")" "$CIUSER" "ssh $method, oidc-provider JWT access token: logged in as $CIUSER"
	like "$(tail -1 <<<"$SSH_OUT")" "(^| )$GRP( |\$)" "  id -Gn has $GRP, mapped from the token's scope pam:login"
	SSH_OUT=$(head -1 <<<"$SSH_OUT")
	is "$(sshd_said "$sm" "$CIUSER")" Accepted "  sshd logged 'Accepted $sm for $CIUSER'"
	pw_only like "$(e2e_decision "$CIUSER")" "grant=token result=allow reason=ok .* sub=$CIUSER token=jti:" \
		"  decision grant=token with the token's jti"
	ssh_token "$method" "$HUMAN" "$JWT"
	ok "$(refused)" "ssh $method, the CI token for another account: refused"
	pw_only like "$(e2e_decision "$HUMAN")" "grant=token result=deny reason=identity_mismatch" "  reason=identity_mismatch"
done
# A person's password through the same stack (grants = token password).
method=password
ssh_token password "$HUMAN" "$HUMAN_PW"
is "$SSH_OUT" "$HUMAN" "grants = token password: a password still logs in"
like "$(e2e_decision "$HUMAN")" "grant=password result=allow" "  through the password grant"
# A token for another resource of the same provider.
OTHER=$(mint "$OPAQUE_AUD")
for method in password keyboard-interactive; do
	# Another token's signature under this token's header and claims.
	J2=$(mint "$AUD")
	ssh_token "$method" "$CIUSER" "${JWT%.*}.${J2##*.}"
	ok "$(refused)" "ssh $method, a JWT with a broken signature: refused"
	pw_only like "$(e2e_decision "$CIUSER")" "grant=token result=deny reason=bad_signature" "  reason=bad_signature"
done

# ---------------------------------------------------------------- opaque tokens, introspection
conf "$OPAQUE_AUD"
for method in password keyboard-interactive; do
	sm=$method; [ "$method" = keyboard-interactive ] && sm=keyboard-interactive/pam
	OT=$(mint "$OPAQUE_AUD")
	ssh_token "$method" "$CIUSER" "$OT" 'id -un; id -Gn'
	is "$(head -1 <<<"$SSH_OUT")" "$CIUSER" "ssh $method, oidc-provider opaque token (${#OT} characters), introspected: logged in"
	like "$(tail -1 <<<"$SSH_OUT")" "(^| )$GRP( |\$)" "  id -Gn has $GRP, from the introspection answer's scope"
	is "$(sshd_said "$sm" "$CIUSER")" Accepted "  sshd logged 'Accepted $sm for $CIUSER'"
	# oidc-provider leaves out the jti of an opaque token (it is the
	# token itself): the audit line names a hash.
	pw_only like "$(e2e_decision "$CIUSER")" "grant=token result=allow reason=ok .* token=sha256:[0-9a-f]{16}\$" \
		"  decision grant=token, token named by a hash"
	# The JWT of the other resource: aud is not this server's.
	ssh_token "$method" "$CIUSER" "$JWT"
	ok "$(refused)" "ssh $method, a JWT for another audience: refused"
	pw_only like "$(e2e_decision "$CIUSER")" "grant=token result=deny reason=aud_mismatch" "  reason=aud_mismatch"
	# Revoked at the provider: introspection says active false.
	curl -sS --fail --cacert "$PKI/ca.pem" -u "$CIUSER:$CI_SECRET" \
		--data-urlencode "token=$OT" "$OP_URL/token/revocation" >/dev/null ||
		bail "revocation at the provider failed"
	ssh_token "$method" "$CIUSER" "$OT"
	ok "$(refused)" "ssh $method, the opaque token after its revocation: refused"
	pw_only like "$(e2e_decision "$CIUSER")" "grant=token result=deny reason=inactive_token" "  reason=inactive_token"
done

# ---------------------------------------------------------------- after
log=$(cat "$OA2_LOG_CAPTURE" "$SSHD_LOG")
ok "$(grep -F -q -e "$JWT" -e "$OT" -e "$OTHER" <<<"$log" && echo 1 || echo 0)" \
	"no token in sshd's log or the module's syslog"
unlike "$log" 'human-Passw0rd|ci-secret|pam-basic-secret' "no password or client secret logged"
kill -TERM "$SSHD_PID" 2>/dev/null
wait "$SSHD_PID" 2>/dev/null
e2e_done
