#!/bin/sh
# Install the system programs the tests use, when they are missing and we can (root + apt).
# Without them the browser tests skip (and fail under CI=true).
missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
[ -z "$missing" ] && exit 0
"$(dirname "$0")/apt-install.sh" $missing \
    || echo "warning: missing$missing (install them to run every test)" >&2
exit 0
