#!/usr/bin/env bash
# keycloak.sh - a real Keycloak (pinned release from Maven Central) for the
# tests: fetched once into a cache outside the tree, started on 127.0.0.1
# over HTTPS only with a certificate of the test CA (`kc.sh start` with
# the development settings: in-memory database, local caches; `start-dev`
# cannot switch plain HTTP off), the realm tests/keycloak/realm.json
# imported at start (--import-realm), stopped on exit.  It asks TLS
# clients for a certificate (--https-client-auth=request: none is needed)
# and trusts for that a client CA of its own (DIR/client-ca.pem, in
# --truststore-paths), for the "X509 certificate" client authenticator.
#
# INTERFACE (kept stable; other scripts build on it)
#
# As a command (tests/run-all.sh: one Keycloak for the whole run):
#   tests/lib/keycloak.sh start DIR   fetch if needed, make a test PKI in
#                                     DIR/pki (tests/lib/mkca.sh), unpack
#                                     Keycloak into DIR/home, start it, wait
#                                     for the realm's discovery document;
#                                     writes DIR/env (mode 0600), lines
#                                     `export OA2_KC_...=...` (below); exit 0
#                                     when ready, else 1 with Keycloak's log
#   tests/lib/keycloak.sh stop DIR    SIGTERM (SIGKILL after 30 s), wait,
#                                     remove DIR entirely
#   tests/lib/keycloak.sh fetch       only fill the download cache
#   The exported variables, for the scripts run under it:
#     OA2_KC_URL              https://127.0.0.1:PORT (no trailing /)
#     OA2_KC_CA               the test CA (PEM) that signed its certificate
#     OA2_KC_PID              the kc.sh process (its own process group)
#     OA2_KC_ADMIN_USER       bootstrap admin of the master realm
#     OA2_KC_ADMIN_PASSWORD   its password (random per start)
#     OA2_KC_CLIENT_CA        a CA (PEM) Keycloak trusts for TLS client
#                             certificates (--https-client-auth=request:
#                             a certificate is asked for, never required)
#     OA2_KC_CLIENT_CA_KEY    its private key, to issue client certificates
#
# Sourced (after tests/lib/common.sh), by a test script:
#   kc_use        adopt the run's Keycloak when OA2_KC_URL/OA2_KC_PID are
#                 set and that process lives; otherwise start one of its
#                 own in $TESTTMP/keycloak with the script's $PKI, stopped
#                 on exit.  Sets KC_URL, KC_CA, KC_PID, KC_ADMIN_USER,
#                 KC_ADMIN_PASSWORD, KC_CLIENT_CA, KC_CLIENT_CA_KEY,
#                 KC_REALM (pam-test, the imported
#                 realm), KC_ISSUER ($KC_URL/realms/$KC_REALM), KC_OWN (1
#                 when this script started it)
#   kc_admin_token             print an access token of the admin (admin-cli)
#   kc_admin METHOD PATH [JSON]
#                 call the admin REST API: PATH below $KC_URL/admin/realms
#                 (e.g. "/pam-test/users?username=x"); prints the body;
#                 status 0 for HTTP 2xx; KC_HTTP holds the HTTP status
#   kc_realm_copy NAME         create realm NAME from tests/keycloak/realm.json
#                 (same clients, users, secrets) by the admin API, deleted
#                 on exit (also when called in $(...)): a script that
#                 changes state (lock-outs, keys, used OTP codes) works on
#                 its own copy; prints its issuer.  After kc_use only.
#   kc_realm_delete NAME       delete a realm now (KC_HTTP 204 when done)
#   kc_start_in DIR CERT KEY CA / kc_stop_in DIR
#                 the start and stop behind both of the above (sets
#                 KC_URL KC_CA KC_PID KC_ADMIN_USER KC_ADMIN_PASSWORD)
#   kc_running    status 0 while the Keycloak process lives
#
# Environment: OA2_KC_START_WAIT (seconds, default 240) bounds the wait for
# readiness; OA2_KC_CACHE (default /var/cache/pam_oauth2-tests/keycloak)
# holds the download.  Keycloak's data (in-memory H2, dev-mem), its
# re-augmented build and its logs live under DIR only; nothing is written
# into the source tree.  Java: Debian's OpenJDK 17
# (openjdk-17-jre-headless, tests/setup-debian.sh).
#
# A missing prerequisite or a failed start is a failure (Bail out!), never
# a skip; there are no retries that could hide a hang.

