/* layer: pure */
/* The transfers' retransmission deadlines in a binary min-heap, so the
 * event loop learns the earliest one at once and moving one deadline
 * costs O(log n) whatever the number of transfers. A timer is embedded
 * in what it times (a transfer); the heap only points at it. Times as
 * in monotime.h. Pure: no clock, no I/O. */
#ifndef TFTPD_TIMERHEAP_H
#define TFTPD_TIMERHEAP_H

#include <stddef.h>
#include <stdint.h>

#define TIMER_UNSET	((size_t)-1)

struct timer {
	uint64_t due;
	size_t slot;		/* index in the heap, or TIMER_UNSET */
};

struct timerheap {
	struct timer **v;
	size_t n, cap;
};

/* Room for cap timers at once. Returns 0, or -1 (errno set). */
int timerheap_init(struct timerheap *h, size_t cap);
void timerheap_free(struct timerheap *h);

/* A timer not in any heap yet. */
void timer_init(struct timer *t);

/* Sets t to fire at due: adds it, or moves it if it is in the heap.
 * Returns 0, or -1 when the heap is full (t is then not in it). */
int timerheap_set(struct timerheap *h, struct timer *t, uint64_t due);

/* Takes t out of the heap; nothing if it is not in it. */
void timerheap_remove(struct timerheap *h, struct timer *t);

/* The timer due first, or NULL when the heap is empty. */
struct timer *timerheap_first(const struct timerheap *h);

#endif
