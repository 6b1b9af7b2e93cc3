#!/usr/bin/env bash
# github_ssh.sh - GitHub sign-in for SSH end to end (issue 16,
# docs/providers/github.md): real ssh with keyboard-interactive on an 80x24
# tmux terminal, through a private sshd whose stack is pam.d-examples/sshd
# with the module limited to the device grant, against the mock IdP's
# GitHub mode (provider = github, github_url = the mock: the GitHub
# Enterprise Server layout).  The test reads the URL and the code from the
# terminal and approves them on the mock's own approval page with curl, as
# the GitHub user it names:
#   * the right user: logged in, with the groups of the mapped team and
#     organisation (id -Gn), the numeric id in the audit line;
#   * the same id after a rename (another login): refused, identity_mismatch;
#   * another id holding the same login, in no mapped team: refused by the
#     team gate (the rename caveat's remedy);
#   * a user in no mapped team: refused by the gate.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/e2e-lib.sh" "$@"

e2e_need sshd ssh ssh-keygen curl
. "$top_srcdir/tests/e2e/term-lib.sh"

SVC=oa2e2e-ghsshd-$E2E_ID
ANN=oa2e2e_gh_ann
BOB=oa2e2e_gh_bob
e2e_add_user "$ANN"
e2e_add_user "$BOB"
G_OPS=oa2e2e_ghg_ops
G_ORG=oa2e2e_ghg_acme
for g in "$G_OPS" "$G_ORG"; do
	getent group "$g" >/dev/null && groupdel "$g"
	groupadd "$g" || bail "groupadd $g"
	on_exit "groupdel $g"
done

# ---------------------------------------------------------------- provider
cat >"$TESTTMP/gh-users.json" <<JSON
{ "ann": { "password": "-", "scope": "read:user read:org", "claims": { "login": "$ANN", "id": 4101,
    "orgs": ["acme"], "teams": [{ "org": "acme", "slug": "sre" }, { "org": "acme", "slug": "web" }] } },
  "ann-renamed": { "password": "-", "scope": "read:user read:org", "claims": { "login": "$ANN-2", "id": 4101,
    "orgs": ["acme"], "teams": [{ "org": "acme", "slug": "sre" }] } },
  "ann-squatter": { "password": "-", "scope": "read:user read:org", "claims": { "login": "$ANN", "id": 9999,
    "orgs": ["elsewhere"], "teams": [{ "org": "elsewhere", "slug": "sre" }] } },
  "bob": { "password": "-", "scope": "read:user read:org", "claims": { "login": "$BOB", "id": 4102,
    "orgs": ["acme"], "teams": [{ "org": "acme", "slug": "web" }] } } }
JSON
start_mock --users "$TESTTMP/gh-users.json" --client-id Iv1.e2e-github
mock_scenario '{"device_interval": 1, "gh_per_page": 1}'
CONF="$TESTTMP/pam_oauth2.conf"
write_conf "$CONF" <<CONF
# written by $(basename "$0")
provider = github
github_url = $MOCK_URL
client_id = Iv1.e2e-github
ca_file = $PKI/ca.pem
grants = device
scope = read:user read:org
device_timeout = 60
timeout = ${OA2_TEST_TIMEOUT:-5}
connect_timeout = 3
debug = yes
required_scopes = team:acme/sre

[groups]
team:acme/sre = $G_OPS
org:acme = $G_ORG
CONF
e2e_example sshd "$TESTTMP/pam.d/$SVC"
sed -i -e '/^auth.*pam_oauth2/ s/$/ grants=device/' "$TESTTMP/pam.d/$SVC"
is "$(grep -c '^auth.*pam_oauth2.*config=.* grants=device$' "$TESTTMP/pam.d/$SVC")" 1 \
	"PAM stack: pam.d-examples/sshd with 'grants=device' on the module's auth line"
e2e_etc_file "/etc/pam.d/$SVC" 0644 <"$TESTTMP/pam.d/$SVC"

e2e_sshd "$SVC" <<CFG
PubkeyAuthentication no
AuthorizedKeysFile none
PasswordAuthentication no
AllowUsers oa2e2e_gh_*
LoginGraceTime 90
CFG

