/* layer: pure */
/* netascii (RFC 764 via RFC 1350), for a request in that mode: a source
 * wrapped so that it reads converted. */
#ifndef TFTPD_NETASCII_H
#define TFTPD_NETASCII_H

#include "tftpd/source.h"

/* Wraps a source so it reads as netascii (LF -> CR LF, CR -> CR NUL).
 * Takes ownership of inner, and closes it on failure. Reads are meant to
 * be sequential; a read at another offset rescans from the start. Its
 * size is unknown (the tsize option is not answered). SOURCE_OK, or
 * SOURCE_ERROR when there is no memory for it. */
enum source_status netascii_wrap(struct source *inner, struct source **out);

#endif
