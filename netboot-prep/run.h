/* layer: I/O */
/* Running the tools the preparation needs (xz, mtools, e2fsprogs,
 * losetup, mount, chroot, depmod, gzip): their output is kept, so that a
 * failure names the command and what it said. */
#ifndef NETBOOT_PREP_RUN_H
#define NETBOOT_PREP_RUN_H

#include <stddef.h>
#include <stdint.h>

struct run_io {
	const void *in;		/* given on stdin, NULL for /dev/null */
	size_t inlen;
	int out_fd;		/* stdout goes here when >= 0 */
	uint8_t *out;		/* else into this buffer (malloc'ed) */
	size_t outlen;
	const char *const *env;	/* extra NAME=VALUE, NULL-terminated */
};

/* Runs argv (a program looked up in PATH). Returns 0 when it exited
 * with status 0; else -1 with why: the command, its status and the last
 * line it printed on stderr. io may be NULL (stdout is kept like
 * stderr). */
int run(const char *const argv[], struct run_io *io, char *why,
    size_t whylen);

/* Whether a program is in PATH. */
int have_program(const char *name);

#endif
