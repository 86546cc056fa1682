#!/bin/sh
# The arm64 guest test with the kernel update: the distribution's own
# hooks (update-initramfs -u, raspi-firmware's) run on the prepared image
# in an emulated arm64 chroot, then the guest boots it again over NBD.
# Ten minutes and more under emulation, so here rather than in make check.
cd "$(dirname "$0")/../.." || exit 1
PREP_KERNEL_UPDATE=1 BUILD=${BUILD:-build} exec bash tests/arm64/prep.sh
