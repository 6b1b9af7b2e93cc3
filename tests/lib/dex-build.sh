#!/usr/bin/env bash
# dex-build.sh - build the pinned Dex (github.com/dexidp/dex, program
# cmd/dex) for the end-to-end tests, once per machine, and print the path
# of the binary.
#
#   tests/lib/dex-build.sh          build if needed; prints the binary's path
#
# Everything goes to a cache directory outside the tree, $OA2_DEX_CACHE
# (default /var/cache/pam_oauth2-tests/dex), so a second run reuses it:
#   dl/       the module zip (and the Go toolchain zip) from the Go module
#             proxy, each checked against the SHA-256 pinned below
#   src/      the module, unpacked
#   gomod/ gocache/   GOMODCACHE and GOCACHE of the build (the module's
#             dependencies, verified by the module's own go.sum)
#   go/       the Go toolchain, only when the machine has no Go 1.26.8
#   bin/dex-VERSION   the binary; present = nothing to do
#
# Why not `go install github.com/dexidp/dex/cmd/dex@VERSION`: Dex's go.mod
# has replace directives, which `go install pkg@version` refuses.  Why a
# pseudo-version: Dex's v2.x tags are not valid versions of the module path
# github.com/dexidp/dex (no /v2 suffix), so the proxy serves the module
# only as pseudo-versions of commits.
#
# Go: /usr/local/go/bin/go (CI's image) or the go in PATH when it is Go
# 1.26.8; otherwise (a bare Debian 12, whose golang is 1.19 and cannot
# build Dex) the Go 1.26.8 toolchain as the go command itself would fetch
# it, from the Go module proxy (module golang.org/toolchain), pinned by
# SHA-256.
set -euo pipefail

DEX_VERSION=v0.0.0-20260806151424-ab64ed778070
DEX_ZIP_SHA256=84cb5aaf0159cf98889ec3e91150d6e04ad71c3e22b55b506f28eeefd1970363
# The module's go.mod replaces github.com/dexidp/dex/api/v2 by ./api/v2, a
# nested module that a module zip leaves out, and the proxy serves api/v2
# only up to v2.4.0 (the version the go.mod requires), which lacks the
# messages of this commit's gRPC admin API (server/apiserver).  So v2.4.0
# is unpacked at ./api/v2 (the module graph needs its go.mod) and
# cmd/dex/serve.go is built without the gRPC admin API (dexbuild_patch):
# the tests configure no grpc.addr, and no HTTP endpoint changes.
DEX_API_VERSION=v2.4.0
DEX_API_ZIP_SHA256=1c61928b19b53d6a6b80a7ea0b0bb9a75ddf073b158916240b1fc39f54b6e033
GO_VERSION=go1.26.8
GO_ZIP=v0.0.1-$GO_VERSION.linux-amd64.zip
GO_ZIP_SHA256=30c2b1bf7dcc88d3eb0a1364e47ddd9128edb3110a30e8a0ef61cd5856b31de7
PROXY=https://proxy.golang.org

cache=${OA2_DEX_CACHE:-/var/cache/pam_oauth2-tests/dex}
bin="$cache/bin/dex-$DEX_VERSION"

dexbuild_log() { echo "dex-build: $*" >&2; }
dexbuild_die() { dexbuild_log "$*"; exit 1; }

# dexbuild_fetch URL FILE SHA256: download once; the file is kept only when
# its hash is the pinned one.
dexbuild_fetch() {
	local url=$1 file=$2 want=$3 have
	if [ -f "$file" ] && [ "$(sha256sum <"$file" | cut -c1-64)" = "$want" ]; then
		return 0
	fi
	dexbuild_log "fetching $url"
	curl -sSf --proto '=https' --max-time 600 -o "$file.part" "$url" ||
		dexbuild_die "download failed: $url"
	have=$(sha256sum <"$file.part" | cut -c1-64)
	if [ "$have" != "$want" ]; then
		rm -f "$file.part"
		dexbuild_die "$url: SHA-256 $have, pinned $want"
	fi
	mv -f "$file.part" "$file"
}

# dexbuild_go: the path of a Go 1.26.8 go command.
dexbuild_go() {
	local g
	for g in /usr/local/go/bin/go "$(command -v go 2>/dev/null || true)"; do
		[ -n "$g" ] && [ -x "$g" ] || continue
		if [ "$(GOTOOLCHAIN=local "$g" env GOVERSION 2>/dev/null)" = "$GO_VERSION" ]; then
			echo "$g"
			return 0
		fi
	done
	g="$cache/go/golang.org/toolchain@v0.0.1-$GO_VERSION.linux-amd64/bin/go"
	if [ ! -x "$g" ]; then
		dexbuild_fetch "$PROXY/golang.org/toolchain/@v/$GO_ZIP" "$cache/dl/$GO_ZIP" "$GO_ZIP_SHA256"
		rm -rf "$cache/go"
		mkdir -p "$cache/go.part"
		(cd "$cache/go.part" && unzip -q "$cache/dl/$GO_ZIP") ||
			dexbuild_die "cannot unpack $GO_ZIP"
		# A module zip keeps no file modes.
		chmod 0755 "$cache/go.part/golang.org/toolchain@v0.0.1-$GO_VERSION.linux-amd64"/bin/* \
			"$cache/go.part/golang.org/toolchain@v0.0.1-$GO_VERSION.linux-amd64"/pkg/tool/*/*
		mv "$cache/go.part" "$cache/go"
	fi
	echo "$g"
}

