#!/usr/bin/env bash
# stacks.sh - every shipped PAM stack through the real libpam, with the
# module path and config path substituted: pam.d-examples/sshd, su, sudo,
# login (and common-auth-oauth2 through its @include), and the Debian
# pam-auth-update profile expanded into common-auth/common-account by the
# real pam-auth-update (--root, a private debconf database).
#
# System accounts (UID below min_uid, default 1000) never reach the IdP:
# root and a test system account (useradd -r, a known local password)
# whose names the mock IdP knows, with the IdP password: refused, and the
# mock sees no request at all; the local password works where the stack
# promises it; an ordinary user still logs in through the IdP.  Then
# min_uid above the stacks' own "uid < 1000" guard: the module's
# PAM_IGNORE must reach pam_unix in the bracket stacks (ignore=ignore).
#
# pam_unix checks the real /etc/shadow: the test accounts get local
# passwords (chpasswd) and are removed on exit.  root's password is never
# changed, only the IdP password is tried for it.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/common.sh"

SYS=oa2ssys
NORM=oa2snorm
IDPPW='Idp-Pa55-stacks'
LOCALPW='L0cal-Pa55-stacks'
SECRET='stacks-secret'
EX="$top_srcdir/pam.d-examples"
PROFILE="$top_srcdir/debian/pam-configs/oauth2"

for f in sshd su sudo login common-auth-oauth2; do
	[ -f "$EX/$f" ] || bail "missing $EX/$f"
done
[ -f "$PROFILE" ] || bail "missing $PROFILE"
command -v pam-auth-update >/dev/null || bail "pam-auth-update (libpam-runtime) is not installed"
[ -f /usr/share/pam-configs/unix ] || bail "no /usr/share/pam-configs/unix (libpam-runtime)"

# The accounts.  A system account: useradd -r (UID below 1000).
getent passwd "$SYS" >/dev/null && bail "$SYS exists already"
useradd -r -M -d /nonexistent -s /bin/sh "$SYS" || bail "useradd -r $SYS"
on_exit "userdel -f $SYS"
getent passwd "$NORM" >/dev/null && bail "$NORM exists already"
useradd -M -d /nonexistent -s /bin/sh "$NORM" || bail "useradd $NORM"
on_exit "userdel -f $NORM"
printf '%s:%s\n%s:%s\n' "$SYS" "$LOCALPW" "$NORM" "$LOCALPW" | chpasswd || bail "chpasswd"
SYS_UID=$(id -u "$SYS")
NORM_UID=$(id -u "$NORM")
[ "$SYS_UID" -lt 1000 ] || bail "useradd -r gave $SYS UID $SYS_UID (want < 1000)"
[ "$NORM_UID" -ge 1000 ] || bail "useradd gave $NORM UID $NORM_UID (want >= 1000)"
[ ! -e /etc/nologin ] || bail "/etc/nologin exists: pam_nologin would refuse every login"

# The IdP knows all three names, with the IdP password.
cat >"$TESTTMP/users.json" <<JSON
{ "root": { "password": "$IDPPW", "sub": "sub-idp-root" },
  "$SYS": { "password": "$IDPPW", "sub": "sub-idp-sys" },
  "$NORM": { "password": "$IDPPW", "sub": "sub-idp-norm" } }
JSON
start_mock --users "$TESTTMP/users.json" --client-id pam-test --client-secret "$SECRET"

conf_text() {
	cat <<CONF
issuer = $MOCK_URL
client_id = pam-test
client_secret = $SECRET
ca_file = $PKI/ca.pem
timeout = 5
CONF
}
CONF="$TESTTMP/oauth2.conf"
conf_text | write_conf "$CONF"
# min_uid above the stacks' "uid < 1000" guard: $NORM is a system
# account to the module, not to pam_succeed_if.
HIGH="$TESTTMP/oauth2-high.conf"
{ conf_text; echo "min_uid = $((NORM_UID + 1))"; } | write_conf "$HIGH"

# The Debian profile, expanded by pam-auth-update as dpkg would (unix and
# oauth2 enabled), in a scratch root with its own debconf database so the
# machine's is not touched.  Also a unix-only expansion: the common-account
# the example stacks @include.
dc="$TESTTMP/debconf"
mkdir -p "$dc"
cat >"$dc/debconf.conf" <<DC
Config: configdb
Templates: templatedb

