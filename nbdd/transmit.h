/* layer: I/O */
/* The transmission phase over an image file or device, or a host's
 * overlay over one (transmit.c). */
#ifndef NBDD_TRANSMIT_H
#define NBDD_TRANSMIT_H

#include "nbdd/conn.h"

/* Returns when the client disconnects, with c->disc set when it said
 * so. */
void transmit(struct conn *c);

#endif
