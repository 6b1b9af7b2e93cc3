#!/usr/bin/env bash
# offline.sh - offline logins (offline_cache = yes): a yescrypt verifier
# kept after each successful password login, used only while the IdP
# cannot be asked, dropped on invalid_grant, aged out, rate-limited.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/common.sh"

U=oa2oalice
PW='o-Pw&=+ü'
add_user "$U"
cat >"$TESTTMP/users.json" <<JSON
{ "$U": { "password": "$PW", "sub": "sub-o", "scope": "openid profile admin",
          "claims": { "groups": ["ops"] } } }
JSON
start_mock --users "$TESTTMP/users.json" --client-id pam-o

OFF="$TESTTMP/offline"
CONF="$TESTTMP/oauth2.conf"
write_conf "$CONF" <<CONF
issuer = $MOCK_URL
client_id = pam-o
ca_file = $PKI/ca.pem
cache_dir = $TESTTMP/cache
offline_dir = $OFF
offline_cache = yes
scope = openid profile admin
timeout = 3
CONF
write_service off <<SVC
auth required @MODULE@ config=$CONF debug
SVC
write_service nooff <<SVC
auth required @MODULE@ config=$CONF offline_cache=no
SVC
write_service offotp <<SVC
auth required @MODULE@ config=$CONF otp=prompt
SVC
write_service offdev <<SVC
auth required @MODULE@ config=$CONF grants=device
SVC
write_service offshort <<SVC
auth required @MODULE@ config=$CONF offline_max_age=60
SVC

login() { auth_with "${2:-off}" "$U" "$1"; }
entry() { find "$OFF" -name 'u-*' -type f; }
down() { mock_scenario '{"status_for_path": {"/token": 503}}'; }
last_decision() { grep 'decision' "$OA2_LOG_CAPTURE" | tail -1; }

# ---------------------------------------------------------------- default off
mock_reset
is "$(login "$PW" nooff)" PAM_SUCCESS "offline_cache=no: online login"
is "$(find "$OFF" -type f 2>/dev/null | wc -l)" 0 "no verifier kept"
down
is "$(login "$PW" nooff)" PAM_AUTHINFO_UNAVAIL "and none used while the IdP is down"

# ---------------------------------------------------------------- stored
mock_reset
is "$(login "$PW")" PAM_SUCCESS "online login with offline_cache=yes"
is "$(entry | wc -l)" 1 "one verifier file for the user"
is "$(stat -c '%U %a' "$OFF" "$(entry)" | tr '\n' ' ')" "root 700 root 600 " "root-only directory and file"
like "$(cat "$(entry)")" 'hash \$y\$' "a yescrypt hash"
unlike "$(cat "$(entry)")" 'o-Pw' "not the password"
like "$(cat "$(entry)")" 'scope openid profile admin' "the granted scope"
like "$(cat "$(entry)")" '"groups":\["ops"\]' "the verified claims"

# ---------------------------------------------------------------- outage
mock_reset
down
is "$(login "$PW")" PAM_SUCCESS "IdP down (503): the cached verifier lets the right password in"
like "$(last_decision)" "result=allow reason=offline" "decision: reason=offline"
like "$(cat "$OA2_LOG_CAPTURE")" "offline login for $U: the IdP is unavailable \(http_5xx\)" "syslog says it was offline"
is "$(login 'wrong')" PAM_AUTH_ERR "IdP down: a wrong password is refused"
like "$(last_decision)" "reason=offline_wrong_password" "logged"

stop_mock
is "$(login "$PW")" PAM_SUCCESS "IdP stopped (connection refused): offline login"
start_mock --users "$TESTTMP/users.json" --client-id pam-o
sed -i "s|^issuer = .*|issuer = $MOCK_URL|" "$CONF"

# ---------------------------------------------------------------- rate limit
mock_reset
login "$PW" >/dev/null   # fresh verifier, no failures
down
for i in 1 2 3; do login 'guess' >/dev/null; done
is "$(login "$PW")" PAM_AUTH_ERR "after 3 failed offline attempts even the right password waits"
like "$(last_decision)" "reason=offline_rate_limited" "logged as rate limited"
like "$(cat "$OA2_LOG_CAPTURE")" "offline login refused for $U: offline_rate_limited" "with a syslog line"
like "$(cat "$(entry)")" 'fails 3 ' "three failures recorded"
# The wait is 30 s after the last failure: pretend it has passed.
sed -i "s/^fails 3 [0-9]*/fails 3 $(( $(date +%s) - 31 ))/" "$(entry)"
is "$(login "$PW")" PAM_SUCCESS "after the wait the right password works again"
like "$(cat "$(entry)")" 'fails 0 0' "and the failures are reset"

