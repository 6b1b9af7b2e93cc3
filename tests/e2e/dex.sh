#!/usr/bin/env bash
# dex.sh - the module against a real Dex (tests/lib/dex.sh: the pinned
# build of github.com/dexidp/dex, in-memory storage, the local password
# database, loopback HTTPS with the test PKI), configured ONLY as
# docs/providers/dex.md says, through the real programs:
#   * sshd (pam.d-examples/sshd), methods password and keyboard-interactive:
#     right password in (and `id -Gn` holds the group mapped from Dex's
#     `groups` claim), wrong password out (access_denied), a user removed
#     from Dex's password database (Dex restarted: new signing keys too)
#     out with reason access_denied, the others still in;
#   * sudo -S (pam.d-examples/sudo) and su on a pty (pam.d-examples/su):
#     right in, wrong out, su's shell has the mapped group;
#   * the device grant: ssh -tt keyboard-interactive in an 80x24 tmux, the
#     code approved in headless Chromium through Dex's own pages
#     (approve-browser.js --steps dex): in; approved by another Dex user:
#     refused, identity_mismatch;
#   * pam_oauth2ctl check (clean report) and login (success).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/e2e-lib.sh" "$@"
. "$top_srcdir/tests/lib/dex.sh"

e2e_need sshd ssh sshpass ssh-keygen sudo visudo expect su tmux groupadd groupdel perl
export LC_ALL=C.UTF-8
CHROMIUM=/usr/bin/chromium
[ -x "$CHROMIUM" ] || bail "$CHROMIUM not found: the Debian package chromium (tests/setup-debian.sh installs it)"
[ -f "$top_srcdir/tests/e2e/browser/node_modules/playwright-core/package.json" ] ||
	bail "tests/e2e/browser/node_modules is missing: run tests/setup-debian.sh"
t_build=$(date +%s)
dex_require
echo "# Dex: $DEX_BIN ($("$DEX_BIN" version 2>&1 | head -1); build or cache $(($(date +%s) - t_build)) s)"

DOMAIN=dex.test
ANN=oa2e2e_x${E2E_ID}_ann       # admins: ssh, sudo, su; group mapped
BOB=oa2e2e_x${E2E_ID}_bob       # signs in at Dex for CY's code
CY=oa2e2e_x${E2E_ID}_cy         # device grant in Chromium
GONE=oa2e2e_x${E2E_ID}_gone     # removed from Dex's password database
CALLER=oa2e2e_x${E2E_ID}_caller # runs su
ANN_PW='ann&Dex=1+2%20ü "q"'
BOB_PW='bob-Dex-Passw0rd'
CY_PW='cy Dex Passw0rd:9'
GONE_PW='gone-Dex-Passw0rd'
G_ADMINS=oa2x${E2E_ID}_admins
G_USERS=oa2x${E2E_ID}_users
for u in "$ANN" "$BOB" "$CY" "$GONE" "$CALLER"; do e2e_add_user "$u"; done
for g in "$G_ADMINS" "$G_USERS"; do
	getent group "$g" >/dev/null && bail "group $g exists already"
	on_exit "groupdel $g"
	groupadd "$g" || bail "groupadd $g"
done

# ---------------------------------------------------------------- Dex
dex_user "$ANN@$DOMAIN" "$ANN" "$ANN_PW" admins users
dex_user "$BOB@$DOMAIN" "$BOB" "$BOB_PW" users
dex_user "$CY@$DOMAIN" "$CY" "$CY_PW" users
dex_user "$GONE@$DOMAIN" "$GONE" "$GONE_PW" users
t0=$(date +%s%N)
start_dex
ok 0 "Dex started on $DEX_URL, discovery answered ($((($(date +%s%N) - t0) / 1000000)) ms)"

