#!/usr/bin/env bash
# groups.sh - scopes and claims to local groups through the real libpam
# against the mock IdP: mappings and gates that name their source
# (scope:V, claim:V; a value from one never satisfies the other, an
# unprefixed one is a configuration error), the required_scopes gate in
# authenticate and acct_mgmt, the typed required_claims gate, setcred
# adding exactly the mapped groups to the process, the grant store that
# carries a grant to a sibling process the way sshd's keyboard-interactive
# method needs it (its life cycle and every refusal), and group_sync
# against the real /etc/group, also racing useradd/groupadd.
#
# Users and groups made here are named oa2g*, removed on exit; /etc/group
# is compared with a copy taken first.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/common.sh"

ADMIN=oa2gadmin
USER1=oa2guser
NOSCOPE=oa2gnoscope
PW='Gr0ups-pw'
SECRET='groups-secret'
STATE="$TESTTMP/state"
GROUPS_BACKUP="$TESTTMP/group.before"

cp -p /etc/group "$GROUPS_BACKUP" || bail "cannot copy /etc/group"
G_MODE=$(stat -c '%a %u %g' /etc/group)

# Lines of /etc/group that are not test entries (oa2*: ours and the other
# PAM-stack tests' running in parallel).
stable_lines() { grep -v '^oa2' "$1" | sed -E 's/(^|[:,])oa2[^,:]*(,|$)/\1\2/g'; }

add_group() {
	getent group "$1" >/dev/null || groupadd "$1" || bail "groupadd $1"
	on_exit "groupdel $1"
}
# (on_exit runs last-registered first: users go before groups.)
for g in oa2g_wheel oa2g_docker oa2g_ssh oa2g_ops oa2g_db oa2g_other; do
	add_group "$g"
done
getent group oa2g_missing >/dev/null && bail "oa2g_missing must not exist"
add_user "$ADMIN"
add_user "$USER1"
add_user "$NOSCOPE"

cat >"$TESTTMP/users.json" <<JSON
{ "$ADMIN": { "password": "$PW", "scope": "openid profile admin pam:login",
    "claims": { "groups": ["ops", "devs"], "realm_access": { "roles": ["db"] } } },
  "$USER1": { "password": "$PW", "scope": "openid profile pam:login",
    "claims": { "groups": ["devs"] } },
  "$NOSCOPE": { "password": "$PW", "scope": "openid profile",
    "claims": { "groups": ["ops"] } } }
JSON
start_mock --users "$TESTTMP/users.json" --client-id pam-test --client-secret "$SECRET"

CONF="$TESTTMP/oauth2.conf"
write_conf "$CONF" <<CONF
issuer = $MOCK_URL
client_id = pam-test
client_secret = $SECRET
ca_file = $PKI/ca.pem
scope = openid profile
timeout = ${OA2_TEST_TIMEOUT:-5}
groups_claim = groups
required_scopes = scope:pam:login
state_dir = $STATE
debug = yes

[groups]
# source:value = local groups
scope:admin = oa2g_wheel, oa2g_docker, root
scope:pam:login = oa2g_ssh
claim:ops = oa2g_ops
claim:devs = oa2g_missing
claim:db = oa2g_db
CONF
# The same without required_scopes: the account line alone carries the
# gate (for acct_mgmt's own check).
CONF_NOREQ="$TESTTMP/noreq.conf"
grep -v '^required_scopes' "$CONF" | write_conf "$CONF_NOREQ"
write_service oa2g <<SVC
auth    required @MODULE@ config=$CONF
account required @MODULE@ config=$CONF
SVC

# pamg SERVICE USER ops...: pamtest with no supplementary groups to start
# with, so "groups=" shows exactly what setcred added.
pamg() {
	local svc=$1 user=$2; shift 2
	# shellcheck disable=SC2046
	LD_PRELOAD="$LOGSHIM" setpriv --clear-groups $(pam_wrapper "$svc") "$PAMTEST" "$TESTTMP/pam.d" "$svc" "$user" "$@" \
		2>>"$TESTTMP/prompts"
}
export -f pamg pam_wrapper
export PAMTEST LOGSHIM TESTTMP PW STATE

# A new log slice: the lines logged after this call.
mark_log() { LOGMARK=$(wc -l <"$OA2_LOG_CAPTURE"); }
log_since() { tail -n +"$((LOGMARK + 1))" "$OA2_LOG_CAPTURE"; }

# ---------------------------------------------------------------- one process
mark_log
out=$(printf '%s\n' "$PW" | pamg oa2g "$ADMIN" auth acct groups setcred groups)
like "$out" 'auth=PAM_SUCCESS' "admin: auth"
like "$out" 'acct=PAM_SUCCESS' "admin: acct (has pam:login)"
like "$out" 'setcred=PAM_SUCCESS' "admin: setcred"
is "$(echo "$out" | grep '^groups=' | head -1)" "groups=" "no supplementary groups before setcred"
is "$(echo "$out" | grep '^groups=' | tail -1)" "groups=oa2g_docker,oa2g_ops,oa2g_ssh,oa2g_wheel" \
	"admin: exactly the mapped groups (scopes admin and pam:login, claim value ops; no GID 0, no missing group)"
log=$(log_since)
is "$(echo "$log" | grep -c 'group oa2g_missing (mapped from claim:devs) does not exist')" 1 \
	"the missing group is logged once"
like "$log" 'group root \(mapped from scope:admin\) has GID 0: not granted' "GID 0 refused and logged"
like "$log" "account user=$ADMIN service=oa2g rhost=- result=allow reason=ok" "acct decision logged"
like "$log" "groups user=$ADMIN granted=oa2g_wheel,oa2g_docker,oa2g_ssh,oa2g_ops source=pam_data sync=off result=ok" \
	"setcred decision logged"
