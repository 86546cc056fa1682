#include <errno.h>
#include <string.h>

#include "common/byteorder.h"
#include "nbdd/proto.h"
#include "nbdd/request.h"

int
req_parse(const uint8_t in[28], struct nbd_request *r)
{
	if (get32(in) != NBD_REQUEST_MAGIC)
		return -1;
	r->flags = get16(in + 4);
	r->type = get16(in + 6);
	r->handle = get64(in + 8);
	r->offset = get64(in + 16);
	r->len = get32(in + 24);
	return 0;
}

uint32_t
req_payload_len(const struct nbd_request *r)
{
	return r->type == NBD_CMD_WRITE ? r->len : 0;
}

/* Flags each command may carry. FUA is accepted on every write-like
 * command; DF only on READ, REQ_ONE only on BLOCK_STATUS. */
static uint16_t
allowed_flags(uint16_t type, const struct req_export *e)
{
	switch (type) {
	case NBD_CMD_READ:
		return e->structured ? NBD_CMD_FLAG_DF : 0;
	case NBD_CMD_WRITE:
	case NBD_CMD_TRIM:
		return NBD_CMD_FLAG_FUA;
	case NBD_CMD_WRITE_ZEROES:
		return NBD_CMD_FLAG_FUA | NBD_CMD_FLAG_NO_HOLE |
		    NBD_CMD_FLAG_FAST_ZERO;
	case NBD_CMD_BLOCK_STATUS:
		return NBD_CMD_FLAG_REQ_ONE;
	default:
		return 0;
	}
}

static int
is_write(uint16_t type)
{
	return type == NBD_CMD_WRITE || type == NBD_CMD_TRIM ||
	    type == NBD_CMD_WRITE_ZEROES;
}

uint32_t
req_check(const struct nbd_request *r, const struct req_export *e)
{
	switch (r->type) {
	case NBD_CMD_DISC:
		return NBD_SUCCESS;
	case NBD_CMD_FLUSH:
		if (r->flags != 0 || r->offset != 0 || r->len != 0)
			return NBD_EINVAL;
		return NBD_SUCCESS;
	case NBD_CMD_READ:
	case NBD_CMD_WRITE:
	case NBD_CMD_TRIM:
	case NBD_CMD_CACHE:
	case NBD_CMD_WRITE_ZEROES:
	case NBD_CMD_BLOCK_STATUS:
		break;
	default:
		return NBD_EINVAL;
	}
	if (r->flags & ~allowed_flags(r->type, e))
		return NBD_EINVAL;
	if (is_write(r->type) && e->read_only)
		return NBD_EPERM;
	if (r->type == NBD_CMD_BLOCK_STATUS && !e->meta_allocation)
		return NBD_EINVAL;
	if (r->len == 0)
		return NBD_EINVAL;
	/* Payload-carrying commands are bounded by the advertised maximum
	 * block size; TRIM, WRITE_ZEROES, CACHE and BLOCK_STATUS carry no
	 * payload and may cover more. */
	if ((r->type == NBD_CMD_READ || r->type == NBD_CMD_WRITE) &&
	    r->len > NBDD_MAX_PAYLOAD)
		return NBD_EINVAL;
	/* offset + len without overflow. proto.md: ENOSPC for writes past
	 * the end, EINVAL for everything else. */
	if (r->offset > e->size || r->len > e->size - r->offset)
		return (r->type == NBD_CMD_WRITE ||
		    r->type == NBD_CMD_WRITE_ZEROES) ? NBD_ENOSPC : NBD_EINVAL;
	return NBD_SUCCESS;
}

size_t
req_simple_reply(uint8_t out[REQ_SIMPLE_SIZE], uint32_t error,
    uint64_t handle)
{
	put32(out, NBD_SIMPLE_REPLY_MAGIC);
	put32(out + 4, error);
	put64(out + 8, handle);
	return REQ_SIMPLE_SIZE;
}

size_t
req_chunk(uint8_t out[REQ_CHUNK_SIZE], uint16_t flags, uint16_t type,
    uint64_t handle, uint32_t len)
{
	put32(out, NBD_STRUCTURED_REPLY_MAGIC);
	put16(out + 4, flags);
	put16(out + 6, type);
	put64(out + 8, handle);
	put32(out + 16, len);
	return REQ_CHUNK_SIZE;
}

size_t
req_read_chunk(uint8_t out[REQ_READ_CHUNK_SIZE], uint64_t handle,
    uint64_t offset, uint32_t datalen)
{
	req_chunk(out, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_OFFSET_DATA, handle,
	    8 + datalen);
	put64(out + 20, offset);
	return REQ_READ_CHUNK_SIZE;
}

size_t
req_error_chunk(uint8_t *out, size_t cap, uint64_t handle, uint32_t error,
    const char *msg)
{
	size_t mlen = msg ? strlen(msg) : 0;

	if (cap < REQ_CHUNK_SIZE + 6)
		return 0;
	if (mlen > cap - REQ_CHUNK_SIZE - 6)
		mlen = cap - REQ_CHUNK_SIZE - 6;
	if (mlen > NBDD_MAX_STRING)
		mlen = NBDD_MAX_STRING;
	req_chunk(out, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_ERROR, handle,
	    (uint32_t)(6 + mlen));
	put32(out + 20, error);
	put16(out + 24, (uint16_t)mlen);
	if (mlen)
		memcpy(out + 26, msg, mlen);
	return REQ_CHUNK_SIZE + 6 + mlen;
}

size_t
req_extents_header(uint8_t out[REQ_EXTENTS_HDR_SIZE], uint64_t handle,
    uint32_t context_id, uint32_t nextents)
{
	req_chunk(out, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_BLOCK_STATUS,
	    handle, 4 + 8 * nextents);
	put32(out + 20, context_id);
	return REQ_EXTENTS_HDR_SIZE;
}

size_t
req_extent(uint8_t out[8], uint32_t length, uint32_t flags)
{
	put32(out, length);
	put32(out + 4, flags);
	return 8;
}

uint32_t
req_errno(const struct nbd_request *r, int host_errno)
{
	switch (host_errno) {
	case 0:
		return NBD_SUCCESS;
	case EPERM:
	case EACCES:
	case EROFS:
		return NBD_EPERM;
	case ENOMEM:
		return NBD_ENOMEM;
	case EINVAL:
		return NBD_EINVAL;
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		return NBD_ENOSPC;
	case EOVERFLOW:
		return r->type == NBD_CMD_READ &&
		    (r->flags & NBD_CMD_FLAG_DF) ? NBD_EOVERFLOW : NBD_EINVAL;
	case EOPNOTSUPP:
		return r->type == NBD_CMD_WRITE_ZEROES &&
		    (r->flags & NBD_CMD_FLAG_FAST_ZERO) ? NBD_ENOTSUP :
		    NBD_EINVAL;
	case ESHUTDOWN:
		return NBD_ESHUTDOWN;
	default:
		return NBD_EIO;
	}
}

const char *
req_cmd_name(uint16_t type)
{
	switch (type) {
	case NBD_CMD_READ:		return "READ";
	case NBD_CMD_WRITE:		return "WRITE";
	case NBD_CMD_DISC:		return "DISC";
	case NBD_CMD_FLUSH:		return "FLUSH";
	case NBD_CMD_TRIM:		return "TRIM";
	case NBD_CMD_CACHE:		return "CACHE";
	case NBD_CMD_WRITE_ZEROES:	return "WRITE_ZEROES";
	case NBD_CMD_BLOCK_STATUS:	return "BLOCK_STATUS";
	default:			return "unknown";
	}
}
