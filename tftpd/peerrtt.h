/* layer: pure */
/* What tftpd remembers of its recent clients' round trips: a fixed-size
 * table keyed by the client's address, so that a client's next transfer
 * (a Pi fetches some twenty files one after another) starts from the
 * estimate its last one ended with instead of from a blind guess. The
 * main loop owns it; times are passed in. */
#ifndef TFTPD_PEERRTT_H
#define TFTPD_PEERRTT_H

#include <stddef.h>
#include <stdint.h>

#include "tftpd/rto.h"

/* Enough for every Pi of a large boot storm at once; a lookup scans the
 * table once per request, never per packet. */
#define PEERRTT_SLOTS		256
#define PEERRTT_ADDR_MAX	16	/* an IPv6 address */
/* An estimate is trusted for this long. Every transfer of one boot falls
 * well inside it; an address handed to another machine (a DHCP lease
 * gone and given again) falls outside. */
#define PEERRTT_MAX_AGE_NS	(300 * NS_PER_SEC)

struct peerrtt_entry {
	uint8_t addr[PEERRTT_ADDR_MAX];
	uint8_t addr_len;
	struct rto_estimate est;
	uint64_t stored_ns;		/* when est was stored */
};

struct peerrtt {
	struct peerrtt_entry e[PEERRTT_SLOTS];
	unsigned used;
};

/* Copies the estimate remembered for addr (addr_len bytes, at most
 * PEERRTT_ADDR_MAX) into *est. Returns 1, or 0 when there is none or it
 * is older than PEERRTT_MAX_AGE_NS at now. */
int peerrtt_find(const struct peerrtt *t, const void *addr, size_t addr_len,
    uint64_t now, struct rto_estimate *est);

/* Remembers est for addr, replacing what was there; a new address takes
 * a free slot or, in a full table, the one stored longest ago. An address
 * longer than PEERRTT_ADDR_MAX is not stored. */
void peerrtt_store(struct peerrtt *t, const void *addr, size_t addr_len,
    const struct rto_estimate *est, uint64_t now);

#endif
