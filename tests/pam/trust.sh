#!/usr/bin/env bash
# trust.sh - which certificates a login trusts, through the real PAM stack
# against the mock IdP: the system store through its hashed directory
# (lazily: the bundle is not read), the bundle where the directory has no
# hash links, ca_path, ca_file with ca_path, and the ownership rules.
#
# The system store is faked: the script runs in a private mount
# namespace and binds a scratch directory over /etc/ssl/certs, so the
# machine's own store is never touched.
if [ -z "${OA2_TRUST_NS:-}" ]; then
	command -v unshare >/dev/null ||
		{ echo "Bail out! unshare (util-linux) is needed"; exit 1; }
	export OA2_TRUST_NS=1
	# A process in the namespace this script was started in.
	export OA2_TRUST_OUTER=$PPID
	exec unshare --mount --propagation private bash "$0" "$@"
fi
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/common.sh"

CTL="$top_builddir/pam_oauth2ctl"
[ -x "$CTL" ] || bail "pam_oauth2ctl not built: $CTL"
command -v openssl >/dev/null || bail "openssl is needed (openssl rehash)"
command -v curl-config >/dev/null || bail "curl-config (libcurl4-openssl-dev) is needed"
command -v strace >/dev/null || bail "strace is needed (tests/setup-debian.sh installs it)"

# The module trusts what libcurl was built to trust: this test fakes
# Debian's layout, so it must be libcurl's.
CERTS=/etc/ssl/certs
BUNDLE=$CERTS/ca-certificates.crt
curl-config --configure | grep -q -- "--with-ca-path=$CERTS'" ||
	bail "libcurl's CA directory is not $CERTS: $(curl-config --configure)"
[ "$(curl-config --ca)" = "$BUNDLE" ] ||
	bail "libcurl's CA bundle is not $BUNDLE: $(curl-config --ca)"
[ -d "$CERTS" ] || bail "no $CERTS to bind over"

STORE="$TESTTMP/store"
mkdir -m 0755 "$STORE"
mount --bind "$STORE" "$CERTS" || bail "cannot bind $STORE over $CERTS"
# The namespace ends with the script; unmount anyway before $TESTTMP goes.
on_exit "umount $CERTS"
[ "$(stat -c %i "$CERTS")" = "$(stat -c %i "$STORE")" ] ||
	bail "$CERTS is not the scratch store"

U=oa2trust
PW='trust-Pa55'
SECRET='trust-secret'
add_user "$U"
cat >"$TESTTMP/users.json" <<JSON
{ "$U": { "password": "$PW", "sub": "sub-trust", "scope": "openid" } }
JSON
start_mock --users "$TESTTMP/users.json" --client-id pam-test --client-secret "$SECRET"

# A second IdP whose certificate (unknownca.pem) comes from other-ca.
out="$TESTTMP/mock.unknownca"
node "$top_srcdir/tests/mock-idp/mock-idp.js" --port 0 \
	--cert "$PKI/unknownca.pem" --key "$PKI/unknownca.key" \
	--users "$TESTTMP/users.json" --client-id pam-test --client-secret "$SECRET" \
	>"$out" 2>>"$TESTTMP/mock.err" &
on_exit "kill -TERM $!"
for i in $(seq 1 200); do
	grep -q '^READY ' "$out" && break
	sleep 0.05
done
OTHER_URL="https://127.0.0.1:$(awk '/^READY/ {print $2}' "$out")"
[ "$OTHER_URL" != "https://127.0.0.1:" ] || bail "the unknown-CA mock did not start"

# store LINKS BUNDLE CA...: fill the fake system store with the named
# test CAs (ca, other-ca) as NAME.pem; LINKS yes: hash links
# (openssl rehash); BUNDLE good (the same CAs), garbage, none, or a CA
# name (a bundle of that CA alone).
store() {
	local links=$1 bundle=$2 ca
	shift 2
	find "$STORE" -mindepth 1 -delete
	for ca in "$@"; do cp "$PKI/$ca.pem" "$STORE/$ca.pem"; done
	if [ "$links" = yes ]; then
		openssl rehash "$STORE" || bail "openssl rehash"
		ls "$STORE" | grep -Eq '^[0-9a-f]{8}\.0$' || bail "no hash links in $STORE"
	fi
	case $bundle in
	good) for ca in "$@"; do cat "$PKI/$ca.pem"; done >"$BUNDLE" ;;
	garbage) printf -- '-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n' >"$BUNDLE" ;;
	none) ;;
	*) cat "$PKI/$bundle.pem" >"$BUNDLE" ;;
	esac
}

# hashdir DIR CA...: a hashed directory of the named test CAs.
hashdir() {
	local d=$1 ca
	shift
	rm -rf "$d"
	mkdir -m 0755 "$d"
	for ca in "$@"; do cp "$PKI/$ca.pem" "$d/$ca.pem"; done
	openssl rehash "$d" || bail "openssl rehash $d"
}

