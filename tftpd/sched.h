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
 * transfer runs, as always. Below that, waves of boots, the oldest boots
 * first (boots.h). The wave holds as many boots as the link has room
 * for with the biggest file each in its client's time, and a boot in
 * the wave is never held: its files follow each other at once, a file
 * once begun runs to its end. Another boot joins the wave when it has a
 * place, when every host sharing the link would still get enough for
 * the biggest file (a switch port's, a NIC's queueing shares it per
 * host), when what one transfer gets now still brings that file in
 * (the Pis gone on to their roots over NBD show there), when its own
 * file would still come in time, and no sooner after the last to join
 * than the link takes to move the biggest file: the wave's boots then
 * come to their big files one after the other, not all at once.
 *
 * A boot outside the wave is parked: each of its requests waits for its
 * answer (until its boot could join: it joins at the file's first
 * block), and again at its first block, its client waiting with nothing
 * lost, until the latest that still leaves its client time; a small
 * file is let run then, and the boot waits again at its next one. A Pi
 * asks for a dozen small files before its kernel: parked at each, it
 * waits minutes without failing. A big file of a boot outside the wave
 * waits for the boot to join (before the boots at their small files,
 * which can wait); if it cannot before its client's timeout, it is left
 * to it (the Pi starts again, keeping its place). Let run beside the
 * wave instead, the boots parked together would come to their kernels
 * and initramfs together, more than the link can carry in their time,
 * and fail together. The rack boots in waves, at the speed of the link.
 *
 * All it knows it measures from the transfers, at ticks SCHED_TICK_NS
 * apart: the bytes each moved (its rate), what all moved in a cycle
 * (the link's best lately), the biggest file asked for or seen beside a
 * boot's first file. */
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
				 * run now, its boot parked outside the wave
				 * (or its client has a timer of its own) */
	SCHED_UNANSWERED = 16,	/* its OACK is out, not answered yet */
	SCHED_WAVE = 32,	/* its boot is in the wave: it had a
				 * SCHED_MEMBER transfer just now */
	SCHED_MEMBER = 64,	/* set by a tick: its boot is in the wave (the
				 * caller tells boots.h, for SCHED_WAVE) */
	SCHED_DOOMED = 128,	/* set by a tick: held, a big file of a boot
				 * outside the wave; left to its client's
				 * timeout unless the boot joins the wave */
	SCHED_ASKED = 256,	/* held before its OACK: its client waits for
				 * an answer to its request (a Pi's probe, or
				 * the file it wants: it waits again at its
				 * first block) */
	SCHED_SUPERSEDED = 512,	/* its client asked for another file since:
				 * no Pi does; a host that opens many at
				 * once (boots.h) */
};

/* One transfer, as a tick sees it. A tick reorders the items. */
struct sched_item {
	void *owner;		/* the caller's: which transfer */
	uint64_t key;		/* its client's boot began: smaller first */
	uint64_t due_ns;	/* its client gives up on the file then */
	uint64_t size;		/* bytes of the file */
	uint64_t left;		/* bytes still to send */
	uint64_t moved;		/* bytes acknowledged between the last two
				 * measuring ticks (sched_measures), the
				 * one at now included if it measures */
	/* Kept by the caller from one tick to the next: */
	uint64_t rate;		/* bytes a second it moves when it runs,
				 * smoothed; 0 before it is known */
	unsigned ticks;		/* ticks in a row it has run */
	unsigned flags;
	int run;		/* out: 1 it may send, 0 it is held */
};

struct sched {
	int overloaded;		/* waves: new boots wait for older ones */
	uint64_t calm_ns;	/* one was held last then, or little room */
	unsigned limit;		/* boots in the wave, at most */
	int joined;		/* a boot joined the wave, these waves */
	uint64_t joined_ns;	/* ... the last, then */
	uint64_t best;		/* bytes a second the best cycle moved,
				 * lately */
	uint64_t last_ns;	/* the last tick that measured */
	uint64_t cycle_ns;	/* this cycle began */
	uint64_t cycle_bytes;	/* ... and moved this much so far */
	unsigned cycle_ticks;	/* ticks in it */
	unsigned cycle_crowded;	/* ... in which a running transfer got too
				 * little for the biggest file */
	uint64_t typical;	/* bytes a second a running transfer gets */
	uint64_t flow;		/* ... all of them, at the last tick */
	uint64_t big;		/* the biggest file lately, bytes */
	uint64_t sample[SCHED_SAMPLE];	/* a tick's rates, for the median */
	/* After the last tick, for the log: */
	unsigned held;		/* transfers held */
	unsigned urgent;	/* ... and let run at their latest */
};

void sched_init(struct sched *s, uint64_t now);

/* A boot began whose first file lies beside one of beside bytes (0: not
 * known): the biggest it may come to want. Known from the start, the
 * waves are as wide as the link can carry that file in, before any boot
 * asks for it. */
void sched_boot_seen(struct sched *s, uint64_t beside);

/* Whether a tick at now measures: SCHED_TICK_NS or more after the last
 * that did. The caller may ask a tick sooner, to decide at once for a
 * transfer just held; such a tick only decides, from what the last one
 * that measured saw. Measured over a few milliseconds, a lock-step
 * transfer's rate is a block or none (one looks faster than the link,
 * most look idle), and a link that looks idle lets every file begin. */
int sched_measures(const struct sched *s, uint64_t now);

/* One tick at now: updates the n items' rate and ticks when it measures,
 * decides their run, and returns 1 when the overload began or ended at
 * this tick (s->overloaded says which), else 0. */
int sched_tick(struct sched *s, struct sched_item *it, size_t n,
    uint64_t now);

#endif
