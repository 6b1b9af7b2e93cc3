#!/usr/bin/env bash
# mkca.sh DIR -- create a throw-away test PKI for the pam_oauth2 test suite.
#
# Uses only the openssl CLI (3.0+).  Everything is for 127.0.0.1 / loopback.
# Output files in DIR (keys are mode 0600):
#   ca.pem  ca.key            test CA ("pam_oauth2 test CA")
#   server.pem server.key     leaf CN=127.0.0.1, SAN IP:127.0.0.1,DNS:localhost,
#                             serverAuth EKU, valid 30 days, signed by ca
#   expired.pem expired.key   same names, signed by ca, validity entirely in the past
#   wronghost.pem wronghost.key   signed by ca, SAN DNS:wrong.example only
#   selfsigned.pem selfsigned.key self-signed leaf, SAN IP:127.0.0.1
#   other-ca.pem other-ca.key     an unrelated second CA
#   unknownca.pem unknownca.key   leaf for 127.0.0.1 signed by other-ca
#
# Idempotent: if every output already exists and server.pem is still valid for
# at least one more day, nothing is done.  Quiet unless something fails.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
DIR=$1
mkdir -p "$DIR"
cd "$DIR"

OUTPUTS="ca.pem ca.key server.pem server.key expired.pem expired.key
         wronghost.pem wronghost.key selfsigned.pem selfsigned.key
         other-ca.pem other-ca.key unknownca.pem unknownca.key"

all_present=1
for f in $OUTPUTS; do
    [ -s "$f" ] || { all_present=0; break; }
done
if [ "$all_present" = 1 ] &&
   openssl x509 -in server.pem -noout -checkend 86400 >/dev/null 2>&1; then
    exit 0
fi

umask 077
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mkca.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# EC P-256 keys are fast to generate.
newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# Extension sections shared by all invocations.
cat > "$WORK/ext.cnf" <<'CNF'
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash

[ leaf_common ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ leaf_ok ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = IP:127.0.0.1,DNS:localhost

[ leaf_wrong ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:wrong.example

[ leaf_self ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = IP:127.0.0.1,DNS:localhost
CNF

# make_ca NAME CN
make_ca() {
    newkey "$WORK/$1.key"
    openssl req -new -x509 -key "$WORK/$1.key" -out "$WORK/$1.pem" -days 30 \
        -subj "/CN=$2" -config "$WORK/ext.cnf" -extensions v3_ca -sha256 2>/dev/null
}

# make_leaf NAME CN EXT CA   (CA = basename of the signing CA in $WORK)
make_leaf() {
    newkey "$WORK/$1.key"
    openssl req -new -key "$WORK/$1.key" -subj "/CN=$2" -out "$WORK/$1.csr" 2>/dev/null
    openssl x509 -req -in "$WORK/$1.csr" -CA "$WORK/$4.pem" -CAkey "$WORK/$4.key" \
        -CAcreateserial -days 30 -sha256 -extfile "$WORK/ext.cnf" -extensions "$3" \
        -out "$WORK/$1.pem" 2>/dev/null
}

make_ca ca "pam_oauth2 test CA"
make_ca other-ca "pam_oauth2 other test CA"
make_leaf server 127.0.0.1 leaf_ok ca
make_leaf wronghost wrong.example leaf_wrong ca
make_leaf unknownca 127.0.0.1 leaf_ok other-ca

# Self-signed leaf (not a CA).
newkey "$WORK/selfsigned.key"
openssl req -new -x509 -key "$WORK/selfsigned.key" -out "$WORK/selfsigned.pem" \
    -days 30 -subj "/CN=127.0.0.1" -config "$WORK/ext.cnf" -extensions leaf_self \
    -sha256 2>/dev/null

# Expired leaf.  OpenSSL 3.0's "x509" has no -not_before/-not_after, so use
# "openssl ca" with explicit -startdate/-enddate (UTCTime, fixed past window).
mkdir -p "$WORK/ca-db"
: > "$WORK/ca-db/index.txt"
echo 1000 > "$WORK/ca-db/serial"
cat > "$WORK/ca.cnf" <<CNF
[ ca ]
default_ca = testca
[ testca ]
dir = $WORK/ca-db
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir
certificate = $WORK/ca.pem
private_key = $WORK/ca.key
default_md = sha256
policy = pol_any
unique_subject = no
copy_extensions = none
[ pol_any ]
commonName = supplied
CNF
newkey "$WORK/expired.key"
openssl req -new -key "$WORK/expired.key" -subj "/CN=127.0.0.1" -out "$WORK/expired.csr" 2>/dev/null
openssl ca -batch -notext -config "$WORK/ca.cnf" -in "$WORK/expired.csr" \
    -out "$WORK/expired.pem" -startdate 20200101000000Z -enddate 20200201000000Z \
    -extfile "$WORK/ext.cnf" -extensions leaf_ok >/dev/null 2>&1

# Install atomically-ish: move everything into place, fix modes.
for f in $OUTPUTS; do
    mv -f "$WORK/$f" "$f"
done
chmod 0600 ./*.key
chmod 0644 ./*.pem
