#!/bin/sh
# Install Debian packages when we can (root and apt-get); exit non-zero when we cannot.
# Usage: apt-install.sh PACKAGE...
[ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || exit 1
echo "installing: $*"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq "$@" >/dev/null
