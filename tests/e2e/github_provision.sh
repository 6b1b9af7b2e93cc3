#!/usr/bin/env bash
# github_provision.sh - GitHub users who exist only at GitHub (issue 16 with
# issue 13's provision = yes, docs/providers/github.md "Provisioned
# users"): real ssh with keyboard-interactive on an 80x24 tmux terminal,
# through a private sshd (pam.d-examples/sshd, the module limited to the
# device grant) and the built NSS module, in the private mount namespace
# and overlays of provision-lib.sh, against the mock IdP's GitHub mode
# (provider = github, github_url = the mock: the GitHub Enterprise Server
# layout).  Each sign-in is approved on the mock's own approval page as
# the GitHub user the case names.  A record is bound to the user API
# (github_url/api/v3/user) and the numeric id, never the login:
#   * first login of a GitHub-only user: the placeholder, then the record
#     (pam_oauth2ctl user show: issuer, sub = the id), the UID, the private
#     group and the mapped team/org groups (id -Gn), the id in the
#     provision and decision lines; a second connection: the same UID;
#   * renamed at GitHub (same id, new login): the new name is refused
#     (sub_bound), the old record keeps its name, UID and id;
#   * another id holding the login (in the mapped team, so the gate
#     passes): refused (name_reassigned), never the old UID;
#   * a user in no mapped team: refused by the gate, no record, no home;
#   * the documented remedy for a rename: pam_oauth2ctl user remove OLD,
#     then the new login gets a record of its own (a new UID: the old one
#     stays reserved), bound to the same id;
#   * another user_endpoint (another identity namespace): the record is
#     someone else's (name_reassigned).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/e2e-lib.sh" "$@"
. "$top_srcdir/tests/e2e/provision-lib.sh"

e2e_need sshd ssh ssh-keygen curl getent id
# term-lib.sh's sshd_said METHOD USER replaces provision-lib.sh's.
. "$top_srcdir/tests/e2e/term-lib.sh"
prov_init

ID=$E2E_ID
ANN=oa2e2e_p${ID}_ann       # GitHub id 4201
ANN2=oa2e2e_p${ID}_ann2     # the same GitHub account after a rename
BOB=oa2e2e_p${ID}_bob       # GitHub id 4202, in no mapped team
G_OPS=oa2gp${ID}_ghsre      # team acme/sre
G_ORG=oa2gp${ID}_ghacme     # org acme
UMIN=1879048592
UMAX=1879048691
SVC=oa2e2e-gpsshd-$ID

prov_overlays "^(oa2e2e_p${ID}_|oa2gp${ID}_)" <<NSSCONF
uid_range = $UMIN-$UMAX
provision_names = oa2e2e_p${ID}_*
home = $TESTTMP/home/%u
shell = /bin/sh
placeholder_programs = /usr/sbin/sshd /usr/lib/openssh/sshd-session
NSSCONF
for g in "$G_OPS|$UMAX" "$G_ORG|$((UMAX - 1))"; do
	getent group "${g#*|}" >/dev/null && bail "GID ${g#*|} is taken"
	prov_group "${g%|*}" "${g#*|}"
done

# ---------------------------------------------------------------- provider
cat >"$TESTTMP/gh-users.json" <<JSON
{ "ann": { "password": "-", "scope": "read:user read:org", "claims": { "login": "$ANN", "id": 4201,
    "orgs": ["acme"], "teams": [{ "org": "acme", "slug": "sre" }, { "org": "acme", "slug": "web" }] } },
  "ann-renamed": { "password": "-", "scope": "read:user read:org", "claims": { "login": "$ANN2", "id": 4201,
    "orgs": ["acme"], "teams": [{ "org": "acme", "slug": "sre" }] } },
  "ann-squatter": { "password": "-", "scope": "read:user read:org", "claims": { "login": "$ANN", "id": 9201,
    "orgs": ["acme"], "teams": [{ "org": "acme", "slug": "sre" }] } },
  "bob": { "password": "-", "scope": "read:user read:org", "claims": { "login": "$BOB", "id": 4202,
    "orgs": ["acme"], "teams": [{ "org": "acme", "slug": "web" }] } } }
JSON
start_mock --users "$TESTTMP/gh-users.json" --client-id Iv1.e2e-github
mock_scenario '{"device_interval": 1}'
CONF="$TESTTMP/pam_oauth2.conf"
write_conf "$CONF" <<CONF
# written by $(basename "$0")
provider = github
github_url = $MOCK_URL
client_id = Iv1.e2e-github
ca_file = $PKI/ca.pem
grants = device
qr_code = no
scope = read:user read:org
device_timeout = 60
timeout = ${OA2_TEST_TIMEOUT:-5}
connect_timeout = 3
debug = yes
required_scopes = team:acme/sre
provision = yes

