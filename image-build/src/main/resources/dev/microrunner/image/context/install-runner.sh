#!/bin/sh
# install-runner.sh VERSION TARGETARCH SHA256_X64 SHA256_ARM64 DOWNLOAD_BASE
# Downloads actions/runner VERSION for the image's architecture, verifies it against the
# pinned SHA-256, unpacks it into /opt/actions-runner (owned by the runner user, since
# config.sh writes its settings there) and installs its system dependencies.
set -eu
version=$1
target_arch=${2:-}
sha256_x64=$3
sha256_arm64=$4
download_base=$5
here=$(dirname "$0")
runner_dir=/opt/actions-runner

# TARGETARCH is set by buildah/podman from --platform; a builder that leaves it empty
# builds for the machine it runs on.
[ -n "$target_arch" ] || target_arch=$(uname -m)
case "$target_arch" in
  amd64 | x86_64) arch=x64 expected=$sha256_x64 ;;
  arm64 | aarch64) arch=arm64 expected=$sha256_arm64 ;;
  *)
    echo "install-runner.sh: actions/runner has no Linux build for architecture '$target_arch'" >&2
    exit 1
    ;;
esac

archive=actions-runner-linux-$arch-$version.tar.gz
url=$download_base/v$version/$archive
download=$(mktemp -d)
echo "install-runner.sh: downloading $url"
if command -v curl >/dev/null 2>&1; then
  curl --fail --silent --show-error --location --retry 3 --output "$download/$archive" "$url"
else
  wget -q -O "$download/$archive" "$url"
fi
"$here/verify-sha256.sh" "$download/$archive" "$expected"

mkdir -p "$runner_dir"
tar -x -z -f "$download/$archive" -C "$runner_dir"
rm -rf "$download"
"$runner_dir/bin/installdependencies.sh"
chown -R "runner:$(id -gn runner)" "$runner_dir"
