# term-lib.sh - a person at a terminal, for the device-grant tests
# (tests/e2e/device_ssh.sh, keycloak_device.sh): ssh logins on 80x24 tmux
# screens, the device prompt read from the screen, and the approval in
# headless Chromium (tests/e2e/approve-browser.js).
#
# Sourced after tests/e2e/e2e-lib.sh; term_ssh and sshd_said use the
# SSHD_PORT and SSHD_LOG of the test's sshd (e2e_sshd).  Needs tmux; term_approve also Debian's
# chromium and tests/e2e/browser/node_modules (playwright-core).
e2e_need tmux
# The screen holds UTF-8 (the QR code's half blocks): count characters,
# not bytes, whatever the caller's locale (C.UTF-8 is built into glibc).
export LC_ALL=C.UTF-8
CHROMIUM=/usr/bin/chromium
BROWSER_DIR="$top_srcdir/tests/e2e/browser"

# term_need_browser: Bail out unless Chromium and playwright-core are there.
term_need_browser() {
	[ -x "$CHROMIUM" ] || bail "$CHROMIUM not found: the Debian package chromium (tests/setup-debian.sh installs it)"
	[ -f "$BROWSER_DIR/node_modules/playwright-core/package.json" ] ||
		bail "tests/e2e/browser/node_modules is missing: run 'cd tests/e2e/browser && npm ci' first (tests/setup-debian.sh does)"
}

# One tmux server on a private socket; every login is a detached 80x24
# session (no status line, so the pane is the whole 80x24 screen) running
# the real ssh client on its pty.  The pane stays after ssh exits.
TMUX_SOCK="$TESTTMP/tmux.sock"
cat >"$TESTTMP/tmux.conf" <<'TMUXCONF'
set -g status off
set -g remain-on-exit on
set -g default-terminal screen
set -g history-limit 1000
TMUXCONF
tmx() { LANG=C.UTF-8 LC_ALL=C.UTF-8 tmux -u -S "$TMUX_SOCK" -f "$TESTTMP/tmux.conf" "$@"; }
on_exit "tmux -S '$TMUX_SOCK' kill-server"

# sshd_said METHOD USER: sshd's verdict for the latest attempt.
sshd_said() {
	grep -E "(Accepted|Failed) $1 for $2 from" "$SSHD_LOG" | tail -1 | awk '{print $1}'
}

# term_ssh NAME USER [COMMAND]: in a new 80x24 session NAME, ssh -tt as
# USER with keyboard-interactive only; the remote command (by default)
# prints a marker line.  ssh's exit status goes to $TESTTMP/NAME.rc when
# it ends.
term_ssh() {
	local name=$1 user=$2 cmd=${3:-'echo "LOGGED-IN-AS $(id -un)"'}
	cat >"$TESTTMP/$name.sh" <<SH
cd /
ssh -tt -F /dev/null -p $SSHD_PORT \\
	-o UserKnownHostsFile=/dev/null -o GlobalKnownHostsFile=/dev/null \\
	-o StrictHostKeyChecking=no -o LogLevel=ERROR \\
	-o PreferredAuthentications=keyboard-interactive -o PubkeyAuthentication=no \\
	-o NumberOfPasswordPrompts=1 -o ConnectTimeout=10 \\
	-o ServerAliveInterval=5 -o ControlPath=none \\
	$user@127.0.0.1 '$cmd'
echo \$? >$TESTTMP/$name.rc
SH
	rm -f "$TESTTMP/$name.rc"
	tmx new-session -d -s "$name" -x 80 -y 24 "sh $TESTTMP/$name.sh" ||
		bail "tmux new-session failed"
}
# term_su NAME CALLER TARGET: in a new 80x24 session NAME, CALLER (an
# unprivileged user, minimal environment) runs the setuid su to TARGET;
# the command prints the same marker line as term_ssh.  su's exit status
# goes to $TESTTMP/NAME.rc.  Its PAM stack is whatever /etc/pam.d/su is
# in the test's mount namespace (e2e_bind_pam), which tmux's children see.
term_su() {
	local name=$1 caller=$2 target=$3
	cat >"$TESTTMP/$name.sh" <<SH
cd /
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=$TESTTMP/home/$caller USER=$caller \
	LOGNAME=$caller LANG=C.UTF-8 TERM=screen \
	setpriv --reuid=$caller --regid=$(id -g "$caller") --init-groups -- \
	su $target -c 'echo "LOGGED-IN-AS \$(id -un)"'
echo \$? >$TESTTMP/$name.rc
SH
	rm -f "$TESTTMP/$name.rc"
	tmx new-session -d -s "$name" -x 80 -y 24 "sh $TESTTMP/$name.sh" ||
		bail "tmux new-session failed"
}
# term_screen NAME [-J]: the visible screen (-J: wrapped rows joined).
term_screen() { tmx capture-pane -p -t "$1" ${2:+"$2"}; }
# wait_screen NAME REGEX SECONDS: until the (joined) screen matches.
wait_screen() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		term_screen "$1" -J | grep -Eq -- "$2" && return 0
		sleep 0.1
	done
	return 1
}
# wait_rc NAME SECONDS: ssh's exit status once it has ended, else "running".
wait_rc() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[ -s "$TESTTMP/$1.rc" ] && { cat "$TESTTMP/$1.rc"; return 0; }
		sleep 0.1
	done
	echo running
}
# read_prompt NAME: wait for the device prompt; sets URL and CODE from the
# screen (the URL the QR code and the "Open" line give, the code of the
# "Confirm the code" line).
read_prompt() {
	URL= CODE=
	wait_screen "$1" 'Confirm the code [A-Z]{4}-[A-Z]{4}, then press Enter: ?$' 20 || return 1
	URL=$(term_screen "$1" -J | grep -Eo '^Open https://127\.0\.0\.1:[0-9]+/[^ ?]*\?user_code=[A-Z]{4}-[A-Z]{4}$' | cut -c6-)
	CODE=$(term_screen "$1" -J | sed -nE 's/^Confirm the code ([A-Z]{4}-[A-Z]{4}), then press Enter:.*/\1/p')
	[ -n "$URL" ] && [ -n "$CODE" ]
}

# term_approve URL CODE USER PASSWORD CERT [approve-browser.js options...]:
# approve in headless Chromium (a fresh profile each time), trusting the
# server certificate CERT only.  Status 0 when approved; prints the
# browser's steps as comments and sets BROWSER_MS.
term_approve() {
	local url=$1 code=$2 user=$3 pw=$4 cert=$5 t0 rc
	shift 5
	t0=$(date +%s%N)
	APPROVE_PASSWORD="$pw" CHROMIUM="$CHROMIUM" timeout 60 node "$top_srcdir/tests/e2e/approve-browser.js" \
		--url "$url" --code "$code" --username "$user" --server-cert "$cert" \
		--profile "$TESTTMP/chromium-profile.$RANDOM" "$@" >"$TESTTMP/browser.out" 2>"$TESTTMP/browser.err"
	rc=$?
	BROWSER_MS=$((($(date +%s%N) - t0) / 1000000))
	sed 's/^/# browser: /' "$TESTTMP/browser.out"
	[ $rc = 0 ] || sed 's/^/# browser stderr: /' "$TESTTMP/browser.err" | tail -20
	return $rc
}
