/* A connection's thread: the handshake (negotiate.c), the transmission
 * (transmit.c, or rbdxmit.c over Ceph), then what the handshake took of
 * the export let go of (hold.c). */
#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "nbdd/conn.h"
#include "nbdd/hold.h"
#include "nbdd/negotiate.h"
#include "nbdd/rbdxmit.h"
#include "nbdd/sockio.h"
#include "nbdd/tls.h"
#include "nbdd/transmit.h"
#include "nbdd/transport.h"

void
conn_serve(struct nbdd_ctx *ctx, int fd, const struct conn_start *st)
{
	struct conn c;

	memset(&c, 0, sizeof(c));
	c.ctx = ctx;
	c.fd = fd;
	tp_init(&c.tp, fd);
	c.ex.fd = -1;
	c.start = st;
	sock_peer(fd, c.host, sizeof(c.host), c.peer, sizeof(c.peer));
	if (sock_tune(fd) == -1)
		log_warn("%s: socket options: %s", c.peer, strerror(errno));
	log_debug("%s: connected", c.peer);
	if (negotiate(&c) == 0) {
		if (rbd_transmit_serves(&c))
			rbd_transmit(&c);
		else
			transmit(&c);
	}
	if (tp_is_tls(&c.tp)) {
		const struct tls_stats *st = tls_stats(c.tp.tls);

		log_debug("%s: TLS: %llu records sent in %llu sendmsg, %llu "
		    "recv, %llu pread, %llu bytes gathered, %llu key "
		    "updates", c.peer,
		    (unsigned long long)st->records_out,
		    (unsigned long long)st->sends,
		    (unsigned long long)st->recvs,
		    (unsigned long long)st->preads,
		    (unsigned long long)st->copied,
		    (unsigned long long)st->key_updates);
	}
	tp_close(&c.tp);
	hold_release(&c);
	log_debug("%s: disconnected", c.peer);
}
