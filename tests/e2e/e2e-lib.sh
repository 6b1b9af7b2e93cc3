# e2e-lib.sh - shared code of the end-to-end tests (tests/e2e/*.sh): real
# sshd, ssh, sudo, su and login against the real OpenID provider.
#
# Sourced first thing by each e2e test:
#   . "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/e2e-lib.sh" "$@"
#
# What it does before the test body runs:
#  * re-executes the test in a private mount namespace (unshare --mount);
#    inside it the login accounting files (/var/log/wtmp, btmp, lastlog,
#    faillog, /run/utmp) are bind-mounted over by copies in $TESTTMP, so
#    sshd, su and login cannot write the machine's real ones, and any
#    /etc/pam.d/<service> bind-mounted by e2e_bind_pam is visible only to
#    this test's processes and vanishes with it, even on SIGKILL;
#  * sources tests/lib/common.sh and tests/lib/op.sh.
#
# Files this creates outside $TESTTMP, all removed on exit (trap) and
# checked gone by e2e_done: /etc/pam.d/oa2e2e*, /etc/sudoers.d/oa2e2e*,
# local users oa2e2e* (names hold the test's PID, $E2E_ID), and /run/sshd (sshd's privilege separation
# directory, only if it did not exist).
#
# A missing prerequisite is a failure (Bail out!), never a skip.

if [ -z "${OA2E2E_IN_NS:-}" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "Bail out! the e2e tests run as root (they create users, /etc/pam.d and /etc/sudoers.d entries)"
		exit 1
	fi
	if ! command -v unshare >/dev/null 2>&1; then
		echo "Bail out! unshare (util-linux) not found"
		exit 1
	fi
	if ! _e2e_err=$(unshare --mount --propagation private true 2>&1); then
		# Say what failed: the command's own error (e.g. "cannot change
		# root filesystem propagation: Invalid argument" when / is no
		# mount point, as in a chroot), not a guess at its cause.
		echo "Bail out! cannot make a private mount namespace: 'unshare --mount --propagation private true' failed: $(printf '%s' "$_e2e_err" | tr '\n' ' ')"
		exit 1
	fi
	export OA2E2E_IN_NS=1
	exec unshare --mount --propagation private -- "${BASH:-bash}" "$0" "$@"
	echo "Bail out! exec unshare failed"
	exit 1
fi

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/op.sh"

EXAMPLES="$top_srcdir/pam.d-examples"
# Part of every user, service and drop-in name: two runs of the suite on
# one machine (two `make check`s) must not share or delete each other's.
E2E_ID=$$
# Interrupted or killed by a signal: still run the EXIT trap (cleanup).
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 141' PIPE
E2E_T0=$(date +%s)
_e2e_etc=()      # /etc entries this test created
_e2e_users=()    # users this test created
_e2e_acct=()     # accounting files isolated: "real-path|host-view|stamp"

# The test users' homes are under $TESTTMP, which they must be able to
# traverse (not list).
chmod 0711 "$TESTTMP"
mkdir -p "$TESTTMP/home" "$TESTTMP/acct" "$TESTTMP/hostview"
chmod 0711 "$TESTTMP/home"
# The pty driver runs as the unprivileged caller, which may not be able to
# read the source tree (a clone in a private directory): give it a copy.
PTY="$TESTTMP/pty.exp"
install -m 0644 "$top_srcdir/tests/e2e/pty.exp" "$PTY"

# e2e_need CMD...: Bail out unless every command exists.
e2e_need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || bail "required program not found: $c (see tests/e2e/README.md)"
	done
}
# e2e_do DESCRIPTION CMD...: run CMD; on failure Bail out with CMD's own
# error output, so a missing prerequisite says what failed.
e2e_do() {
	local what=$1 err
	shift
	err=$("$@" 2>&1 >/dev/null) && return 0
	bail "$what failed: $* -> $(printf '%s' "$err" | tr '\n' ' ' | head -c 600)"
}
e2e_need node curl useradd userdel chpasswd setpriv mount umount sha256sum stat
op_require

_e2e_stamp() { # FILE: size, mode, mtime and content hash
	stat -c '%s %a %Y' "$1" 2>/dev/null | tr '\n' ' '
	sha256sum <"$1" 2>/dev/null | cut -c1-64
}

