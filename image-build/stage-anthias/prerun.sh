#!/bin/bash -e
# pi-gen runs this first: start from the previous stage's root file system (stage2, the
# Lite image) unless an earlier run of this stage left one.
if [ ! -d "${ROOTFS_DIR}" ]; then
	copy_previous
fi
