#!/usr/bin/env bash
# provision_providers.sh - provisioning (provision = yes, the built NSS
# module) against the REAL Keycloak (tests/lib/keycloak.sh, the run's
# one through kc_use) and the REAL Dex (tests/lib/dex.sh), in the private
# mount namespace and overlays of provision-lib.sh, through a real sshd.
#
# For each provider, a user who exists only there (Keycloak: made through
# the admin API in the realm, with the realm role ssh-login and the group
# /ops; Dex: an entry of its password database with the groups admins and
# users), with the module configured as docs/providers/keycloak.md and
# docs/providers/dex.md say plus provision = yes:
#  * a wrong password first: refused, sshd had the placeholder (not
#    "invalid user"), the provider said no, no record, no home;
#  * the right password, ssh password method: logged in on the FIRST
#    attempt; id shows the provisioned UID, the private group and the
#    groups mapped from the provider's groups claim; the home is the
#    user's, mode 0700; the provision line names the provider's sub;
#  * another connection (keyboard-interactive): the same UID and groups;
#    getent passwd shows the record.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/e2e-lib.sh" "$@"
. "$top_srcdir/tests/e2e/provision-lib.sh"
. "$top_srcdir/tests/lib/keycloak.sh"
. "$top_srcdir/tests/lib/dex.sh"

e2e_need sshd ssh sshpass ssh-keygen getent id perl
prov_init
dex_require

ID=$E2E_ID
K=oa2e2e_p${ID}_kc          # a Keycloak user (admin API), no local account
X=oa2e2e_p${ID}_dx          # a Dex user, no local account
K_PW='kc-Pr0vision-1'
X_PW='dx-Pr0vision-2'
G_KLOGIN=oa2gp${ID}_kclogin # realm role ssh-login
G_KOPS=oa2gp${ID}_kcops     # group /ops
G_XADM=oa2gp${ID}_dxadmins  # Dex group admins
G_XUSR=oa2gp${ID}_dxusers   # Dex group users
DOMAIN=dex.test
UMIN=1879048392
UMAX=1879048491
SVC=oa2e2e-ppsshd-$ID

prov_overlays "^(oa2e2e_p${ID}_|oa2gp${ID}_)" <<NSSCONF
uid_range = $UMIN-$UMAX
provision_names = oa2e2e_p${ID}_*
home = $TESTTMP/home/%u
shell = /bin/sh
placeholder_programs = /usr/sbin/sshd /usr/lib/openssh/sshd-session
NSSCONF
n=0
for g in "$G_KLOGIN" "$G_KOPS" "$G_XADM" "$G_XUSR"; do
	getent group "$((UMAX - n))" >/dev/null && bail "GID $((UMAX - n)) is taken"
	prov_group "$g" "$((UMAX - n))"
	n=$((n + 1))
done

CONF="$TESTTMP/pam_oauth2.conf"
e2e_example sshd "$TESTTMP/pam.d/$SVC"
e2e_etc_file "/etc/pam.d/$SVC" 0644 <"$TESTTMP/pam.d/$SVC"
e2e_sshd "$SVC" <<CFG
PubkeyAuthentication no
AuthorizedKeysFile none
AllowUsers oa2e2e_p${ID}_*
LoginGraceTime 60
CFG
prov_ssh_init

# groups_of: the session's groups (GS), sorted, one line.
groups_of() { field GS | tr , '\n' | sort | tr '\n' ' '; }
sorted() { printf '%s\n' "$@" | sort | tr '\n' ' '; }

# prov_check USER PASSWORD UID DENY_REASON SUB_RE GROUP...: the checks of
# the header for one provider's user.
prov_check() {
	local u=$1 pw=$2 uid=$3 deny=$4 sub=$5
	shift 5
	has_record "$u"; ok $([ $? -ne 0 ]; echo $?) "$u: no record before any login"
	ssh_pw password "$u" "${pw}x"
	ok "$([ "$RC" -ne 0 ] && [ -z "$OUT" ]; echo $?)" "ssh password, $u never seen, wrong password: refused"
	like "$(sshd_said "$u")" "Failed password for $u from" "  sshd had the placeholder (not 'invalid user')"
	like "$(e2e_decision "$u")" "result=deny reason=$deny" "  the provider said no (reason=$deny)"
	has_record "$u"; ok $([ $? -ne 0 ]; echo $?) "  no record"
	ok "$([ ! -e "$TESTTMP/home/$u" ]; echo $?)" "  no home"

	ssh_pw password "$u" "$pw"
	is "$RC" 0 "ssh password, $u, right password: logged in on the FIRST attempt"
	[ "$RC" = 0 ] || { tail -3 "$TESTTMP/ssh.err"; grep "user=$u " "$OA2_LOG_CAPTURE" | tail -3; } | sed 's/^/#   /'
	is "$(field U)" "$uid" "  id -u is the provisioned UID $uid"
	is "$(field G)" "$u" "  id -gn is the private group $u"
	is "$(groups_of)" "$(sorted "$u" "$@")" "  id -Gn: the private group and the mapped groups $*"
	is "$(field H)" "$TESTTMP/home/$u" "  HOME is the configured home"
	is "$(field S)" "$u:$u:700" "  the home is the user's, mode 0700"
	like "$(prov_line "$u")" "provision user=$u provisioned=$uid gid=$uid .*sub=$sub reason=ok" \
		"  logged: provisioned=$uid, bound to the provider's sub"

	ssh_pw keyboard-interactive "$u" "$pw"
	is "$RC/$(field U)/$(groups_of)" "0/$uid/$(sorted "$u" "$@")" \
		"ssh keyboard-interactive, another connection: the same UID and groups"
	like "$(sshd_said "$u")" "Accepted keyboard-interactive/pam for $u" "  (sshd accepted keyboard-interactive)"
	is "$(getent passwd "$u")" "$u:*:$uid:$uid::$TESTTMP/home/$u:/bin/sh" "getent passwd $u: the record"
}

