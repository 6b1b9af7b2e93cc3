#!/usr/bin/env bash
# device_ssh.sh - the Device Authorization Grant (RFC 8628) end to end: real
# ssh logins with keyboard-interactive, on an 80x24 terminal (tmux), through
# a private sshd (UsePAM yes) whose stack is pam.d-examples/sshd with the
# module limited to the device grant, against the real OpenID provider
# (tests/op).  The test reads the URL and the code from the terminal, as a
# person would, and approves them at the provider:
#   * with curl driving the provider's pages, as the right user: logged in;
#   * as another user (signed in at the provider as someone else): refused
#     (identity_mismatch), sshd logs the failure;
#   * in headless Chromium (Debian's chromium, playwright-core from
#     tests/e2e/browser, tests/e2e/approve-browser.js): logged in.
# What the terminal showed is kept as tests/e2e/expected/device-80x24.txt:
# the sign-in line, the whole QR code, the URL and the code all fit in 24
# rows of 80 columns.  To refresh that file after a deliberate change of
# the prompt: OA2_UPDATE_EXPECTED=1 (then review the diff).
#
# sshd runs in its own UTS namespace with the host name oa2e2e-host, so the
# prompt ("Sign in to HOST as USER ...") wraps the same way on every machine;
# the user names hold the test's PID padded to 7 digits for the same reason.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/e2e-lib.sh" "$@"

e2e_need sshd ssh ssh-keygen qrencode hostname
. "$top_srcdir/tests/e2e/term-lib.sh"
term_need_browser
EXPECTED="$top_srcdir/tests/e2e/expected/device-80x24.txt"

SVC=oa2e2e-sshd-$E2E_ID
HOSTNAME_NS=oa2e2e-host
ID7=$(printf '%07d' "$E2E_ID")
ANN=oa2e2e_d${ID7}_ann   # approves her own code with curl
BOB=oa2e2e_d${ID7}_bob   # signs in at the provider for ANN's code
CY=oa2e2e_d${ID7}_cy     # approves in Chromium
ANN_PW='ann&Dev=1+2%20ü'
BOB_PW='bob-Dev-Passw0rd'
CY_PW='cy "Dev" Passw0rd'
e2e_add_user "$ANN"
e2e_add_user "$BOB"
e2e_add_user "$CY"

# ---------------------------------------------------------------- provider
e2e_op_users "$TESTTMP/op-users.json" \
	"$(e2e_spec "$ANN" "$ANN_PW" user)" \
	"$(e2e_spec "$BOB" "$BOB_PW" user)" \
	"$(e2e_spec "$CY" "$CY_PW" user)"
start_op "$TESTTMP/op-users.json" "$top_srcdir/tests/op/clients.example.json" --device-interval 1
CONF="$TESTTMP/pam_oauth2.conf"
e2e_write_conf "$OP_URL" pam-basic pam-basic-secret-0123456789abcdef

# The example stack, its pam_oauth2 auth line limited to the device grant
# by a module argument (the config file is the one the other tests use).
e2e_example sshd "$TESTTMP/pam.d/$SVC"
sed -i -e '/^auth.*pam_oauth2/ s/$/ grants=device/' "$TESTTMP/pam.d/$SVC"
is "$(grep -c '^auth.*pam_oauth2.*config=.* grants=device$' "$TESTTMP/pam.d/$SVC")" 1 \
	"PAM stack: pam.d-examples/sshd with 'grants=device' on the module's auth line"
e2e_etc_file "/etc/pam.d/$SVC" 0644 <"$TESTTMP/pam.d/$SVC"

