#!/usr/bin/env bash
# srccopy.sh SRC DEST - a clean copy of the source tree SRC in DEST, for the
# sanitizer, fuzzing and analyser builds: SRC may itself be configured and
# built in place (make check does that), which stops configure from running
# out of tree, so these builds work on a copy instead.  Build products of
# SRC are removed from the copy with make distclean.
set -eu
src=$1 dest=$2
rm -rf "$dest"
mkdir -p "$dest"
tar -C "$src" --exclude=./.git --exclude=./autom4te.cache --exclude='*.o' \
	--exclude='*.lo' --exclude=./.libs -cf - . | tar -C "$dest" -xf -
cd "$dest"
if [ -f Makefile ]; then
	make distclean >/dev/null 2>&1 || true
fi
if [ ! -x configure ]; then
	autoreconf -fi >/dev/null 2>&1
fi