# conf NAME ISSUER [lines...]: config and service NAME (the real module).
conf() {
	local name=$1 iss=$2 l
	shift 2
	{
		cat <<CONF
issuer = $iss
client_id = pam-test
client_secret = $SECRET
timeout = 5
CONF
		for l in "$@"; do printf '%s\n' "$l"; done
	} | write_conf "$TESTTMP/$name.conf"
	write_service "$name" <<SVC
auth required @MODULE@ config=$TESTTMP/$name.conf
SVC
}

# login WANT-CODE [WANT-REASON] SERVICE DESCRIPTION: one login on a cold
# cache; with WANT-REASON, the decision line must carry reason=it.
login() {
	local want=$1 reason=$2 svc=$3 got before line
	shift 3
	mock_reset
	before=$(wc -l <"$OA2_LOG_CAPTURE")
	got=$(auth_with "$svc" "$U" "$PW")
	is "$got" "$want" "$*: $want"
	if [ -n "$reason" ]; then
		line=$(tail -n +"$((before + 1))" "$OA2_LOG_CAPTURE" | grep decision | tail -1)
		like "$line" "reason=$reason( |\$)" "$*: logged reason=$reason"
	fi
}

conf sys "$MOCK_URL"
conf sysother "$OTHER_URL"

# ------------------------------------------------- the system hashed directory
store yes good ca
login PAM_SUCCESS "" sys "[system dir] the test CA in the store, no ca_file"
login PAM_AUTHINFO_UNAVAIL tls_failed sysother "[system dir] a server certificate from a CA outside the store"
store yes good other-ca
login PAM_AUTHINFO_UNAVAIL tls_failed sys "[system dir] a store without the test CA"

# Lazy: with hash links, the bundle is never read.
store yes garbage ca
login PAM_SUCCESS "" sys "[system dir, lazy] a garbage bundle next to good hash links is not read"
login PAM_AUTHINFO_UNAVAIL tls_failed sysother "[system dir, lazy] garbage bundle: a CA outside the store is still refused"
store yes none ca
login PAM_SUCCESS "" sys "[system dir, lazy] no bundle at all next to good hash links"
# The bundle is not what is trusted: it holds the test CA, the links do not.
store yes ca other-ca
login PAM_AUTHINFO_UNAVAIL tls_failed sys "[system dir] a CA only in the bundle, not in the hash links, is not trusted"

# What the process opens: the test CA's hash link, never the bundle.
store yes good ca
HASH=$(openssl x509 -hash -noout -in "$PKI/ca.pem")
# opens SERVICE: the files under /etc/ssl a login opens (strace).
opens() {
	# Every call traced, also in the valgrind run (pam_wrapper).
	local OA2_PAMTEST_WRAP_ALL
	OA2_PAMTEST_WRAP_ALL=$(basename "$0")
	mock_reset
	OA2_PAMTEST_WRAPPER="strace -f -qq -e trace=open,openat -o $TESTTMP/strace.out" \
		auth_with "$1" "$U" "$PW" >"$TESTTMP/strace.code"
	grep -o '"/etc/ssl/[^"]*"' "$TESTTMP/strace.out" | tr -d '"' | sort -u | tr '\n' ' '
}
seen=$(opens sys)
is "$(cat "$TESTTMP/strace.code")" PAM_SUCCESS "[system dir, strace] the login succeeds"
like "$seen" "$CERTS/$HASH\.0" "[system dir, strace] the test CA is read through its hash link"
unlike "$seen" "ca-certificates\.crt" "[system dir, strace] the bundle is never opened"

out=$("$CTL" --config "$TESTTMP/sys.conf" check 2>&1)
like "$out" "trust: the system store, through its hashed directory" "[ctl] check names the system hashed directory"
like "$out" "system directory $CERTS: a hashed directory, 1 hash link," "[ctl] check counts its hash links"

# ------------------------------------------------- fallback: the bundle
store no good ca
login PAM_SUCCESS "" sys "[system bundle] no hash links: the bundle is used"
login PAM_AUTHINFO_UNAVAIL tls_failed sysother "[system bundle] a server certificate from a CA outside the bundle"
store no other-ca ca
login PAM_AUTHINFO_UNAVAIL tls_failed sys "[system bundle] the test CA as a file but not in the bundle: not trusted"
seen=$(opens sys)
like "$seen" "$BUNDLE" "[system bundle, strace] the bundle is opened"
# A hash-named entry that is not a certificate does not make a hashed dir.
store no good ca
ln -s nowhere.pem "$STORE/deadbeef.0"
login PAM_SUCCESS "" sys "[system bundle] a dangling HHHHHHHH.0 link: still the bundle"
out=$("$CTL" --config "$TESTTMP/sys.conf" check 2>&1)
like "$out" "trust: the system store, through its bundle \(fallback: no hash links in $CERTS\)" "[ctl] check names the bundle fallback"
like "$out" "system bundle $BUNDLE: a bundle of 1 certificate," "[ctl] check counts the bundle's certificates"

