#include <string.h>

#include "nbdd/admission.h"
#include "nbdd/budget.h"

uint64_t
budget_default(uint64_t ram)
{
	uint64_t b = ram / 8;

	if (b < BUDGET_MIN)
		return BUDGET_MIN;
	return b > BUDGET_MAX ? BUDGET_MAX : b;
}

void
budget_init(struct budget *b, uint64_t total)
{
	memset(b, 0, sizeof(*b));
	b->total = total;
	b->host_max = total / 2;
}

uint64_t
budget_buffer_size(uint64_t len)
{
	uint64_t size = BUDGET_BUF_MIN;

	while (size < len && size <= UINT64_MAX / 2)
		size *= 2;
	return size < len ? len : size;
}

int
budget_fits(const struct budget *b, uint64_t bytes)
{
	return bytes <= b->host_max && bytes <= b->total;
}

static struct budget_hold *
holding(struct budget *b, const struct netaddr *host)
{
	for (size_t i = 0; i < b->nhold; i++)
		if (adm_same_host(&b->hold[i].host, host))
			return &b->hold[i];
	return NULL;
}

static int
is_large(uint64_t bytes)
{
	return bytes > BUDGET_KERNEL_MAX;
}

uint64_t
budget_large_max(const struct budget *b)
{
	return b->total - b->total / 4;
}

/* What the others keep from large payloads. */
static uint64_t
kept(const struct budget *b)
{
	return b->total - budget_large_max(b);
}

int
budget_grant(struct budget *b, struct budget_want **queue)
{
	struct budget_want **pp = queue, *w;
	struct budget_hold *h;
	int n = 0, large_waits = 0, fits;

	while ((w = *pp) != NULL) {
		h = holding(b, &w->host);
		if (h != NULL ? h->bytes + w->bytes > b->host_max :
		    w->bytes > b->host_max) {
			pp = &w->next;
			continue;
		}
		fits = b->used + w->bytes <= b->total &&
		    (h != NULL || b->nhold < BUDGET_HOSTS_MAX);
		if (is_large(w->bytes)) {
			if (large_waits || !fits || b->large_used + w->bytes >
			    budget_large_max(b)) {
				large_waits = 1;
				pp = &w->next;
				continue;
			}
		} else if (!fits || (large_waits && b->used - b->large_used +
		    w->bytes > kept(b)))
			break;
		if (h == NULL) {
			h = &b->hold[b->nhold++];
			h->host = w->host;
			h->bytes = 0;
		}
		h->bytes += w->bytes;
		b->used += w->bytes;
		if (is_large(w->bytes))
			b->large_used += w->bytes;
		*pp = w->next;
		w->next = NULL;
		w->granted = 1;
		n++;
	}
	return n;
}

void
budget_release(struct budget *b, const struct netaddr *host, uint64_t bytes)
{
	struct budget_hold *h = holding(b, host);

	if (h == NULL)
		return;
	h->bytes -= bytes < h->bytes ? bytes : h->bytes;
	b->used -= bytes < b->used ? bytes : b->used;
	if (is_large(bytes))
		b->large_used -= bytes < b->large_used ? bytes :
		    b->large_used;
	if (h->bytes == 0)
		*h = b->hold[--b->nhold];
}