unlike "$log" "$PW" "no password in syslog"
ls -A "$STATE" 2>/dev/null | grep -q . && st=1 || st=0
ok "$st" "single process: nothing written to the grant store"

out=$(printf '%s\n' "$PW" | pamg oa2g "$USER1" auth acct setcred groups)
like "$out" 'acct=PAM_SUCCESS' "ordinary user: acct"
is "$(echo "$out" | tail -1)" "groups=oa2g_ssh" "ordinary user: only pam:login's group"

mark_log
out=$(printf '%s\n' "$PW" | pamg oa2g "$NOSCOPE" auth acct setcred groups)
like "$out" 'auth=PAM_AUTH_ERR' "user without pam:login: authenticate refuses (required_scopes)"
is "$(echo "$out" | tail -1)" "groups=" "and no groups (setcred after a refused login)"
like "$(log_since)" "decision user=$NOSCOPE service=oa2g rhost=- grant=password result=deny reason=missing_required pam=\"Authentication failure\" ms=[0-9]+ sub=[^ ]+ missing=scope:pam:login\$" \
	"the refusal names the missing entry in syslog"

# acct_mgmt keeps its own check: the gate only on the account line.
write_service oa2gacctonly <<SVC
auth    required @MODULE@ config=$CONF_NOREQ
account required @MODULE@ config=$CONF
SVC
mark_log
out=$(printf '%s\n' "$PW" | pamg oa2gacctonly "$NOSCOPE" auth acct setcred groups)
like "$out" 'auth=PAM_SUCCESS' "gate only on the account line: auth succeeds"
like "$out" 'acct=PAM_PERM_DENIED' "user without pam:login: acct PAM_PERM_DENIED"
like "$out" 'setcred=PAM_SUCCESS' "setcred after a refused acct: PAM_SUCCESS"
is "$(echo "$out" | tail -1)" "groups=" "and no groups"
like "$(log_since)" "account user=$NOSCOPE service=oa2gacctonly rhost=- result=deny reason=missing_scope missing=scope:pam:login pam=\"Permission denied\"" \
	"the account refusal names the missing entry in syslog"

# A stack that never calls pam_acct_mgmt (no account line, or a caller
# that skips it) still has the gate: authenticate refuses.
write_service oa2gauthonly <<SVC
auth    required @MODULE@ config=$CONF
SVC
mark_log
out=$(printf '%s\n' "$PW" | pamg oa2gauthonly "$NOSCOPE" auth)
is "$out" "auth=PAM_AUTH_ERR" "no account hook: authenticate refuses a login without scope:pam:login"
like "$(log_since)" "decision user=$NOSCOPE service=oa2gauthonly .*result=deny reason=missing_required .* missing=scope:pam:login\$" \
	"logged with reason=missing_required and missing="
out=$(printf '%s\n' "$PW" | pamg oa2gauthonly "$USER1" auth)
is "$out" "auth=PAM_SUCCESS" "no account hook: a login with scope:pam:login passes"

# ---------------------------------------------------------------- sources
# A claim value named like a scope (pam:login, admin, even scope:admin)
# never satisfies a scope: mapping or gate; a scope token named like a
# claim value (ops, claim:ops) never satisfies a claim: one.
ROLEY=oa2groley
SCOPEY=oa2gscopey
add_user "$ROLEY"
add_user "$SCOPEY"
mock_ctl users "$(cat <<JSON
{ "$ADMIN": { "password": "$PW", "scope": "openid profile admin pam:login",
    "claims": { "groups": ["ops", "devs"], "realm_access": { "roles": ["db"] } } },
  "$USER1": { "password": "$PW", "scope": "openid profile pam:login",
    "claims": { "groups": ["devs"] } },
  "$NOSCOPE": { "password": "$PW", "scope": "openid profile",
    "claims": { "groups": ["ops"] } },
  "$ROLEY": { "password": "$PW", "scope": "openid profile",
    "claims": { "groups": ["pam:login", "admin", "scope:pam:login", "scope:admin", "ops"] } },
  "$SCOPEY": { "password": "$PW", "scope": "openid pam:login ops claim:ops db claim:db",
    "claims": { "groups": [] } } }
JSON
)" >/dev/null
mark_log
out=$(printf '%s\n' "$PW" | pamg oa2gauthonly "$ROLEY" auth)
is "$out" "auth=PAM_AUTH_ERR" "claim values pam:login and scope:pam:login do not satisfy required_scopes = scope:pam:login"
like "$(log_since)" "reason=missing_required .* missing=scope:pam:login\$" "logged as the missing scope"
out=$(printf '%s\n' "$PW" | pamg oa2gacctonly "$ROLEY" auth acct setcred groups)
like "$out" 'acct=PAM_PERM_DENIED' "nor the account gate"
write_service oa2gnoreq <<SVC
auth    required @MODULE@ config=$CONF_NOREQ
account required @MODULE@ config=$CONF_NOREQ
SVC
out=$(printf '%s\n' "$PW" | pamg oa2gnoreq "$ROLEY" auth acct setcred groups)
like "$out" 'acct=PAM_SUCCESS' "without the gate the role user logs in"
is "$(echo "$out" | tail -1)" "groups=oa2g_ops" \
	"claim values admin/pam:login/scope:admin get no scope: group; claim:ops maps"
out=$(printf '%s\n' "$PW" | pamg oa2gnoreq "$SCOPEY" auth acct setcred groups)
is "$(echo "$out" | tail -1)" "groups=oa2g_ssh" \
	"scopes ops/claim:ops/db/claim:db get no claim: group; scope:pam:login maps"
