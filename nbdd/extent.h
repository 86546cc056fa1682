/* layer: pure */
/* One run of a BLOCK_STATUS reply, as the code that reads an image's
 * allocation (blockops.h, rbdplan.h) hands it to the reply's builder. */
#ifndef NBDD_EXTENT_H
#define NBDD_EXTENT_H

#include <stdint.h>

struct blk_extent {
	uint32_t len;
	uint32_t flags;		/* NBD_STATE_HOLE | NBD_STATE_ZERO */
};

#endif