KC_VERSION=26.4.7
KC_SHA256=aca60ab72ae4d67adc6b8fe7fca5e08d16a6bb5e4a4f2ebb54050e3f5503fd2b
KC_MAVEN=https://repo1.maven.org/maven2/org/keycloak/keycloak-quarkus-dist
KC_JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
KC_REALM=pam-test
: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
KC_REALM_FILE="$top_srcdir/tests/keycloak/realm.json"
KC_CACHE=${OA2_KC_CACHE:-/var/cache/pam_oauth2-tests/keycloak}

# Standalone use has no common.sh: a minimal bail.
if ! declare -F bail >/dev/null; then
	bail() { echo "Bail out! $*"; exit 1; }
fi

# kc_fetch: the checksum-verified release tarball in the cache; sets
# KC_TARBALL.  A cached file is re-verified on every use.
kc_fetch() {
	local name="keycloak-quarkus-dist-$KC_VERSION.tar.gz" part have
	KC_TARBALL="$KC_CACHE/$name"
	mkdir -p "$KC_CACHE" || bail "cannot create $KC_CACHE"
	if [ -f "$KC_TARBALL" ]; then
		have=$(sha256sum <"$KC_TARBALL" | cut -c1-64)
		[ "$have" = "$KC_SHA256" ] && return 0
		echo "# cached $KC_TARBALL has SHA-256 $have, not $KC_SHA256: fetching again" >&2
		rm -f "$KC_TARBALL"
	fi
	command -v curl >/dev/null || bail "curl not found"
	part=$(mktemp "$KC_CACHE/.$name.XXXXXX") || bail "cannot write into $KC_CACHE"
	if ! curl -sS --fail --proto =https --max-time 900 -o "$part" \
		"$KC_MAVEN/$KC_VERSION/$name"; then
		rm -f "$part"
		bail "cannot download Keycloak $KC_VERSION from $KC_MAVEN"
	fi
	have=$(sha256sum <"$part" | cut -c1-64)
	if [ "$have" != "$KC_SHA256" ]; then
		rm -f "$part"
		bail "downloaded $name has SHA-256 $have, want $KC_SHA256"
	fi
	chmod 0644 "$part"
	mv -f "$part" "$KC_TARBALL" || bail "cannot move the download into $KC_CACHE"
}