# The module's configuration: docs/providers/dex.md, section by section
# (the fenced blocks after the markers), with the test's issuer, CA and
# directories.
GUIDE="$top_srcdir/docs/providers/dex.md"
guide_block() { # MARKER: the first ``` block after the line "<!-- MARKER -->"
	awk -v m="<!-- $1 -->" '$0 == m { f = 1; next } f && /^```/ { if (in_b) exit; in_b = 1; next } in_b { print }' "$GUIDE"
}
guide_conf() { # OUT MARKER...: the guide's blocks, made the test's
	local out=$1; shift
	local m
	for m in "$@"; do guide_block "$m"; done | sed \
		-e "s|^issuer = .*|issuer = $DEX_URL|" \
		-e "s|^client_secret = .*|client_secret = $DEX_CLIENT_SECRET|" \
		-e "s|corp\\.example|$DOMAIN|g" \
		-e "s|^claim:admins = .*|claim:admins = $G_ADMINS|" \
		-e "s|^claim:users = .*|claim:users = $G_USERS|" >"$TESTTMP/guide.$out"
	[ -s "$TESTTMP/guide.$out" ] || bail "docs/providers/dex.md has no block after <!-- $* -->"
	write_conf "$TESTTMP/$out" <<CONF
# written by $(basename "$0") from docs/providers/dex.md
ca_file = $PKI/ca.pem
debug = yes
$(cat "$TESTTMP/guide.$out")
CONF
}
guide_conf password.conf dex-conf-password dex-conf-groups
guide_conf device.conf dex-conf-device
CONF="$TESTTMP/password.conf"
like "$(cat "$CONF")" "client_id = $DEX_CLIENT" "the password configuration is the guide's (client $DEX_CLIENT)"
like "$(cat "$TESTTMP/device.conf")" "client_id = $DEX_DEVICE_CLIENT" "the device configuration is the guide's (public client $DEX_DEVICE_CLIENT)"

# ---------------------------------------------------------------- pam_oauth2ctl
CTL="$top_builddir/pam_oauth2ctl"
out=$("$CTL" --config "$CONF" check 2>&1); st=$?
printf '%s\n' "$out" | sed 's/^/# check| /'
is "$st" 0 "pam_oauth2ctl check against Dex: exit 0"
like "$out" "no problems found" "  'no problems found'"
like "$out" "token endpoint: +$DEX_URL/token" "  the discovered token endpoint"
out=$(printf '%s\n' "$ANN_PW" | "$CTL" --config "$CONF" login "$ANN" 2>&1); st=$?
printf '%s\n' "$out" | sed 's/^/# login| /'
is "$st" 0 "pam_oauth2ctl login $ANN against Dex: exit 0"
unlike "$out" 'ann&Dex' "  the password is not printed"

# ---------------------------------------------------------------- sshd, password grant
SVC=oa2e2e-sshd-$E2E_ID
e2e_example sshd "$TESTTMP/pam.d/$SVC"
e2e_etc_file "/etc/pam.d/$SVC" 0644 <"$TESTTMP/pam.d/$SVC"
e2e_sshd "$SVC" <<CFG
PubkeyAuthentication no
AuthorizedKeysFile none
AllowUsers oa2e2e_x${E2E_ID}_*
LoginGraceTime 60
CFG
ssh_login() { # METHOD USER PASSWORD [COMMAND]
	SSH_OUT=$(cd / && SSHPASS="$3" timeout 30 sshpass -e -P assword \
		ssh -F /dev/null -p "$SSHD_PORT" \
		-o UserKnownHostsFile=/dev/null -o GlobalKnownHostsFile=/dev/null \
		-o StrictHostKeyChecking=no -o LogLevel=ERROR \
		-o PreferredAuthentications="$1" -o PubkeyAuthentication=no \
		-o NumberOfPasswordPrompts=1 -o ConnectTimeout=10 -o ControlPath=none \
		"$2@127.0.0.1" "${4:-id -un}" </dev/null 2>"$TESTTMP/ssh.err")
	SSH_RC=$?
}
sshd_said() { grep -E "(Accepted|Failed) $1 for $2 from" "$SSHD_LOG" | tail -1 | awk '{print $1}'; }
refused() { [ "$SSH_RC" -ne 0 ] && [ -z "$SSH_OUT" ] && echo 0 || echo 1; }
# The session's groups without the primary one, sorted, one line.
GROUPS_CMD='id -Gn | tr " " "\n" | grep -vx "$(id -gn)" | sort | tr "\n" " "'

