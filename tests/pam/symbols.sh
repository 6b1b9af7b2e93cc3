#!/usr/bin/env bash
# symbols.sh - the module exports the pam_sm_* entry points and nothing else.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/common.sh"

syms=$(nm -D --defined-only "$MODULE" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sort)
is "$syms" "$(printf 'pam_sm_acct_mgmt\npam_sm_authenticate\npam_sm_close_session\npam_sm_open_session\npam_sm_setcred')" \
	"only pam_sm_acct_mgmt, pam_sm_authenticate, pam_sm_close_session, pam_sm_open_session, pam_sm_setcred are exported"
undef=$(nm -D --undefined-only "$MODULE" | awk '{print $2}')
unlike "$undef" '^(printf|puts|putchar|exit|_exit|perror)(@|$)' \
	"the module imports no stdout writer and no exit()"
# libnss_oauth2.so.2 (issue 13): the _nss_oauth2_* entry points only, its
# soname, glibc alone, and no stdout writer, exit() or getpw*/getgr* (NSS
# calling NSS would recurse).
NSSLIB="$top_builddir/.libs/libnss_oauth2.so.2"
syms=$(nm -D --defined-only "$NSSLIB" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sort)
is "$syms" "$(printf '_nss_oauth2_%s\n' endgrent endpwent getgrent_r getgrgid_r getgrnam_r \
	getpwent_r getpwnam_r getpwuid_r initgroups_dyn setgrent setpwent | sort)" \
	"libnss_oauth2 exports exactly the 11 _nss_oauth2_* entry points"
is "$(objdump -p "$NSSLIB" | awk '$1 == "SONAME" {print $2}')" "libnss_oauth2.so.2" "its soname"
# (the sanitizer build links its runtimes into everything it builds)
is "$(objdump -p "$NSSLIB" | awk '$1 == "NEEDED" {print $2}' | grep -v '^lib\(a\|ub\)san\.' |
	sort | tr '\n' ' ')" "libc.so.6 " "it needs glibc only"
undef=$(nm -D --undefined-only "$NSSLIB" | awk '{print $2}')
unlike "$undef" '^(printf|puts|putchar|fputs|fwrite|fprintf|exit|_exit|perror|syslog|getpw[a-z_]*|getgr[a-z_]*|initgroups|socket|connect)(@|$)' \
	"libnss_oauth2 imports no stdout writer, exit(), syslog, socket or NSS lookup"
done_testing
