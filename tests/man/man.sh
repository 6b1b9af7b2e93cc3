#!/usr/bin/env bash
# man.sh - the man pages: mandoc -Tlint clean at warning level, and
# pam_oauth2.conf(5) documents every key the parser accepts (cfg_keys[])
# and no key it does not accept.  No root, no IdP needed.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"

n=0 fail=0
ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=$((fail + 1)); fi
}

PAGES="pam_oauth2.8 pam_oauth2.conf.5 pam_oauth2ctl.8 libnss_oauth2.8"
for p in $PAGES; do
	f="$top_srcdir/man/$p"
	if command -v mandoc >/dev/null; then
		# Warnings and errors only (STYLE notes, e.g. a page not yet
		# installed for .Xr, are not failures).
		out=$(mandoc -Tlint -W warning "$f" 2>&1)
		ok $([ -z "$out" ]; echo $?) "mandoc -Tlint -W warning $p"
		[ -n "$out" ] && printf '#   %s\n' "$out"
	else
		out=$(groff -ww -z -mandoc "$f" 2>&1)
		ok $([ -z "$out" ]; echo $?) "groff -ww $p (mandoc not installed)"
		[ -n "$out" ] && printf '#   %s\n' "$out"
	fi
	# It renders, with a NAME and a SEE ALSO section.
	text=$(MANWIDTH=80 man -l "$f" 2>/dev/null || mandoc -Tascii "$f")
	printf '%s' "$text" | grep -q '^NAME' && printf '%s' "$text" | grep -q '^SEE ALSO'
	ok $? "$p renders with NAME and SEE ALSO"
done

# The keys the parser accepts against the KEYS section of pam_oauth2.conf(5).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$top_builddir/tests/man/cfgkeys" | sort -u >"$tmp/parser"
sed -n '/^\.\\" keys-begin/,/^\.\\" keys-end/p' "$top_srcdir/man/pam_oauth2.conf.5" |
	sed -n 's/^\.It Cm \([a-z0-9_]*\).*/\1/p' | sort -u >"$tmp/documented"
ok $([ "$(wc -l <"$tmp/parser")" -gt 30 ]; echo $?) "cfgkeys lists the parser's keys ($(wc -l <"$tmp/parser"))"
missing=$(comm -23 "$tmp/parser" "$tmp/documented" | tr '\n' ' ')
ok $([ -z "$missing" ]; echo $?) "every key the parser accepts is in pam_oauth2.conf(5)"
[ -n "$missing" ] && echo "#   missing: $missing"
extra=$(comm -13 "$tmp/parser" "$tmp/documented" | tr '\n' ' ')
ok $([ -z "$extra" ]; echo $?) "pam_oauth2.conf(5) documents no key the parser refuses"
[ -n "$extra" ] && echo "#   not accepted: $extra"

# The [groups] section and each key's default are documented.
grep -q '^\.Sh THE \[groups\] SECTION' "$top_srcdir/man/pam_oauth2.conf.5"
ok $? "pam_oauth2.conf(5) has the [groups] section"

# libnss_oauth2(8) documents every key of /etc/pam_oauth2-nss.conf the
# parser (src/userdb.c keys[]) accepts, and names its files.
nsskeys=$(sed -n '/static const char \*const keys\[\] = {/,/};/p' "$top_srcdir/src/userdb.c" |
	grep -o '"[a-z_]*"' | tr -d '"' | sort -u)
ok $([ "$(printf '%s\n' $nsskeys | wc -l)" -eq 5 ]; echo $?) "the settings parser's keys ($(echo $nsskeys))"
for k in $nsskeys; do
	grep -q "^\.It Cm $k " "$top_srcdir/man/libnss_oauth2.8"
	ok $? "libnss_oauth2(8) documents $k"
done
for f in /var/lib/pam_oauth2-nss/users.db /etc/pam_oauth2-nss.conf; do
	grep -q "^\.It Pa $f\$" "$top_srcdir/man/libnss_oauth2.8"
	ok $? "libnss_oauth2(8) FILES names $f"
done

# pam_oauth2(8) has the sections the issue asks for.
for s in OPTIONS 'PAM RETURN CODES' AUDIT SECURITY FILES EXAMPLES; do
	grep -q "^\.Sh $s\$" "$top_srcdir/man/pam_oauth2.8"
	ok $? "pam_oauth2(8) has a $s section"
done

# pam_oauth2ctl(8) names every subcommand of --help.
for c in check login 'cache list' 'cache clear' -offline 'user list' 'user show' 'user lock' 'user unlock' 'user remove'; do
	grep -q -- "$c" "$top_srcdir/man/pam_oauth2ctl.8"
	ok $? "pam_oauth2ctl(8) documents $c"
done

echo "1..$n"
[ "$fail" -eq 0 ]
