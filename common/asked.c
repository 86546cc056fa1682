#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asked.h"

static int
all_hex(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)p[i]) || isupper((unsigned char)p[i]))
			return 0;
	return 1;
}

static int
all_digits(const char *p, size_t len)
{
	size_t i = 0;

	while (i < len && p[i] == ' ')
		i++;
	if (i == len)
		return 0;
	for (; i < len; i++)
		if (!isdigit((unsigned char)p[i]))
			return 0;
	return 1;
}

int
asked_parse_line(const char *line, size_t len, struct asked_entry *out)
{
	char num[16];
	const char *p = line;

	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len != ASKED_LINE_LEN - 1)
		return -1;
	if (p[SERIAL_LEN] != ' ' || p[SERIAL_LEN + 1 + MAC_NAME_LEN] != ' ' ||
	    p[SERIAL_LEN + 1 + MAC_NAME_LEN + 1 + 12] != ' ')
		return -1;
	memset(out, 0, sizeof(*out));
	if (strncmp(p, "--------", SERIAL_LEN) != 0) {
		if (!all_hex(p, SERIAL_LEN))
			return -1;
		memcpy(out->serial, p, SERIAL_LEN);
	}
	p += SERIAL_LEN + 1;
	if (!piid_names_machine(p, MAC_NAME_LEN) || !all_hex(p, 2))
		return -1;
	for (size_t i = 0; i < MAC_NAME_LEN; i++)
		if (isupper((unsigned char)p[i]))
			return -1;
	memcpy(out->mac, p, MAC_NAME_LEN);
	p += MAC_NAME_LEN + 1;
	if (!all_digits(p, 12))
		return -1;
	memcpy(num, p, 12);
	num[12] = '\0';
	out->last = strtoll(num, NULL, 10);
	p += 13;
	if (!all_digits(p, 10))
		return -1;
	memcpy(num, p, 10);
	num[10] = '\0';
	if (strtoull(num, NULL, 10) > UINT32_MAX)
		return -1;
	out->count = (uint32_t)strtoul(num, NULL, 10);
	out->used = 1;
	return 0;
}

void
asked_load(struct asked_table *t, const char *buf, size_t len)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < ASKED_SLOTS; i++) {
		size_t off = i * ASKED_LINE_LEN;

		if (off + ASKED_LINE_LEN > len)
			break;
		if (asked_parse_line(buf + off, ASKED_LINE_LEN,
		    &t->slot[i]) == -1)
			memset(&t->slot[i], 0, sizeof(t->slot[i]));
	}
}

void
asked_format(const struct asked_entry *e, char *line)
{
	char buf[ASKED_LINE_LEN + 1];
	int64_t last = e->last < 0 ? 0 : e->last > 999999999999LL ?
	    999999999999LL : e->last;

	snprintf(buf, sizeof(buf), "%-8s %-17s %12lld %10u\n",
	    e->serial[0] ? e->serial : "--------", e->mac, (long long)last,
	    e->count);
	memcpy(line, buf, ASKED_LINE_LEN);
}

size_t
asked_note(struct asked_table *t, const char *serial,
    const char mac[MAC_NAME_LEN + 1], int64_t now, char *line)
{
	size_t i, pick = ASKED_SLOTS, oldest = 0;
	struct asked_entry *e;

	for (i = 0; i < ASKED_SLOTS; i++)
		if (t->slot[i].used && strcmp(t->slot[i].mac, mac) == 0) {
			pick = i;
			break;
		}
	if (pick == ASKED_SLOTS) {
		for (i = 0; i < ASKED_SLOTS; i++) {
			if (!t->slot[i].used) {
				pick = i;
				break;
			}
			if (t->slot[i].last < t->slot[oldest].last)
				oldest = i;
		}
		if (pick == ASKED_SLOTS)
			pick = oldest;
		memset(&t->slot[pick], 0, sizeof(t->slot[pick]));
	}
	e = &t->slot[pick];
	e->used = 1;
	strlcpy(e->mac, mac, sizeof(e->mac));
	/* A machine that once sent its serial keeps it in the record. */
	if (serial != NULL && serial[0] != '\0')
		strlcpy(e->serial, serial, sizeof(e->serial));
	e->last = now;
	if (e->count < UINT32_MAX)
		e->count++;
	asked_format(e, line);
	return pick;
}
