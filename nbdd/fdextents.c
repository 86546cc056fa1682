#include <errno.h>
#include <unistd.h>

#include "nbdd/fdextents.h"
#include "nbdd/proto.h"

#define HOLE	(NBD_STATE_HOLE | NBD_STATE_ZERO)

/* The kind of the bytes at pos and where that kind ends (may be past
 * end); 0, or -1 with errno. */
static int
kind_at(int fd, uint64_t pos, uint64_t end, uint64_t *stop, uint32_t *flags)
{
	off_t data = lseek(fd, (off_t)pos, SEEK_DATA), hole;

	if (data == -1 && errno == ENXIO) {
		/* Only a hole from here to the end of the file. */
		*stop = end;
		*flags = HOLE;
	} else if (data == -1) {
		if (errno != EINVAL && errno != EOPNOTSUPP)
			return -1;
		*stop = end;		/* no hole support: all data */
		*flags = 0;
	} else if ((uint64_t)data > pos) {
		*stop = (uint64_t)data;
		*flags = HOLE;
	} else {
		if ((hole = lseek(fd, (off_t)pos, SEEK_HOLE)) == -1)
			return -1;
		*stop = (uint64_t)hole;
		*flags = 0;
	}
	if (*stop <= pos)
		*stop = end;		/* the file changed: call it data */
	return 0;
}

int
fd_extents(int fd, int all_data, uint64_t off, uint64_t len,
    struct bm_extent *out, int max)
{
	uint64_t pos = off, end = off + len, stop;
	uint32_t flags;
	int n = 0;

	if (all_data) {
		if (len == 0 || max < 1)
			return 0;
		out[0] = (struct bm_extent){ len, 0 };
		return 1;
	}
	while (pos < end) {
		if (kind_at(fd, pos, end, &stop, &flags) == -1)
			return -1;
		if (stop > end)
			stop = end;
		if (bm_extent_add(out, &n, max, stop - pos, flags) == -1)
			break;
		pos = stop;
	}
	return n;
}

int
fd_hole_bytes(int fd, uint64_t off, uint64_t len, uint64_t *holes)
{
	uint64_t pos = off, end = off + len, stop;
	uint32_t flags;

	*holes = 0;
	while (pos < end) {
		if (kind_at(fd, pos, end, &stop, &flags) == -1)
			return -1;
		if (stop > end)
			stop = end;
		if (flags != 0)
			*holes += stop - pos;
		pos = stop;
	}
	return 0;
}
