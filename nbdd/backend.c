#include "nbdd/backend.h"
#include "nbdd/overlay.h"

/* --- an image written directly --------------------------------------- */

static int
img_read(void *s, void *buf, uint32_t len, uint64_t off)
{
	return blk_read(s, buf, len, off);
}

static int
img_write(void *s, const void *buf, uint32_t len, uint64_t off, int fua)
{
	return blk_write(s, buf, len, off, fua);
}

static int
img_flush(void *s)
{
	return blk_flush(s);
}

static int
img_trim(void *s, uint64_t off, uint32_t len, int fua)
{
	return blk_trim(s, off, len, fua);
}

static int
img_zero(void *s, uint64_t off, uint32_t len, int no_hole, int fast,
    int fua)
{
	return blk_zero(s, off, len, no_hole, fast, fua);
}

static int
img_cache(void *s, uint64_t off, uint32_t len)
{
	return blk_cache(s, off, len);
}

static int
img_extents(void *s, uint64_t off, uint32_t len, struct blk_extent *out,
    int max)
{
	return blk_extents(s, off, len, out, max);
}

static int
img_source(void *s, uint64_t off, uint32_t len, uint32_t *run)
{
	const struct export *ex = s;

	(void)off;
	*run = len;
	return ex->fd;
}

const struct backend backend_image = {
	img_read, img_write, img_flush, img_trim, img_zero, img_cache,
	img_extents, img_source,
};

/* --- a host's overlay over a shared base ------------------------------ */

static int
ovl_read_op(void *s, void *buf, uint32_t len, uint64_t off)
{
	return ovl_read(s, buf, len, off);
}

static int
ovl_write_op(void *s, const void *buf, uint32_t len, uint64_t off, int fua)
{
	return ovl_write(s, buf, len, off, fua);
}

static int
ovl_flush_op(void *s)
{
	return ovl_flush(s);
}

static int
ovl_trim_op(void *s, uint64_t off, uint32_t len, int fua)
{
	return ovl_trim(s, off, len, fua);
}

static int
ovl_zero_op(void *s, uint64_t off, uint32_t len, int no_hole, int fast,
    int fua)
{
	return ovl_zero(s, off, len, no_hole, fast, fua);
}

static int
ovl_cache_op(void *s, uint64_t off, uint32_t len)
{
	return ovl_cache(s, off, len);
}

static int
ovl_extents_op(void *s, uint64_t off, uint32_t len, struct blk_extent *out,
    int max)
{
	return ovl_extents(s, off, len, out, max);
}

static int
ovl_source_op(void *s, uint64_t off, uint32_t len, uint32_t *run)
{
	return ovl_source(s, off, len, run);
}

const struct backend backend_overlay = {
	ovl_read_op, ovl_write_op, ovl_flush_op, ovl_trim_op, ovl_zero_op,
	ovl_cache_op, ovl_extents_op, ovl_source_op,
};