[groups]
team:acme/sre = $G_OPS
org:acme = $G_ORG
CONF
ISS="$MOCK_URL/api/v3/user"
e2e_example sshd "$TESTTMP/pam.d/$SVC"
sed -i -e '/^auth.*pam_oauth2/ s/$/ grants=device/' "$TESTTMP/pam.d/$SVC"
is "$(grep -c '^auth.*pam_oauth2.*config=.* grants=device$' "$TESTTMP/pam.d/$SVC")" 1 \
	"PAM stack: pam.d-examples/sshd with 'grants=device' on the module's auth line"
e2e_etc_file "/etc/pam.d/$SVC" 0644 <"$TESTTMP/pam.d/$SVC"
e2e_sshd "$SVC" <<CFG
PubkeyAuthentication no
AuthorizedKeysFile none
PasswordAuthentication no
AllowUsers oa2e2e_p${ID}_*
LoginGraceTime 90
CFG

# The session prints what provision-lib.sh's field reads.
SESSION='echo "SESSION U=$(id -u) G=$(id -gn) GS=$(id -Gn | tr " " ,) H=$HOME S=$(stat -c %U:%G:%a "$HOME") END"'
# read_gh_prompt NAME: the prompt's URL and code, from the screen.
read_gh_prompt() {
	URL= CODE=
	wait_screen "$1" 'Confirm the code [A-Z]{4}-[A-Z]{4}, then press Enter: ?$' 20 || return 1
	URL=$(term_screen "$1" -J | grep -Eo '^Open https://127\.0\.0\.1:[0-9]+/login/device$' | cut -c6-)
	CODE=$(term_screen "$1" -J | sed -nE 's/^Confirm the code ([A-Z]{4}-[A-Z]{4}), then press Enter:.*/\1/p')
	[ -n "$URL" ] && [ -n "$CODE" ]
}
# approve URL CODE AS: the mock's approval form posted as GitHub user AS.
approve() {
	curl -sS --max-time 10 --cacert "$PKI/ca.pem" -o "$TESTTMP/done.txt" -w '%{http_code}' "$1" \
		--data-urlencode "user_code=$2" --data-urlencode "as=$3"
}
# login NAME USER AS: one ssh login approved as AS; sets RC, OUT (the
# session's line) and STEPS.
login() {
	STEPS=none OUT=
	term_ssh "$1" "$2" "$SESSION"
	read_gh_prompt "$1" || { RC=noprompt; term_screen "$1" -J | sed 's/^/#   /'; return; }
	STEPS=$(approve "$URL" "$CODE" "$3")
	tmx send-keys -t "$1" Enter
	RC=$(wait_rc "$1" 30)
	OUT=$(term_screen "$1" -J | tr -d '\r' | sed -n 's/.*SESSION \(.*\) END.*/\1/p')
}
groups_of() { field GS | tr , '\n' | sort | tr '\n' ' '; }
sorted() { printf '%s\n' "$@" | sort | tr '\n' ' '; }
show() { "$CTL" user show "$1" 2>&1 | sed -n "s/^$2: *//p"; }

# ---------------------------------------------------------------- 1: first login
out=$("$CTL" -c "$CONF" check 2>&1)
like "$out" "provision: new records bound to issuer $ISS and the id" \
	"pam_oauth2ctl check: records are bound to the user API and the id"
unlike "$out" "PROBLEM" "  and finds no problem"
has_record "$ANN"; ok $([ $? -ne 0 ]; echo $?) "$ANN: no record before any login"
is "$(getent passwd "$ANN")" "" "  no passwd entry (getent is not sshd: no placeholder)"
login first "$ANN" ann
is "$STEPS" 200 "the mock's approval page: the code confirmed as GitHub user ann (id 4201)"
is "$RC" 0 "ssh as $ANN, never seen, keyboard-interactive, approved: logged in on the FIRST attempt"
is "$(sshd_said keyboard-interactive/pam "$ANN")" Accepted "  sshd had the placeholder and accepted keyboard-interactive/pam"
is "$(field U)" "$UMIN" "  id -u is the provisioned UID $UMIN"
is "$(field G)" "$ANN" "  id -gn is the private group"
is "$(groups_of)" "$(sorted "$ANN" "$G_OPS" "$G_ORG")" \
	"  id -Gn: the private group and the groups of team acme/sre and org acme (acme/web is not mapped)"
is "$(field S)" "$ANN:$ANN:700" "  the home is the user's, mode 0700"
is "$(show "$ANN" issuer)" "$ISS" "pam_oauth2ctl user show: issuer is the user API (github_url/api/v3/user)"
is "$(show "$ANN" sub)" 4201 "  sub is the numeric GitHub id, not the login"
is "$(show "$ANN" uid)" "$UMIN" "  uid $UMIN"
like "$(prov_line "$ANN")" "provision user=$ANN provisioned=$UMIN gid=$UMIN groups=$G_OPS,$G_ORG sub=4201 reason=ok" \
	"  logged: provisioned, bound to id 4201"
