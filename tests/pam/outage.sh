#!/usr/bin/env bash
# outage.sh - fast failure while the IdP is down (outage_window): after a
# login could not ask the IdP, the logins of the next outage_window
# seconds fail at once as "could not ask" (reason idp_down_recently), so
# the offline verifier or the stack's fallback answers without waiting the
# whole timeout; after the window one login probes the IdP again; a
# refusal never starts the window; an unsafe stamp file is ignored.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/common.sh"

U=oa2outage
PW='out-Pa55'
add_user "$U"
cat >"$TESTTMP/users.json" <<JSON
{ "$U": { "password": "$PW", "sub": "sub-out", "scope": "openid" } }
JSON
start_mock --users "$TESTTMP/users.json" --client-id pam-out

CACHE="$TESTTMP/cache"
CONF="$TESTTMP/oauth2.conf"
WINDOW=3
write_conf "$CONF" <<CONF
issuer = $MOCK_URL
client_id = pam-out
ca_file = $PKI/ca.pem
timeout = 2
connect_timeout = 1
outage_window = $WINDOW
offline_cache = no
grants = password device
qr_code = no
CONF
write_service out <<SVC
auth required @MODULE@ config=$CONF debug
SVC
write_service outoff <<SVC
auth required @MODULE@ config=$CONF offline_cache=yes
SVC
write_service outdev <<SVC
auth required @MODULE@ config=$CONF grants=device device_timeout=10
SVC
write_service outzero <<SVC
auth required @MODULE@ config=$CONF outage_window=0
SVC
# The default window (30 s): a config file without write_conf's
# outage_window = 0.
{
	grep -v '^outage_window' "$CONF"
} >"$TESTTMP/default.conf"
chmod 0600 "$TESTTMP/default.conf"
write_service outdefault <<SVC
auth required @MODULE@ config=$TESTTMP/default.conf
SVC

# timed SERVICE PASSWORD: "PAM_CODE MILLISECONDS" of one login.
timed() {
	local t0 t1 code
	t0=$(date +%s%N)
	code=$(auth_with "$1" "$U" "$2")
	t1=$(date +%s%N)
	echo "$code $(( (t1 - t0) / 1000000 ))"
}
code() { echo "${1% *}"; }
ms() { echo "${1#* }"; }
last_decision() { grep ' decision ' "$OA2_LOG_CAPTURE" | tail -1; }
STAMP="$CACHE/o-$(printf '%s' "$MOCK_URL" | sha256sum | cut -d' ' -f1)"
# scen JSON: a fresh mock scenario (and request log), keeping cache_dir.
scen() { mock_ctl reset '{}' >/dev/null; [ -z "$1" ] || mock_scenario "$1"; }
stamp_now() { mkdir -p "$CACHE"; chmod 0700 "$CACHE"; printf 'OA2D1 %s\n' "$(date +%s)" >"$STAMP"; chmod 0600 "$STAMP"; }
hang() { scen '{"delay_ms_for_path": {"/token": 20000, "/device_authorization": 20000}}'; }

# ---------------------------------------------------------------- window
mock_reset
is "$(auth_with outoff "$U" "$PW")" PAM_SUCCESS "warm-up login (keeps an offline verifier)"
ok $([ ! -e "$STAMP" ]; echo $?) "no outage stamp after a success"
hang
r=$(timed out "$PW")
is "$(code "$r")" PAM_AUTHINFO_UNAVAIL "IdP hangs: the first login times out"
ok $([ "$(ms "$r")" -ge 1800 ]; echo $?) "and takes the whole timeout ($(ms "$r") ms)"
like "$(last_decision)" "reason=timeout" "reason=timeout"
n=$(mock_count /token)
r=$(timed out "$PW")
is "$(code "$r")" PAM_AUTHINFO_UNAVAIL "the next login within the window: could not ask"
ok $([ "$(ms "$r")" -lt 300 ]; echo $?) "at once ($(ms "$r") ms < 300)"
like "$(last_decision)" "result=deny reason=idp_down_recently pam=\"Authentication service cannot retrieve authentication info\"" \
	"reason=idp_down_recently"
