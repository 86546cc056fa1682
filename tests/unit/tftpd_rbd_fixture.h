/* The fixture of tftpd's tests over Ceph: a Pi's image built with the
 * real tools, held by the fake librbd (tests/unit/rbdfake.h) as image
 * "class" in pool "pis", with its snapshot "v2". rbd_setup and
 * rbd_teardown are the fixture; cl is a cluster connected as instance
 * inst. */
#ifndef TESTS_UNIT_TFTPD_RBD_FIXTURE_H
#define TESTS_UNIT_TFTPD_RBD_FIXTURE_H

#include "tests/unit/rbdfake.h"
#include "tests/unit/tftpd_image_fixture.h"
#include "common/log.h"
#include "common/rbdcluster.h"

static struct rbd_cluster cl;
static struct rbdc_instance *inst;

static void
rbd_setup(void)
{
	size_t size;

	fx_setup_dir();
	log_init("rbd-test", 0, -1);
	fx_sh("truncate -s 40M pi.img && printf 'label: dos\\nstart=2048, "
	    "size=61440, type=c, bootable\\nstart=63488, type=83\\n' | "
	    "sfdisk -q pi.img && "
	    "mkfs.vfat -F 16 -n BOOT --offset 2048 pi.img 30720 && "
	    "echo 'arm_64bit=1' > config.txt && "
	    "head -c 2345678 /dev/urandom > start4.elf && "
	    "head -c 4567 /dev/urandom > vc4.dtbo && "
	    "mcopy -i pi.img@@1M config.txt start4.elf :: && "
	    "mmd -i pi.img@@1M ::overlays && "
	    "mcopy -i pi.img@@1M vc4.dtbo ::overlays/vc4-kms-v3d.dtbo");
	rbdfake_init("class", NULL);
	rbdfake.bytes = fx_slurp(fx_path("pi.img"), &size);
	rbdfake.size = size;
	rbdfake_cluster(&cl);
	strlcpy(cl.arg.id, "netboot", sizeof(cl.arg.id));
	ck_assert_ptr_nonnull(inst = calloc(1, sizeof(*inst)));
	inst->refs = 1;
	strlcpy(inst->who, "client.4200 at 127.0.0.1:0/2", sizeof(inst->who));
	cl.cur = inst;
	cl.attempts = 1;
}

static void
rbd_teardown(void)
{
	rbdfake_cluster_destroy(&cl);
	rbdfake_destroy();
	fx_teardown_dir();
}

#endif
