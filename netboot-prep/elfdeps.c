#include <string.h>

#include "common/byteorder.h"
#include "elfdeps.h"

#define PT_LOAD		1
#define PT_DYNAMIC	2
#define PT_INTERP	3
#define DT_NULL		0
#define DT_NEEDED	1
#define DT_STRTAB	5

struct phdr {
	uint32_t type;
	uint64_t off, vaddr, filesz;
};

static int
in_file(size_t len, uint64_t off, uint64_t n)
{
	return off <= len && n <= len - off;
}

static uint64_t
word(const uint8_t *p, int is64)
{
	return is64 ? le64(p) : le32(p);
}

static int
read_phdr(const uint8_t *buf, size_t len, int is64, uint64_t off,
    struct phdr *ph)
{
	if (!in_file(len, off, is64 ? 56 : 32))
		return -1;
	ph->type = le32(buf + off);
	if (is64) {
		ph->off = le64(buf + off + 8);
		ph->vaddr = le64(buf + off + 16);
		ph->filesz = le64(buf + off + 32);
	} else {
		ph->off = le32(buf + off + 4);
		ph->vaddr = le32(buf + off + 8);
		ph->filesz = le32(buf + off + 16);
	}
	return 0;
}

/* The file offset of a virtual address, through the PT_LOAD segments. */
static int
vaddr_off(const uint8_t *buf, size_t len, int is64, uint64_t phoff,
    uint16_t phnum, uint16_t phentsize, uint64_t va, uint64_t *off)
{
	struct phdr ph;

	for (uint16_t i = 0; i < phnum; i++) {
		if (read_phdr(buf, len, is64, phoff + (uint64_t)i * phentsize,
		    &ph) == -1)
			return -1;
		if (ph.type == PT_LOAD && va >= ph.vaddr &&
		    va - ph.vaddr < ph.filesz) {
			*off = ph.off + (va - ph.vaddr);
			return 0;
		}
	}
	return -1;
}

static int
copy_str(const uint8_t *buf, size_t len, uint64_t off, char *out)
{
	size_t n = 0;

	while (off + n < len && buf[off + n] != '\0') {
		if (n + 1 >= ELF_NAME_MAX)
			return -1;
		out[n] = (char)buf[off + n];
		n++;
	}
	if (off + n >= len || n == 0)
		return -1;
	out[n] = '\0';
	return 0;
}

enum elf_result
elf_deps(const uint8_t *buf, size_t len, struct elf_deps *out)
{
	uint64_t phoff, dynoff = 0, dynsz = 0, strtab_va = 0, stroff;
	uint16_t phnum, phentsize;
	struct phdr ph;
	int is64, have_dyn = 0, have_str = 0;
	size_t dsz;

	memset(out, 0, sizeof(*out));
	if (len < 52 || memcmp(buf, "\x7f" "ELF", 4) != 0)
		return ELF_NOT_ELF;
	if (buf[4] != 1 && buf[4] != 2)
		return ELF_BAD;
	if (buf[5] != 1)
		return ELF_UNSUPPORTED;
	is64 = buf[4] == 2;
	if (is64 && len < 64)
		return ELF_BAD;
	out->is64 = is64;
	out->machine = le16(buf + 18);
	phoff = is64 ? le64(buf + 32) : le32(buf + 28);
	phentsize = le16(buf + (is64 ? 54 : 42));
	phnum = le16(buf + (is64 ? 56 : 44));
	if (phentsize < (is64 ? 56 : 32) ||
	    !in_file(len, phoff, (uint64_t)phnum * phentsize))
		return ELF_BAD;
	for (uint16_t i = 0; i < phnum; i++) {
		if (read_phdr(buf, len, is64, phoff + (uint64_t)i * phentsize,
		    &ph) == -1)
			return ELF_BAD;
		if (ph.type == PT_INTERP) {
			if (!in_file(len, ph.off, ph.filesz) ||
			    copy_str(buf, len, ph.off, out->interp) == -1)
				return ELF_BAD;
		} else if (ph.type == PT_DYNAMIC) {
			if (!in_file(len, ph.off, ph.filesz))
				return ELF_BAD;
			dynoff = ph.off;
			dynsz = ph.filesz;
			have_dyn = 1;
		}
	}
	if (!have_dyn)
		return ELF_OK;		/* static */
	dsz = is64 ? 16 : 8;
	for (uint64_t o = dynoff; o + dsz <= dynoff + dynsz; o += dsz) {
		uint64_t tag = word(buf + o, is64);

		if (tag == DT_NULL)
			break;
		if (tag == DT_STRTAB) {
			strtab_va = word(buf + o + dsz / 2, is64);
			have_str = 1;
		}
	}
	if (!have_str || vaddr_off(buf, len, is64, phoff, phnum, phentsize,
	    strtab_va, &stroff) == -1)
		return ELF_BAD;
	for (uint64_t o = dynoff; o + dsz <= dynoff + dynsz; o += dsz) {
		uint64_t tag = word(buf + o, is64), val;

		if (tag == DT_NULL)
			break;
		if (tag != DT_NEEDED)
			continue;
		val = word(buf + o + dsz / 2, is64);
		if (out->nneeded == ELF_NEEDED_MAX || stroff + val < stroff ||
		    copy_str(buf, len, stroff + val,
		    out->needed[out->nneeded]) == -1)
			return ELF_BAD;
		out->nneeded++;
	}
	return ELF_OK;
}
