#!/usr/bin/env bash
# demo.sh - the main job, end to end on one machine (run as root):
# install what is needed (tests/setup-debian.sh demo: the build
# dependencies, openssl, Debian's npm and the pinned Node.js 22 with
# oidc-provider), build the module, start the bundled local OpenID
# provider (oidc-provider on 127.0.0.1 with a throw-away CA), and log in
# through the real PAM stack with the password grant.  Prints the result
# of a right and a wrong password and the module's syslog lines.  Starts
# no service and leaves nothing in /tmp.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

"$top/tests/setup-debian.sh" demo
export PATH="$top/tests/node/node_modules/.bin:$PATH"
if [ ! -f .libs/pam_oauth2.so ] || [ ! -x tests/pam/pamtest ]; then
	echo "demo: building"
	{ [ -f configure ] || autoreconf -fi; } >/dev/null 2>&1
	[ -f Makefile ] || ./configure -q
	make -s -j"$(nproc)" >/dev/null
fi
make -s tests/pam/pamtest tests/lib/logcapture.la >/dev/null

tmp=$(mktemp -d /tmp/oa2demo.XXXXXX)
chmod 700 "$tmp"
op_pid=
created_user=
cleanup() {
	[ -n "$op_pid" ] && kill "$op_pid" 2>/dev/null
	[ -n "$created_user" ] && userdel -f "$created_user" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

tests/lib/mkca.sh "$tmp/pki"
node tests/op/server.js --port 0 --cert "$tmp/pki/server.pem" \
	--key "$tmp/pki/server.key" --ca "$tmp/pki/ca.pem" \
	--users tests/op/users.example.json --clients tests/op/clients.example.json \
	>"$tmp/op.out" 2>"$tmp/op.err" &
op_pid=$!
for _ in $(seq 1 300); do
	grep -q '^READY' "$tmp/op.out" && break
	kill -0 "$op_pid" 2>/dev/null || break
	sleep 0.1
done
port=$(awk '/^READY/ {print $2}' "$tmp/op.out")
[ -n "$port" ] || { echo "demo: the provider did not start: $(cat "$tmp/op.err")"; exit 1; }
echo "demo: OpenID provider (oidc-provider) at https://127.0.0.1:$port"

user=oa2user
password='user&pass=1+2%20ü'
if ! getent passwd "$user" >/dev/null; then
	useradd -M -d /nonexistent -s /usr/sbin/nologin "$user"
	created_user=$user
fi

cat >"$tmp/pam_oauth2.conf" <<CONF
issuer = https://127.0.0.1:$port
client_id = pam-basic
client_secret = pam-basic-secret-0123456789abcdef
scope = openid profile
ca_file = $tmp/pki/ca.pem
cache_dir = $tmp/cache
state_dir = $tmp/state
CONF
chmod 600 "$tmp/pam_oauth2.conf"
mkdir "$tmp/pam.d"
printf "auth required pam_deny.so\naccount required pam_deny.so\n" >"$tmp/pam.d/other"
cat >"$tmp/pam.d/oa2demo" <<SVC
auth    required $top/.libs/pam_oauth2.so config=$tmp/pam_oauth2.conf
account required $top/.libs/pam_oauth2.so config=$tmp/pam_oauth2.conf
SVC

export OA2_LOG_CAPTURE="$tmp/syslog"
run() {
	printf '%s\n' "$2" | LD_PRELOAD="$top/tests/lib/.libs/logcapture.so" \
		tests/pam/pamtest "$tmp/pam.d" oa2demo "$user" auth acct 2>/dev/null |
		tr '\n' ' '
}
echo "demo: login as $user with the right password: $(run right "$password")"
echo "demo: login as $user with a wrong password: $(run wrong 'not-the-password')"
echo "demo: what the module logged:"
sed 's/^/  /' "$OA2_LOG_CAPTURE"
