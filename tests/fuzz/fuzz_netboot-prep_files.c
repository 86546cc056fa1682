/* libFuzzer harness over what netboot-prep reads out of an image that
 * anyone may have made: an initramfs's cpio archives, a program's ELF
 * headers, cmdline.txt, fstab, config.txt, raspi-firmware's defaults,
 * os-release, modules.dep and ORDER. The first byte picks the parser.
 * Checks: nothing reads past the input; a rewritten cmdline.txt or fstab
 * is stable when rewritten again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netboot-prep/cpio.h"
#include "netboot-prep/elfdeps.h"
#include "netboot-prep/fstab.h"
#include "netboot-prep/initparts.h"
#include "netboot-prep/kcmdline.h"
#include "netboot-prep/recognise.h"
#include "netboot-prep/shvars.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touches every byte of a path, so that ASan sees one past the end. */
static void
dep_cb(void *ctx, const char *p, size_t n)
{
	size_t *sum = ctx;

	for (size_t i = 0; i < n; i++)
		*sum += (unsigned char)p[i];
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[FSTAB_MAX], again[FSTAB_MAX], rem[KCMDLINE_MAX];
	static struct cpio_entry e;
	static struct elf_deps d;
	struct kcmdline_edit ed = { "10.0.0.1", "lab", 2 };
	struct fstab_report rep;
	uint8_t *copy;
	char *text;
	size_t off = 0;

	if (size < 1)
		return 0;
	/* An exact-size copy, so that ASan sees any read past the end. */
	copy = malloc(size - 1 ? size - 1 : 1);
	memcpy(copy, data + 1, size - 1);
	text = malloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 6) {
	case 0:
		while (cpio_next(copy, size - 1, &off, &e) == CPIO_OK)
			if (off > size - 1)
				abort();
		(void)gzip_find_named(copy, size - 1, "netboot-prep-nbd.cpio");
		(void)compression_name(copy, size - 1);
		break;
	case 1:
		(void)elf_deps(copy, size - 1, &d);
		break;
	case 2:
		if (kcmdline_rewrite((char *)copy, size - 1, &ed, out,
		    KCMDLINE_MAX, rem, sizeof(rem)) == KCMDLINE_OK) {
			if (kcmdline_rewrite(out, strlen(out), &ed, again,
			    KCMDLINE_MAX, rem, sizeof(rem)) != KCMDLINE_OK ||
			    strcmp(out, again) != 0 ||
			    !kcmdline_has(out, strlen(out), &ed))
				abort();
		}
		break;
	case 3:
		if (fstab_rewrite((char *)copy, size - 1, 2, 1, out,
		    sizeof(out), &rep) == FSTAB_OK) {
			if (fstab_rewrite(out, strlen(out), 2, 1, again,
			    sizeof(again), &rep) != FSTAB_OK ||
			    strcmp(out, again) != 0)
				abort();
		}
		break;
	case 4: {
		char names[INITRAMFS_MAX][FAT_FILE_NAME], v[64];
		const char *fat[] = { "initramfs8", "initramfs_2712" };

		(void)config_initramfs((char *)copy, size - 1, fat, 2, names,
		    INITRAMFS_MAX);
		os_release_value(text, "ID", v, sizeof(v));
		(void)shvar_set((char *)copy, size - 1, "ROOTPART",
		    "/dev/nbd0p2", out, sizeof(out));
		break;
	}
	case 5:
		(void)modules_dep_of((char *)copy, size - 1,
		    "kernel/drivers/block/nbd.ko", dep_cb, &off);
		(void)order_with_nbd((char *)copy, size - 1, out, sizeof(out));
		(void)net_module_excluded(text);
		break;
	}
	free(copy);
	free(text);
	return 0;
}
