/* A program's DT_NEEDED and interpreter, read from this very test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netboot-prep/elfdeps.h"
#include "tests/unit/check_main.h"

START_TEST(elf_of_this_program)
{
	FILE *f = fopen("/proc/self/exe", "rb");
	uint8_t *buf = malloc(8 << 20);
	size_t len = fread(buf, 1, 8 << 20, f);
	struct elf_deps d;
	int libc = 0;

	fclose(f);
	ck_assert_int_eq(elf_deps(buf, len, &d), ELF_OK);
	ck_assert_uint_eq(d.machine, 62);
	ck_assert_str_eq(d.interp, "/lib64/ld-linux-x86-64.so.2");
	for (size_t i = 0; i < d.nneeded; i++)
		libc |= strcmp(d.needed[i], "libc.so.6") == 0;
	ck_assert(libc);
	/* Cut short: an error, never a read past the end. */
	for (size_t cut = 0; cut < 4096; cut += 7)
		ck_assert_int_ne(elf_deps(buf, cut, &d), ELF_OK);
	ck_assert_int_eq(elf_deps((const uint8_t *)"#!/bin/sh\n", 10, &d),
	    ELF_NOT_ELF);
	free(buf);
}
END_TEST

static Suite *
elfdeps_suite(void)
{
	Suite *s = suite_create("netboot-prep/elfdeps");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, elf_of_this_program);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(elfdeps_suite)
