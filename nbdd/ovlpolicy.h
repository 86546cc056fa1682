/* layer: pure */
/* The rules of the overlay registry (ovlreg.c) and of the space overlays
 * may take (overlay.c): whose overlay a connection gets, when one is
 * discarded, whether a new one is made, and whether a write fits under
 * the per-host (-q) and total (-Q) limits. Pure: numbers and names in,
 * decisions out; the callers hold the locks and the clock. */
#ifndef NBDD_OVLPOLICY_H
#define NBDD_OVLPOLICY_H

#include <stddef.h>
#include <stdint.h>

/* --- whose overlay ---------------------------------------------------- */

/* An overlay belongs to a host, and over TLS to the identity that
 * connected from it: two Pis (two certificates) behind one address, or a
 * Pi that takes over a dead one's address, never share. identity NULL or
 * "" is none (plain TCP, or TLS without a client identity): by address
 * alone. */
int ovl_same_owner(const char *addr_a, const char *identity_a,
    const char *addr_b, const char *identity_b);

/* The owner for log lines: "10.0.0.5", or "10.0.0.5 as abcd1234". */
void ovl_owner_describe(const char *addr, const char *identity, char *out,
    size_t outlen);

/* --- when it goes ------------------------------------------------------ */

/* When an overlay whose last connection ended at now is discarded: after
 * the grace period, or at once when the client said it was done
 * (NBD_CMD_DISC). */
int64_t ovl_expiry(int64_t now, int64_t grace_ms, int done);

/* Whether an overlay with refs connections, unused since it was given
 * expires_ms, is to be discarded now. One in use never is. */
int ovl_expired(int refs, int64_t expires_ms, int64_t now);

/* The ms until the next discard, folding one overlay into next (-1: none
 * waiting yet). Returns the new next. */
int64_t ovl_next_expiry(int64_t next, int refs, int64_t expires_ms,
    int64_t now);

/* --- whether a new one is made ------------------------------------------ */

/* A new host's overlay, when count overlays exist (in use and in their
 * grace periods together) and max_overlays may (0: no limit). Never by
 * discarding one in its grace period: its host may come back, and would
 * find a fresh disk under its mounted file system. */
enum ovl_admit {
	OVL_ADMIT_OK,
	OVL_ADMIT_FULL,		/* refused: ENOSPC */
};

enum ovl_admit ovl_admit(int count, int max_overlays);

/* --- space ---------------------------------------------------------------- */

/* Whether need more bytes fit when used are taken (held and promised) of
 * max (0: no limit), without overflow whatever the values. */
int ovl_fits(uint64_t used, uint64_t need, uint64_t max);

enum ovl_room {
	OVL_ROOM_OK,
	OVL_ROOM_HOST_FULL,	/* the host's -q */
	OVL_ROOM_TOTAL_FULL,	/* every overlay's together, -Q */
};

/* Whether a mutation that may allocate need bytes goes ahead, given what
 * its host holds and has promised (host_used of host_max) and what all
 * overlays do (total_used of total_max). need 0 always does. */
enum ovl_room ovl_room(uint64_t host_used, uint64_t host_max,
    uint64_t total_used, uint64_t total_max, uint64_t need);

/* The total limit when -Q is not given: half the space free in the
 * overlay directory's file system when nbdd starts, so that hosts cycling
 * through addresses cannot fill it for the images beside it. Never 0,
 * which would mean no limit. */
uint64_t ovl_total_default(uint64_t free_bytes);

#endif
