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

/* --- from the flags ----------------------------------------------------- */

struct ovl_flags {
	const char *overlay_dir;	/* -o; NULL: the root */
	const char *root;
	uint64_t host_max;		/* -q */
	uint64_t total_max;		/* -Q, or SIZE_UNSET (sizearg.h) */
	long long grace_s;		/* -g */
	long long max_conn;		/* -m */
	int inetd;			/* -i */
};

/* What follows when the overlay directory cannot be used. */
enum ovl_unusable {
	OVL_UNUSABLE_FATAL,	/* -o names it: nbdd does not start */
	OVL_UNUSABLE_WARN,	/* the root: shared bases are refused, and
				 * the start-up log says why */
	OVL_UNUSABLE_QUIET,	/* the root under inetd, where a line per
				 * connection would be noise: the refusal
				 * says it when a base is asked for */
};

/* The overlay registry as the flags make it. */
struct ovl_plan {
	const char *dir;		/* -o, or the root */
	uint64_t host_max;
	uint64_t total_max;		/* when !total_from_free */
	int total_from_free;		/* -Q not given: ovl_total_default of
					 * the space free in dir now */
	/* Under inetd each connection is a process of its own, so an
	 * overlay cannot outlive it: no grace period there. */
	int64_t grace_ms;
	/* Every overlay in use has a connection, so -m bounds them; those
	 * in their grace period count too, and a new host is refused
	 * rather than one of them discarded early. */
	int max_overlays;
	int announce;			/* the start-up line (not under
					 * inetd: once per connection) */
	enum ovl_unusable unusable;
};

void ovl_plan_from_flags(const struct ovl_flags *f, struct ovl_plan *p);

/* The longest line ovl_plan_describe writes, with its NUL, for a dir of
 * at most dirlen bytes. */
#define OVL_PLAN_LINE_LEN(dirlen)	((dirlen) + 256)

/* The start-up line for a registry made by p whose total limit is
 * total_max (0: none): "shared bases: overlays in DIR, 4096 MiB per host,
 * 1234 MiB for all hosts together (half the space free there now; -Q),
 * kept 60 s after a host's last connection". */
void ovl_plan_describe(const struct ovl_plan *p, uint64_t total_max,
    char *out, size_t outlen);

#endif