# _kc_free_port: a loopback TCP port nobody listens on.
_kc_free_port() {
	local p i
	for i in $(seq 1 50); do
		p=$((20000 + RANDOM % 30000))
		if [ -z "$(ss -Htln "sport = :$p" 2>/dev/null)" ]; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# _kc_log_tail DIR: the end of Keycloak's log, for a Bail out line.
_kc_log_tail() {
	tail -c 3000 "$1/keycloak.log" 2>/dev/null | tr '\n' ' '
}

# kc_start_in DIR CERT KEY CA: unpack and start Keycloak in DIR, wait for
# readiness.  Sets KC_URL KC_CA KC_PID KC_ADMIN_USER KC_ADMIN_PASSWORD
# KC_DIR.
kc_start_in() {
	local dir=$1 cert=$2 key=$3 ca=$4 port i wait_s home
	command -v ss >/dev/null || bail "ss (iproute2) not found"
	[ -x "$KC_JAVA_HOME/bin/java" ] ||
		bail "Java 17 not found at $KC_JAVA_HOME (openjdk-17-jre-headless): run tests/setup-debian.sh"
	[ -f "$KC_REALM_FILE" ] || bail "missing $KC_REALM_FILE"
	kc_fetch
	mkdir -p "$dir" && chmod 0700 "$dir" || bail "cannot create $dir"
	home="$dir/home"
	rm -rf "$home"
	mkdir -p "$home" || bail "cannot create $home"
	tar -xzf "$KC_TARBALL" -C "$home" --strip-components=1 ||
		bail "cannot unpack $KC_TARBALL"
	mkdir -p "$home/data/import" "$dir/tmp"
	cp "$KC_REALM_FILE" "$home/data/import/realm.json" || bail "cannot copy the realm file"
	# Keycloak reads the key as its own user (root here); keep copies in DIR.
	install -m 0600 "$key" "$dir/server.key" && install -m 0644 "$cert" "$dir/server.pem" &&
		install -m 0644 "$ca" "$dir/ca.pem" || bail "cannot copy the server certificate"
	# The CA of the TLS client certificates (client-x509, RFC 8705).
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
		-subj "/CN=pam_oauth2 test client CA" -keyout "$dir/client-ca.key" \
		-out "$dir/client-ca.pem" 2>/dev/null && chmod 0600 "$dir/client-ca.key" ||
		bail "cannot make the client CA"
	port=$(_kc_free_port) || bail "no free loopback port"
	KC_ADMIN_USER=oa2admin
	KC_ADMIN_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
	: >"$dir/keycloak.log"
	KC_URL="https://127.0.0.1:$port"
	# `start`, not `start-dev`: in the dev profile Keycloak 26 serves plain
	# HTTP on 8080 whatever --http-enabled says (HttpPropertyMappers:
	# isHttpEnabled() is true in dev mode).  `start` with the dev
	# profile's other settings (in-memory H2, local caches) listens on
	# HTTPS only; --hostname fixes the issuer to the loopback URL.
	# Nothing in /tmp: Java's and Vert.x's scratch files go to DIR/tmp, and
	# no /tmp/hsperfdata_root (-XX:-UsePerfData).
	# setsid: its own process group, so stop reaches kc.sh and java alike.
	# The admin password reaches Keycloak in its environment only (no argv).
	(
		cd "$dir" || exit 1
		exec env JAVA_HOME="$KC_JAVA_HOME" PATH="$KC_JAVA_HOME/bin:/usr/bin:/bin" \
			JAVA_OPTS_KC_HEAP="-Xms64m -Xmx768m" \
			JAVA_OPTS_APPEND="-Djava.io.tmpdir=$dir/tmp -Dvertx.cacheDirBase=$dir/tmp/vertx-cache -XX:-UsePerfData" \
			KC_BOOTSTRAP_ADMIN_USERNAME="$KC_ADMIN_USER" \
			KC_BOOTSTRAP_ADMIN_PASSWORD="$KC_ADMIN_PASSWORD" \
			setsid "$home/bin/kc.sh" start \
			--hostname="$KC_URL" \
			--http-enabled=false --http-host=127.0.0.1 --https-port="$port" \
			--https-certificate-file="$dir/server.pem" \
			--https-certificate-key-file="$dir/server.key" \
			--https-client-auth=request --truststore-paths="$dir/client-ca.pem" \
			--db=dev-mem --cache=local --import-realm \
			--health-enabled=false --metrics-enabled=false
	) </dev/null >>"$dir/keycloak.log" 2>&1 &
	KC_PID=$!
	echo "$KC_PID" >"$dir/pid"
	KC_DIR=$dir
	KC_CA="$dir/ca.pem"
	KC_CLIENT_CA="$dir/client-ca.pem"
	KC_CLIENT_CA_KEY="$dir/client-ca.key"
	wait_s=${OA2_KC_START_WAIT:-240}
	for ((i = 0; i < wait_s * 2; i++)); do
		if curl -sS --fail --max-time 5 --cacert "$KC_CA" -o /dev/null \
			"$KC_URL/realms/$KC_REALM/.well-known/openid-configuration" 2>/dev/null; then
			return 0
		fi
		kill -0 "$KC_PID" 2>/dev/null ||
			bail "Keycloak exited at start: log: $(_kc_log_tail "$dir")"
		sleep 0.5
	done
	bail "Keycloak at $KC_URL did not serve the discovery document of realm $KC_REALM within ${wait_s} s: log: $(_kc_log_tail "$dir")"
}

# kc_stop_in DIR: stop the Keycloak started in DIR, remove DIR.
kc_stop_in() {
	local dir=$1 pid i
	pid=$(cat "$dir/pid" 2>/dev/null)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
		for ((i = 0; i < 60; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.5
		done
		kill -KILL -- "-$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		# java may outlive kc.sh by a moment: wait for the group to go.
		for ((i = 0; i < 20; i++)); do
			pgrep -g "$pid" >/dev/null 2>&1 || break
			sleep 0.25
		done
	fi
	case "$dir" in
	/ | "") ;;
	*) rm -rf "$dir" ;;
	esac
}

kc_running() {
	[ -n "${KC_PID:-}" ] && kill -0 "$KC_PID" 2>/dev/null
}

# kc_use: see the interface above.
kc_use() {
	if [ -n "${OA2_KC_URL:-}" ] && [ -n "${OA2_KC_PID:-}" ] &&
		kill -0 "$OA2_KC_PID" 2>/dev/null; then
		KC_URL=$OA2_KC_URL KC_CA=$OA2_KC_CA KC_PID=$OA2_KC_PID
		KC_ADMIN_USER=$OA2_KC_ADMIN_USER KC_ADMIN_PASSWORD=$OA2_KC_ADMIN_PASSWORD
		KC_CLIENT_CA=${OA2_KC_CLIENT_CA:-} KC_CLIENT_CA_KEY=${OA2_KC_CLIENT_CA_KEY:-}
		KC_OWN=0
		curl -sS --fail --max-time 10 --cacert "$KC_CA" -o /dev/null \
			"$KC_URL/realms/$KC_REALM/.well-known/openid-configuration" ||
			bail "the run's Keycloak ($KC_URL, pid $KC_PID) does not serve realm $KC_REALM"
	else
		[ -n "${OA2_KC_URL:-}" ] &&
			echo "# OA2_KC_URL=$OA2_KC_URL but pid ${OA2_KC_PID:-?} is gone: starting a Keycloak of this script's own"
		on_exit "kc_stop_in '$TESTTMP/keycloak'"
		local t0=$(date +%s)
		kc_start_in "$TESTTMP/keycloak" "$PKI/server.pem" "$PKI/server.key" "$PKI/ca.pem"
		echo "# started Keycloak $KC_VERSION at $KC_URL in $(($(date +%s) - t0)) s"
		KC_OWN=1
	fi
	KC_ISSUER="$KC_URL/realms/$KC_REALM"
	# Runs before the stop of an own Keycloak (exit actions run last first).
	on_exit "_kc_delete_copies"
}

# The password goes to curl on stdin (not argv), without a newline.
kc_admin_token() {
	printf '%s' "$KC_ADMIN_PASSWORD" |
		curl -sS --fail --max-time 20 --cacert "$KC_CA" \
		--data-urlencode grant_type=password --data-urlencode client_id=admin-cli \
		--data-urlencode "username=$KC_ADMIN_USER" \
		--data-urlencode "password@-" \
		"$KC_URL/realms/master/protocol/openid-connect/token" |
		sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p'
}

# kc_admin METHOD PATH [JSON]
kc_admin() {
	local method=$1 path=$2 tok out
	tok=$(kc_admin_token)
	[ -n "$tok" ] || { KC_HTTP=000; echo "no admin token"; return 1; }
	out=$(mktemp "${TESTTMP:-/tmp}/kcadm.XXXXXX")
	if [ $# -ge 3 ]; then
		KC_HTTP=$(curl -sS --max-time 60 --cacert "$KC_CA" -X "$method" \
			-H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
			--data-binary "$3" -o "$out" -w '%{http_code}' "$KC_URL/admin/realms$path")
	else
		KC_HTTP=$(curl -sS --max-time 60 --cacert "$KC_CA" -X "$method" \
			-H "Authorization: Bearer $tok" -o "$out" -w '%{http_code}' "$KC_URL/admin/realms$path")
	fi
	cat "$out"
	rm -f "$out"
	case "$KC_HTTP" in 2??) return 0 ;; *) return 1 ;; esac
}

