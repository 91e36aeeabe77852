#!/bin/sh
# install.sh -- the official MCP SDK client (@modelcontextprotocol/sdk) for
# tests/mcp/client.mjs, installed once into a cache and printed
#
# What is installed is exactly tests/mcp/package-lock.json: every package
# pinned by version and by the registry's sha512 integrity, which `npm ci`
# checks, with --ignore-scripts (no package's install script runs).  The
# tree goes to ${CGOPS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cgops}/mcp-sdk/KEY,
# KEY a hash of the lock file (a new pin installs afresh), and the path of
# that directory (holding node_modules) is printed.  Once there, nothing is
# fetched; with npm's own cache there (a tree removed), `npm ci --offline`.
#
# Exit status: 0 done; 1 cannot install (no npm, no network and no cache):
# the MCP test then FAILS, it does not skip -- that test is how the issue's
# "a real MCP client calls every tool" is shown.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=${CGOPS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cgops}/mcp-sdk
key=$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -c1-16)
dir=$cache/$key
if [ -f "$dir/.installed" ] && [ -d "$dir/node_modules/@modelcontextprotocol/sdk" ]; then
    echo "$dir"
    exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "install.sh: npm is not installed (Debian: apt-get install npm)" >&2; exit 1; }
mkdir -p "$cache" || { echo "install.sh: cannot create $cache" >&2; exit 1; }
tmp=$(mktemp -d "$cache/.install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp "$here/package.json" "$here/package-lock.json" "$tmp/"
ci() {
    (cd "$tmp" && timeout 600 npm ci --ignore-scripts --no-audit --no-fund --loglevel=error \
        --cache "$cache/npm-cache" "$@") >"$tmp/npm.log" 2>&1
}
# npm's cache first (no network needed), then the registry.
if ! { [ -d "$cache/npm-cache" ] && ci --offline; } && ! ci; then
    echo "install.sh: npm ci failed (no network and no cache in $cache?): $(tail -c 600 "$tmp/npm.log")" >&2
    exit 1
fi
rm -f "$tmp/npm.log"
touch "$tmp/.installed"
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
echo "$dir"