# dexbuild_patch FILE: cmd/dex/serve.go without the gRPC admin API: the
# imports of api/v2 and server/apiserver go, and a configured grpc.addr
# becomes a start-up error instead of registering the API.  Each edit must
# apply exactly once, else the build stops (a new pin needs a new look).
dexbuild_patch() {
	local f=$1 n
	n=$(grep -c -e '^	"github.com/dexidp/dex/api/v2"$' -e '^	"github.com/dexidp/dex/server/apiserver"$' \
		-e '^		api\.RegisterDexServer(grpcSrv, apiserver\.NewAPI(' "$f") || true
	[ "$n" = 3 ] || dexbuild_die "$f: the gRPC API patch does not apply ($n of 3 lines found)"
	sed -i -e '/^	"github.com\/dexidp\/dex\/api\/v2"$/d' \
		-e '/^	"github.com\/dexidp\/dex\/server\/apiserver"$/d' \
		-e 's/^		api\.RegisterDexServer(grpcSrv, apiserver\.NewAPI(.*$/		return fmt.Errorf("grpc: this build (pam_oauth2 tests\/lib\/dex-build.sh) has no gRPC API")/' "$f"
}

if [ -x "$bin" ]; then
	echo "$bin"
	exit 0
fi

mkdir -p "$cache/dl" "$cache/bin"
# Two test scripts (or run-all and a test) building at once: one builds.
exec 9>"$cache/.lock"
flock -w 1200 9 || dexbuild_die "timed out waiting for $cache/.lock"
if [ -x "$bin" ]; then
	echo "$bin"
	exit 0
fi
command -v unzip >/dev/null || dexbuild_die "unzip not found (tests/setup-debian.sh installs it)"
command -v curl >/dev/null || dexbuild_die "curl not found"

t0=$(date +%s)
go=$(dexbuild_go)
zip="$cache/dl/dex-$DEX_VERSION.zip"
dexbuild_fetch "$PROXY/github.com/dexidp/dex/@v/$DEX_VERSION.zip" "$zip" "$DEX_ZIP_SHA256"
apizip="$cache/dl/dex-api-$DEX_API_VERSION.zip"
dexbuild_fetch "$PROXY/github.com/dexidp/dex/api/v2/@v/$DEX_API_VERSION.zip" "$apizip" "$DEX_API_ZIP_SHA256"
src="$cache/src/github.com/dexidp/dex@$DEX_VERSION"
if [ ! -f "$src/go.mod" ] || [ ! -f "$src/api/v2/go.mod" ]; then
	rm -rf "$cache/src"
	mkdir -p "$cache/src.part"
	(cd "$cache/src.part" && unzip -q "$zip" && unzip -q "$apizip" &&
		mv "github.com/dexidp/dex/api/v2@$DEX_API_VERSION" \
			"github.com/dexidp/dex@$DEX_VERSION/api/v2" &&
		rmdir github.com/dexidp/dex/api) || dexbuild_die "cannot unpack $zip, $apizip"
	chmod -R u+w "$cache/src.part"
	dexbuild_patch "$cache/src.part/github.com/dexidp/dex@$DEX_VERSION/cmd/dex/serve.go"
	mv "$cache/src.part" "$cache/src"
fi
dexbuild_log "building cmd/dex $DEX_VERSION with $("$go" env GOVERSION) ($go)"
# -mod=readonly: every dependency must be the one the module's go.sum
# names; the proxy only, never a direct VCS fetch.  Nothing from the
# caller's Go environment (GOFLAGS, GOPATH) leaks in.
(cd "$src" && env -u GOFLAGS -u GOPATH GOTOOLCHAIN=local GOPROXY="$PROXY" \
	GOSUMDB=sum.golang.org GONOSUMDB= GOPRIVATE= GOENV=off \
	GOMODCACHE="$cache/gomod" GOCACHE="$cache/gocache" GOPATH="$cache/gopath" \
	CGO_ENABLED=0 "$go" build -mod=readonly -trimpath \
	-ldflags "-X main.version=$DEX_VERSION" \
	-o "$bin.part" ./cmd/dex) >&2 || dexbuild_die "go build failed"
mv -f "$bin.part" "$bin"
dexbuild_log "built $bin in $(($(date +%s) - t0)) s"
echo "$bin"
