#include <sys/uio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "nbdd/blockops.h"
#include "nbdd/proto.h"

int
blk_read(const struct export *ex, void *buf, uint32_t len, uint64_t off)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		n = pread(ex->fd, p, len, (off_t)off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;	/* the image shrank under us */
			return -1;
		}
		p += n;
		len -= (uint32_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int
blk_write(const struct export *ex, const void *buf, uint32_t len,
    uint64_t off, int fua)
{
	struct iovec iov;
	ssize_t n;

	while (len > 0) {
		iov.iov_base = (void *)buf;
		iov.iov_len = len;
		n = pwritev2(ex->fd, &iov, 1, (off_t)off, fua ? RWF_DSYNC : 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			/* A kernel without RWF_DSYNC: write, then sync. */
			if (errno == EOPNOTSUPP && fua) {
				if (blk_write(ex, buf, len, off, 0) == -1)
					return -1;
				return blk_flush(ex);
			}
			return -1;
		}
		buf = (const uint8_t *)buf + n;
		len -= (uint32_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int
blk_flush(const struct export *ex)
{
	return fdatasync(ex->fd);
}

int
blk_trim(const struct export *ex, uint64_t off, uint32_t len, int fua)
{
	if (fallocate(ex->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
	    (off_t)off, len) == -1 && errno != EOPNOTSUPP && errno != ENOSYS)
		return -1;
	return fua ? blk_flush(ex) : 0;
}

/* Zeroes by writing, for file systems that cannot do better. */
static int
zero_by_writing(const struct export *ex, uint64_t off, uint32_t len)
{
	const uint32_t chunk = 1024 * 1024;
	uint8_t *z;
	int rc = 0, e = 0;

	if ((z = calloc(1, chunk)) == NULL)
		return -1;
	while (len > 0 && rc == 0) {
		uint32_t n = len < chunk ? len : chunk;
		if ((rc = blk_write(ex, z, n, off, 0)) == -1)
			e = errno;
		off += n;
		len -= n;
	}
	free(z);
	if (rc == -1)
		errno = e;
	return rc;
}

int
blk_zero(const struct export *ex, uint64_t off, uint32_t len, int no_hole,
    int fast, int fua)
{
	int zeroed = 0;

	/* A hole reads back as zeroes and frees the space. */
	if (!no_hole && fallocate(ex->fd, FALLOC_FL_PUNCH_HOLE |
	    FALLOC_FL_KEEP_SIZE, (off_t)off, len) == 0)
		zeroed = 1;
	if (!zeroed && fallocate(ex->fd, FALLOC_FL_ZERO_RANGE |
	    FALLOC_FL_KEEP_SIZE, (off_t)off, len) == 0)
		zeroed = 1;
	if (!zeroed) {
		/* Writing zeroes is what FAST_ZERO asks us not to do. */
		if (fast) {
			errno = EOPNOTSUPP;
			return -1;
		}
		if (zero_by_writing(ex, off, len) == -1)
			return -1;
	}
	return fua ? blk_flush(ex) : 0;
}

int
blk_cache(const struct export *ex, uint64_t off, uint32_t len)
{
	/* Advice only: a failure here loses nothing. */
	(void)posix_fadvise(ex->fd, (off_t)off, len, POSIX_FADV_WILLNEED);
	return 0;
}

int
blk_extents(const struct export *ex, uint64_t off, uint32_t len,
    struct blk_extent *out, int max)
{
	uint64_t pos = off, end = off + len;
	int n = 0;

	if (ex->blockdev) {
		out[0] = (struct blk_extent){ len, 0 };
		return 1;
	}
	while (pos < end && n < max) {
		off_t data = lseek(ex->fd, (off_t)pos, SEEK_DATA);
		uint64_t stop;
		uint32_t flags;

		if (data == -1 && errno == ENXIO) {
			/* Only a hole from here to the end of the file. */
			stop = end;
			flags = NBD_STATE_HOLE | NBD_STATE_ZERO;
		} else if (data == -1) {
			if (errno != EINVAL && errno != EOPNOTSUPP)
				return -1;
			stop = end;	/* no hole support: all data */
			flags = 0;
		} else if ((uint64_t)data > pos) {
			stop = (uint64_t)data;
			flags = NBD_STATE_HOLE | NBD_STATE_ZERO;
		} else {
			off_t hole = lseek(ex->fd, (off_t)pos, SEEK_HOLE);
			if (hole == -1)
				return -1;
			stop = (uint64_t)hole;
			flags = 0;
		}
		if (stop > end)
			stop = end;
		if (stop <= pos)
			stop = end;	/* the file changed; call it data */
		/* Merge with the previous extent of the same kind. */
		if (n > 0 && out[n - 1].flags == flags)
			out[n - 1].len += (uint32_t)(stop - pos);
		else
			out[n++] = (struct blk_extent){ (uint32_t)(stop - pos),
			    flags };
		pos = stop;
	}
	return n;
}
