/* layer: pure */
/* The shared libraries an ELF program needs (DT_NEEDED) and its program
 * interpreter (PT_INTERP), read from the file's bytes, so that the tool
 * finds what nbd-client needs in an arm64 image without running any of
 * its programs. Pure. */
#ifndef NETBOOT_PREP_ELFDEPS_H
#define NETBOOT_PREP_ELFDEPS_H

#include <stddef.h>
#include <stdint.h>

#define ELF_NEEDED_MAX	32
#define ELF_NAME_MAX	256

struct elf_deps {
	uint16_t machine;		/* e_machine: 183 aarch64, 62 x86-64 */
	int is64;
	char interp[ELF_NAME_MAX];	/* "" when static */
	size_t nneeded;
	char needed[ELF_NEEDED_MAX][ELF_NAME_MAX];
};

enum elf_result {
	ELF_OK,
	ELF_NOT_ELF,
	ELF_BAD,		/* a header or table outside the file */
	ELF_UNSUPPORTED,	/* big-endian */
};

enum elf_result elf_deps(const uint8_t *buf, size_t len,
    struct elf_deps *out);

#endif