# Keep the machine's login accounting files out of reach: each existing one
# gets a read-only "host view" (to check it afterwards) and is covered by a
# private copy.  Files that do not exist stay absent (glibc and shadow do
# not create them); e2e_done checks they were not created.
for f in /var/log/wtmp /var/log/btmp /var/log/lastlog /var/log/faillog /run/utmp; do
	b=$(basename "$f")
	if [ -e "$f" ]; then
		: >"$TESTTMP/hostview/$b"
		e2e_do "bind mount of $f" mount --bind "$f" "$TESTTMP/hostview/$b"
		mount -o remount,bind,ro "$TESTTMP/hostview/$b" 2>/dev/null || true
		on_exit "umount -l '$TESTTMP/hostview/$b'"
		e2e_do "copy of $f" cp -p "$f" "$TESTTMP/acct/$b"
		e2e_do "bind mount over $f" mount --bind "$TESTTMP/acct/$b" "$f"
		on_exit "umount -l '$f'"
		_e2e_acct+=("$f|$TESTTMP/hostview/$b|$(_e2e_stamp "$TESTTMP/hostview/$b")")
	else
		_e2e_acct+=("$f||absent")
	fi
done

# e2e_etc_file DEST MODE < FILE: write stdin to DEST (/etc/pam.d/oa2e2e* or
# /etc/sudoers.d/oa2e2e* only), root:root, atomically; removed on exit.
e2e_etc_file() {
	local dest=$1 mode=$2 stage
	case "$dest" in
	/etc/pam.d/oa2e2e* | /etc/sudoers.d/oa2e2e*) ;;
	*) bail "e2e_etc_file: refusing to write $dest" ;;
	esac
	case "$(basename "$dest")" in *.*) bail "e2e_etc_file: no dot in the name (sudo ignores such files): $dest" ;; esac
	stage="$TESTTMP/etc-stage.$(basename "$dest")"
	cat >"$stage"
	if [ "${dest#/etc/sudoers.d/}" != "$dest" ]; then
		visudo -cqf "$stage" >/dev/null || bail "sudoers drop-in does not parse: $(visudo -cf "$stage" 2>&1)"
	fi
	on_exit "rm -f '$dest' '$dest.oa2e2e-new'"
	_e2e_etc+=("$dest")
	# The ".": sudo skips names with a dot while the file is incomplete.
	install -m "$mode" -o root -g root "$stage" "$dest.oa2e2e-new" &&
		e2e_do "installing $dest" mv -f "$dest.oa2e2e-new" "$dest"
}

# e2e_add_user NAME [LOCAL_PASSWORD]: a local account with /bin/sh and a
# home under $TESTTMP; with a local password (pam_unix) if given, else
# locked ("!").  Removed on exit.
e2e_add_user() {
	local u=$1 pw=${2-}
	case "$u" in oa2e2e*) ;; *) bail "e2e_add_user: test users are named oa2e2e*: $u" ;; esac
	if getent passwd "$u" >/dev/null; then
		# Left over by a run that was killed with SIGKILL; ours by name.
		echo "# removing stale test user $u"
		userdel -f "$u" >/dev/null 2>&1
	fi
	on_exit "userdel -f $u"
	_e2e_users+=("$u")
	useradd -M -d "$TESTTMP/home/$u" -s /bin/sh \
		-K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$u" || bail "useradd $u"
	mkdir -p "$TESTTMP/home/$u"
	chown "$u:" "$TESTTMP/home/$u"
	chmod 0755 "$TESTTMP/home/$u"
	if [ -n "$pw" ]; then
		printf '%s:%s\n' "$u" "$pw" | chpasswd || bail "chpasswd $u"
	fi
}

