/* layer: I/O */
/* The transmission phase over an image in Ceph, with many requests in
 * flight at the cluster (rbdxmit.c): the image written directly, or a
 * host's overlay over a snapshot there (a shared base). */
#ifndef NBDD_RBDXMIT_H
#define NBDD_RBDXMIT_H

#include "nbdd/conn.h"

/* As transmit(), for a connection holding c->rbd_claim, or c->ovl over a
 * base in Ceph (rbd_transmit_serves). */
int rbd_transmit_serves(const struct conn *c);
void rbd_transmit(struct conn *c);

#endif
