# dex.sh - start and stop a real Dex (github.com/dexidp/dex) from a test.
# Source after tests/lib/common.sh.
#
#   dex_require             build the pinned Dex once per machine
#                           (tests/lib/dex-build.sh; cached outside the tree)
#                           and set DEX_BIN; Bail out if that fails
#   dex_user EMAIL USERNAME PASSWORD GROUPS...
#                           add an entry to the local password database of
#                           the next start_dex (the password is bcrypt-hashed
#                           here; GROUPS become its `groups` claim)
#   dex_remove_user EMAIL   drop an entry (takes effect at the next start_dex)
#   start_dex               write the configuration from tests/dex/config.yaml
#                           and start Dex on loopback HTTPS with the test PKI,
#                           awaited by its discovery document; sets DEX_PID,
#                           DEX_PORT, DEX_URL (the issuer).  A restart keeps
#                           the port and the issuer.
#   stop_dex                SIGTERM and wait
#
# Storage is in memory: every start begins empty (new signing keys too).
# The client ids and the secret are DEX_DEVICE_CLIENT, DEX_CLIENT,
# DEX_CLIENT_SECRET.

DEX_CONFIG_TEMPLATE="$top_srcdir/tests/dex/config.yaml"
DEX_CLIENT=pam-servers
DEX_CLIENT_SECRET=pam-servers-secret-0123456789abcdef
DEX_DEVICE_CLIENT=pam-device
DEX_USERS="$TESTTMP/dex-users.yaml"
DEX_PORT=
DEX_PID=
: >"$DEX_USERS"

dex_require() {
	local out
	command -v perl >/dev/null 2>&1 || bail "perl not found (bcrypt hashes for Dex's password database)"
	out=$("$top_srcdir/tests/lib/dex-build.sh" 2>"$TESTTMP/dex-build.log") ||
		bail "building Dex failed: $(tail -c 1500 "$TESTTMP/dex-build.log" | tr '\n' ' ')"
	DEX_BIN=$out
	[ -x "$DEX_BIN" ] || bail "tests/lib/dex-build.sh printed no binary: $DEX_BIN"
}

# dex_bcrypt: bcrypt (cost 10, Dex's minimum) of $DEX_PW through glibc's
# crypt (libxcrypt's $2b$); the salt from /dev/urandom.
dex_bcrypt() {
	perl -e '
		my @a = (".", "/", "A".."Z", "a".."z", "0".."9");
		open(my $r, "<", "/dev/urandom") or die; read($r, my $b, 21) == 21 or die;
		my $salt = join("", map { $a[ord($_) % 64] } split //, $b) . ".";
		my $h = crypt($ENV{DEX_PW}, "\$2b\$10\$" . $salt);
		defined $h && $h =~ /^\$2b\$10\$/ or die "no bcrypt in crypt(3)\n";
		print $h, "\n";'
}

# One YAML list entry per user, kept in $DEX_USERS and put under
# staticPasswords at each start.  Values are JSON strings (valid YAML).
dex_user() {
	local email=$1 name=$2 pw=$3 hash g groups=
	shift 3
	hash=$(DEX_PW="$pw" dex_bcrypt) || bail "cannot bcrypt a password (perl crypt)"
	for g in "$@"; do groups="$groups${groups:+, }\"$g\""; done
	cat >>"$DEX_USERS" <<YAML
- email: "$email"
  hash: "$hash"
  username: "$name"
  preferredUsername: "$name"
  userID: "uid-$name"
  groups: [$groups]
YAML
}

dex_remove_user() {
	awk -v e="- email: \"$1\"" '
		/^- email: / { skip = ($0 == e) }
		!skip { print }' "$DEX_USERS" >"$DEX_USERS.new" && mv "$DEX_USERS.new" "$DEX_USERS"
}

# dex_write_config PORT: the configuration of a start (0600, in $TESTTMP).
dex_write_config() {
	local cfg="$TESTTMP/dex-config.yaml"
	sed -e "s|@ISSUER@|https://127.0.0.1:$1/dex|g" \
		-e "s|@LISTEN@|127.0.0.1:$1|g" \
		-e "s|@TLS_CERT@|$PKI/server.pem|g" \
		-e "s|@TLS_KEY@|$PKI/server.key|g" \
		-e "s|@CLIENT@|$DEX_CLIENT|g" \
		-e "s|@CLIENT_SECRET@|$DEX_CLIENT_SECRET|g" \
		-e "s|@DEVICE_CLIENT@|$DEX_DEVICE_CLIENT|g" \
		"$DEX_CONFIG_TEMPLATE" >"$cfg" || bail "cannot write $cfg"
	if [ -s "$DEX_USERS" ]; then
		{ echo "staticPasswords:"; cat "$DEX_USERS"; } >>"$cfg"
	else
		echo "staticPasswords: []" >>"$cfg"
	fi
	chmod 0600 "$cfg"
	echo "$cfg"
}

# start_dex: one start on a free port (a few ports are tried only when the
# chosen one is taken), awaited by its discovery document for at most
# OA2_DEX_START_WAIT seconds (default 30).  Dex's log is in the Bail out
# line when it dies or does not answer.
start_dex() {
	local cfg i try port wait_s=${OA2_DEX_START_WAIT:-30} log="$TESTTMP/dex.log"
	[ -n "${DEX_BIN:-}" ] || dex_require
	for try in 1 2 3 4 5; do
		port=${DEX_PORT:-$((20000 + RANDOM % 30000))}
		cfg=$(dex_write_config "$port")
		echo "----- start $(date +%T) port $port" >>"$log"
		"$DEX_BIN" serve "$cfg" >>"$log" 2>&1 &
		DEX_PID=$!
		on_exit "kill -TERM $DEX_PID"
		DEX_URL="https://127.0.0.1:$port/dex"
		for ((i = 0; i < wait_s * 10; i++)); do
			if curl -sS --max-time 5 --cacert "$PKI/ca.pem" -o /dev/null \
			    "$DEX_URL/.well-known/openid-configuration" 2>/dev/null; then
				DEX_PORT=$port
				return 0
			fi
			kill -0 "$DEX_PID" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$DEX_PID" 2>/dev/null; then
			bail "Dex at $DEX_URL does not answer discovery within $wait_s s: $(tail -c 2000 "$log" | tr '\n' ' ')"
		fi
		wait "$DEX_PID" 2>/dev/null
		# Only a taken port is worth another try (a random one, and
		# never on a restart, which must keep the issuer).
		if [ -z "$DEX_PORT" ] && tail -5 "$log" | grep -q 'address already in use'; then
			continue
		fi
		break
	done
	bail "Dex exited at start: $(tail -c 2000 "$log" | tr '\n' ' ')"
}

dex_running() { [ -n "${DEX_PID:-}" ] && kill -0 "$DEX_PID" 2>/dev/null; }

# stop_dex: returns Dex's exit status (0 on a clean SIGTERM).
stop_dex() {
	local rc=0
	[ -n "${DEX_PID:-}" ] || return 0
	kill -TERM "$DEX_PID" 2>/dev/null
	wait "$DEX_PID" 2>/dev/null || rc=$?
	DEX_PID=
	return "$rc"
}
