#!/usr/bin/env bash
# cache.sh - discovery and JWKS cached on disk: a warm login is one request;
# the cache survives a metadata outage; unsafe entries are ignored; an
# unknown kid refetches the JWKS at once, and at most once a minute.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/common.sh"

U=oa2calice
PW='c-Pw'
add_user "$U"
cat >"$TESTTMP/users.json" <<JSON
{ "$U": { "password": "$PW", "sub": "sub-c", "scope": "openid" } }
JSON
start_mock --users "$TESTTMP/users.json" --client-id pam-c

CACHE="$TESTTMP/cache"
CONF="$TESTTMP/oauth2.conf"
write_conf "$CONF" <<CONF
issuer = $MOCK_URL
client_id = pam-c
ca_file = $PKI/ca.pem
cache_dir = $CACHE
CONF
write_service c <<SVC
auth required @MODULE@ config=$CONF debug
SVC

login() { auth_with c "$U" "$PW"; }
n_requests() { mock_ctl requests | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).length))'; }
ports() { mock_ctl requests | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log([...new Set(JSON.parse(s).map(r=>r.remote_port))].length))'; }
# header FIELD of every cache entry: 2 = fetched, 3 = expires
entry_files() { find "$CACHE" -name 'm-*' -type f | sort; }
# set_fetched SECONDS_AGO [EXPIRES_FROM_NOW]: age every entry
age_entries() {
	local now ago=$1 exp=${2:-3600} f
	now=$(date +%s)
	for f in $(entry_files); do
		sed -i "1s/^OA2C1 [0-9]* [0-9]* /OA2C1 $((now - ago)) $((now + exp)) /" "$f"
	done
}

# ---------------------------------------------------------------- cold, warm
mock_reset
is "$(login)" PAM_SUCCESS "cold login"
is "$(n_requests)" 3 "cold: discovery, JWKS, token"
is "$(ports)" 1 "the three requests shared one connection"
is "$(stat -c '%U %a' "$CACHE")" "root 700" "cache directory created root-owned, mode 0700"
is "$(entry_files | wc -l)" 2 "two entries (discovery, JWKS)"
is "$(entry_files | xargs stat -c '%U %a' | sort -u)" "root 600" "entries root-owned, mode 0600"
is "$(find "$CACHE" -name '.tmp-*' | wc -l)" 0 "no temporary files left"

mock_ctl reset '{}' >/dev/null
is "$(login)" PAM_SUCCESS "warm login"
is "$(n_requests)" 1 "warm: exactly one request"
is "$(mock_count /token)" 1 "... the token request"

# ---------------------------------------------------------------- max-age
mock_reset
mock_scenario '{"extra_headers_for_path": {"/jwks": {"cache-control": "max-age=120"}, "/.well-known/openid-configuration": {"cache-control": "public, max-age=5"}}}'
is "$(login)" PAM_SUCCESS "login with max-age headers"
lifetimes=$(for f in $(entry_files); do head -1 "$f" | awk '{print $3 - $2}'; done | sort -n | tr '\n' ' ')
is "$lifetimes" "60 120 " "max-age honoured (120) and clamped (5 -> 60 s)"
mock_reset
mock_scenario '{"extra_headers_for_path": {"/jwks": {"cache-control": "max-age=9999999"}}}'
login >/dev/null
lifetimes=$(for f in $(entry_files); do head -1 "$f" | awk '{print $3 - $2}'; done | sort -n | tr '\n' ' ')
is "$lifetimes" "3600 86400 " "no max-age: 1 hour; a huge one is clamped to 1 day"

# ---------------------------------------------------------------- expiry
mock_reset
login >/dev/null
age_entries 7200 -3600
mock_ctl reset '{}' >/dev/null
is "$(login)" PAM_SUCCESS "expired entries"
is "$(n_requests)" 3 "are fetched again"

# ---------------------------------------------------------------- outage
mock_reset
login >/dev/null
mock_ctl reset '{}' >/dev/null
mock_scenario '{"jwks_status": 503, "status_for_path": {"/.well-known/openid-configuration": 503}}'
is "$(login)" PAM_SUCCESS "metadata endpoints down, warm cache: the login still works"
is "$(n_requests)" 1 "and asks only the token endpoint"

age_entries 7200 -3600
mock_ctl reset '{}' >/dev/null
mock_scenario '{"jwks_status": 503, "status_for_path": {"/.well-known/openid-configuration": 503}}'
is "$(login)" PAM_SUCCESS "metadata endpoints down, expired cache (2 h old): stale copy serves"
like "$(cat "$OA2_LOG_CAPTURE")" "provider metadata unavailable .*using the cached copy" "and syslog says so"