# ---------------------------------------------------------------- sshd
# The device grant needs keyboard-interactive, so the password method is
# off.  Own UTS namespace: the module's gethostname() says $HOSTNAME_NS
# (unshare and sh exec, so $! is sshd's PID).
e2e_sshd "$SVC" unshare --uts -- sh -c 'hostname "$1" && shift && exec "$@"' sh "$HOSTNAME_NS" <<CFG
PubkeyAuthentication no
AuthorizedKeysFile none
PasswordAuthentication no
AllowUsers oa2e2e_d${ID7}_*
LoginGraceTime 90
CFG
# approve_curl URL CODE USER PASSWORD: a fresh cookie jar (a person with a new
# browser), the provider's pages in order (tests/op/README.md, "Device
# flow"): the page of URL (verification_uri_complete) -> POST the code ->
# confirm page -> POST confirm=yes -> 303 to the sign-in page -> POST the
# credentials -> 303 -> success page.  Prints the steps' outcome, e.g.
# "200 200 303 200 303 200 success"; a step that is not as it should be
# adds a word (the confirm page must show CODE, as a person checks).
approve_curl() {
	local url=$1 want=$2 user=$3 pw=$4 d="$TESTTMP/web.$RANDOM" out=() xsrf code loc act
	mkdir -p "$d"
	local web=(curl -sS --max-time 10 --cacert "$PKI/ca.pem" -b "$d/jar" -c "$d/jar")
	local base=${url%%/device*}
	hval() { sed -n "s/.*name=\"$2\" value=\"\\([^\"]*\\)\".*/\\1/p" "$1" | head -n 1; }
	out+=("$("${web[@]}" -o "$d/1.html" -w '%{http_code}' "$url")")
	xsrf=$(hval "$d/1.html" xsrf); code=$(hval "$d/1.html" user_code)
	out+=("$("${web[@]}" -o "$d/2.html" -w '%{http_code}' "$base/device" \
		--data-urlencode "xsrf=$xsrf" --data-urlencode "user_code=$code")")
	grep -q "<code id=\"user_code\">$want</code>" "$d/2.html" || out+=(confirm-page-lacks-code)
	xsrf=$(hval "$d/2.html" xsrf)
	loc=$("${web[@]}" -o /dev/null -w '%{http_code} %{redirect_url}' "$base/device" \
		--data-urlencode "xsrf=$xsrf" --data-urlencode "user_code=$code" -d confirm=yes)
	out+=("${loc%% *}")
	out+=("$("${web[@]}" -o "$d/4.html" -w '%{http_code}' "${loc#* }")")
	act=$(sed -n 's/.*<form id="login" method="post" action="\([^"]*\)".*/\1/p' "$d/4.html")
	loc=$("${web[@]}" -o /dev/null -w '%{http_code} %{redirect_url}' "$base$act" \
		--data-urlencode "username=$user" --data-urlencode "password=$pw")
	out+=("${loc%% *}")
	out+=("$("${web[@]}" -o "$d/6.html" -w '%{http_code}' "${loc#* }")")
	grep -q 'id="success"' "$d/6.html" && out+=(success) || out+=(no-success)
	echo "${out[*]}"
}

# ---------------------------------------------------------------- 1: curl, right user
term_ssh ann "$ANN"
read_prompt ann
ok $? "ssh -tt, keyboard-interactive, 80x24 tmux: the device prompt is on the screen"
SCREEN_RAW=$(term_screen ann)
SCREEN_J=$(term_screen ann -J)
printf '%s\n' "$SCREEN_RAW" | sed 's/^/# screen| /'
CURSOR=$(tmx display-message -p -t ann '#{cursor_y} #{cursor_x} #{pane_width}x#{pane_height}')
like "$SCREEN_J" "^\($ANN@127\.0\.0\.1\) Sign in to $HOSTNAME_NS as $ANN with a browser on any device\.$" \
	"  the sign-in line names the host and the user (after ssh's '(user@host)' prefix)"
is "$(printf '%s\n' "$URL" | sed -E 's/[A-Z]{4}-[A-Z]{4}$/CODE/')" "$OP_URL/device?user_code=CODE" \
	"  'Open $URL': verification_uri_complete of the provider"
is "${URL##*=}" "$CODE" "  the code of the 'Confirm the code $CODE' line is the one in the URL"

# The 80x24 screen, row by row (no joining): nothing may have scrolled out
# or wrapped.  Rows: sign-in (2 rows, wrapped), 17 QR rows, Open, Confirm.
rows=$(printf '%s\n' "$SCREEN_RAW" | wc -l)
width=$(printf '%s\n' "$SCREEN_RAW" | LC_ALL=C.UTF-8 wc -L)
is "${CURSOR##* } $([ "$rows" -le 24 ] && [ "$width" -le 80 ] && echo fits)" "80x24 fits" \
	"  the pane is 80x24 and the prompt fits: $rows rows in use, the widest $width columns"
qr_first=$(printf '%s\n' "$SCREEN_RAW" | LC_ALL=C.UTF-8 grep -nE '^[█▀▄ ]{20,}$' | head -1 | cut -d: -f1)
qr_rows=$(printf '%s\n' "$SCREEN_RAW" | LC_ALL=C.UTF-8 grep -cE '^[█▀▄ ]{20,}$')
qr_widths=$(printf '%s\n' "$SCREEN_RAW" | LC_ALL=C.UTF-8 grep -E '^[█▀▄ ]{20,}$' |
	while IFS= read -r l; do printf '%s\n' "${#l}"; done | sort -u | tr '\n' ' ')
open_row=$(printf '%s\n' "$SCREEN_RAW" | grep -nxF "Open $URL" | cut -d: -f1)
confirm_row=$(printf '%s\n' "$SCREEN_RAW" | grep -nE "^Confirm the code $CODE, then press Enter:$" | cut -d: -f1)
sign_row=$(printf '%s\n' "$SCREEN_RAW" | grep -nF "($ANN@127.0.0.1) Sign in to" | cut -d: -f1)
is "$qr_rows/$qr_widths" "17/33 " "  the QR code: 17 rows of 33 half-block cells (29 modules + quiet zone), all on screen"
is "${sign_row:-none} ${qr_first:-none} ${open_row:-none} ${confirm_row:-none}" "1 3 20 21" \
	"  rows: sign-in at 1 (wrapped to 2), QR 3-19, 'Open URL' at 20, 'Confirm the code' at 21, each unwrapped"
is "${CURSOR%% *}" "$((confirm_row - 1))" "  the cursor waits on the 'Confirm the code' row"
# The QR code shows the URL: the qrencode program (Debian's qrencode, the
# same libqrencode but its own half-block renderer) draws the URL read from
# the screen exactly as the module did, so the symbol encodes that URL and
# the module's rendering (light modules drawn, 2-module quiet zone, two
# module rows per text row) is right.
mine=$(printf '%s\n' "$SCREEN_RAW" | LC_ALL=C.UTF-8 grep -E '^[█▀▄ ]{20,}$')
theirs=$(qrencode -t UTF8 -l L -m 2 -o - "$URL" 2>/dev/null | LC_ALL=C.UTF-8 sed 's/\x1b\[[0-9;]*m//g')
is "$mine" "$theirs" "  the QR code encodes the URL on the screen (qrencode -t UTF8 renders the same)"

# Kept as the expectation: the screen, normalised.  Varying: the PID in
# the user names, the provider's port, the code, and the QR code's data
# modules.  What every QR code of this size (version 3, 29x29 modules,
# from the 50-byte URL) has in the same place stays: the quiet zone and
# the three finder patterns with their separators; every other cell
# becomes "▒".
qr_mask() { # stdin: screen rows; QR rows (33 cells) masked
	local l c x y1 y2 out
	fixed() { # module x y: quiet zone or finder pattern + separator
		[ "$1" -lt 0 ] || [ "$1" -gt 28 ] || [ "$2" -lt 0 ] || [ "$2" -gt 28 ] ||
			{ [ "$1" -le 7 ] && [ "$2" -le 7 ]; } ||
			{ [ "$1" -ge 21 ] && [ "$2" -le 7 ]; } ||
			{ [ "$1" -le 7 ] && [ "$2" -ge 21 ]; }
	}
	local r=0
	while IFS= read -r l; do
		if [ "${#l}" -eq 33 ] && [[ "$l" =~ ^[█▀▄\ ]+$ ]]; then
			# text row r shows module rows 2r-2 and 2r-1 (quiet zone 2)
			y1=$((2 * r - 2)) y2=$((2 * r - 1)) out=
			for ((c = 0; c < 33; c++)); do
				x=$((c - 2))
				if fixed "$x" "$y1" && fixed "$x" "$y2"; then
					out+=${l:c:1}
				else
					out+=▒
				fi
			done
			printf '%s\n' "$out"
			r=$((r + 1))
		else
			printf '%s\n' "$l"
		fi
	done
}
normalise_screen() {
	LC_ALL=C.UTF-8 sed -E \
		-e 's/oa2e2e_d[0-9]{7}_/oa2e2e_dNNNNNNN_/g' \
		-e 's|https://127\.0\.0\.1:[0-9]{5}/|https://127.0.0.1:PORT/|g' \
		-e 's/[A-Z]{4}-[A-Z]{4}/XXXX-XXXX/g' | LC_ALL=C.UTF-8 qr_mask
}
# capture-pane leaves out the empty rows at the bottom: put them back, so
# the file is the whole 24-row screen.
{ printf '%s\n' "$SCREEN_RAW"; for ((i = rows; i < 24; i++)); do echo; done; } |
	normalise_screen >"$TESTTMP/device-80x24.txt"
if [ -n "${OA2_UPDATE_EXPECTED:-}" ]; then
	mkdir -p "$(dirname "$EXPECTED")"
	cp "$TESTTMP/device-80x24.txt" "$EXPECTED"
	echo "# wrote $EXPECTED"
fi
if diff -u "$EXPECTED" "$TESTTMP/device-80x24.txt" >"$TESTTMP/screen.diff" 2>&1; then
	ok 0 "  the 80x24 screen is tests/e2e/expected/device-80x24.txt (port, code, QR modules, PID normalised)"
else
	ok 1 "  the 80x24 screen is tests/e2e/expected/device-80x24.txt (port, code, QR modules, PID normalised)"
	sed 's/^/#   /' "$TESTTMP/screen.diff"
fi

CODE1=$CODE
steps=$(approve_curl "$URL" "$CODE" "$ANN" "$ANN_PW")
is "$steps" "200 200 303 200 303 200 success" "curl approves $CODE at the provider's pages as $ANN"
is "$(wait_rc ann 1)" running "  ssh still waits for Enter"
tmx send-keys -t ann Enter
is "$(wait_rc ann 20)" 0 "Enter: ssh exits 0"
term_screen ann | sed -n '/^Confirm the code/,$ s/^/# screen| /p'
like "$(term_screen ann -J)" "^LOGGED-IN-AS $ANN" "  the session ran as $ANN (the remote command's line on the screen)"
is "$(sshd_said keyboard-interactive/pam "$ANN")" Accepted "  sshd logged 'Accepted keyboard-interactive/pam for $ANN'"
like "$(e2e_decision "$ANN")" "service=$SVC rhost=127\.0\.0\.1 grant=device result=allow reason=ok .* sub=sub-$ANN$" \
	"  the module's decision (captured from sshd's keyboard-interactive child): device grant, allowed, sub of $ANN"

# ---------------------------------------------------------------- 2: curl, another user
term_ssh ann2 "$ANN"
read_prompt ann2
ok $? "ssh as $ANN again: a new device prompt"
ok "$([ "$CODE" != "$CODE1" ] && echo 0 || echo 1)" "  with a new code ($CODE, not $CODE1)"
steps=$(approve_curl "$URL" "$CODE" "$BOB" "$BOB_PW")
is "$steps" "200 200 303 200 303 200 success" "curl approves $ANN's code $CODE signed in at the provider as $BOB"
tmx send-keys -t ann2 Enter
is "$(wait_rc ann2 20)" 255 "Enter: ssh exits 255 (authentication refused)"
term_screen ann2 | sed -n '/^Confirm the code/,$ s/^/# screen| /p'
like "$(term_screen ann2 -J)" "Permission denied \(keyboard-interactive\)" "  ssh printed 'Permission denied (keyboard-interactive)'"
unlike "$(term_screen ann2 -J)" "LOGGED-IN-AS" "  no session ran"
is "$(sshd_said keyboard-interactive/pam "$ANN")" Failed "  sshd logged 'Failed keyboard-interactive/pam for $ANN'"
like "$(e2e_decision "$ANN")" "service=$SVC rhost=127\.0\.0\.1 grant=device result=deny reason=identity_mismatch " \
	"  the module refused it: identity_mismatch (the code was approved by $BOB)"

# ---------------------------------------------------------------- 3: Chromium
term_ssh cy "$CY"
read_prompt cy
ok $? "ssh as $CY: device prompt"
term_approve "$URL" "$CODE" "$CY" "$CY_PW" "$PKI/server.pem"
ok $? "headless Chromium: opened the URL, checked the code $CODE, Continue, signed in as $CY, success page ($BROWSER_MS ms)"
tmx send-keys -t cy Enter
is "$(wait_rc cy 20)" 0 "Enter: ssh exits 0"
like "$(term_screen cy -J)" "^LOGGED-IN-AS $CY" "  the session ran as $CY"
is "$(sshd_said keyboard-interactive/pam "$CY")" Accepted "  sshd logged 'Accepted keyboard-interactive/pam for $CY'"
like "$(e2e_decision "$CY")" "grant=device result=allow reason=ok .* sub=sub-$CY$" "  the module allowed the device grant, sub of $CY"

# ---------------------------------------------------------------- after
log=$(cat "$OA2_LOG_CAPTURE" "$SSHD_LOG")
unlike "$log" 'ann&Dev|bob-Dev-Passw0rd|Dev" Passw0rd|pam-basic-secret' \
	"no password or client secret in sshd's log or the module's syslog"
tmx kill-server
kill -TERM "$SSHD_PID" 2>/dev/null
wait "$SSHD_PID" 2>/dev/null
stop_op
ok $? "the OpenID provider stopped cleanly"
e2e_done
