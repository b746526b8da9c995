#!/bin/sh
# verify-sha256.sh FILE EXPECTED_SHA256
# Fails unless FILE's SHA-256 is EXPECTED_SHA256. A value that is not 64 hex digits (such
# as the NOT-PINNED placeholder of runner-versions.properties) fails with its own message,
# so an image is never built from an unverified download.
set -eu
file=$1
expected=$2
case "$expected" in
  *[!0-9a-f]* | "")
    echo "verify-sha256.sh: no SHA-256 pinned for $(basename "$file") (got '$expected'); pin it in runner-versions.properties or pass the checksum build argument" >&2
    exit 1
    ;;
esac
if [ "${#expected}" -ne 64 ]; then
  echo "verify-sha256.sh: '$expected' is not a SHA-256 (64 hex digits) for $(basename "$file")" >&2
  exit 1
fi
actual=$(sha256sum "$file" | cut -d ' ' -f 1)
if [ "$actual" != "$expected" ]; then
  echo "verify-sha256.sh: checksum mismatch for $(basename "$file"): expected $expected, got $actual" >&2
  exit 1
fi
echo "verify-sha256.sh: $(basename "$file") OK ($actual)"
