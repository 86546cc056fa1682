#include <string.h>

#include "tftpd/peerrtt.h"

static struct peerrtt_entry *
lookup(const struct peerrtt *t, const void *addr, size_t addr_len)
{
	for (unsigned i = 0; i < t->used; i++) {
		const struct peerrtt_entry *e = &t->e[i];

		if (e->addr_len == addr_len &&
		    memcmp(e->addr, addr, addr_len) == 0)
			return (struct peerrtt_entry *)e;
	}
	return NULL;
}

int
peerrtt_find(const struct peerrtt *t, const void *addr, size_t addr_len,
    uint64_t now, struct rto_estimate *est)
{
	const struct peerrtt_entry *e;

	if (addr_len == 0 || addr_len > PEERRTT_ADDR_MAX ||
	    (e = lookup(t, addr, addr_len)) == NULL)
		return 0;
	/* Unsigned: the age is right across the clock's wrap too. */
	if (now - e->stored_ns > PEERRTT_MAX_AGE_NS)
		return 0;
	*est = e->est;
	return 1;
}

void
peerrtt_store(struct peerrtt *t, const void *addr, size_t addr_len,
    const struct rto_estimate *est, uint64_t now)
{
	struct peerrtt_entry *e;

	if (addr_len == 0 || addr_len > PEERRTT_ADDR_MAX)
		return;
	if ((e = lookup(t, addr, addr_len)) == NULL) {
		if (t->used < PEERRTT_SLOTS)
			e = &t->e[t->used++];
		else {
			/* Oldest by age, not by value: right across the
			 * clock's wrap too. */
			e = &t->e[0];
			for (unsigned i = 1; i < t->used; i++)
				if (now - t->e[i].stored_ns >
				    now - e->stored_ns)
					e = &t->e[i];
		}
		memcpy(e->addr, addr, addr_len);
		e->addr_len = (uint8_t)addr_len;
	}
	e->est = *est;
	e->stored_ns = now;
}
