#include <string.h>

#include "tftpd/boots.h"

int
boots_request(struct boots *t, const void *addr, size_t addr_len,
    uint64_t id, uint64_t now)
{
	struct boots_entry *e = NULL;
	unsigned i;

	if (addr_len == 0 || addr_len > BOOTS_ADDR_MAX)
		return -1;
	for (i = 0; i < t->used; i++)
		if (t->e[i].addr_len == addr_len &&
		    memcmp(t->e[i].addr, addr, addr_len) == 0) {
			e = &t->e[i];
			break;
		}
	if (e == NULL) {
		if (t->used < BOOTS_SLOTS)
			e = &t->e[t->used++];
		else {
			/* Silent longest by age, not by value: right
			 * across the clock's wrap too. */
			e = &t->e[0];
			for (i = 1; i < t->used; i++)
				if (now - t->e[i].last_ns > now - e->last_ns)
					e = &t->e[i];
		}
		memcpy(e->addr, addr, addr_len);
		e->addr_len = (uint8_t)addr_len;
		e->began_ns = now;
		e->ran_ns = 0;
	} else if (now - e->last_ns > BOOTS_GAP_NS)
		e->began_ns = now;
	e->last_ns = now;
	e->newest = id;
	return (int)(e - t->e);
}

uint64_t
boots_began(const struct boots *t, int slot, uint64_t id, uint64_t own_ns,
    uint64_t now)
{
	const struct boots_entry *e;

	if (slot < 0 || (unsigned)slot >= t->used)
		return own_ns;
	e = &t->e[slot];
	if (e->newest != id || now - e->began_ns > BOOTS_MAX_AGE_NS)
		return own_ns;
	return e->began_ns;
}

int
boots_begins(const struct boots *t, int slot, uint64_t now)
{
	return slot >= 0 && (unsigned)slot < t->used &&
	    t->e[slot].began_ns == now;
}

void
boots_ran(struct boots *t, int slot, uint64_t now)
{
	if (slot >= 0 && (unsigned)slot < t->used)
		t->e[slot].ran_ns = now;
}

int
boots_newest(const struct boots *t, int slot, uint64_t id)
{
	return slot >= 0 && (unsigned)slot < t->used &&
	    t->e[slot].newest == id;
}

int
boots_in_wave(const struct boots *t, int slot, uint64_t id, uint64_t now)
{
	return boots_newest(t, slot, id) && t->e[slot].ran_ns != 0 &&
	    now - t->e[slot].ran_ns < BOOTS_WAVE_GAP_NS;
}
