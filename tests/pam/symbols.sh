#!/usr/bin/env bash
# symbols.sh - the module exports the pam_sm_* entry points and nothing else.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/common.sh"

syms=$(nm -D --defined-only "$MODULE" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sort)
is "$syms" "$(printf 'pam_sm_acct_mgmt\npam_sm_authenticate\npam_sm_close_session\npam_sm_open_session\npam_sm_setcred')" \
	"only pam_sm_acct_mgmt, pam_sm_authenticate, pam_sm_close_session, pam_sm_open_session, pam_sm_setcred are exported"
undef=$(nm -D --undefined-only "$MODULE" | awk '{print $2}')
unlike "$undef" '^(printf|puts|putchar|exit|_exit|perror)(@|$)' \
	"the module imports no stdout writer and no exit()"
done_testing
