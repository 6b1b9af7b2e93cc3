#!/usr/bin/env bash
# leftovers.sh - remove what an earlier, interrupted run of the suite left
# on the machine (a killed script never runs its exit traps), so that the
# run starting now neither depends on that history nor reports it as its
# own change.  Only the suite's own namespace is touched:
#   - users named oa2* whose home is /nonexistent or under /tmp;
#   - then groups named oa2* that are no remaining user's primary group;
#   - /etc/pam.d/oa2e2e* and /etc/sudoers.d/oa2e2e* (e2e-lib.sh's files).
# Prints one line per removal; tests/run-all.sh calls it before it records
# the machine's state.
set -u

# Never while a test script runs (its accounts are not leftovers): the
# suite's lock, as tests/lib/common.sh takes it.
if [ -z "${OA2_TEST_LOCKED:-}" ]; then
	export OA2_TEST_LOCKED=1
	lock=/run/lock/oa2-tests.lock
	[ -d /run/lock ] || lock=/run/oa2-tests.lock
	exec flock -o -w 1800 "$lock" bash "$0" "$@"
fi

while IFS=: read -r name _ _ _ _ home _; do
	case "$name" in oa2*) ;; *) continue ;; esac
	case "$home" in /nonexistent | /tmp/*) ;; *) continue ;; esac
	userdel -f "$name" 2>/dev/null && echo "leftover user removed: $name"
done < <(cat /etc/passwd)

primary=" $(cut -d: -f4 /etc/passwd | tr '\n' ' ')"
while IFS=: read -r name _ gid _; do
	case "$name" in oa2*) ;; *) continue ;; esac
	case "$primary" in *" $gid "*) continue ;; esac
	groupdel "$name" 2>/dev/null && echo "leftover group removed: $name"
done < <(cat /etc/group)

for f in /etc/pam.d/oa2e2e* /etc/sudoers.d/oa2e2e*; do
	[ -e "$f" ] || continue
	rm -f "$f" && echo "leftover file removed: $f"
done
exit 0