kc_realm_delete() {
	kc_admin DELETE "/$1" >/dev/null || return 1
	[ -f "${TESTTMP:-/nonexistent}/kc-realms" ] &&
		sed -i "/^$1\$/d" "$TESTTMP/kc-realms"
	return 0
}

# kc_realm_copy NAME: prints the new realm's issuer.
kc_realm_copy() {
	local name=$1 json
	# The realm's name, and its default role's (default-roles-REALM).
	json=$(sed -e "0,/\"realm\": *\"$KC_REALM\"/s//\"realm\": \"$name\"/" \
		-e "s/\"default-roles-$KC_REALM\"/\"default-roles-$name\"/g" "$KC_REALM_FILE")
	kc_admin DELETE "/$name" >/dev/null 2>&1 || true
	# Listed before it exists: kc_use's exit action deletes what is
	# listed, also when this runs in $(...), whose on_exit would be lost.
	echo "$name" >>"$TESTTMP/kc-realms"
	kc_admin POST "" "$json" >/dev/null ||
		bail "cannot create realm $name (HTTP $KC_HTTP)"
	echo "$KC_URL/realms/$name"
}

# _kc_delete_copies: the exit action of kc_use (realms of kc_realm_copy).
_kc_delete_copies() {
	local name
	# A Keycloak of the script's own is stopped (and removed) right after.
	[ "${KC_OWN:-0}" = 1 ] && return 0
	[ -f "$TESTTMP/kc-realms" ] || return 0
	while read -r name; do
		[ -n "$name" ] && kc_realm_delete "$name"
	done <"$TESTTMP/kc-realms"
	rm -f "$TESTTMP/kc-realms"
}