r=$(timed outoff "$PW")
is "$(code "$r")" PAM_SUCCESS "with offline_cache the verifier answers in the window"
ok $([ "$(ms "$r")" -lt 1500 ]; echo $?) "without waiting for the IdP ($(ms "$r") ms)"
like "$(last_decision)" "result=allow reason=offline" "reason=offline"
like "$(cat "$OA2_LOG_CAPTURE")" "the IdP is unavailable \(idp_down_recently\)" "syslog says why the IdP was not asked"
is "$(mock_count /token)" "$n" "no request reached the IdP during the window"
is "$(stat -c '%U %a' "$STAMP")" "root 600" "the stamp is a root-only file in cache_dir"
like "$(cat "$STAMP")" '^OA2D1 [0-9]+$' "holding only a time"

# ---------------------------------------------------------------- probe after the window
sleep $((WINDOW + 1))
r=$(timed out "$PW") # still hanging: this login probes, and times out
ok $([ "$(ms "$r")" -ge 1800 ]; echo $?) "after the window one login asks the IdP again ($(ms "$r") ms)"
is "$(mock_count /token)" "$((n + 1))" "the IdP saw that probe"
sleep $((WINDOW + 1))
auth_with out "$U" "$PW" >"$TESTTMP/probe" &
probe=$!
sleep 0.5
r=$(timed out "$PW")
is "$(code "$r")" PAM_AUTHINFO_UNAVAIL "while a probe is in flight, other logins still fail"
ok $([ "$(ms "$r")" -lt 300 ]; echo $?) "at once ($(ms "$r") ms): one prober at a time"
wait "$probe"
is "$(mock_count /token)" "$((n + 2))" "only the prober asked"
sleep $((WINDOW + 1))
scen ''
n=$(mock_count /token)
is "$(auth_with out "$U" "$PW")" PAM_SUCCESS "IdP back, window over: the next login asks and succeeds"
is "$(mock_count /token)" "$((n + 1))" "the IdP saw the request"
ok $([ ! -e "$STAMP" ]; echo $?) "the success cleared the stamp"
n=$(mock_count /token)
is "$(auth_with out "$U" "$PW")" PAM_SUCCESS "and the login after it asks too"
is "$(mock_count /token)" "$((n + 1))" "the IdP saw it"

# ---------------------------------------------------------------- answers are not outages
mock_reset
is "$(auth_with out "$U" wrong)" PAM_AUTH_ERR "a refusal (400 invalid_grant)"
ok $([ ! -e "$STAMP" ]; echo $?) "does not start the window"
n=$(mock_count /token)
is "$(auth_with out "$U" "$PW")" PAM_SUCCESS "the next login asks"
is "$(mock_count /token)" "$((n + 1))" "and reaches the IdP"
scen '{"token_status": 401, "token_body_raw": "{\"error\":\"invalid_client\"}"}'
is "$(auth_with out "$U" "$PW")" PAM_AUTHINFO_UNAVAIL "the IdP refuses the client (invalid_client)"
ok $([ ! -e "$STAMP" ]; echo $?) "an answer: no window"
scen '{"status_for_path": {"/token": 429}}'
auth_with out "$U" "$PW" >/dev/null
ok $([ ! -e "$STAMP" ]; echo $?) "throttling (429) is an answer too: no window"
scen '{"status_for_path": {"/token": 503}}'
is "$(auth_with out "$U" "$PW")" PAM_AUTHINFO_UNAVAIL "a 503"
ok $([ -e "$STAMP" ]; echo $?) "starts the window"
scen ''
stamp_now
is "$(auth_with out "$U" wrong)" PAM_AUTHINFO_UNAVAIL "in the window even a wrong password is not sent"
rm -f "$STAMP"
is "$(auth_with out "$U" wrong)" PAM_AUTH_ERR "out of it the IdP refuses it"