for method in password keyboard-interactive; do
	sm=$method; [ "$method" = keyboard-interactive ] && sm=keyboard-interactive/pam
	ssh_login "$method" "$ANN" "$ANN_PW" "id -un; $GROUPS_CMD"
	is "$(printf '%s\n' "$SSH_OUT" | head -1)" "$ANN" "ssh $method, Dex password: logged in as $ANN"
	is "$(sshd_said "$sm" "$ANN")" Accepted "  sshd logged 'Accepted $sm for $ANN'"
	is "$(printf '%s\n' "$SSH_OUT" | sed -n 2p)" "$G_ADMINS $G_USERS " \
		"  id -Gn: Dex's groups claim [admins, users] mapped to $G_ADMINS $G_USERS"
	[ "$method" = password ] && like "$(e2e_decision "$ANN")" \
		"service=$SVC rhost=127\.0\.0\.1 grant=password result=allow reason=ok" "  the module's decision: allowed"

	ssh_login "$method" "$ANN" "${ANN_PW}x"
	is "$(refused)" 0 "ssh $method, wrong password: refused (rc=$SSH_RC)"
	is "$(sshd_said "$sm" "$ANN")" Failed "  sshd logged 'Failed $sm for $ANN'"
	[ "$method" = password ] && like "$(e2e_decision "$ANN")" \
		"grant=password result=deny reason=access_denied" "  Dex answered access_denied (HTTP 401): reason=access_denied"
done
ssh_login password "$GONE" "$GONE_PW"
is "$SSH_OUT" "$GONE" "ssh password as $GONE while Dex has the user: logged in"

kill -TERM "$SSHD_PID" 2>/dev/null
wait "$SSHD_PID" 2>/dev/null

