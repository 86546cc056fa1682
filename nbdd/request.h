/* layer: pure */
/* Transmission-phase requests and replies as bytes: a 28-byte request
 * parsed and checked against the export, replies built. No sockets, no
 * files. */
#ifndef NBDD_REQUEST_H
#define NBDD_REQUEST_H

#include <stddef.h>
#include <stdint.h>

struct nbd_request {
	uint16_t flags;
	uint16_t type;
	uint64_t handle;	/* "cookie": opaque, echoed back */
	uint64_t offset;
	uint32_t len;
};

/* What a request is checked against: fixed once transmission starts. */
struct req_export {
	uint64_t size;
	int read_only;
	int structured;		/* structured replies negotiated */
	int meta_allocation;	/* base:allocation selected */
};

/* Parses a request header: 0, or -1 when the magic is wrong (the stream
 * is then out of step and the client must be dropped). */
int req_parse(const uint8_t in[28], struct nbd_request *r);

/* How many payload bytes follow the header on the wire, whatever the
 * verdict of req_check: they must be read (or discarded) to stay in step. */
uint32_t req_payload_len(const struct nbd_request *r);

/* Checks flags, offsets and lengths: NBD_SUCCESS, or the NBD error to
 * answer with (EINVAL, EPERM, ENOSPC). Never allocates. */
uint32_t req_check(const struct nbd_request *r, const struct req_export *e);

/* Reply builders; each returns the bytes written. */
#define REQ_SIMPLE_SIZE		16
#define REQ_CHUNK_SIZE		20
#define REQ_READ_CHUNK_SIZE	28	/* chunk header + offset */
size_t req_simple_reply(uint8_t out[REQ_SIMPLE_SIZE], uint32_t error,
    uint64_t handle);
size_t req_chunk(uint8_t out[REQ_CHUNK_SIZE], uint16_t flags, uint16_t type,
    uint64_t handle, uint32_t len);
/* OFFSET_DATA chunk header (DONE set) for datalen bytes at offset. */
size_t req_read_chunk(uint8_t out[REQ_READ_CHUNK_SIZE], uint64_t handle,
    uint64_t offset, uint32_t datalen);
/* ERROR chunk (DONE set) with a message, truncated to fit cap. */
size_t req_error_chunk(uint8_t *out, size_t cap, uint64_t handle,
    uint32_t error, const char *msg);

/* BLOCK_STATUS: the chunk header and context id for n extents, then each
 * extent's 8 bytes. */
#define REQ_EXTENTS_HDR_SIZE	24
size_t req_extents_header(uint8_t out[REQ_EXTENTS_HDR_SIZE], uint64_t handle,
    uint32_t context_id, uint32_t nextents);
size_t req_extent(uint8_t out[8], uint32_t length, uint32_t flags);

/* The NBD error for a host errno from a failed file operation on request
 * r. doc/proto.md allows NBD_EOVERFLOW only for a READ with DF and
 * NBD_ENOTSUP only for a WRITE_ZEROES with FAST_ZERO; elsewhere those two
 * become EINVAL, and any errno without a meaning of its own EIO. */
uint32_t req_errno(const struct nbd_request *r, int host_errno);

/* Names for log lines. */
const char *req_cmd_name(uint16_t type);

#endif
