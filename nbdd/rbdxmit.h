/* layer: I/O */
/* The transmission phase over an image in Ceph written directly, with
 * many requests in flight at the cluster (rbdxmit.c). */
#ifndef NBDD_RBDXMIT_H
#define NBDD_RBDXMIT_H

#include "nbdd/conn.h"

/* As transmit(), for a connection holding c->rbd_claim. */
void rbd_transmit(struct conn *c);

#endif
