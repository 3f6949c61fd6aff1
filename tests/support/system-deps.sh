#!/bin/sh
# Install the system programs the tests use, when they are missing and we can (root + apt).
# Without them the browser tests skip (and fail under CI=true).
missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq $missing >/dev/null \
        || echo "warning: could not install$missing" >&2
else
    echo "warning: missing$missing (install them to run every test)" >&2
fi
exit 0