write_service oa2gclaimgate <<SVC
auth    required @MODULE@ config=$CONF_NOREQ required_scopes=claim:ops
SVC
mark_log
out=$(printf '%s\n' "$PW" | pamg oa2gclaimgate "$SCOPEY" auth)
is "$out" "auth=PAM_AUTH_ERR" "scope tokens ops and claim:ops do not satisfy required_scopes = claim:ops"
like "$(log_since)" "reason=missing_required .* missing=claim:ops\$" "logged as the missing claim value"
out=$(printf '%s\n' "$PW" | pamg oa2gclaimgate "$ROLEY" auth)
is "$out" "auth=PAM_SUCCESS" "the claim value ops does"

# ---------------------------------------------------------------- configuration errors
# An unprefixed [groups] key or required_scopes entry is PAM_SERVICE_ERR
# with a message that names file:line and says what to write.
for what in groups required; do
	BAD="$TESTTMP/bad-$what.conf"
	if [ $what = groups ]; then
		{ grep -v '^\[groups\]' "$CONF_NOREQ" | grep -v '^scope:\|^claim:'; printf '[groups]\nadmin = oa2g_wheel\n'; } | write_conf "$BAD"
		want="$BAD:$(grep -n '^admin = ' "$BAD" | cut -d: -f1): \\[groups\\] key \"admin\" must name its source: write scope:admin \\(a granted scope\\) or claim:admin \\(a value of groups_claim\\)"
	else
		{ echo "required_scopes = scope:openid pam:login"; cat "$CONF_NOREQ"; } | write_conf "$BAD"
		want="$BAD:$(grep -n '^required_scopes' "$BAD" | cut -d: -f1): required_scopes entry \"pam:login\" must name its source: write scope:pam:login \\(a granted scope\\) or claim:pam:login \\(a value of groups_claim\\)"
	fi
	write_service oa2gbad <<SVC
auth    required @MODULE@ config=$BAD
account required @MODULE@ config=$BAD
SVC
	mark_log
	out=$(printf '%s\n' "$PW" | pamg oa2gbad "$ADMIN" auth)
	is "$out" "auth=PAM_SERVICE_ERR" "unprefixed $what entry: PAM_SERVICE_ERR"
	like "$(log_since)" "configuration error: $want" "unprefixed $what entry: syslog names file:line and what to write"
done
write_service oa2gbad <<SVC
auth    required @MODULE@ config=$CONF_NOREQ required_scopes=pam:login
SVC
mark_log
out=$(printf '%s\n' "$PW" | pamg oa2gbad "$ADMIN" auth)
is "$out" "auth=PAM_SERVICE_ERR" "unprefixed required_scopes module argument: PAM_SERVICE_ERR"
like "$(log_since)" 'configuration error: module arguments: required_scopes entry "pam:login" must name its source' "and logged"

# client_secret as a module argument: /etc/pam.d is world-readable.
write_service oa2gsecret <<SVC
auth    required @MODULE@ config=$CONF_NOREQ client_secret=$SECRET
SVC
mock_reset
mark_log
out=$(printf '%s\n' "$PW" | pamg oa2gsecret "$USER1" auth)
is "$out" "auth=PAM_SERVICE_ERR" "client_secret as a module argument: PAM_SERVICE_ERR"
log=$(log_since)
like "$log" 'configuration error: module arguments: client_secret is not allowed as a module argument .*client_secret_file' \
	"the message says where the secret belongs"
unlike "$log" "$SECRET" "the secret is not logged"
is "$(mock_count /token)" 0 "nothing sent to the IdP"

