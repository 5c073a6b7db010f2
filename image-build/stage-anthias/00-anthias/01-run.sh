#!/bin/bash -e
# pi-gen runs this on the build host, in this directory, after 00-packages: copy Anthias
# Edge's files into the image. build.sh rendered files/ from the checkout:
#   files/rootfs/   mirrors the image: the units from systemd/, the sysusers and tmpfiles
#                   entries, /usr/local/sbin/anthias-firstboot and the boot partition's file
#                   set (boot/firmware/anthias-device.conf, anthias-fleet.token if baked in)
#   files/install/  the wheelhouse, install-release.sh and the list of units to enable;
#                   01-run-chroot.sh installs from it and removes it
# Plain cp: new files keep their rendered modes (less the umask), and folders the image
# already has (/etc, /etc/polkit-1/rules.d, ...) keep their own modes and owners.
cp -r files/rootfs/. "${ROOTFS_DIR}/"
rm -rf "${ROOTFS_DIR}/var/tmp/anthias-edge-install"
cp -r files/install "${ROOTFS_DIR}/var/tmp/anthias-edge-install"

# build.sh gave pi-gen a throwaway password when the config set none, because pi-gen
# insists on one when the first boot does not ask for a user name; lock it again.
if [ "${ANTHIAS_LOCK_FIRST_USER:-0}" = "1" ]; then
	on_chroot <<-EOF2
		usermod --lock "${FIRST_USER_NAME}"
	EOF2
fi