Name: configdb
Driver: File
Filename: $dc/config.dat

Name: templatedb
Driver: File
Mode: 644
Filename: $dc/templates.dat
DC
# pam_auth_update ROOT [PROFILE NAME]: the profiles of libpam-runtime's
# unix and, when given, PROFILE enabled as "pam-auth-update --enable NAME"
# (the profile is "Default: no").
pam_auth_update() {
	local r=$1
	local -a en=()
	mkdir -p "$r/etc/pam.d" "$r/var/lib/pam" "$r/usr/share/pam-configs"
	cp /usr/share/pam-configs/unix "$r/usr/share/pam-configs/"
	if [ $# -ge 3 ]; then
		cp "$2" "$r/usr/share/pam-configs/$3"
		en=(--enable "$3")
	fi
	DEBCONF_SYSTEMRC="$dc/debconf.conf" DEBIAN_FRONTEND=noninteractive \
		pam-auth-update --root "$r" --force "${en[@]}" >"$r.log" 2>&1 || bail "pam-auth-update: $(cat "$r.log")"
	[ -f "$r/etc/pam.d/common-auth" ] && [ -f "$r/etc/pam.d/common-account" ] ||
		bail "pam-auth-update wrote no common-auth/common-account in $r"
}
DEBCONF_BEFORE=$(sha256sum /var/cache/debconf/config.dat 2>/dev/null)
pam_auth_update "$TESTTMP/root-unix"
pam_auth_update "$TESTTMP/root-deb" "$PROFILE" oauth2
grep -q '^auth.*pam_oauth2\.so' "$TESTTMP/root-deb/etc/pam.d/common-auth" ||
	bail "pam-auth-update did not put pam_oauth2 into common-auth"
grep -q '^account.*pam_oauth2\.so' "$TESTTMP/root-deb/etc/pam.d/common-account" ||
	bail "pam-auth-update did not put pam_oauth2 into common-account"
grep -q '^session[[:space:]]\+optional[[:space:]]\+pam_oauth2\.so' "$TESTTMP/root-deb/etc/pam.d/common-session" ||
	bail "pam-auth-update did not put pam_oauth2's session line into common-session"
is "$(sha256sum /var/cache/debconf/config.dat 2>/dev/null)" "$DEBCONF_BEFORE" \
	"pam-auth-update ran without touching the machine's debconf database"

# subst CONFFILE DIR < stack: the module and config paths of the test (a
# module line without config= reads the default /etc/security/
# pam_oauth2.conf: it gets the test's), and "@include NAME" made
# "@include DIR/NAME" (libpam looks for a relative @include in /etc/pam.d
# even with pam_start_confdir).
subst() {
	sed -e '/^[^#].*pam_oauth2\.so/{/config=/!s|pam_oauth2\.so|pam_oauth2.so config=/etc/security/pam_oauth2.conf|}' \
		-e "s|/etc/security/pam_oauth2\.conf|$1|g" -e "s|pam_oauth2\.so|$MODULE|g" \
		-e "s|^@include[[:space:]]\+\([^/[:space:]]\+\)|@include $2/\1|"
}

# confdir DIR CONFFILE: every stack as a service in DIR.
confdir() {
	local d=$1 c=$2 f
	mkdir -p "$d"
	printf "auth required pam_deny.so\naccount required pam_deny.so\n" >"$d/other"
	for f in sshd su sudo login; do subst "$c" "$d" <"$EX/$f" >"$d/$f"; done
	subst "$c" "$d" <"$EX/common-auth-oauth2" >"$d/common-auth"
	cp "$TESTTMP/root-unix/etc/pam.d/common-account" "$d/common-account"
	printf '@include common-auth\n@include common-account\n' | subst "$c" "$d" >"$d/common"
	# The Debian expansion, with its own common-* under other names.
	subst "$c" "$d" <"$TESTTMP/root-deb/etc/pam.d/common-auth" >"$d/deb-common-auth"
	subst "$c" "$d" <"$TESTTMP/root-deb/etc/pam.d/common-account" >"$d/deb-common-account"
	subst "$c" "$d" <"$TESTTMP/root-deb/etc/pam.d/common-session" >"$d/deb-common-session"
	printf '@include deb-common-auth\n@include deb-common-account\n@include deb-common-session\n' | subst "$c" "$d" >"$d/debian"
}
confdir "$TESTTMP/stacks" "$CONF"
confdir "$TESTTMP/stacks-high" "$HIGH"
grep -q "$MODULE config=$CONF" "$TESTTMP/stacks/sshd" || bail "module path not substituted"
grep -q "^@include $TESTTMP/stacks/common-auth$" "$TESTTMP/stacks/login" || bail "@include not substituted"
grep -rq "^@include [^/]" "$TESTTMP/stacks" "$TESTTMP/stacks-high" && bail "a relative @include is left"

mock_total() {
	mock_ctl requests | node -e '
		let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
			console.log(JSON.parse(s).length); });'
}

