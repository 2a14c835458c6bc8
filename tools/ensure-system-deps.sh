#!/bin/sh
# Install the Debian packages the test suite needs, when they are missing.
# Tests use: PostgreSQL 15 binaries (throwaway server), poppler-utils (pdftoppm, pdffonts).
# Screenshots (tools/screenshots.py) also use Xvfb and ImageMagick.
set -eu
missing=""
ls -d /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$missing postgresql"
command -v pdftoppm >/dev/null 2>&1 || missing="$missing poppler-utils"
command -v pdffonts >/dev/null 2>&1 || missing="$missing poppler-utils"
[ -n "$missing" ] || exit 0
if [ "$(id -u)" != 0 ]; then
    echo "Missing system packages:$missing" >&2
    echo "Install them with: sudo apt-get install$missing" >&2
    exit 1
fi
echo "Installing system packages:$missing"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
