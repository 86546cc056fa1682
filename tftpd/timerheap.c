#include <stdlib.h>

#include "tftpd/timerheap.h"

int
timerheap_init(struct timerheap *h, size_t cap)
{
	h->n = 0;
	h->cap = cap;
	h->v = reallocarray(NULL, cap ? cap : 1, sizeof(*h->v));
	return h->v == NULL ? -1 : 0;
}

void
timerheap_free(struct timerheap *h)
{
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}

void
timer_init(struct timer *t)
{
	t->due = 0;
	t->slot = TIMER_UNSET;
}

static int
earlier(const struct timer *a, const struct timer *b)
{
	return (int64_t)(a->due - b->due) < 0;
}

static void
put(struct timerheap *h, size_t i, struct timer *t)
{
	h->v[i] = t;
	t->slot = i;
}

/* Moves the timer at i up or down until the heap is ordered again. */
static void
sift(struct timerheap *h, size_t i)
{
	struct timer *t = h->v[i];
	size_t c;

	while (i > 0 && earlier(t, h->v[(i - 1) / 2])) {
		put(h, i, h->v[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	while ((c = 2 * i + 1) < h->n) {
		if (c + 1 < h->n && earlier(h->v[c + 1], h->v[c]))
			c++;
		if (!earlier(h->v[c], t))
			break;
		put(h, i, h->v[c]);
		i = c;
	}
	put(h, i, t);
}

int
timerheap_set(struct timerheap *h, struct timer *t, uint64_t due)
{
	t->due = due;
	if (t->slot == TIMER_UNSET) {
		if (h->n == h->cap)
			return -1;
		put(h, h->n++, t);
	}
	sift(h, t->slot);
	return 0;
}

void
timerheap_remove(struct timerheap *h, struct timer *t)
{
	size_t i = t->slot;

	if (i == TIMER_UNSET)
		return;
	t->slot = TIMER_UNSET;
	if (i == --h->n)
		return;
	/* The last timer fills the hole and finds its place from there. */
	put(h, i, h->v[h->n]);
	sift(h, i);
}

struct timer *
timerheap_first(const struct timerheap *h)
{
	return h->n > 0 ? h->v[0] : NULL;
}