# run DIR SERVICE USER PASSWORD: auth then acct (stops at a failed auth)
# through libpam; sets OUT (the op lines), REQ (requests the mock saw),
# PROMPTS (how many prompts), LOG (the module's syslog lines).  su and
# sudo are setuid programs: they run with the caller's real UID (nobody)
# and effective UID 0, so pam_rootok says no, as for a user running su
# (pamtest's ruid= drops the real UID after start-up, so the log capture
# is still preloaded).
run() {
	local d=$1 svc=$2 user=$3 pw=$4 before
	local -a pre=()
	case $svc in su | sudo) pre=(ruid=65534) ;; esac
	mock_reset
	before=$(wc -l <"$OA2_LOG_CAPTURE")
	OUT=$(printf '%s\n%s\n%s\n' "$pw" "$pw" "$pw" | LD_PRELOAD="$LOGSHIM" \
		"$PAMTEST" "$d" "$svc" "$user" "${pre[@]}" auth acct 2>"$TESTTMP/prompts")
	REQ=$(mock_total)
	PROMPTS=$(grep -c '^PROMPT\[[12]\]' "$TESTTMP/prompts")
	LOG=$(tail -n +"$((before + 1))" "$OA2_LOG_CAPTURE")
	AUTH=$(sed -n 's/^auth=//p' <<<"$OUT")
	ACCT=$(sed -n 's/^acct=//p' <<<"$OUT")
}

# Sanity of the harness: with ruid=, pam_rootok (root's own su) says no.
printf 'auth required pam_rootok.so\n' >"$TESTTMP/stacks/rootok"
is "$("$PAMTEST" "$TESTTMP/stacks" rootok "$SYS" ruid=65534 auth </dev/null 2>/dev/null)" "auth=PAM_AUTH_ERR" \
	"pamtest ruid=65534: real UID not root, pam_rootok refuses (as for a user running su)"
is "$("$PAMTEST" "$TESTTMP/stacks" rootok "$SYS" auth </dev/null 2>/dev/null)" "auth=PAM_SUCCESS" \
	"without it pam_rootok lets root through (so su needs ruid=)"

D="$TESTTMP/stacks"
for svc in sshd su sudo login common debian; do
	# root and the system account with the IdP password: never via the IdP.
	for u in root "$SYS"; do
		run "$D" "$svc" "$u" "$IDPPW"
		unlike "$AUTH" '^PAM_SUCCESS$' "$svc: $u with the IdP password is refused (auth=$AUTH)"
		is "$REQ" 0 "$svc: $u: the IdP sees no request at all"
		unlike "$LOG" "decision user=$u .*result=allow" "$svc: $u: the module allowed nothing"
	done
	# The local password of the system account.
	run "$D" "$svc" "$SYS" "$LOCALPW"
	case $svc in
	sudo)
		# Policy B: IdP only; a system account cannot use this stack.
		unlike "$AUTH" '^PAM_SUCCESS$' "$svc: $SYS with the local password is refused too (policy B, auth=$AUTH)" ;;
	*)
		is "$AUTH/$ACCT" "PAM_SUCCESS/PAM_SUCCESS" "$svc: $SYS logs in with the local password (auth and account)" ;;
	esac
	is "$REQ" 0 "$svc: $SYS local password: the IdP sees no request"
	[ "$svc" != sudo ] && is "$PROMPTS" 1 "$svc: $SYS: one password prompt (pam_unix's)"
	# An ordinary user through the IdP.
	run "$D" "$svc" "$NORM" "$IDPPW"
	is "$AUTH/$ACCT" "PAM_SUCCESS/PAM_SUCCESS" "$svc: $NORM (UID $NORM_UID) logs in through the IdP"
	ok "$([ "$REQ" -gt 0 ]; echo $?)" "$svc: $NORM: the IdP was asked ($REQ requests)"
	like "$LOG" "decision user=$NORM .*result=allow reason=ok" "$svc: $NORM: the module allowed it"