like "$(e2e_decision "$ANN")" "grant=device result=allow reason=ok .* sub=4201$" "  the decision line: allowed, sub=4201"
is "$(getent passwd "$ANN")" "$ANN:*:$UMIN:$UMIN::$TESTTMP/home/$ANN:/bin/sh" "getent passwd $ANN: the record"

login again "$ANN" ann
is "$RC/$(field U)/$(groups_of)" "0/$UMIN/$(sorted "$ANN" "$G_OPS" "$G_ORG")" \
	"another connection, the same id: the same UID and groups (the record refreshed)"

# ---------------------------------------------------------------- 2: renamed
login ren "$ANN2" ann-renamed
is "$RC" 255 "renamed at GitHub (login $ANN2, the same id 4201): the new name is refused (ssh 255)"
is "$OUT" "" "  no session ran"
like "$(e2e_decision "$ANN2")" "result=deny reason=sub_bound .* sub=4201$" \
	"  reason=sub_bound: id 4201 is bound to the record $ANN; the decision names the id"
like "$(prov_line "$ANN2")" "provision user=$ANN2 result=refused sub=4201 reason=sub_bound" "  the provision line too"
has_record "$ANN2"; ok $([ $? -ne 0 ]; echo $?) "  no record for $ANN2"
ok "$([ ! -e "$TESTTMP/home/$ANN2" ]; echo $?)" "  no home for $ANN2"
is "$(show "$ANN" uid)/$(show "$ANN" sub)/$(show "$ANN" state)" "$UMIN/4201/active" \
	"  the record $ANN keeps its UID, its id and its state"

# ---------------------------------------------------------------- 3: squatter
login sq "$ANN" ann-squatter
is "$RC" 255 "another GitHub id (9201) holding the login $ANN, in team acme/sre: refused"
is "$OUT" "" "  no session ran: the old account and UID $UMIN are never handed over"
like "$(e2e_decision "$ANN")" "result=deny reason=name_reassigned .* sub=9201$" \
	"  reason=name_reassigned, the decision naming id 9201"
like "$(prov_line "$ANN")" "provision user=$ANN result=refused sub=9201 reason=name_reassigned" "  the provision line too"
is "$(show "$ANN" uid)/$(show "$ANN" sub)" "$UMIN/4201" "  the record still holds UID $UMIN and id 4201"

# ---------------------------------------------------------------- 4: the gate
login bob "$BOB" bob
is "$RC" 255 "$BOB (id 4202), in org acme but in no mapped team: refused"
like "$(e2e_decision "$BOB")" "result=deny reason=missing_required .* sub=4202 missing=team:acme/sre$" \
	"  by the team gate, before any record"
has_record "$BOB"; ok $([ $? -ne 0 ]; echo $?) "  no record"
ok "$([ ! -e "$TESTTMP/home/$BOB" ]; echo $?)" "  no home"

# ---------------------------------------------------------------- 5: the remedy
out=$("$CTL" user remove "$ANN" 2>&1)
like "$out" "$ANN removed; UID $UMIN stays reserved" "pam_oauth2ctl user remove $ANN (the admin acts on the rename)"
login ren2 "$ANN2" ann-renamed
is "$RC" 0 "then $ANN2 (id 4201) logs in"
is "$(field U)" "$((UMIN + 1))" "  with a record of its own, UID $((UMIN + 1)) (UID $UMIN stays reserved)"
is "$(show "$ANN2" issuer)/$(show "$ANN2" sub)" "$ISS/4201" "  bound to the same id"
is "$(getent passwd "$ANN")" "" "  and $ANN is gone from NSS"

# ---------------------------------------------------------------- 6: another namespace
# The same API under another user_endpoint spelling is another identity
# namespace (docs/providers/github.md): the records bound to the old one
# are someone else's.
sed -i "/^\[groups\]/i user_endpoint = $MOCK_URL/api/v3/user?v=2" "$CONF"
is "$(grep -c '^user_endpoint = .*/api/v3/user?v=2$' "$CONF")" 1 "  (the configuration names user_endpoint $MOCK_URL/api/v3/user?v=2)"
login ns "$ANN2" ann-renamed
is "$RC" 255 "user_endpoint changed: $ANN2 (id 4201) is refused"
like "$(e2e_decision "$ANN2")" "result=deny reason=name_reassigned .* sub=4201$" \
	"  reason=name_reassigned: the record is bound to $ISS, not to the new URL"

# ---------------------------------------------------------------- after
unlike "$(cat "$OA2_LOG_CAPTURE" "$SSHD_LOG")" 'gho_' "no access token in sshd's log or the module's syslog"
tmx kill-server
kill -TERM "$SSHD_PID" 2>/dev/null
wait "$SSHD_PID" 2>/dev/null
rm -rf "${TESTTMP:?}/home"
is "$(prov_real_stamp | tr '\n' ' ')" "$(printf '%s\n' "$PROV_REAL_BEFORE" | tr '\n' ' ')" \
	"the machine's account files have none of the test's names; nsswitch.conf, the library directory, /var/lib and /home are as they were"
e2e_done
