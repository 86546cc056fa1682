/* layer: pure */
/* When each recent client's boot began: the order in which an
 * overloaded tftpd serves its clients (sched.h), oldest boot first, so
 * that a rack boots in waves instead of every Pi at a fraction of the
 * speed it needs. A fixed-size table keyed by the client's address, like
 * peerrtt.h; the main loop owns it; times are passed in. Pure.
 *
 * A boot is the run of requests a client makes with no long silence
 * between them: a Pi asks for some twenty files in a row, and one whose
 * boot failed asks again within a minute (its bootloader's restart, then
 * DHCP), keeping the place its first attempt earned. Only a client's
 * newest transfer has that place: a host that opens many transfers at
 * once gets none for the others. */
#ifndef TFTPD_BOOTS_H
#define TFTPD_BOOTS_H

#include <stddef.h>
#include <stdint.h>

#include "common/montime.h"

#define BOOTS_SLOTS		256
#define BOOTS_ADDR_MAX		16	/* an IPv6 address */
/* A client silent this long starts a new boot with its next request:
 * longer than a Pi's restart (a failed file's 30 s, the bootloader's
 * pause, DHCP), far shorter than the time between two boots of a Pi
 * that reached its root. */
#define BOOTS_GAP_NS		(120 * NS_PER_SEC)
/* A boot this old has waited its turn many times over; its place goes
 * to the back, so a host that never stops asking never stays first. */
#define BOOTS_MAX_AGE_NS	(600 * NS_PER_SEC)
/* A Pi asks for its next file at once, or after a lost request's retry
 * (a second): a boot that ran a transfer this recently is still going. */
#define BOOTS_WAVE_GAP_NS	(3 * NS_PER_SEC)

struct boots_entry {
	uint8_t addr[BOOTS_ADDR_MAX];
	uint8_t addr_len;
	uint64_t began_ns;		/* the boot's first request */
	uint64_t last_ns;		/* its latest request */
	uint64_t newest;		/* its newest transfer's id */
	uint64_t ran_ns;		/* a transfer of it last ran */
};

struct boots {
	struct boots_entry e[BOOTS_SLOTS];
	unsigned used;
};

/* A request from addr (addr_len bytes) at now, for the transfer with id
 * (unique and never 0): the client's boot goes on or a new one begins,
 * and the transfer becomes its newest. Returns the slot to look the boot
 * up by (boots_began), or -1 for an address too long to keep. A new
 * address takes a free slot or, in a full table, the one silent
 * longest. */
int boots_request(struct boots *t, const void *addr, size_t addr_len,
    uint64_t id, uint64_t now);

/* When the boot of transfer id (in slot, as boots_request said) began,
 * if it is still its client's newest transfer and the boot is younger
 * than BOOTS_MAX_AGE_NS at now; otherwise own_ns, the transfer's own
 * start: it waits its turn behind every boot begun before it. */
uint64_t boots_began(const struct boots *t, int slot, uint64_t id,
    uint64_t own_ns, uint64_t now);

/* Whether the boot in slot began with the request at now: its first. */
int boots_begins(const struct boots *t, int slot, uint64_t now);

/* A transfer of the boot in slot ran at now. */
void boots_ran(struct boots *t, int slot, uint64_t now);

/* Whether transfer id is its boot's newest (in slot): a Pi asks for one
 * file at a time. */
int boots_newest(const struct boots *t, int slot, uint64_t id);

/* Whether transfer id is its boot's newest (in slot) and the boot ran a
 * transfer within BOOTS_WAVE_GAP_NS of now: a Pi's next file follows its
 * last at once. A host's other transfers are not: one that opens many
 * at once, or asks and vanishes, has one place in the wave at most. */
int boots_in_wave(const struct boots *t, int slot, uint64_t id,
    uint64_t now);

#endif