# ---------------------------------------------------------------- required_claims
write_service oa2gclaims <<SVC
auth    required @MODULE@ config=$CONF_NOREQ required_claims=email_verified=true
SVC
for c in 'true:PAM_SUCCESS' 'false:PAM_AUTH_ERR' '"true":PAM_AUTH_ERR' 'null:PAM_AUTH_ERR' '1:PAM_AUTH_ERR'; do
	v=${c%:*} want=${c##*:}
	mock_reset
	mock_scenario "{\"id_token_claims\": {\"email_verified\": $v}}"
	mark_log
	out=$(printf '%s\n' "$PW" | pamg oa2gclaims "$USER1" auth)
	[ "$v" = null ] && what="email_verified absent" || what="email_verified $v"
	is "$out" "auth=$want" "required_claims email_verified=true, $what: $want"
	if [ "$want" = PAM_AUTH_ERR ]; then
		like "$(log_since)" "reason=required_claim .* missing=email_verified\$" "$what: reason=required_claim missing=email_verified"
	fi
done
mock_reset
write_service oa2gclaims <<SVC
auth    required @MODULE@ config=$CONF_NOREQ [required_claims=hd=corp.example flag="false"]
SVC
mock_scenario '{"id_token_claims": {"hd": "corp.example", "flag": "false"}}'
is "$(printf '%s\n' "$PW" | pamg oa2gclaims "$USER1" auth)" "auth=PAM_SUCCESS" \
	'required_claims hd=corp.example flag="false": strings match byte for byte'
mock_scenario '{"id_token_claims": {"hd": "corp.example", "flag": false}}'
is "$(printf '%s\n' "$PW" | pamg oa2gclaims "$USER1" auth)" "auth=PAM_AUTH_ERR" \
	'flag="false" (a string) is not the JSON boolean false'
mock_reset

# acct_mgmt for users this module did not authenticate: PAM_IGNORE.
write_service oa2gacct <<SVC
auth    required @MODULE@ config=$CONF
account [success=done ignore=ignore default=die] @MODULE@ config=$CONF
account requisite pam_deny.so
SVC
is "$(pamg oa2gacct "$ADMIN" acct </dev/null)" "acct=PAM_AUTH_ERR" \
	"acct without our authentication: PAM_IGNORE (fell through to pam_deny)"
is "$(printf 'wrong\n' | pamg oa2gacct "$ADMIN" auth acct | tail -1)" "acct=PAM_AUTH_ERR" \
	"acct after a failed authentication: PAM_IGNORE"

out=$(printf '%s\n' "$PW" | pamg oa2g "$ADMIN" auth setcred groups)
is "$(echo "$out" | tail -1)" "groups=" "setcred without acct_mgmt: the grant is not confirmed, no groups"
like "$out" 'setcred=PAM_SUCCESS' "and PAM_SUCCESS"
out=$(pamg oa2g "$ADMIN" setcred groups </dev/null)
is "$out" $'setcred=PAM_SUCCESS\ngroups=' "setcred without any authentication: PAM_SUCCESS, no groups"
out=$(printf '%s\n' "$PW" | pamg oa2g "$ADMIN" auth acct setcred_delete setcred_refresh groups)
like "$out" 'setcred_delete=PAM_SUCCESS' "DELETE_CRED: PAM_SUCCESS"
like "$out" 'setcred_refresh=PAM_SUCCESS' "REFRESH_CRED: PAM_SUCCESS"
is "$(echo "$out" | tail -1)" "groups=" "DELETE/REFRESH add no groups"
out=$(printf '%s\n' "$PW" | pamg oa2g "$USER1" auth acct setcred_reinit groups)
is "$(echo "$out" | tail -1)" "groups=oa2g_ssh" "REINITIALIZE_CRED adds the groups"
out=$(printf '%s\n' "$PW" | pamg oa2g "$ADMIN" auth acct setuser=root setcred groups)
like "$out" 'setcred=PAM_SUCCESS' "setcred for another user (sudo's runas): PAM_SUCCESS"
is "$(echo "$out" | tail -1)" "groups=" "and none of the authenticated user's groups"

# allow_gid0, and groups_claim with a nested path, as module arguments.
write_service oa2gz <<SVC
auth    required @MODULE@ config=$CONF allow_gid0 groups_claim=realm_access.roles
account required @MODULE@ config=$CONF
SVC
out=$(printf '%s\n' "$PW" | pamg oa2gz "$ADMIN" auth acct setcred groups)
is "$(echo "$out" | tail -1)" "groups=oa2g_db,oa2g_docker,oa2g_ssh,oa2g_wheel,root" \
	"allow_gid0 grants GID 0; realm_access.roles gives db, not the top-level groups"

# Claims of the wrong type are a bad response.
for bad in '5' '["ops", 1]' '{"a": "b"}' 'true'; do
	mock_reset
	mock_scenario "{\"id_token_claims\": {\"groups\": $bad}}"
	mark_log
	out=$(printf '%s\n' "$PW" | pamg oa2g "$ADMIN" auth acct setcred groups)
	like "$out" '^auth=PAM_AUTHINFO_UNAVAIL' "groups claim $bad: PAM_AUTHINFO_UNAVAIL"
	like "$(log_since)" 'reason=groups_claim_type' "logged as groups_claim_type"
done
mock_reset
mock_scenario '{"id_token_claims": {"groups": "ops"}}'
out=$(printf '%s\n' "$PW" | pamg oa2g "$USER1" auth acct setcred groups)
is "$(echo "$out" | tail -1)" "groups=oa2g_ops,oa2g_ssh" "a single string claim is one value"

# RFC 6749 5.1: a response without scope granted the requested scope.
mock_reset
mock_scenario '{"token_response_overrides": {"scope": null}}'
out=$(printf '%s\n' "$PW" | pamg oa2g "$ADMIN" auth acct)
like "$out" 'auth=PAM_AUTH_ERR' "scope omitted: granted = requested (openid profile), pam:login missing"
write_service oa2gscope <<SVC
auth    required @MODULE@ config=$CONF [scope=openid pam:login]
account required @MODULE@ config=$CONF
SVC
out=$(printf '%s\n' "$PW" | pamg oa2gscope "$ADMIN" auth acct setcred groups)
like "$out" 'acct=PAM_SUCCESS' "scope omitted, pam:login requested: allowed"
is "$(echo "$out" | tail -1)" "groups=oa2g_ops,oa2g_ssh" \
	"only the requested scopes count (not admin, which the IdP would have given)"
mock_reset

# ---------------------------------------------------------------- grant store
# sshd (keyboard-interactive) runs auth+acct in one child of its
# per-connection monitor and setcred in another; the monitor is a session
# leader.  Here a bash started by setsid plays the monitor.
insession() { setsid -w bash -c "$1
true"; }

rm -rf "$STATE"
mark_log
out=$(insession '
	pamg oa2g '"$ADMIN"' auth acct <<<"$PW"
	echo "files=$(ls -A "$STATE" | tr "\n" " ")"
	echo "$(stat -c "mode=%a owner=%u" "$STATE"/s*) $(stat -c "dirmode=%a" "$STATE")"
	echo "sid=$$ start=$(awk "{print \$22}" /proc/$$/stat)"
	pamg oa2g '"$ADMIN"' setcred groups </dev/null
	echo "after=$(ls -A "$STATE" | tr "\n" " ")"
	pamg oa2g '"$ADMIN"' setcred groups </dev/null')
sid=$(echo "$out" | sed -n 's/^sid=\([0-9]*\) .*/\1/p')
start=$(echo "$out" | sed -n 's/.* start=\([0-9]*\)$/\1/p')
like "$out" 'acct=PAM_SUCCESS' "sibling: auth+acct in one child"
is "$(echo "$out" | sed -n 's/^files=//p')" "s$sid-$start " \
	"acct wrote one record named by the session and its leader's start time"
like "$out" 'mode=600 owner=0 dirmode=700' "record 0600 root, state_dir 0700"
is "$(echo "$out" | grep '^groups=' | head -1)" "groups=oa2g_docker,oa2g_ops,oa2g_ssh,oa2g_wheel" \
	"setcred in a sibling process applies the grant"
is "$(echo "$out" | sed -n 's/^after=//p')" "" "the record was consumed"
is "$(echo "$out" | grep '^groups=' | tail -1)" "groups=" "a second setcred in the session gets nothing"
like "$(log_since)" "groups user=$ADMIN granted=oa2g_wheel,oa2g_docker,oa2g_ssh,oa2g_ops source=store" \
	"logged with source=store"

# A later login in a new session (what a public-key login is: a new sshd
# connection) finds nothing.
out=$(insession 'pamg oa2g '"$ADMIN"' auth acct <<<"$PW"')
out=$(insession 'pamg oa2g '"$ADMIN"' setcred groups </dev/null; ls -A "$STATE" | sed "s/^/left=/"')
is "$(echo "$out" | grep '^groups=')" "groups=" "new session (public-key login): no groups"
like "$out" "left=s" "the other session's record was not taken"
rm -f "$STATE"/s*

# Processes that are not children of a session leader use no store.
printf '%s\n' "$PW" | pamg oa2g "$ADMIN" auth acct >/dev/null
out=$(pamg oa2g "$ADMIN" setcred groups </dev/null)
is "$(echo "$out" | tail -1)" "groups=" "two unrelated processes: no channel"
is "$(ls -A "$STATE")" "" "nothing written outside a session leader's children"

# The record is for one user only.
mark_log
out=$(insession '
	pamg oa2g '"$ADMIN"' auth acct <<<"$PW" >/dev/null
	pamg oa2g '"$USER1"' setcred groups </dev/null
	pamg oa2g '"$ADMIN"' setcred groups </dev/null')
is "$(echo "$out" | grep '^groups=' | head -1)" "groups=" "setcred for another user: nothing"
is "$(echo "$out" | grep '^groups=' | tail -1)" "groups=" "and the record is gone (refused records are removed)"
like "$(log_since)" "record s[0-9]+-[0-9]+ for user $USER1 refused: other_user" "logged as other_user"

# Expired: the same record, stamped 1000 s after its creation (a stamp in
# the future is refused as expired).  Not 1000 s before: the stamp is
# CLOCK_BOOTTIME seconds, and a machine that booted less than 1000 s ago
# has no such time.  Records older than GRANTSTORE_TTL, and small boot
# times, are covered in tests/unit/test_groups.c.
mark_log
out=$(insession '
	pamg oa2g '"$ADMIN"' auth acct <<<"$PW" >/dev/null
	f=$(ls "$STATE"/s*)
	c=$(sed -n "s/^created //p" "$f")
	sed -i "s/^created .*/created $((c + 1000))/" "$f"; chmod 600 "$f"
	pamg oa2g '"$ADMIN"' setcred groups </dev/null
	echo "left=$(ls -A "$STATE")"')
is "$(echo "$out" | grep '^groups=')" "groups=" "expired record: no groups"
is "$(echo "$out" | sed -n 's/^left=//p')" "" "expired record removed"
like "$(log_since)" "refused: expired" "logged as expired"

# Unsafe records: readable by others, hard-linked, a symbolic link.
for how in chmod link symlink; do
	out=$(insession '
		pamg oa2g '"$ADMIN"' auth acct <<<"$PW" >/dev/null
		f=$(ls "$STATE"/s*)
		case '"$how"' in
		chmod) chmod 644 "$f" ;;
		link) ln "$f" "$TESTTMP/hardlink" ;;
		symlink) mv "$f" "$TESTTMP/target"; ln -s "$TESTTMP/target" "$f" ;;
		esac
		pamg oa2g '"$ADMIN"' setcred groups </dev/null
		echo "left=$(ls -A "$STATE")"')
	is "$(echo "$out" | grep '^groups=')" "groups=" "record made unsafe ($how): ignored"
	is "$(echo "$out" | sed -n 's/^left=//p')" "" "and removed ($how)"
	rm -f "$TESTTMP/hardlink" "$TESTTMP/target"
done

# A state_dir others can enter is not used at all.
chmod 0755 "$STATE"
mark_log
out=$(insession '
	pamg oa2g '"$ADMIN"' auth acct <<<"$PW"
	pamg oa2g '"$ADMIN"' setcred groups </dev/null')
like "$out" 'acct=PAM_SUCCESS' "unsafe state_dir: the login still passes acct"
is "$(echo "$out" | grep '^groups=')" "groups=" "but no groups through it"
like "$(log_since)" 'unsafe \(must be a directory owned by root, mode 0700\)' "logged"
chmod 0700 "$STATE"

# A refused acct in the child writes nothing and drops an earlier record.
out=$(insession '
	pamg oa2gacctonly '"$NOSCOPE"' auth acct <<<"$PW"
	echo "files=$(ls -A "$STATE")"
	pamg oa2gacctonly '"$NOSCOPE"' setcred groups </dev/null')
like "$out" 'acct=PAM_PERM_DENIED' "child: acct refused"
is "$(echo "$out" | sed -n 's/^files=//p')" "" "no record for a refused login"
is "$(echo "$out" | grep '^groups=')" "groups=" "no groups"

# A failed authentication writes nothing either.
out=$(insession '
	pamg oa2g '"$ADMIN"' auth acct <<<wrong
	echo "files=$(ls -A "$STATE")"')
is "$(echo "$out" | sed -n 's/^files=//p')" "" "failed authentication: no record"

# sshd's SSH_AUTH_INFO_0 naming only another method vetoes the grant.
mark_log
out=$(insession '
	pamg oa2g '"$ADMIN"' auth acct <<<"$PW" >/dev/null
	pamg oa2g '"$ADMIN"' "putenv=SSH_AUTH_INFO_0=publickey ssh-ed25519 AAAAC3Nz" setcred groups </dev/null
	echo "left=$(ls -A "$STATE")"')
is "$(echo "$out" | grep '^groups=')" "groups=" "SSH_AUTH_INFO_0=publickey: no groups"
is "$(echo "$out" | sed -n 's/^left=//p')" "" "the record is consumed anyway"
like "$(log_since)" 'reason=other_ssh_method' "logged"
out=$(insession '
	pamg oa2g '"$USER1"' auth acct <<<"$PW" >/dev/null
	pamg oa2g '"$USER1"' "putenv=SSH_AUTH_INFO_0=keyboard-interactive/pam" setcred groups </dev/null')
is "$(echo "$out" | grep '^groups=')" "groups=oa2g_ssh" "SSH_AUTH_INFO_0=keyboard-interactive: groups"

# ---------------------------------------------------------------- group_sync
write_service oa2gsync <<SVC
auth    required @MODULE@ config=$CONF group_sync=yes
account required @MODULE@ config=$CONF
SVC
members() { getent group "$1" | cut -d: -f4; }
has_member() { members "$1" | tr ',' '\n' | grep -qx "$2"; }
gs_member() { grep "^$1:" /etc/gshadow | cut -d: -f4 | tr ',' '\n' | grep -qx "$2"; }
GS_MODE=$(stat -c '%a %u %g' /etc/gshadow)

gpasswd -a "$ADMIN" oa2g_other >/dev/null   # a group outside the mapping
gpasswd -a "$ADMIN" oa2g_db >/dev/null      # mapped, never granted: an admin's old addition
out=$(printf '%s\n' "$PW" | pamg oa2gsync "$ADMIN" auth acct setcred groups)
is "$(echo "$out" | tail -1)" "groups=oa2g_docker,oa2g_ops,oa2g_ssh,oa2g_wheel" "group_sync: session groups too"
st=0; for g in oa2g_wheel oa2g_docker oa2g_ssh oa2g_ops; do has_member "$g" "$ADMIN" || st=1; done
ok "$st" "/etc/group: admin added to wheel, docker, ssh, ops"
has_member oa2g_db "$ADMIN" && st=1 || st=0
ok "$st" "not to db (its claim is not groups_claim here): removed from it"
st=0; for g in oa2g_wheel oa2g_docker oa2g_ssh oa2g_ops; do gs_member "$g" "$ADMIN" || st=1; done
ok "$st" "/etc/gshadow: admin added to the same groups"
gs_member oa2g_db "$ADMIN" && st=1 || st=0
ok "$st" "/etc/gshadow: and removed from db too (else sg/newgrp would still grant it)"
gs_member oa2g_other "$ADMIN"; ok $? "/etc/gshadow: a group outside the mapping is not touched"
is "$(stat -c '%a %u %g' /etc/gshadow)" "$GS_MODE" "/etc/gshadow mode and owner kept"
grep -q "^root:.*$ADMIN" /etc/group && st=1 || st=0
ok "$st" "never to a GID 0 group"
is "$(stat -c '%a %u %g' /etc/group)" "$G_MODE" "/etc/group mode and owner kept"
ok "$( [ ! -e /etc/group.lock ] && ! ls /etc/group.oa2.* >/dev/null 2>&1; echo $?)" "no lock or temporary file left"

# The IdP no longer grants admin and ops: a new login removes those.
mock_ctl users "{\"$ADMIN\": {\"password\": \"$PW\", \"scope\": \"openid pam:login\", \"claims\": {}}}" >/dev/null
out=$(printf '%s\n' "$PW" | pamg oa2gsync "$ADMIN" auth acct setcred groups)
is "$(echo "$out" | tail -1)" "groups=oa2g_ssh" "session: only ssh now"
st=0; for g in oa2g_wheel oa2g_docker oa2g_ops; do has_member "$g" "$ADMIN" && st=1; done
ok "$st" "/etc/group: admin removed from wheel, docker, ops"
st=0; for g in oa2g_wheel oa2g_docker oa2g_ops; do gs_member "$g" "$ADMIN" && st=1; done
ok "$st" "/etc/gshadow: removed there too"
has_member oa2g_ssh "$ADMIN"; ok $? "still in ssh"
has_member oa2g_other "$ADMIN"; ok $? "a group outside the mapping is not touched"

# Both locks before either file is written: with /etc/gshadow.lock held
# (by a live process, as shadow-utils' sgr_lock writes it), a login that
# revokes admin's wheel, docker and ops changes neither file.
mock_ctl users "{\"$ADMIN\": {\"password\": \"$PW\", \"scope\": \"openid admin pam:login\", \"claims\": {\"groups\": [\"ops\"]}}}" >/dev/null
printf '%s\n' "$PW" | pamg oa2gsync "$ADMIN" auth acct setcred >/dev/null
has_member oa2g_wheel "$ADMIN" && gs_member oa2g_wheel "$ADMIN"
ok $? "admin back in wheel (both files) before the lock case"
mock_ctl users "{\"$ADMIN\": {\"password\": \"$PW\", \"scope\": \"openid pam:login\", \"claims\": {}}}" >/dev/null
[ -e /etc/gshadow.lock ] && bail "/etc/gshadow.lock exists already"
sleep 300 &
holder=$!
on_exit "kill $holder; rm -f /etc/gshadow.lock"
printf '%s' "$holder" >"/etc/gshadow.$holder" && ln "/etc/gshadow.$holder" /etc/gshadow.lock && rm -f "/etc/gshadow.$holder"
g_before=$(sha256sum </etc/group) gs_before=$(sha256sum </etc/gshadow)
mark_log
out=$(printf '%s\n' "$PW" | pamg oa2gsync "$ADMIN" auth acct setcred groups)
like "$out" 'setcred=PAM_SUCCESS' "gshadow locked: the login itself goes on"
is "$(sha256sum </etc/group)" "$g_before" "gshadow locked: /etc/group not written either"
is "$(sha256sum </etc/gshadow)" "$gs_before" "gshadow locked: /etc/gshadow not written"
like "$(log_since)" 'group_sync: cannot lock /etc/gshadow\.lock: nothing written' "the lock failure is logged"
is "$(cat /etc/gshadow.lock 2>/dev/null)" "$holder" "the other process's lock is left alone"
kill "$holder"; wait "$holder" 2>/dev/null
rm -f /etc/gshadow.lock
is "$(ls -d /etc/group.oa2* /etc/gshadow.oa2* /etc/.pam_oauth2-groupsync* 2>/dev/null)" "" \
	"no temporary file or journal left"

# Killed between the two renames (the test-only module's fault point):
# gshadow already lost the revoked member, /etc/group not yet; the journal
# left behind makes the module's account step of the next login, whoever
# logs in and however (here another user that the module did not
# authenticate, as a key login would be), remove it from /etc/group too
# before that session reads the group file.
FAULTMODULE="$top_builddir/tests/lib/.libs/pam_oauth2_fault.so"
[ -f "$FAULTMODULE" ] || bail "fault module not built: $FAULTMODULE"
cat >"$TESTTMP/pam.d/oa2gfault" <<SVC
auth    required $FAULTMODULE config=$CONF group_sync=yes
account required $FAULTMODULE config=$CONF
SVC
# admin still has wheel (the locked login changed nothing).
has_member oa2g_wheel "$ADMIN" && gs_member oa2g_wheel "$ADMIN"
ok $? "admin in wheel (both files) before the kill"
out=$(printf '%s\n' "$PW" | OA2_FAULT_KILL=groupsync_between_renames pamg oa2gfault "$ADMIN" auth acct setcred; echo "exit=$?")
like "$out" 'exit=137' "the login was killed (SIGKILL) between the renames"
unlike "$out" 'setcred=' "so setcred never returned"
gs_member oa2g_wheel "$ADMIN" && st=1 || st=0
ok "$st" "after the kill: /etc/gshadow (renamed first) no longer lists admin in wheel"
ok "$([ -f /etc/.pam_oauth2-groupsync ]; echo $?)" "after the kill: the journal of the revocation is there"
is "$(stat -c '%a %u' /etc/.pam_oauth2-groupsync 2>/dev/null)" "600 0" "journal root-only"
grep -qx "$ADMIN oa2g_wheel" /etc/.pam_oauth2-groupsync
ok $? "the journal names admin and wheel"
ok "$([ -n "$(ls -d /etc/group.oa2.* 2>/dev/null)" ]; echo $?)" "after the kill: its new /etc/group is left (not renamed)"
has_member oa2g_wheel "$ADMIN" && echo "# after the kill /etc/group still lists admin in wheel (until the next group_sync)"
mark_log
cat >"$TESTTMP/pam.d/oa2grecover" <<SVC
account required $MODULE config=$CONF group_sync=yes
SVC
out=$(pamg oa2grecover "$USER1" acct)
like "$out" 'acct=' "the next login's account step runs (a user the module did not authenticate)"
st=0; for g in oa2g_wheel oa2g_docker oa2g_ops; do has_member "$g" "$ADMIN" && st=1; gs_member "$g" "$ADMIN" && st=1; done
ok "$st" "the revoked memberships are in neither file now"
like "$(log_since)" "group_sync: finishing the revocations of an interrupted group_sync" \
	"syslog says the interrupted revocation was finished"
has_member oa2g_ssh "$ADMIN" && gs_member oa2g_ssh "$ADMIN"
ok $? "admin's remaining grant (ssh) is untouched"
ok "$([ ! -e /etc/.pam_oauth2-groupsync ]; echo $?)" "the journal is gone"
is "$(ls -d /etc/group.oa2* /etc/gshadow.oa2* /etc/.pam_oauth2-groupsync* 2>/dev/null)" "" \
	"the next group_sync removed the killed login's new /etc/group file"

# A signal that can be blocked (SIGTERM: sshd's LoginGraceTime, a service
# stop, an admin's kill) arriving between the two renames waits until
# both files are final: the process then dies of it, with admin in
# neither file and nothing left behind.
grant_wheel() {
	mock_ctl users "{\"$ADMIN\": {\"password\": \"$PW\", \"scope\": \"openid admin pam:login\", \"claims\": {\"groups\": [\"ops\"]}}}" >/dev/null
	printf '%s\n' "$PW" | pamg oa2gsync "$ADMIN" auth acct setcred >/dev/null
	has_member oa2g_wheel "$ADMIN" && gs_member oa2g_wheel "$ADMIN"
	ok $? "admin back in wheel (both files) before $1"
	mock_ctl users "{\"$ADMIN\": {\"password\": \"$PW\", \"scope\": \"openid pam:login\", \"claims\": {}}}" >/dev/null
}
grant_wheel "the SIGTERM case"
out=$(printf '%s\n' "$PW" | OA2_FAULT_TERM=groupsync_between_renames pamg oa2gfault "$ADMIN" auth acct setcred; echo "exit=$?")
like "$out" 'exit=143' "SIGTERM sent between the renames: the login died of it"
st=0; for g in oa2g_wheel oa2g_docker oa2g_ops; do has_member "$g" "$ADMIN" && st=1; gs_member "$g" "$ADMIN" && st=1; done
ok "$st" "SIGTERM between the renames: the revoked memberships are in neither file at once"
is "$(ls -d /etc/group.oa2* /etc/gshadow.oa2* /etc/.pam_oauth2-groupsync* /etc/group.lock /etc/gshadow.lock 2>/dev/null)" "" \
	"SIGTERM between the renames: no journal, new file or lock left"

# SIGKILL cannot be blocked: the journal is finished by the next call of
# the module for any user, in the auth step too (a stack without the
# account line; here a wrong password of another user).
grant_wheel "the auth-step recovery"
out=$(printf '%s\n' "$PW" | OA2_FAULT_KILL=groupsync_between_renames pamg oa2gfault "$ADMIN" auth acct setcred; echo "exit=$?")
like "$out" 'exit=137' "killed (SIGKILL) between the renames again"
has_member oa2g_wheel "$ADMIN"
ok $? "after the SIGKILL /etc/group still lists admin in wheel (the window the journal covers)"
cat >"$TESTTMP/pam.d/oa2grecauth" <<SVC
auth required $MODULE config=$CONF group_sync=yes
SVC
mark_log
out=$(printf 'wrong\n' | pamg oa2grecauth "$USER1" auth)
like "$out" 'auth=PAM_AUTH_ERR' "another user's failed authentication (auth step only)"
st=0; for g in oa2g_wheel oa2g_docker oa2g_ops; do has_member "$g" "$ADMIN" && st=1; gs_member "$g" "$ADMIN" && st=1; done
ok "$st" "its auth step finished the revocation: admin in neither file"
like "$(log_since)" "group_sync: finishing the revocations of an interrupted group_sync" \
	"syslog says so"
is "$(ls -d /etc/group.oa2* /etc/gshadow.oa2* /etc/.pam_oauth2-groupsync* 2>/dev/null)" "" \
	"the auth-step recovery left no journal or new file"

# Without group_sync nothing is written.
before=$(sha256sum </etc/group)
mock_ctl users "{\"$ADMIN\": {\"password\": \"$PW\", \"scope\": \"openid admin pam:login\", \"claims\": {}}}" >/dev/null
printf '%s\n' "$PW" | pamg oa2g "$ADMIN" auth acct setcred >/dev/null
is "$(sha256sum </etc/group)" "$before" "without group_sync /etc/group is not written"

# Racing: useradd/groupadd in a loop while logins rewrite /etc/group.
N=25
(
	for i in $(seq 1 $N); do
		groupadd "oa2g_r$i" && useradd -M -N -g users -s /usr/sbin/nologin "oa2gr$i" || echo "RACEFAIL $i"
	done
) >"$TESTTMP/race.out" 2>&1 &
racer=$!
on_exit "for oa2gn in \$(seq 1 $N); do userdel -f oa2gr\$oa2gn; groupdel oa2g_r\$oa2gn; done"
logins=0 fails=0
while kill -0 "$racer" 2>/dev/null || [ "$logins" -lt 6 ]; do
	if [ $((logins % 2)) = 0 ]; then s='openid admin pam:login'; else s='openid pam:login'; fi
	mock_ctl users "{\"$ADMIN\": {\"password\": \"$PW\", \"scope\": \"$s\", \"claims\": {}}}" >/dev/null
	out=$(printf '%s\n' "$PW" | pamg oa2gsync "$ADMIN" auth acct setcred)
	echo "$out" | grep -q 'setcred=PAM_SUCCESS' || fails=$((fails + 1))
	logins=$((logins + 1))
	[ "$logins" -gt 200 ] && break
done
wait "$racer"
is "$(cat "$TESTTMP/race.out")" "" "useradd/groupadd all succeeded while racing $logins logins"
ok "$([ "$logins" -ge 6 ] && echo 0 || echo 1)" "at least 6 logins raced ($logins)"
is "$fails" 0 "every racing login succeeded"
missing=0
for i in $(seq 1 $N); do
	grep -q "^oa2g_r$i:" /etc/group || missing=$((missing + 1))
	grep -q "^oa2gr$i:" /etc/passwd || missing=$((missing + 1))
done
is "$missing" 0 "all $N groups and users made during the race are in /etc/group and /etc/passwd"
bad=$(awk -F: 'NF != 4' /etc/group | grep -v '^#' | wc -l)
is "$bad" 0 "/etc/group: every line still has four fields"
is "$(awk -F: '{print $1}' /etc/group | sort | uniq -d)" "" "no duplicated group"
last_admin=$([ $(((logins - 1) % 2)) = 0 ] && echo yes || echo no)
has_member oa2g_wheel "$ADMIN" && inwheel=yes || inwheel=no
is "$inwheel" "$last_admin" "membership follows the last login"
is "$(stat -c '%a %u %g' /etc/group)" "$G_MODE" "mode and owner kept through the race"
grpck -r >/dev/null 2>&1; rc=$?
ok "$([ $rc -le 2 ] && echo 0 || echo 1)" "grpck -r can read the file (rc $rc)"
[ "$(stable_lines /etc/group)" = "$(stable_lines "$GROUPS_BACKUP")" ]
ok $? "/etc/group: all other lines as they were"

# Clean up here (the exit traps stay as a fallback) so that the
# restoration of /etc/group is itself a test.
for i in $(seq 1 $N); do userdel -f "oa2gr$i"; groupdel "oa2g_r$i"; done 2>/dev/null
for u in "$ADMIN" "$USER1" "$NOSCOPE" "$ROLEY" "$SCOPEY"; do userdel -f "$u"; done 2>/dev/null
for g in oa2g_wheel oa2g_docker oa2g_ssh oa2g_ops oa2g_db oa2g_other; do groupdel "$g"; done 2>/dev/null
is "$(grep -cE '(^|[:,])(oa2g_|oa2gadmin|oa2guser|oa2gnoscope|oa2gr[0-9])' /etc/group)" 0 \
	"cleanup: no entry or member of this test left in /etc/group"
[ "$(stable_lines /etc/group)" = "$(stable_lines "$GROUPS_BACKUP")" ]
ok $? "cleanup: /etc/group as it was before the test (apart from other tests' oa2* entries)"
done_testing
