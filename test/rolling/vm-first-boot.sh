#!/bin/sh
# What a VM's first boot (cloud-init) leaves on a rolling-lab host that stands for a VM, run inside the host as root:
# the site's admin user with the admin key and passwordless sudo (a VM's converge step logs in as it, root logins
# being disabled on VMs), and cloud-init's finished status, which the converge step waits for (`cloud-init status
# --wait` reads /run/cloud-init/status.json and result.json). The lab's systemctl stand-in knows no unit of the VM
# image itself (the guest agent, timesyncd, which a VM's base role enables or restarts): a systemctl ahead of it in
# PATH (/usr/local/bin is the host's own) takes those as the image's units that run, and passes on everything else.
# With CLOUD_INIT `running` the first boot never ends (cloud-init's last stage started, never finished): what a
# VM whose first boot hangs looks like to the converge step.
# Usage: vm-first-boot.sh ADMIN_USER ADMIN_PUBLIC_KEY [done|running]
set -eu
user=$1
key=$2
cloud_init=${3:-done}
id -u "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/sh "$user"
# No password, but not locked ("!"): the lab's sshd runs without PAM, and then refuses locked accounts.
usermod -p '*' "$user"
home=$(getent passwd "$user" | cut -d: -f6)
mkdir -p "$home/.ssh"
printf '%s\n' "$key" >"$home/.ssh/authorized_keys"
chmod 700 "$home/.ssh"
chmod 600 "$home/.ssh/authorized_keys"
chown -R "$user:" "$home/.ssh"
printf '%s ALL=(ALL) NOPASSWD:ALL\n' "$user" >"/etc/sudoers.d/90-cloud-init-$user"
chmod 0440 "/etc/sudoers.d/90-cloud-init-$user"
mkdir -p /run/cloud-init
stage='{"errors": [], "start": 1.0, "finished": 2.0}'
if [ "$cloud_init" = running ]; then
  final='{"errors": [], "start": 3.0, "finished": null}'
  printf '{"v1": {"datasource": "DataSourceNoCloud", "stage": "modules-final", "init-local": %s, "init": %s, "modules-config": %s, "modules-final": %s}}\n' \
    "$stage" "$stage" "$stage" "$final" >/run/cloud-init/status.json
  rm -f /run/cloud-init/result.json
else
  printf '{"v1": {"datasource": "DataSourceNoCloud", "stage": null, "init-local": %s, "init": %s, "modules-config": %s, "modules-final": %s}}\n' \
    "$stage" "$stage" "$stage" "$stage" >/run/cloud-init/status.json
  printf '{"v1": {"datasource": "DataSourceNoCloud", "errors": []}}\n' >/run/cloud-init/result.json
fi
cat >/usr/local/bin/systemctl <<'SHIM'
#!/bin/sh
# The VM image's own units on a rolling-lab host that stands for a VM (vm-first-boot.sh); the rest to the stand-in.
for arg in "$@"; do
  case $arg in
    -* | enable | disable | start | stop | restart | is-active | is-enabled | status) ;;
    qemu-guest-agent | qemu-guest-agent.service | systemd-timesyncd | systemd-timesyncd.service) image_unit=1 ;;
    *) exec /usr/bin/systemctl "$@" ;;
  esac
done
[ "${image_unit:-0}" = 1 ] || exec /usr/bin/systemctl "$@"
SHIM
chmod 755 /usr/local/bin/systemctl
