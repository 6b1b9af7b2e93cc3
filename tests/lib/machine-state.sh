#!/usr/bin/env bash
# machine-state.sh - print what the test suite may change only while it
# runs: users and groups, PAM and sudoers entries, the module's system
# directories, enabled services.  tests/run-all.sh compares its output
# before and after make check and shows the difference.
{
	echo "## /etc/passwd /etc/group /etc/gshadow"
	cat /etc/passwd /etc/group /etc/gshadow 2>/dev/null
	echo "## /etc/pam.d /etc/sudoers.d"
	ls -a /etc/pam.d /etc/sudoers.d 2>/dev/null
	echo "## module directories"
	find /var/cache/pam_oauth2 /var/lib/pam_oauth2 /run/pam_oauth2 \
		-printf '%p\n' 2>/dev/null
	echo "## enabled services"
	find /etc/systemd/system -path '*.wants/*' 2>/dev/null | sort
	ls /etc/rc[2-5].d 2>/dev/null
} 
exit 0