# ------------------------------------------------- ca_path
hashdir "$TESTTMP/cadir" ca
hashdir "$TESTTMP/otherdir" other-ca
store yes good other-ca
conf cap "$MOCK_URL" "ca_path = $TESTTMP/cadir"
login PAM_SUCCESS "" cap "[ca_path] a hashed directory with the test CA (the system store has not)"
conf capother "$MOCK_URL" "ca_path = $TESTTMP/otherdir"
store yes good ca
login PAM_AUTHINFO_UNAVAIL tls_failed capother "[ca_path] replaces the system store: a directory without the test CA"
conf capsrv "$OTHER_URL" "ca_path = $TESTTMP/cadir"
login PAM_AUTHINFO_UNAVAIL tls_failed capsrv "[ca_path] a server certificate from a CA outside it"
mkdir -m 0755 "$TESTTMP/nolinks"
cp "$PKI/ca.pem" "$TESTTMP/nolinks/"
conf capnolinks "$MOCK_URL" "ca_path = $TESTTMP/nolinks"
login PAM_AUTHINFO_UNAVAIL tls_failed capnolinks "[ca_path] a directory without hash links trusts nothing"

# Both: either one's CA is trusted, the system store is not used.
conf both1 "$MOCK_URL" "ca_file = $PKI/other-ca.pem" "ca_path = $TESTTMP/cadir"
login PAM_SUCCESS "" both1 "[ca_file + ca_path] the test CA in ca_path"
conf both2 "$MOCK_URL" "ca_file = $PKI/ca.pem" "ca_path = $TESTTMP/otherdir"
login PAM_SUCCESS "" both2 "[ca_file + ca_path] the test CA in ca_file"
conf both3 "$MOCK_URL" "ca_file = $PKI/other-ca.pem" "ca_path = $TESTTMP/otherdir"
login PAM_AUTHINFO_UNAVAIL tls_failed both3 "[ca_file + ca_path] in neither (the system store has it)"

# ------------------------------------------------- ownership and modes
# refuse SERVICE KEY PATH DESCRIPTION: PAM_SERVICE_ERR, and the log says why.
refuse() {
	local svc=$1 key=$2 path=$3 why=$4
	shift 4
	login PAM_SERVICE_ERR "" "$svc" "$*"
	like "$(grep "$key $path" "$OA2_LOG_CAPTURE" | tail -1)" "$key $path: $why" "$*: logged ($why)"
}
chown nobody "$TESTTMP/cadir"
refuse cap ca_path "$TESTTMP/cadir" "not owned by root" "[ca_path] not owned by root"
chown root "$TESTTMP/cadir"
chmod 0775 "$TESTTMP/cadir"
refuse cap ca_path "$TESTTMP/cadir" "group or world writable" "[ca_path] group-writable"
chmod 0757 "$TESTTMP/cadir"
refuse cap ca_path "$TESTTMP/cadir" "group or world writable" "[ca_path] world-writable"
chmod 0755 "$TESTTMP/cadir"
login PAM_SUCCESS "" cap "[ca_path] mode 0755 again: accepted"
conf capfile "$MOCK_URL" "ca_path = $PKI/ca.pem"
refuse capfile ca_path "$PKI/ca.pem" "not a directory" "[ca_path] a file"
conf capmissing "$MOCK_URL" "ca_path = $TESTTMP/no-such-dir"
refuse capmissing ca_path "$TESTTMP/no-such-dir" "cannot be found" "[ca_path] missing"

cp "$PKI/ca.pem" "$TESTTMP/ca-copy.pem"
chmod 0644 "$TESTTMP/ca-copy.pem"
conf caf "$MOCK_URL" "ca_file = $TESTTMP/ca-copy.pem"
login PAM_SUCCESS "" caf "[ca_file] root-owned, mode 0644"
chown nobody "$TESTTMP/ca-copy.pem"
refuse caf ca_file "$TESTTMP/ca-copy.pem" "not owned by root" "[ca_file] not owned by root"
chown root "$TESTTMP/ca-copy.pem"
chmod 0664 "$TESTTMP/ca-copy.pem"
refuse caf ca_file "$TESTTMP/ca-copy.pem" "group or world writable" "[ca_file] group-writable"
chmod 0644 "$TESTTMP/ca-copy.pem"
conf cafdir "$MOCK_URL" "ca_file = $TESTTMP/cadir"
refuse cafdir ca_file "$TESTTMP/cadir" "not a regular file" "[ca_file] a directory"

# The machine's store was never touched: outside this namespace
# /etc/ssl/certs is not the scratch store.
outer=$(nsenter --mount="/proc/$OA2_TRUST_OUTER/ns/mnt" stat -c %i /etc/ssl/certs 2>&1)
ok "$([ -n "$outer" ] && [ "$outer" != "$(stat -c %i "$STORE")" ]; echo $?)" \
	"outside the namespace /etc/ssl/certs is the machine's own (inode $outer)"

done_testing
