/* layer: pure */
/* How long the names nbdd keeps may be: an export's (NAME of NAME.img)
 * and a claim holder's, which the handshake's decisions and refusals
 * carry without opening or claiming anything themselves. */
#ifndef NBDD_NAMEMAX_H
#define NBDD_NAMEMAX_H

#include <limits.h>

#define EXPORT_SUFFIX		".img"
#define EXPORT_NAME_MAX		(NAME_MAX - 4)	/* room for ".img" */
#define CLAIM_HOST_MAX		64

#endif