# ---------------------------------------------------------------- sudo
SUDO_SVC=oa2e2e-sudo-$E2E_ID
e2e_example sudo "$TESTTMP/pam.d/$SUDO_SVC"
e2e_etc_file "/etc/pam.d/$SUDO_SVC" 0644 <"$TESTTMP/pam.d/$SUDO_SVC"
mkdir -m 0700 "$TESTTMP/sudo-ts" "$TESTTMP/sudo-lectured"
e2e_etc_file "/etc/sudoers.d/oa2e2e_dex_$E2E_ID" 0440 <<SUDOERS
# pam_oauth2 e2e test ($0); removed when the test ends
Defaults:$ANN, $BOB pam_service=$SUDO_SVC, pam_login_service=$SUDO_SVC
Defaults:$ANN, $BOB timestamp_timeout=0, passwd_tries=1, lecture=never
Defaults:$ANN, $BOB !mail_badpass, !mail_no_user, !mail_no_perms
Defaults:$ANN, $BOB timestampdir=$TESTTMP/sudo-ts, lecture_status_dir=$TESTTMP/sudo-lectured
$ANN ALL=(ALL:ALL) ALL
SUDOERS
run_sudo() { # USER PASSWORD CMD...
	local u=$1 pw=$2; shift 2
	SUDO_OUT=$(cd / && printf '%s\n' "$pw" | timeout 30 env -i \
		PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$TESTTMP/home/$u" USER="$u" LOGNAME="$u" \
		setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups -- \
		sudo -S -p 'SUDO-PROMPT:' "$@" 2>"$TESTTMP/sudo.err")
	SUDO_RC=$?
}
run_sudo "$ANN" "$ANN_PW" id -un
is "$SUDO_OUT/$SUDO_RC" "root/0" "sudo -S as $ANN with the Dex password: root"
run_sudo "$ANN" "${ANN_PW}x" id -un
is "$SUDO_OUT/$SUDO_RC" "/1" "sudo -S, wrong password: refused"
like "$(cat "$TESTTMP/sudo.err")" 'incorrect password attempt' "  sudo: incorrect password attempt"

# ---------------------------------------------------------------- su
e2e_example su "$TESTTMP/pam.d/su"
e2e_bind_pam su "$TESTTMP/pam.d/su"
# pty.exp reports only its E2E: lines: the shell writes `id -Gn` to a file.
try_su() { # TARGET PASSWORD
	rm -f "$TESTTMP/home/$1/groups.out"
	PTY_OUT=$(cd / && timeout 60 env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME="$TESTTMP/home/$CALLER" USER="$CALLER" LOGNAME="$CALLER" TERM=dumb E2E_PW="$2" \
		setpriv --reuid="$CALLER" --regid="$(id -g "$CALLER")" --init-groups -- \
		expect -f "$PTY" cmd 30 su "$1" -c \
		"$GROUPS_CMD >$TESTTMP/home/$1/groups.out; echo E2E:ID=\$(id -un):" 2>&1)
}
pty_says() { printf '%s\n' "$PTY_OUT" | sed -n "s/^E2E:$1[= ]//p" | tr -d '\r' | tail -1; }
try_su "$ANN" "$ANN_PW"
is "$(pty_says ID)/$(pty_says EXIT)" "$ANN/0" "su to $ANN with the Dex password: a shell as $ANN"
is "$(cat "$TESTTMP/home/$ANN/groups.out" 2>/dev/null)" "$G_ADMINS $G_USERS " "  id -Gn in su's shell: the groups mapped from Dex's groups claim"
try_su "$ANN" "${ANN_PW}x"
is "$(pty_says ID)/$(pty_says EXIT)" "/1" "su, wrong password: refused"

# ---------------------------------------------------------------- device grant
DSVC=oa2e2e-sshdd-$E2E_ID
e2e_example sshd "$TESTTMP/pam.d/$DSVC"
sed -i -e "/^auth.*pam_oauth2/ s|config=$CONF|config=$TESTTMP/device.conf|" \
	-e "/^account.*pam_oauth2/ s|config=$CONF|config=$TESTTMP/device.conf|" "$TESTTMP/pam.d/$DSVC"
is "$(grep -c "pam_oauth2.*config=$TESTTMP/device.conf" "$TESTTMP/pam.d/$DSVC")" 2 \
	"device PAM stack: pam.d-examples/sshd with the guide's device configuration"
e2e_etc_file "/etc/pam.d/$DSVC" 0644 <"$TESTTMP/pam.d/$DSVC"
e2e_sshd "$DSVC" <<CFG
PubkeyAuthentication no
AuthorizedKeysFile none
PasswordAuthentication no
AllowUsers oa2e2e_x${E2E_ID}_*
LoginGraceTime 90
CFG
# A failed case can leave a connection's sshd (and its PAM child polling
# Dex) behind the listener: end them first, by their parent's PID, so
# nothing writes into $TESTTMP after it is removed.
on_exit "pkill -TERM -P $SSHD_PID"
TMUX_SOCK="$TESTTMP/tmux.sock"
printf 'set -g status off\nset -g remain-on-exit on\nset -g default-terminal screen\n' >"$TESTTMP/tmux.conf"
tmx() { LANG=C.UTF-8 LC_ALL=C.UTF-8 tmux -u -S "$TMUX_SOCK" -f "$TESTTMP/tmux.conf" "$@"; }
on_exit "tmux -S '$TMUX_SOCK' kill-server"
term_ssh() { # NAME USER
	cat >"$TESTTMP/$1.sh" <<SH
cd /
ssh -tt -F /dev/null -p $SSHD_PORT -o UserKnownHostsFile=/dev/null -o GlobalKnownHostsFile=/dev/null \\
	-o StrictHostKeyChecking=no -o LogLevel=ERROR -o PreferredAuthentications=keyboard-interactive \\
	-o PubkeyAuthentication=no -o NumberOfPasswordPrompts=1 -o ConnectTimeout=10 -o ControlPath=none \\
	$2@127.0.0.1 'echo "LOGGED-IN-AS \$(id -un) GROUPS \$($GROUPS_CMD)"'
echo \$? >$TESTTMP/$1.rc
SH
	rm -f "$TESTTMP/$1.rc"
	tmx new-session -d -s "$1" -x 80 -y 24 "sh $TESTTMP/$1.sh" || bail "tmux new-session failed"
}
term_screen() { tmx capture-pane -p -J -t "$1"; }
wait_rc() { # NAME SECONDS
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[ -s "$TESTTMP/$1.rc" ] && { cat "$TESTTMP/$1.rc"; return 0; }
		sleep 0.1
	done
	echo running
}
read_prompt() { # NAME: sets URL and CODE from the screen
	local i
	URL= CODE=
	for ((i = 0; i < 200; i++)); do
		term_screen "$1" | grep -Eq 'Confirm the code [A-Z]{4}-[A-Z]{4}, then press Enter: ?$' && break
		sleep 0.1
	done
	URL=$(term_screen "$1" | grep -Eo "^Open https://127\.0\.0\.1:$DEX_PORT/dex/device\?user_code=[A-Z]{4}-[A-Z]{4}$" | cut -c6-)
	CODE=$(term_screen "$1" | sed -nE 's/^Confirm the code ([A-Z]{4}-[A-Z]{4}), then press Enter:.*/\1/p')
	[ -n "$URL" ] && [ -n "$CODE" ]
}
approve() { # EMAIL PASSWORD: Chromium through Dex's pages; sets BROWSER_RC
	local t0
	t0=$(date +%s%N)
	APPROVE_PASSWORD="$2" CHROMIUM="$CHROMIUM" timeout 90 node "$top_srcdir/tests/e2e/approve-browser.js" \
		--steps dex --url "$URL" --code "$CODE" --username "$1" --server-cert "$PKI/server.pem" \
		--profile "$TESTTMP/chromium.$RANDOM" >"$TESTTMP/browser.out" 2>"$TESTTMP/browser.err"
	BROWSER_RC=$?
	BROWSER_MS=$((($(date +%s%N) - t0) / 1000000))
	sed 's/^/# browser: /' "$TESTTMP/browser.out"
	[ "$BROWSER_RC" = 0 ] || sed 's/^/# browser stderr: /' "$TESTTMP/browser.err" | tail -20
}

term_ssh cy "$CY"
read_prompt cy
ok $? "ssh -tt keyboard-interactive as $CY: the device prompt with Dex's verification_uri_complete"
approve "$CY@$DOMAIN" "$CY_PW"
ok "$BROWSER_RC" "headless Chromium: Dex's code page, login page, Grant Access, 'Login Successful' as $CY ($BROWSER_MS ms)"
tmx send-keys -t cy Enter
is "$(wait_rc cy 30)" 0 "Enter: ssh exits 0"
like "$(term_screen cy)" "^LOGGED-IN-AS $CY GROUPS $G_USERS $" "  the session ran as $CY with the mapped group $G_USERS"
is "$(sshd_said keyboard-interactive/pam "$CY")" Accepted "  sshd logged 'Accepted keyboard-interactive/pam for $CY'"
like "$(e2e_decision "$CY")" "service=$DSVC rhost=127\.0\.0\.1 grant=device result=allow reason=ok" \
	"  the module's decision: device grant allowed"

term_ssh cy2 "$CY"
read_prompt cy2
ok $? "ssh as $CY again: a new device prompt"
approve "$BOB@$DOMAIN" "$BOB_PW"
ok "$BROWSER_RC" "headless Chromium approves $CY's code signed in at Dex as $BOB ($BROWSER_MS ms)"
tmx send-keys -t cy2 Enter
is "$(wait_rc cy2 30)" 255 "Enter: ssh exits 255 (refused)"
unlike "$(term_screen cy2)" "LOGGED-IN-AS" "  no session ran"
is "$(sshd_said keyboard-interactive/pam "$CY")" Failed "  sshd logged 'Failed keyboard-interactive/pam for $CY'"
like "$(e2e_decision "$CY")" "grant=device result=deny reason=identity_mismatch" \
	"  the module refused it: identity_mismatch (Dex's token names $BOB)"

# Enter first, approve afterwards: the module polls Dex, which answers
# authorization_pending (with HTTP 400 at this commit) and slow_down when
# polled early, until the browser approves.
term_ssh cy3 "$CY"
read_prompt cy3
ok $? "ssh as $CY a third time: a device prompt"
tmx send-keys -t cy3 Enter
sleep 2
is "$(wait_rc cy3 1)" running "  Enter before approving: ssh still waits (the module polls)"
approve "$CY@$DOMAIN" "$CY_PW"
ok "$BROWSER_RC" "  then Chromium approves it as $CY ($BROWSER_MS ms)"
is "$(wait_rc cy3 40)" 0 "  ssh exits 0 once Dex has the approval"
like "$(term_screen cy3)" "^LOGGED-IN-AS $CY " "  the session ran as $CY"
like "$(grep -c 'authorization_pending' "$OA2_LOG_CAPTURE")" '^[1-9]' \
	"  the module's debug lines show Dex's authorization_pending answers"
like "$(e2e_decision "$CY")" "grant=device result=allow reason=ok" "  the module's decision: allowed"

# ---------------------------------------------------------------- disabled at Dex
# "Disabled" at Dex: the local password database has no disabled flag, so
# the user is removed from staticPasswords and Dex restarted (same port
# and issuer).  With in-memory storage the restart also makes a new
# signing key, which Dex signs with at once: the module meets an unknown
# key id in a JWKS it cached seconds ago and must fetch the JWKS again
# (before the fix in src/login.c it did so at most once a minute after
# the last fetch, and these logins failed with reason=no_key).
tmx kill-server
kill -TERM "$SSHD_PID" 2>/dev/null
wait "$SSHD_PID" 2>/dev/null
jwks_file=$(grep -l '"keys"' "$TESTTMP"/cache/* 2>/dev/null | head -1)
jwks_age=$(($(date +%s) - $(stat -c %Y "${jwks_file:-/nonexistent}" 2>/dev/null || echo 0)))
ok "$([ -n "$jwks_file" ] && [ "$jwks_age" -lt 60 ] && echo 0 || echo 1)" \
	"the module's cached JWKS is younger than a minute ($jwks_age s) when Dex restarts"
stop_dex
dex_remove_user "$GONE@$DOMAIN"
t0=$(date +%s%N)
start_dex
ok 0 "Dex restarted without $GONE ($((($(date +%s%N) - t0) / 1000000)) ms), same issuer $DEX_URL"
e2e_sshd "$SVC" <<CFG
PubkeyAuthentication no
AuthorizedKeysFile none
AllowUsers oa2e2e_x${E2E_ID}_*
LoginGraceTime 60
CFG
for method in password keyboard-interactive; do
	sm=$method; [ "$method" = keyboard-interactive ] && sm=keyboard-interactive/pam
	ssh_login "$method" "$GONE" "$GONE_PW"
	is "$(refused)" 0 "ssh $method as $GONE, removed at Dex: refused"
	is "$(sshd_said "$sm" "$GONE")" Failed "  sshd logged 'Failed $sm for $GONE'"
	[ "$method" = password ] && like "$(e2e_decision "$GONE")" \
		"grant=password result=deny reason=access_denied" "  reason=access_denied"
done
try_su "$GONE" "$GONE_PW"
is "$(pty_says ID)/$(pty_says EXIT)" "/1" "su to $GONE (removed at Dex): refused"
ssh_login password "$ANN" "$ANN_PW"
is "$SSH_OUT" "$ANN" "ssh password as $ANN after the restart (new signing key): logged in"
grep -q 'unknown signing key: fetching the JWKS again' "$OA2_LOG_CAPTURE"
ok $? "  the module met Dex's new key id and fetched the JWKS again (its debug line)"
run_sudo "$ANN" "$ANN_PW" id -un
is "$SUDO_OUT/$SUDO_RC" "root/0" "sudo -S as $ANN after the restart: root"
kill -TERM "$SSHD_PID" 2>/dev/null
wait "$SSHD_PID" 2>/dev/null

# ---------------------------------------------------------------- after
log=$(cat "$OA2_LOG_CAPTURE" "$TESTTMP"/sshd.log "$TESTTMP"/browser.out)
unlike "$log" 'ann&Dex|bob-Dex-Passw0rd|cy Dex Passw0rd|gone-Dex-Passw0rd|pam-servers-secret' \
	"no password or client secret in sshd's log, the module's syslog or the browser's output"
stop_dex
ok "$(dex_running && echo 1 || echo 0)" "Dex stopped"
e2e_done
