#!/bin/sh
# Distribution-independent part of the base image: the runner user, sudo, the docker shim
# and the init that the main image's entrypoint names. Runs as root during the base build.
set -eu
here=$(dirname "$0")

# GitHub-hosted runners run jobs as uid 1001 in a docker group; workflows that chown or
# check ids behave the same here.
getent group docker >/dev/null || groupadd --system docker
if ! getent passwd runner >/dev/null; then
  useradd --uid 1001 --gid docker --create-home --shell /bin/bash runner
fi
printf 'runner ALL=(ALL) NOPASSWD:ALL\n' >/etc/sudoers.d/runner
chmod 0440 /etc/sudoers.d/runner

# The shim comes first on PATH (/usr/local/bin before /usr/bin) and execs the real CLI.
install -m 0755 "$here/docker-shim" /usr/local/bin/docker

# One stable name for PID 1 whichever init the distribution ships.
for init in /usr/bin/tini /usr/bin/catatonit /usr/libexec/catatonit/catatonit /usr/libexec/podman/catatonit; do
  if [ -x "$init" ]; then
    ln -sf "$init" /usr/local/sbin/microrunner-init
    break
  fi
done
if [ ! -e /usr/local/sbin/microrunner-init ]; then
  echo "setup-base.sh: neither tini nor catatonit is installed" >&2
  exit 1
fi

# Rootful podman inside the VM: containers share the VM's network (see docker-shim) and
# use the VM's only storage driver that works without extra kernel modules everywhere.
mkdir -p /etc/containers
cat >/etc/containers/containers.conf <<'CONF'
[containers]
netns = "host"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
