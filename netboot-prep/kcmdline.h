/* layer: pure */
/* The kernel command line (cmdline.txt, /etc/default/raspi-extra-cmdline)
 * for a root on NBD: root= names the NBD partition, nbdroot= and ip=dhcp
 * are added, the SD card's first-boot steps go, the rest is kept in its
 * order. Pure. */
#ifndef NETBOOT_PREP_KCMDLINE_H
#define NETBOOT_PREP_KCMDLINE_H

#include <stddef.h>

#define KCMDLINE_MAX	4096	/* what the tool writes at most */
#define NBD_DEV_MAX	24	/* "/dev/nbd0p128" */

struct kcmdline_edit {
	const char *server;	/* nbdroot=SERVER/EXPORT */
	const char *export;
	int root_part;		/* root=/dev/nbd0pN; 0: leave root= out (the
				 * extra words of raspi-extra-cmdline, which
				 * may be empty) */
};

enum kcmdline_result {
	KCMDLINE_OK,
	KCMDLINE_TOO_LONG,
	KCMDLINE_BAD,		/* control characters, or empty */
};

/* /dev/nbd0pN into buf (NBD_DEV_MAX bytes). */
void nbd_partition(int part, char *buf);

/* Rewrites cmdline.txt (in, len bytes, one line or several, which the
 * Pi's firmware joins): every root=, nbdroot=, nbddev= and ip= goes, the
 * new root= takes the place of the first root= (else the end) and
 * nbdroot= and ip=dhcp follow it; the first-boot steps that resize a
 * partition of the SD card and change its disk identifier go (Raspberry
 * Pi OS: init=/usr/lib/raspberrypi-sys-mods/firstboot in bookworm,
 * "resize" since trixie, init=/usr/lib/raspi-config/init_resize.sh
 * before). out gets one line and its newline; removed, the tokens
 * dropped (other than the ones replaced), space-separated. Running it on
 * its own output changes nothing. */
enum kcmdline_result kcmdline_rewrite(const char *in, size_t len,
    const struct kcmdline_edit *e, char *out, size_t outlen, char *removed,
    size_t removedlen);

/* Whether a command line (len bytes) already says nbdroot=SERVER/EXPORT,
 * ip=dhcp and root=/dev/nbd0pN as e asks. */
int kcmdline_has(const char *in, size_t len, const struct kcmdline_edit *e);

#endif