# e2e_as USER CMD...: run CMD as USER (real and effective ids, groups),
# without PAM, from /, with a minimal environment.
e2e_as() {
	local u=$1; shift
	(cd / && env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$TESTTMP/home/$u" \
		USER="$u" LOGNAME="$u" LANG=C.UTF-8 \
		setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups -- "$@")
}

# e2e_example NAME OUT: pam.d-examples/NAME to file OUT with the paths substituted: the
# module's file name becomes the built module, the config path $CONF.
e2e_example() {
	[ -f "$EXAMPLES/$1" ] || bail "missing example $EXAMPLES/$1"
	[ -n "${CONF:-}" ] || bail "e2e_example: set CONF first"
	sed -e "s|pam_oauth2\.so|$MODULE|g" \
		-e "s|/etc/security/pam_oauth2\.conf|$CONF|g" "$EXAMPLES/$1" >"$2" ||
		bail "cannot write $2"
}

# e2e_bind_pam SERVICE FILE: inside this test's mount namespace only,
# /etc/pam.d/SERVICE shows FILE.  The machine's file is not modified and
# no other process sees the change.
e2e_bind_pam() {
	local svc=$1 file=$2
	[ -f "/etc/pam.d/$svc" ] || bail "/etc/pam.d/$svc does not exist (cannot cover it)"
	chmod 0644 "$file"
	e2e_do "bind mount over /etc/pam.d/$svc" mount --bind "$file" "/etc/pam.d/$svc"
	on_exit "umount -l /etc/pam.d/$svc"
}

# e2e_write_conf ISSUER CLIENT_ID CLIENT_SECRET: (re)write $CONF.
e2e_write_conf() {
	write_conf "$CONF" <<CONF
# written by $(basename "$0")
issuer = $1
client_id = $2
client_secret = $3
ca_file = $PKI/ca.pem
scope = openid profile groups pam:login
timeout = 5
connect_timeout = 3
debug = yes
CONF
}

# e2e_op_users FILE NAME...: write an OP users table.  Each NAME is
# "user:password:kind", kind one of user, admin, nologin, alias=OTHER
# (an account whose tokens carry preferred_username OTHER: an IdP that
# maps a login name to another account).
e2e_op_users() {
	local file=$1; shift
	node -e '
		const out = {};
		for (const spec of process.argv.slice(1)) {
			const [name, pw, kind] = spec.split("\u0001");
			const u = { password: pw, sub: "sub-" + name,
				scopes: ["openid", "profile", "email", "groups", "pam:login"],
				claims: { name: name, groups: ["users"] } };
			if (kind === "admin") { u.scopes.push("admin"); u.claims.groups = ["admins", "users"]; }
			if (kind === "nologin") { u.scopes = u.scopes.filter(s => s !== "pam:login"); u.claims.groups = []; }
			if (kind.startsWith("alias=")) u.claims.preferred_username = kind.slice(6);
			out[name] = u;
		}
		process.stdout.write(JSON.stringify(out, null, 1));' "$@" >"$file" ||
		bail "cannot write $file"
}
# e2e_spec USER PASSWORD KIND: one argument for e2e_op_users (passwords may
# hold ':').
e2e_spec() { printf '%s\001%s\001%s' "$1" "$2" "$3"; }

# e2e_decision USER: the module's last decision line for USER (captured
# syslog of the processes started with the capture shim).
e2e_decision() {
	grep "decision user=$1 " "$OA2_LOG_CAPTURE" 2>/dev/null | tail -1
}

# e2e_done: remove everything this test put outside $TESTTMP now (the exit
# trap does it again, harmlessly), check it is gone and that the machine's
# login accounting files are untouched, then print the plan.
e2e_done() {
	local e u a f view stamp left now
	for ((i = ${#_cleanup_cmds[@]} - 1; i >= 0; i--)); do
		case "${_cleanup_cmds[$i]}" in
		"rm -f "* | "userdel "* | "rmdir "*) eval "${_cleanup_cmds[$i]}" >/dev/null 2>&1 || true ;;
		esac
	done
	left=
	for e in ${_e2e_etc[@]+"${_e2e_etc[@]}"}; do [ -e "$e" ] && left="$left $e"; done
	is "$left" "" "every /etc entry the test added is gone (${#_e2e_etc[@]} added)"
	left=
	for u in ${_e2e_users[@]+"${_e2e_users[@]}"}; do
		getent passwd "$u" >/dev/null && left="$left $u"
		getent group "$u" >/dev/null && left="$left group:$u"
		grep -q "^$u:" /etc/subuid /etc/subgid 2>/dev/null && left="$left subid:$u"
	done
	is "$left" "" "every test user is gone (${#_e2e_users[@]} added)"
	left=
	for a in "${_e2e_acct[@]}"; do
		IFS='|' read -r f view stamp <<<"$a"
		if [ "$stamp" = absent ]; then
			# Not covered: look at the real path (no mount over it).
			[ -e "$f" ] && left="$left $f(created)"
		else
			now=$(_e2e_stamp "$view")
			[ "$now" = "$stamp" ] || left="$left $f"
		fi
	done
	is "$left" "" "the machine's login accounting files are untouched (wtmp btmp lastlog faillog utmp)"
	echo "# $(basename "$0"): $(($(date +%s) - E2E_T0)) s"
	done_testing
}

# ---------------------------------------------------------------- sshd
# e2e_sshd SVC [WRAPPER...] <<CFG ... CFG
# A private sshd on a free loopback port, run through the symlink
# $TESTTMP/SVC so that its PAM service is SVC (/etc/pam.d/SVC, written by
# the test), with the module's syslog lines captured.  Its configuration:
# Port/ListenAddress/HostKey, the lines the test gives on stdin (sshd takes
# the first value of a keyword, so these win), settings every test wants,
# then pam.d-examples/sshd_config.  WRAPPER (e.g. unshare ...) runs sshd.
# Creates /run/sshd only if missing.  Sets SSHD_PORT, SSHD_PID, SSHD_LOG.
e2e_sshd() {
	local svc=$1 extra bin try port i
	shift
	extra=$(cat)
	bin=$(command -v sshd)
	[ -x /usr/sbin/sshd ] && bin=/usr/sbin/sshd
	[ -n "$bin" ] || bail "sshd not found (openssh-server)"
	if [ ! -d /run/sshd ]; then
		e2e_do "creating /run/sshd" mkdir -m 0755 /run/sshd
		on_exit "rmdir /run/sshd"
	fi
	mkdir -p "$TESTTMP/ssh"
	[ -f "$TESTTMP/ssh/host_ed25519" ] ||
		ssh-keygen -q -t ed25519 -N '' -f "$TESTTMP/ssh/host_ed25519" ||
		bail "ssh-keygen"
	ln -sfn "$bin" "$TESTTMP/$svc"
	SSHD_LOG="$TESTTMP/sshd.log"
	for try in 1 2 3 4 5; do
		port=$((20000 + RANDOM % 30000))
		{
			printf 'Port %s\nListenAddress 127.0.0.1\nHostKey %s\n' \
			    "$port" "$TESTTMP/ssh/host_ed25519"
			printf '%s\n' "$extra"
			cat <<CFG
# test-only settings every e2e test wants (first value wins)
PidFile none
StrictModes no
UseDNS no
HostbasedAuthentication no
GSSAPIAuthentication no
PrintMotd no
PrintLastLog no
X11Forwarding no
MaxAuthTries 6
LogLevel VERBOSE
# from pam.d-examples/sshd_config:
CFG
			grep -v '^[[:space:]]*#' "$EXAMPLES/sshd_config"
		} >"$TESTTMP/ssh/sshd_config"
		"$TESTTMP/$svc" -t -f "$TESTTMP/ssh/sshd_config" ||
			bail "sshd -t rejects the configuration"
		: >"$SSHD_LOG"
		LD_PRELOAD="$LOGSHIM" OA2_LOG_CAPTURE="$OA2_LOG_CAPTURE" \
			"$@" "$TESTTMP/$svc" -D -e -f "$TESTTMP/ssh/sshd_config" \
			2>>"$SSHD_LOG" &
		SSHD_PID=$!
		for i in $(seq 1 100); do
			if grep -q "Server listening on 127.0.0.1 port $port" \
			    "$SSHD_LOG"; then
				SSHD_PORT=$port
				on_exit "kill -TERM $SSHD_PID"
				return 0
			fi
			kill -0 "$SSHD_PID" 2>/dev/null || break
			sleep 0.05
		done
		kill -TERM "$SSHD_PID" 2>/dev/null
		wait "$SSHD_PID" 2>/dev/null
	done
	bail "sshd did not start: $(tail -5 "$SSHD_LOG")"
}
