/* layer: pure */
/* Which transfers send now, when more run than the link (or this
 * machine) can finish within their clients' deadlines. Pure: the I/O
 * layer (conn.c) describes each transfer once a tick and carries out
 * what comes back: hold it (before its OACK, or before its first block:
 * transfer.h) or let it run.
 *
 * Why: a Pi gives up on a file that is not in within its bootloader's
 * TFTP_FILE_TIMEOUT (30 s), and starts its boot again. Shared fairly
 * among more transfers than the link can finish in 30 s, every transfer
 * is too slow: every Pi fails, retries and fails again, and the rack
 * never boots.
 *
 * So: while what one running transfer gets would bring the biggest file
 * lately (a kernel's size at least) in with room to spare, every
 * transfer runs, as always. Below that, waves: tftpd serves the oldest
 * boots first (boots.h). A new request waits for its answer, and again
 * for its first block, its client waiting with nothing lost, until its
 * boot's turn; a file once begun runs to its end. As many run as fill
 * the link, fewer while one of the wave falls behind its deadline, and
 * never more than the link has room for with the biggest file each; a
 * new boot joins the wave only while every host sharing the link (a
 * switch port's, a NIC's queueing shares it per host: counted from what
 * one transfer gets, the Pis gone on to their roots over NBD included)
 * would still get enough for the biggest file, and a file begins only
 * if every file begun, and it, would still end in time with room at the
 * link's best shared out among them. A held file is let run before its
 * client would give up, if it still can finish at the share of the link
 * it gets beside the others (and none begins beside it while it runs);
 * one that cannot is left to its client's timeout rather than take the
 * link from the others. The rack boots in waves, at the speed of the
 * link.
 *
 * All it knows it measures from the transfers: the bytes each moved
 * since the last tick (its rate), what all moved in a cycle (the link's
 * best lately), the fastest transfer, the biggest file asked for or
 * seen beside a boot's first file. */
#ifndef TFTPD_SCHED_H
#define TFTPD_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "common/montime.h"

#define SCHED_TICK_NS		(100 * NS_PER_MS)
/* The Raspberry Pi bootloader's TFTP_FILE_TIMEOUT, by default: a file
 * not in this long after its request fails the boot. */
#define SCHED_FILE_TIMEOUT_NS	(30 * NS_PER_SEC)
/* What a held transfer keeps in hand when it is let run at the latest:
 * the tick, a lost block or two, a busy machine. */
#define SCHED_GUARD_NS		(3 * NS_PER_SEC)

/* Its lines (an overload begins, it is over) come as often as a remote
 * host makes the server busy: this many at once, then this many a
 * minute. */
#define SCHED_LOG_BURST		10
#define SCHED_LOG_PER_MIN	6

/* Running transfers whose rates make the typical one, at most. */
#define SCHED_SAMPLE		64

enum sched_flag {
	SCHED_HOLDABLE = 1,	/* may be held: its first block not sent yet,
				 * and a client without a timer of its own */
	SCHED_HELD = 2,		/* held now, or at its first block */
	SCHED_IMPATIENT = 4,	/* its client sent an ACK again while held */
	SCHED_URGENT = 8,	/* set by a tick, kept by the caller: it must
				 * run now to finish in time */
	SCHED_UNANSWERED = 16,	/* its OACK is out, not answered yet */
	SCHED_WAVE = 32,	/* its boot is in the wave: it had a
				 * SCHED_MEMBER transfer just now */
	SCHED_MEMBER = 64,	/* set by a tick: its boot is in the wave (the
				 * caller tells boots.h, for SCHED_WAVE) */
	SCHED_DOOMED = 128,	/* set by a tick: held, it cannot finish in
				 * its client's time; left to its timeout */
	SCHED_ASKED = 256,	/* held before its OACK: its client waits for
				 * an answer to its request (a Pi's probe, or
				 * the file it wants: it waits again at its
				 * first block) */
};

/* One transfer, as a tick sees it. A tick reorders the items. */
struct sched_item {
	void *owner;		/* the caller's: which transfer */
	uint64_t key;		/* its client's boot began: smaller first */
	uint64_t due_ns;	/* its client gives up on the file then */
	uint64_t size;		/* bytes of the file */
	uint64_t left;		/* bytes still to send */
	uint64_t moved;		/* bytes acknowledged since the last tick */
	/* Kept by the caller from one tick to the next: */
	uint64_t rate;		/* bytes a second it moves when it runs,
				 * smoothed; 0 before it is known */
	unsigned ticks;		/* ticks in a row it has run */
	unsigned flags;
	int run;		/* out: 1 it may send, 0 it is held */
};

struct sched {
	int overloaded;		/* waves: new files wait for older boots */
	int fresh;		/* the waves begin at the next tick */
	uint64_t calm_ns;	/* one was held last then, or little room */
	unsigned limit;		/* holdable transfers let run, urgent ones
				 * first */
	uint64_t best;		/* bytes a second the best cycle moved,
				 * lately */
	uint64_t last_ns;	/* the last tick */
	uint64_t cycle_ns;	/* this cycle began */
	uint64_t cycle_bytes;	/* ... and moved this much so far */
	unsigned cycle_ticks;	/* ticks in it */
	unsigned cycle_lagging;	/* ... in which one let run fell behind */
	int cycle_waiting;	/* one was held in it */
	unsigned cut;		/* the limit is this many below what fills
				 * the link: cycles one fell behind in */
	unsigned quiet;		/* cycles since, with none behind */
	uint64_t typical;	/* bytes a second a running transfer gets */
	uint64_t fastest;	/* ... the fastest one, this burst */
	uint64_t big;		/* the biggest file lately, bytes */
	uint64_t sample[SCHED_SAMPLE];	/* a tick's rates, for the median */
	/* After the last tick, for the log: */
	unsigned held;		/* transfers held */
	unsigned urgent;	/* ... and let run for their deadline */
};

void sched_init(struct sched *s, uint64_t now);

/* A boot began whose first file lies beside one of beside bytes (0: not
 * known): the biggest it may come to want. Known from the start, the
 * waves are as wide as the link can carry that file in, before any boot
 * asks for it. */
void sched_boot_seen(struct sched *s, uint64_t beside);

/* One tick at now: updates the n items' rate and ticks, decides their
 * run, and returns 1 when the overload began or ended at this tick
 * (s->overloaded says which), else 0. */
int sched_tick(struct sched *s, struct sched_item *it, size_t n,
    uint64_t now);

#endif