# ---------------------------------------------------------------- Keycloak
t0=$(date +%s)
kc_use
# The user, made in the realm through the admin API and deleted on exit.
kc_admin POST "/$KC_REALM/users" "{\"username\":\"$K\",\"enabled\":true,\"firstName\":\"Prov\",
	\"lastName\":\"Test\",\"email\":\"$K@pam-test.invalid\",\"emailVerified\":true,
	\"credentials\":[{\"type\":\"password\",\"value\":\"$K_PW\",\"temporary\":false}]}" >/dev/null ||
	bail "Keycloak: cannot create $K (HTTP $KC_HTTP)"
K_SUB=$(kc_admin GET "/$KC_REALM/users?username=$K&exact=true" | sed -n 's/^\[{"id":"\([^"]*\)".*/\1/p')
[ -n "$K_SUB" ] || bail "Keycloak: no id for $K"
on_exit "kc_admin DELETE '/$KC_REALM/users/$K_SUB'"
role=$(kc_admin GET "/$KC_REALM/roles/ssh-login") || bail "Keycloak: no realm role ssh-login (HTTP $KC_HTTP)"
kc_admin POST "/$KC_REALM/users/$K_SUB/role-mappings/realm" "[$role]" >/dev/null ||
	bail "Keycloak: cannot give $K the role ssh-login (HTTP $KC_HTTP)"
gid=$(kc_admin GET "/$KC_REALM/groups?search=ops&exact=true" | sed -n 's/^\[{"id":"\([^"]*\)".*/\1/p')
[ -n "$gid" ] || bail "Keycloak: no group /ops"
kc_admin PUT "/$KC_REALM/users/$K_SUB/groups/$gid" >/dev/null ||
	bail "Keycloak: cannot put $K in /ops (HTTP $KC_HTTP)"
echo "# Keycloak $KC_URL (own: $KC_OWN), user $K made in $(($(date +%s) - t0)) s"
# docs/providers/keycloak.md's configuration, the test's names, provision.
write_conf "$CONF" <<CONFTEXT
issuer = $KC_ISSUER
client_id = pam-servers
client_secret = pam-servers-secret-0123456789abcdef
ca_file = $KC_CA
scope = openid profile
groups_claim = groups
required_scopes = claim:ssh-login
timeout = ${OA2_TEST_TIMEOUT:-10}
connect_timeout = 3
debug = yes
provision = yes

[groups]
claim:ssh-login = $G_KLOGIN
claim:/ops = $G_KOPS
CONFTEXT
prov_check "$K" "$K_PW" "$UMIN" invalid_grant "$K_SUB" "$G_KLOGIN" "$G_KOPS"

# ---------------------------------------------------------------- Dex
dex_user "$X@$DOMAIN" "$X" "$X_PW" admins users
start_dex
# docs/providers/dex.md's blocks (password, groups), made the test's.
GUIDE="$top_srcdir/docs/providers/dex.md"
guide_block() { # MARKER: the first ``` block after "<!-- MARKER -->"
	awk -v m="<!-- $1 -->" '$0 == m { f = 1; next } f && /^```/ { if (in_b) exit; in_b = 1; next } in_b { print }' "$GUIDE"
}
{ guide_block dex-conf-password; guide_block dex-conf-groups; } | sed \
	-e "s|^issuer = .*|issuer = $DEX_URL|" \
	-e "s|^client_secret = .*|client_secret = $DEX_CLIENT_SECRET|" \
	-e "s|corp\\.example|$DOMAIN|g" \
	-e "s|^claim:admins = .*|claim:admins = $G_XADM|" \
	-e "s|^claim:users = .*|claim:users = $G_XUSR|" >"$TESTTMP/guide.conf"
grep -q "^claim:users = $G_XUSR\$" "$TESTTMP/guide.conf" || bail "docs/providers/dex.md: no password and groups blocks"
write_conf "$CONF" <<CONFTEXT
ca_file = $PKI/ca.pem
debug = yes
provision = yes
$(cat "$TESTTMP/guide.conf")
CONFTEXT
prov_check "$X" "$X_PW" "$((UMIN + 1))" access_denied '[A-Za-z0-9_-]+' "$G_XADM" "$G_XUSR"
stop_dex

# ---------------------------------------------------------------- after
log=$(cat "$OA2_LOG_CAPTURE" "$SSHD_LOG")
unlike "$log" 'Pr0vision|pam-servers-secret' "no password or client secret in the logs"
kill -TERM "$SSHD_PID" 2>/dev/null
wait "$SSHD_PID" 2>/dev/null
kc_admin DELETE "/$KC_REALM/users/$K_SUB" >/dev/null
is "$KC_HTTP" 204 "the Keycloak user $K is deleted"
rm -rf "${TESTTMP:?}/home/$K" "${TESTTMP:?}/home/$X"
is "$(prov_real_stamp | tr '\n' ' ')" "$(printf '%s\n' "$PROV_REAL_BEFORE" | tr '\n' ' ')" "the machine's account files have none of the test's names; nsswitch.conf, the library directory, /var/lib and /home are as they were"
e2e_done