# ---------------------------------------------------------------- command
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	case "${1:-}" in
	start)
		[ $# -eq 2 ] || bail "usage: $0 start DIR"
		dir=$2
		mkdir -p "$dir/pki" || bail "cannot create $dir"
		"$top_srcdir/tests/lib/mkca.sh" "$dir/pki" || bail "mkca.sh failed"
		if ! (kc_start_in "$dir" "$dir/pki/server.pem" "$dir/pki/server.key" "$dir/pki/ca.pem" &&
			umask 077 && {
			echo "export OA2_KC_URL='$KC_URL'"
			echo "export OA2_KC_CA='$KC_CA'"
			echo "export OA2_KC_PID='$KC_PID'"
			echo "export OA2_KC_ADMIN_USER='$KC_ADMIN_USER'"
			echo "export OA2_KC_ADMIN_PASSWORD='$KC_ADMIN_PASSWORD'"
			echo "export OA2_KC_CLIENT_CA='$KC_CLIENT_CA'"
			echo "export OA2_KC_CLIENT_CA_KEY='$KC_CLIENT_CA_KEY'"
		} >"$dir/env"); then
			kc_stop_in "$dir"
			exit 1
		fi
		;;
	stop)
		[ $# -eq 2 ] || bail "usage: $0 stop DIR"
		kc_stop_in "$2"
		;;
	fetch) kc_fetch ;;
	*) echo "usage: $0 start DIR | stop DIR | fetch" >&2; exit 2 ;;
	esac
fi