# gh_ssh NAME USER: term_ssh whose remote command also prints the user's
# groups (id -Gn).
gh_ssh() {
	term_ssh "$1" "$2" 'echo "LOGGED-IN-AS $(id -un) GROUPS $(id -Gn) END"'
}
# groups_seen: the GROUPS of the screen, without the user's own, sorted.
groups_seen() {
	printf '%s\n' "$SCREEN" | sed -n 's/.*LOGGED-IN-AS [^ ]* GROUPS \(.*\) END.*/\1/p' |
		tr ' ' '\n' | grep -vx "$1" | sort | tr '\n' ' '
}
# read_gh_prompt NAME: the prompt's URL (GitHub gives no
# verification_uri_complete) and code, from the screen.
read_gh_prompt() {
	URL= CODE=
	wait_screen "$1" 'Confirm the code [A-Z]{4}-[A-Z]{4}, then press Enter: ?$' 20 || return 1
	URL=$(term_screen "$1" -J | grep -Eo '^Open https://127\.0\.0\.1:[0-9]+/login/device$' | cut -c6-)
	CODE=$(term_screen "$1" -J | sed -nE 's/^Confirm the code ([A-Z]{4}-[A-Z]{4}), then press Enter:.*/\1/p')
	[ -n "$URL" ] && [ -n "$CODE" ]
}
# approve URL CODE AS: the approval page, then its form posted as GitHub
# user AS; prints the two statuses and the page's last words.
approve() {
	local web=(curl -sS --max-time 10 --cacert "$PKI/ca.pem")
	local a b
	a=$("${web[@]}" -o "$TESTTMP/page.html" -w '%{http_code}' "$1")
	grep -q 'name="user_code"' "$TESTTMP/page.html" || a="$a no-form"
	b=$("${web[@]}" -o "$TESTTMP/done.txt" -w '%{http_code}' "$1" \
		--data-urlencode "user_code=$2" --data-urlencode "as=$3")
	echo "$a $b $(tr -d '\n' <"$TESTTMP/done.txt")"
}
# login NAME USER AS: one ssh login approved as AS; sets RC and SCREEN.
login() {
	STEPS=none
	gh_ssh "$1" "$2"
	read_gh_prompt "$1" || { RC=noprompt; SCREEN=$(term_screen "$1" -J); return; }
	STEPS=$(approve "$URL" "$CODE" "$3")
	tmx send-keys -t "$1" Enter
	RC=$(wait_rc "$1" 30)
	SCREEN=$(term_screen "$1" -J)
}

# ---------------------------------------------------------------- 1: right user
login ann "$ANN" ann
is "$STEPS" "200 200 Congratulations, you are all set!" "the mock's approval page: code confirmed as GitHub user ann"
is "$URL" "$MOCK_URL/login/device" "  the prompt named the device page (github_url/login/device)"
is "$RC" 0 "ssh as $ANN, keyboard-interactive, approved: exit 0"
is "$(groups_seen "$ANN")" "$G_ORG $G_OPS " \
	"  id -Gn: exactly the groups of team acme/sre and org acme (acme/web is not mapped)"
is "$(sshd_said keyboard-interactive/pam "$ANN")" Accepted "  sshd logged 'Accepted keyboard-interactive/pam'"
like "$(e2e_decision "$ANN")" "service=$SVC rhost=127\.0\.0\.1 grant=device result=allow reason=ok .* sub=4101$" \
	"  the decision: allowed, sub= the numeric id 4101"
is "$(mock_count /api/v3/user/teams)" 2 "  teams read over 2 pages (Link rel=next)"

# ---------------------------------------------------------------- 2: renamed
login ren "$ANN" ann-renamed
is "$RC" 255 "the same GitHub id after a rename (login $ANN-2): refused (ssh 255)"
unlike "$SCREEN" "LOGGED-IN-AS" "  no session ran"
like "$(e2e_decision "$ANN")" "result=deny reason=identity_mismatch .* sub=4101$" \
	"  identity_mismatch; the audit line names id 4101"

# ---------------------------------------------------------------- 3: squatter
login sq "$ANN" ann-squatter
is "$RC" 255 "another id (9999) holding the login $ANN, in no mapped team: refused"
like "$(e2e_decision "$ANN")" "result=deny reason=missing_required .* sub=9999 missing=team:acme/sre$" \
	"  by the team gate, the audit line naming id 9999"

# ---------------------------------------------------------------- 4: no team
login bob "$BOB" bob
is "$RC" 255 "$BOB, in org acme but not in team acme/sre: refused"
unlike "$SCREEN" "LOGGED-IN-AS" "  no session ran"
is "$(sshd_said keyboard-interactive/pam "$BOB")" Failed "  sshd logged 'Failed keyboard-interactive/pam'"
like "$(e2e_decision "$BOB")" "result=deny reason=missing_required .* sub=4102 missing=team:acme/sre$" \
	"  the gate: missing team:acme/sre"

# ---------------------------------------------------------------- after
unlike "$(cat "$OA2_LOG_CAPTURE" "$SSHD_LOG")" 'gho_' "no access token in sshd's log or the module's syslog"
tmx kill-server
kill -TERM "$SSHD_PID" 2>/dev/null
wait "$SSHD_PID" 2>/dev/null
e2e_done