# ---------------------------------------------------------------- device grant, zero, default
mock_reset
stamp_now
n=$(mock_count /device_authorization)
r=$(printf '\n' | pam_run outdev "$U" auth | sed -n 's/^auth=//p')
is "$r" PAM_AUTHINFO_UNAVAIL "device grant in the window: could not ask"
like "$(last_decision)" "grant=device result=deny reason=idp_down_recently" "reason=idp_down_recently"
is "$(mock_count /device_authorization)" "$n" "no device authorization request"
n=$(mock_count /token)
is "$(auth_with outzero "$U" "$PW")" PAM_SUCCESS "outage_window = 0 disables it: the IdP is asked"
is "$(mock_count /token)" "$((n + 1))" "and saw the request"
mock_reset
scen '{"status_for_path": {"/token": 503}}'
auth_with outdefault "$U" "$PW" >/dev/null
ok $([ -e "$STAMP" ]; echo $?) "default window: a 503 stamps the outage"
printf 'OA2D1 %s\n' "$(( $(date +%s) - 25 ))" >"$STAMP"
scen ''
is "$(auth_with outdefault "$U" "$PW")" PAM_AUTHINFO_UNAVAIL "25 s later the default window (30 s) still holds"
printf 'OA2D1 %s\n' "$(( $(date +%s) - 31 ))" >"$STAMP"
is "$(auth_with outdefault "$U" "$PW")" PAM_SUCCESS "31 s later the IdP is asked again"

# ---------------------------------------------------------------- unsafe stamps
mock_reset
stamp_now
is "$(auth_with out "$U" "$PW")" PAM_AUTHINFO_UNAVAIL "control: a root-owned 0600 stamp holds the window"
stamp_now; chown 65534 "$STAMP"
n=$(mock_count /token)
is "$(auth_with out "$U" "$PW")" PAM_SUCCESS "a stamp not owned by root is ignored"
is "$(mock_count /token)" "$((n + 1))" "the IdP was asked"
stamp_now; chmod 0666 "$STAMP"
is "$(auth_with out "$U" "$PW")" PAM_SUCCESS "a world-writable stamp is ignored"
stamp_now; chmod 0640 "$STAMP"
is "$(auth_with out "$U" "$PW")" PAM_SUCCESS "a stamp readable by others is ignored"
printf 'OA2D1 %s\n' "$(date +%s)" >"$TESTTMP/elsewhere"; chmod 0600 "$TESTTMP/elsewhere"
rm -f "$STAMP"; ln -s "$TESTTMP/elsewhere" "$STAMP"
is "$(auth_with out "$U" "$PW")" PAM_SUCCESS "a stamp that is a symbolic link is ignored"
rm -f "$STAMP"
printf 'OA2D1 %s\n' "$(( $(date +%s) + 3600 ))" >"$STAMP"; chmod 0600 "$STAMP"
is "$(auth_with out "$U" "$PW")" PAM_SUCCESS "a stamp from the future (clock went back) does not hold"

# ---------------------------------------------------------------- pam_oauth2ctl check
CTL="$top_builddir/pam_oauth2ctl"
[ -x "$CTL" ] || bail "pam_oauth2ctl not built: $CTL"
scen ''
stamp_now
"$CTL" --config "$CONF" check >"$TESTTMP/check.out" 2>&1
is "$?" 0 "pam_oauth2ctl check in the window: a diagnostic, it asks the IdP anyway"
ok $([ "$(mock_count /.well-known/openid-configuration)" -ge 1 ]; echo $?) "the IdP saw its requests"
"$CTL" --config "$CONF" cache clear >/dev/null 2>&1
ok $([ ! -e "$STAMP" ]; echo $?) "pam_oauth2ctl cache clear ends the window"

unlike "$(cat "$OA2_LOG_CAPTURE")" "$PW" "the password never reached syslog"
done_testing
