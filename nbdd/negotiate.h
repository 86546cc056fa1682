/* layer: I/O */
/* The handshake driver (negotiate.c): reads options, carries out what
 * options.c decides, sends the replies it builds. */
#ifndef NBDD_NEGOTIATE_H
#define NBDD_NEGOTIATE_H

#include "nbdd/conn.h"

/* The handshake: 0 to go on to transmission (c->ex open and claimed, or
 * c->ovl held for a shared base; c->caps set), -1 when the client left or
 * was refused (logged). */
int negotiate(struct conn *c);

#endif
