#include <sys/mman.h>
#include <errno.h>
#include <string.h>

#include "nbdd/paybuf.h"

int
paybufs_init(struct paybufs *pb, uint64_t total)
{
	int e;

	memset(pb, 0, sizeof(*pb));
	budget_init(&pb->budget, total);
	pb->spare_max = total / 4;
	if ((e = pthread_mutex_init(&pb->lock, NULL)) != 0) {
		errno = e;
		return -1;
	}
	if ((e = pthread_cond_init(&pb->turn, NULL)) != 0) {
		pthread_mutex_destroy(&pb->lock);
		errno = e;
		return -1;
	}
	return 0;
}

void
paybufs_destroy(struct paybufs *pb)
{
	for (size_t i = 0; i < pb->nspare; i++)
		munmap(pb->spare[i].p, pb->spare[i].size);
	pthread_cond_destroy(&pb->turn);
	pthread_mutex_destroy(&pb->lock);
}

/* Grants what the queue may have now and wakes the waiting. Locked. */
static void
grant(struct paybufs *pb)
{
	if (budget_grant(&pb->budget, &pb->queue) > 0)
		pthread_cond_broadcast(&pb->turn);
}

/* A kept buffer of exactly size, or NULL; when there is none, the kept
 * buffers that must go for a new one to fit the budget are moved to
 * drop (their count in *ndrop), to be unmapped outside the lock. Locked,
 * with the room for size granted. */
static void *
spare_or_room(struct paybufs *pb, size_t size, struct paybuf_spare *drop,
    size_t *ndrop)
{
	void *p;

	*ndrop = 0;
	for (size_t i = 0; i < pb->nspare; i++) {
		if (pb->spare[i].size != size)
			continue;
		p = pb->spare[i].p;
		pb->spare[i] = pb->spare[--pb->nspare];
		pb->spare_bytes -= size;
		return p;
	}
	while (pb->nspare > 0 &&
	    pb->budget.used + pb->spare_bytes > pb->budget.total) {
		drop[(*ndrop)++] = pb->spare[--pb->nspare];
		pb->spare_bytes -= drop[*ndrop - 1].size;
	}
	return NULL;
}

void *
paybuf_take(struct paybufs *pb, const struct netaddr *host, size_t len,
    int wait, size_t *size)
{
	struct budget_want want = { .host = *host };
	struct paybuf_spare drop[PAYBUF_SPARES_MAX];
	size_t ndrop;
	void *p;

	*size = (size_t)budget_buffer_size(len);
	want.bytes = *size;
	pthread_mutex_lock(&pb->lock);
	if (!budget_fits(&pb->budget, want.bytes)) {
		pthread_mutex_unlock(&pb->lock);
		errno = ENOMEM;
		return NULL;
	}
	/* In the queue, behind whoever asked first. */
	if (!wait && pb->queue != NULL) {
		pthread_mutex_unlock(&pb->lock);
		errno = EAGAIN;
		return NULL;
	}
	struct budget_want **tail = &pb->queue;
	while (*tail != NULL)
		tail = &(*tail)->next;
	*tail = &want;
	grant(pb);
	if (!want.granted && !wait) {
		for (tail = &pb->queue; *tail != &want; tail = &(*tail)->next)
			;
		*tail = want.next;
		pthread_mutex_unlock(&pb->lock);
		errno = EAGAIN;
		return NULL;
	}
	while (!want.granted)
		pthread_cond_wait(&pb->turn, &pb->lock);
	p = spare_or_room(pb, *size, drop, &ndrop);
	pthread_mutex_unlock(&pb->lock);
	for (size_t i = 0; i < ndrop; i++)
		munmap(drop[i].p, drop[i].size);
	if (p != NULL)
		return p;
	if ((p = mmap(NULL, *size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) != MAP_FAILED)
		return p;
	pthread_mutex_lock(&pb->lock);
	budget_release(&pb->budget, host, *size);
	grant(pb);
	pthread_mutex_unlock(&pb->lock);
	errno = ENOMEM;
	return NULL;
}

void
paybuf_give(struct paybufs *pb, const struct netaddr *host, void *buf,
    size_t size)
{
	int keep;

	pthread_mutex_lock(&pb->lock);
	budget_release(&pb->budget, host, size);
	keep = pb->nspare < PAYBUF_SPARES_MAX &&
	    pb->spare_bytes + size <= pb->spare_max;
	if (keep) {
		pb->spare[pb->nspare++] = (struct paybuf_spare){ buf, size };
		pb->spare_bytes += size;
	}
	grant(pb);
	pthread_mutex_unlock(&pb->lock);
	if (!keep)
		munmap(buf, size);
}
