# provision-lib.sh - the setup shared by the provisioning end-to-end tests
# (provision.sh against the OpenID provider, provision_providers.sh against
# Keycloak and Dex): sourced after e2e-lib.sh, inside its private mount
# namespace.
#
#   prov_init       check the built NSS module and pam_oauth2ctl; sets
#                   NSSLIB, CTL, LIBDIR (the multiarch library directory)
#   prov_overlays STAMP_RE <<NSSCONF ... NSSCONF
#                   keep read-only views of the real /etc, $LIBDIR and
#                   /var/lib, then cover them with overlays (upper layers in
#                   $TESTTMP/ovl); install the built libnss_oauth2.so.2,
#                   add "oauth2" to the passwd and group lines of
#                   nsswitch.conf and write stdin as /etc/pam_oauth2-nss.conf.
#                   STAMP_RE (grep -E) matches the lines of the test's own
#                   names in passwd/group/shadow/gshadow: prov_real_stamp
#                   lists the real files holding one
#   prov_real_stamp what of the machine the test must leave as found (the
#                   account files searched for STAMP_RE, nsswitch.conf's
#                   hash, the NSS module's files, /home); compare with
#                   $PROV_REAL_BEFORE (taken by prov_overlays)
#   prov_group NAME GID
#                   a group in the overlay's /etc/group (and gshadow); no
#                   groupadd: its locks would meet other tests' on the real
#                   files below
#   prov_ssh_init   after e2e_sshd: SSH_OPTS for the test's sshd
#   ssh_pw METHOD USER PASSWORD
#                   one ssh connection running $SESSION_CMD; sets OUT, RC
#   field KEY       KEY=VALUE of the session's line in OUT (U uid, G
#                   primary group, GS all groups, H home, S the home's
#                   owner:group:mode, F the home's entries)
#   sshd_said USER  sshd's last Accepted/Failed line for USER
#   has_record USER status 0 when the user database has USER
#   prov_line USER  the module's last "provision user=USER" line
#
# Nothing of the machine changes: the overlays exist only in the test's
# mount namespace and vanish with it.

prov_init() {
	NSSLIB="$top_builddir/.libs/libnss_oauth2.so.2"
	CTL="$top_builddir/pam_oauth2ctl"
	[ -f "$NSSLIB" ] || bail "NSS module not built: $NSSLIB"
	[ -x "$CTL" ] || bail "pam_oauth2ctl not built: $CTL"
	LIBDIR=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
	[ -d "$LIBDIR" ] || bail "no $LIBDIR"
}

# What the machine must never get from the test: its names in the account
# files, the NSS module's files, a changed nsswitch.conf, a home.  (Other
# tests running at the same time may add and remove their own users, so
# the account files are searched, not hashed.)
prov_real_stamp() {
	grep -l -E "$PROV_STAMP_RE" "$TESTTMP/real/etc/passwd" \
		"$TESTTMP/real/etc/group" "$TESTTMP/real/etc/shadow" "$TESTTMP/real/etc/gshadow" 2>&1 |
		sed "s|$TESTTMP||"
	sha256sum "$TESTTMP/real/etc/nsswitch.conf" | cut -c1-64
	ls -d "$TESTTMP/real/etc/pam_oauth2-nss.conf" "$TESTTMP/real/lib/libnss_oauth2.so.2" \
		"$TESTTMP/real/varlib/pam_oauth2-nss" 2>&1 | sed "s|$TESTTMP||"
	ls -A /home
}

prov_overlays() {
	local m src name
	PROV_STAMP_RE=$1
	mkdir -p "$TESTTMP/real"/{etc,lib,varlib} "$TESTTMP/ovl"/{etc,lib,varlib}/{u,w}
	for m in "/etc|etc" "$LIBDIR|lib" "/var/lib|varlib"; do
		src=${m%%|*} name=${m##*|}
		e2e_do "a view of the real $src" mount --bind "$src" "$TESTTMP/real/$name"
		mount -o remount,bind,ro "$TESTTMP/real/$name" 2>/dev/null || true
		on_exit "umount -l '$TESTTMP/real/$name'"
	done
	PROV_REAL_BEFORE=$(prov_real_stamp)
	for m in "/etc|etc" "$LIBDIR|lib" "/var/lib|varlib"; do
		src=${m%%|*} name=${m##*|}
		e2e_do "an overlay on $src" mount -t overlay overlay \
			-o "lowerdir=$src,upperdir=$TESTTMP/ovl/$name/u,workdir=$TESTTMP/ovl/$name/w" "$src"
		on_exit "umount -l '$src'"
	done
	install -m 0644 "$NSSLIB" "$LIBDIR/libnss_oauth2.so.2"
	sed -i -E 's/^(passwd|group):(.*)$/\1:\2 oauth2/' /etc/nsswitch.conf
	grep -Eq '^passwd:.* oauth2$' /etc/nsswitch.conf || bail "nsswitch.conf: no oauth2 on the passwd line"
	{
		echo "# written by $(basename "$0") inside its mount namespace"
		cat
	} >/etc/pam_oauth2-nss.conf
	chmod 0644 /etc/pam_oauth2-nss.conf
}

prov_group() {
	printf '%s:x:%s:\n' "$1" "$2" >>/etc/group
	printf '%s:!::\n' "$1" >>/etc/gshadow
}

SESSION_CMD='echo "U=$(id -u) G=$(id -gn) GS=$(id -Gn | tr " " ,) H=$HOME S=$(stat -c %U:%G:%a "$HOME") F=$(ls -A "$HOME" | tr "\n" ,)"'
prov_ssh_init() {
	SSH_OPTS=(-F /dev/null -p "$SSHD_PORT" -o UserKnownHostsFile=/dev/null
		-o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=no
		-o LogLevel=ERROR -o ConnectTimeout=10 -o ControlPath=none
		-o PubkeyAuthentication=no -o NumberOfPasswordPrompts=1)
}
ssh_pw() {
	OUT=$(cd / && SSHPASS="$3" timeout 40 sshpass -e -P assword \
		ssh "${SSH_OPTS[@]}" -o PreferredAuthentications="$1" \
		"$2@127.0.0.1" "$SESSION_CMD" </dev/null 2>>"$TESTTMP/ssh.err")
	RC=$?
}
field() { printf '%s\n' "$OUT" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
sshd_said() { grep -E "(Accepted|Failed) .* for (invalid user )?$1 from" "$SSHD_LOG" | tail -1; }
has_record() { "$CTL" user show "$1" >/dev/null 2>&1; }
prov_line() { grep "provision user=$1 " "$OA2_LOG_CAPTURE" | tail -1; }