done

# A second name for the system account's UID (as toor is for root):
# getpwuid gives the other name back, which must not make it look like the
# NSS module's placeholder (refused in the account step).
ALIAS=${SYS}a
getent passwd "$ALIAS" >/dev/null && bail "$ALIAS exists already"
useradd -o -u "$SYS_UID" -M -d /nonexistent -s /bin/sh "$ALIAS" || bail "useradd -o $ALIAS"
on_exit "userdel -f $ALIAS"
printf '%s:%s\n' "$ALIAS" "$LOCALPW" | chpasswd || bail "chpasswd $ALIAS"
for svc in common debian; do
	run "$D" "$svc" "$ALIAS" "$LOCALPW"
	is "$AUTH/$ACCT" "PAM_SUCCESS/PAM_SUCCESS" "$svc: $ALIAS (a second name of UID $SYS_UID) logs in with the local password (auth and account)"
	unlike "$LOG" "result=deny reason=placeholder" "$svc: $ALIAS is not taken for a placeholder"
done

# The session lines (pam_oauth2's makes only a provisioned user's home):
# a local user's session opens and closes through every stack.
for svc in sshd su login debian; do
	grep -q "^session.*$MODULE" "$D/$svc" "$D/deb-common-session" ||
		bail "$svc: no pam_oauth2 session line"
	OUT=$(LD_PRELOAD="$LOGSHIM" "$PAMTEST" "$D" "$svc" "$NORM" open close </dev/null 2>/dev/null)
	is "$(echo $OUT)" "open=PAM_SUCCESS close=PAM_SUCCESS" "$svc: $NORM's session opens and closes (pam_oauth2: not provisioned, PAM_IGNORE)"
done

# The module's own guard where no pam_succeed_if shields it: logged.
run "$D" debian root "$IDPPW"
like "$LOG" "decision user=root service=debian rhost=- grant=- result=ignore reason=system_account pam=\"[^\"]*\"" \
	"debian: root: decision logged as reason=system_account, result=ignore"
run "$D" sudo "$SYS" "$IDPPW"
like "$LOG" "decision user=$SYS service=sudo .*result=ignore reason=system_account" \
	"sudo: $SYS: decision logged as reason=system_account"
is "$PROMPTS" 0 "sudo: $SYS: no password prompt at all"

# min_uid above the stacks' guard: the module's PAM_IGNORE goes on to
# pam_unix in every stack with a local fallback (ignore=ignore in the
# bracket lines; default=die would end the stack with it).
D="$TESTTMP/stacks-high"
for svc in sshd su login common debian; do
	run "$D" "$svc" "$NORM" "$LOCALPW"
	is "$AUTH/$ACCT" "PAM_SUCCESS/PAM_SUCCESS" "min_uid $((NORM_UID + 1)), $svc: $NORM logs in with the local password"
	is "$REQ" 0 "min_uid $((NORM_UID + 1)), $svc: the IdP sees no request"
	like "$LOG" "decision user=$NORM .*reason=system_account" "min_uid $((NORM_UID + 1)), $svc: logged as system_account"
	run "$D" "$svc" "$NORM" "$IDPPW"
	unlike "$AUTH" '^PAM_SUCCESS$' "min_uid $((NORM_UID + 1)), $svc: the IdP password no longer works (auth=$AUTH)"
	is "$REQ" 0 "min_uid $((NORM_UID + 1)), $svc: still no request"
done
run "$D" sudo "$NORM" "$IDPPW"
unlike "$AUTH" '^PAM_SUCCESS$' "min_uid $((NORM_UID + 1)), sudo: refused (auth=$AUTH)"
is "$REQ" 0 "min_uid $((NORM_UID + 1)), sudo: no request"

# Clean up here (the exit traps stay as a fallback).
userdel -f "$SYS"; userdel -f "$NORM"
ok "$(getent passwd "$SYS" "$NORM" >/dev/null; [ $? -ne 0 ]; echo $?)" "cleanup: the test accounts are gone"
done_testing