# ---------------------------------------------------------------- parallel guesses
# 30 wrong guesses at once while the IdP is down: the failure counter is
# taken under a lock and raised before the slow hash, so only the free
# budget (3) is ever checked, every checked guess is counted, and the
# back-off holds even the right password.
mock_reset
login "$PW" >/dev/null   # fresh verifier, no failures
down
: >"$OA2_LOG_CAPTURE"
pids=()
for i in $(seq 1 30); do
	auth_with off "$U" "guess-$i" >"$TESTTMP/par.$i" &
	pids+=($!)
done
wait "${pids[@]}"
is "$(cat "$TESTTMP"/par.* | sort | uniq -c | sed 's/^ *//')" "30 PAM_AUTH_ERR" "30 parallel wrong guesses: all refused"
checked=$(grep -c 'decision.*reason=offline_wrong_password' "$OA2_LOG_CAPTURE")
limited=$(grep -c 'decision.*reason=offline_rate_limited' "$OA2_LOG_CAPTURE")
is "$checked $limited" "3 27" "only the 3 free guesses were checked, 27 refused unchecked"
is "$(sed -n 's/^fails \([0-9]*\) .*/\1/p' "$(entry)")" "$checked" "the counter equals the number of guesses checked (no lost update)"
is "$(login "$PW")" PAM_AUTH_ERR "during the back-off the right password is refused"
like "$(last_decision)" "reason=offline_rate_limited" "as offline_rate_limited"
is "$(stat -c '%U %a' "$(entry)")" "root 600" "the verifier is still root-only"
rm -f "$TESTTMP"/par.*

# ---------------------------------------------------------------- invalidated
mock_reset
login "$PW" >/dev/null
is "$(entry | wc -l)" 1 "verifier present"
is "$(login 'changed-password')" PAM_AUTH_ERR "IdP says invalid_grant"
is "$(entry | wc -l)" 0 "the verifier is deleted"
down
is "$(login "$PW")" PAM_AUTHINFO_UNAVAIL "so the old password no longer works offline"

# ---------------------------------------------------------------- aged out
mock_ctl reset '{}' >/dev/null
login "$PW" >/dev/null
down
sed -i "s/^time [0-9]*/time $(( $(date +%s) - 120 ))/" "$(entry)"
is "$(login "$PW" offshort)" PAM_AUTHINFO_UNAVAIL "an entry older than offline_max_age is not used"
is "$(entry | wc -l)" 0 "and is removed"

# ---------------------------------------------------------------- only "cannot ask"
mock_reset
login "$PW" >/dev/null
mock_scenario '{"id_token_claims": {"preferred_username": "someone"}}'
is "$(login "$PW")" PAM_AUTH_ERR "identity mismatch is not an outage: no offline login"
mock_reset
login "$PW" >/dev/null
mock_scenario '{"token_status": 400, "token_body_raw": "{\"error\":\"access_denied\"}"}'
is "$(login "$PW")" PAM_AUTH_ERR "an IdP that answers access_denied: no offline login"

# ---------------------------------------------------------------- unsafe files
mock_reset
login "$PW" >/dev/null
chown 65534 "$(entry)"
down
is "$(login "$PW")" PAM_AUTHINFO_UNAVAIL "a verifier not owned by root is ignored"
chown 0 "$(entry)"; chmod 0644 "$(entry)"
is "$(login "$PW")" PAM_AUTHINFO_UNAVAIL "a verifier readable by others is ignored"

# ---------------------------------------------------------------- no offline
mock_reset
login "$PW" >/dev/null
down
is "$(printf '%s\n123456\n' "$PW" | pam_run offotp "$U" auth | sed -n 's/^auth=//p')" PAM_AUTHINFO_UNAVAIL \
	"with otp=prompt the second factor cannot be checked offline: no offline login"
mock_scenario '{"status_for_path": {"/token": 503, "/device_authorization": 503}}'
is "$(printf '\n' | pam_run offdev "$U" auth | sed -n 's/^auth=//p')" PAM_AUTHINFO_UNAVAIL \
	"the device grant has no offline mode"

unlike "$(cat "$OA2_LOG_CAPTURE")" 'o-Pw' "the password never reached syslog"
done_testing