age_entries $((8 * 86400)) -$((7 * 86400))
mock_ctl reset '{}' >/dev/null
mock_scenario '{"jwks_status": 503, "status_for_path": {"/.well-known/openid-configuration": 503}}'
is "$(login)" PAM_AUTHINFO_UNAVAIL "cache older than 7 days is not used: PAM_AUTHINFO_UNAVAIL"

# ---------------------------------------------------------------- key rotation
mock_reset
mock_scenario '{"jwks_kids": ["RS256"]}'
is "$(login)" PAM_SUCCESS "warm the cache with a JWKS of one key"
mock_ctl reset '{}' >/dev/null
mock_scenario '{"alg": "ES256"}'
# A provider signs with a new key the moment it has one (Keycloak does,
# tests/e2e/keycloak_rotation.sh): the age of the cached set must not
# matter, or every login in the minute after a rotation is refused.
is "$(login)" PAM_SUCCESS "token signed with a new key, JWKS fetched under a minute ago: refetched at once, the new key verifies"
is "$(mock_count /jwks)" 1 "one JWKS refetch"
mock_ctl reset '{}' >/dev/null
mock_scenario '{"alg": "ES256"}'
is "$(login)" PAM_SUCCESS "and the refreshed set is cached"
is "$(mock_count /jwks)" 0 "no further JWKS request"

mock_reset
login >/dev/null
age_entries 120
mock_ctl reset '{}' >/dev/null
mock_scenario '{"id_token_header": {"kid": "no-such-key"}}'
is "$(login)" PAM_AUTH_ERR "unknown kid that the provider does not have either: refused"
is "$(mock_count /jwks)" 1 "after one refetch"
mock_ctl reset '{}' >/dev/null
mock_scenario '{"id_token_header": {"kid": "no-such-key"}}'
login >/dev/null
is "$(mock_count /jwks)" 0 "and no second refetch within the minute (no JWKS storm)"
age_entries 120
mock_ctl reset '{}' >/dev/null
mock_scenario '{"id_token_header": {"kid": "no-such-key"}}'
login >/dev/null
is "$(mock_count /jwks)" 1 "a minute after that refetch, the next one"

# ---------------------------------------------------------------- unsafe entries
mock_reset
login >/dev/null
for f in $(entry_files); do chown 65534 "$f"; done
mock_ctl reset '{}' >/dev/null
is "$(login)" PAM_SUCCESS "entries not owned by root"
is "$(n_requests)" 3 "are ignored (fetched again)"
is "$(entry_files | xargs stat -c '%U' | sort -u)" "root" "and replaced by root-owned ones"

for f in $(entry_files); do chmod 0666 "$f"; done
mock_ctl reset '{}' >/dev/null
login >/dev/null
is "$(n_requests)" 3 "world-writable entries are ignored"

for f in $(entry_files); do printf 'garbage' >"$f"; done
mock_ctl reset '{}' >/dev/null
is "$(login)" PAM_SUCCESS "corrupt entries"
is "$(n_requests)" 3 "are ignored"

for f in $(entry_files); do sed -i '1s/^OA2C1 \([0-9]*\) \([0-9]*\) [0-9]*/OA2C1 \1 \2 5/' "$f"; done
mock_ctl reset '{}' >/dev/null
login >/dev/null
is "$(n_requests)" 3 "entries whose length does not match are ignored"

jwks_entry=$(grep -l '"keys"' $(entry_files))
real=$(mktemp "$TESTTMP/evil.XXXXXX")
printf 'OA2C1 %s %s 11\n{"keys":[]}' "$(date +%s)" "$(( $(date +%s) + 3600 ))" >"$real"
rm -f "$jwks_entry"
ln -s "$real" "$jwks_entry"
mock_ctl reset '{}' >/dev/null
is "$(login)" PAM_SUCCESS "a symlinked entry"
is "$(mock_count /jwks)" 1 "is not followed"

rm -rf "$CACHE"
mkdir -m 0755 "$CACHE"
mock_reset_keep() { mock_ctl reset '{}' >/dev/null; }
mock_reset_keep
is "$(login)" PAM_SUCCESS "cache directory readable by others: logins still work"
like "$(cat "$OA2_LOG_CAPTURE")" "not caching metadata: cache directory is accessible to others" "syslog says why"
is "$(entry_files | wc -l)" 0 "nothing written there"
mock_reset_keep
login >/dev/null
is "$(n_requests)" 3 "and nothing read from there"
done_testing
