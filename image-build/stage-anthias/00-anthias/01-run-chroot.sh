# shellcheck shell=bash
# pi-gen pipes this into a shell inside the image (as root) after 01-run.sh.
set -e
install_dir=/var/tmp/anthias-edge-install

# The anthias system user and group (usr/lib/sysusers.d/anthias-edge.conf from systemd/).
systemd-sysusers
home=$(getent passwd anthias | cut -d: -f6)
install -d -m 0750 -o anthias -g anthias "$home"

bash "$install_dir/install-release.sh" "$install_dir/wheelhouse"

# The device's units (server, player under the cage kiosk, sync, first boot); their
# [Install] sections say which target starts them. The kiosk and the player are wanted by
# graphical.target, which the Lite image does not boot into by default.
xargs --no-run-if-empty systemctl enable <"$install_dir/enable-units"
systemctl set-default graphical.target
rm -rf "$install_dir"
