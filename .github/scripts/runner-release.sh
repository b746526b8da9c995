#!/usr/bin/env bash
# Which actions/runner release the images bake in, with the SHA-256 of its Linux archives.
#
#   runner-release.sh latest RELEASE_JSON   the release in a GitHub API answer
#                                           (GET /repos/actions/runner/releases/latest)
#   runner-release.sh pinned PROPERTIES     the release pinned in runner-versions.properties
#   runner-release.sh pin PROPERTIES VERSION SHA256_X64 SHA256_ARM64
#                                           rewrites the pinned release in PROPERTIES
#
# latest and pinned print version=, sha256_x64= and sha256_arm64= lines (the $GITHUB_OUTPUT
# format). Every checksum must be 64 hex digits; anything else, such as the NOT-PINNED
# placeholder, fails loudly instead of producing an image from an unverified download.
set -euo pipefail

fail() {
  echo "::error::runner-release.sh: $*" >&2
  exit 1
}

require_sha256() {
  [[ $2 =~ ^[0-9a-f]{64}$ ]] || fail "no valid SHA-256 for actions/runner linux-$1 (got '$2')"
}

# The release notes carry the checksums between markers:
#   <!-- BEGIN SHA linux-x64 -->...<!-- END SHA linux-x64 -->
# Newer API answers also carry a digest per asset ("sha256:..."); when both exist they must
# agree, when only the digest exists it is used.
release_sha256() {
  local json=$1 arch=$2 version=$3 from_body digest
  from_body=$(jq -r '.body // ""' "$json" |
    sed -n "s/.*<!-- BEGIN SHA linux-$arch -->\([0-9a-fA-F]*\)<!-- END SHA linux-$arch -->.*/\1/p" |
    head -n 1 | tr 'A-F' 'a-f')
  digest=$(jq -r --arg name "actions-runner-linux-$arch-$version.tar.gz" \
    '[.assets[]? | select(.name == $name) | .digest // empty][0] // ""' "$json")
  digest=${digest#sha256:}
  if [[ -n $from_body && -n $digest && $from_body != "$digest" ]]; then
    fail "linux-$arch: release notes say $from_body, asset digest says $digest"
  fi
  echo "${from_body:-$digest}"
}

case "${1:-}" in
  latest)
    json=${2:?release JSON file}
    tag=$(jq -r '.tag_name // ""' "$json")
    version=${tag#v}
    [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "unexpected release tag '$tag'"
    x64=$(release_sha256 "$json" x64 "$version")
    arm64=$(release_sha256 "$json" arm64 "$version")
    ;;
  pinned)
    properties=${2:?properties file}
    version=$(sed -n 's/^version=//p' "$properties")
    x64=$(sed -n 's/^sha256\.linux-x64=//p' "$properties")
    arm64=$(sed -n 's/^sha256\.linux-arm64=//p' "$properties")
    [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "no valid version in $properties"
    ;;
  pin)
    properties=${2:?properties file}
    version=${3:?version}
    require_sha256 x64 "${4:?sha256 x64}"
    require_sha256 arm64 "${5:?sha256 arm64}"
    sed -i \
      -e "s/^version=.*/version=$version/" \
      -e "s/^sha256\.linux-x64=.*/sha256.linux-x64=$4/" \
      -e "s/^sha256\.linux-arm64=.*/sha256.linux-arm64=$5/" \
      "$properties"
    exit 0
    ;;
  *)
    fail "usage: runner-release.sh latest RELEASE_JSON | pinned PROPERTIES | pin PROPERTIES VERSION SHA256_X64 SHA256_ARM64"
    ;;
esac

require_sha256 x64 "$x64"
require_sha256 arm64 "$arm64"
printf 'version=%s\nsha256_x64=%s\nsha256_arm64=%s\n' "$version" "$x64" "$arm64"
