#include <stdio.h>
#include <string.h>

#include "nbdd/proto.h"
#include "nbdd/refusal.h"

void
refusal_init(struct refusal *r, const char *host)
{
	int n;

	memset(r, 0, sizeof(*r));
	r->phase = REFUSAL_FLAGS;
	n = snprintf(r->msg, sizeof(r->msg), "host %s is not in the networks "
	    "this server allows (nbdd -A)", host);
	if (n < 0)
		n = 0;
	r->msglen = (size_t)n < sizeof(r->msg) ? (size_t)n :
	    sizeof(r->msg) - 1;
}

size_t
refusal_greeting(uint8_t out[HS_GREETING_SIZE])
{
	return hs_greeting(out);
}

int
refusal_over(const struct refusal *r)
{
	return r->phase == REFUSAL_OVER;
}

/* An option's header is in: the reply to it, or the end. */
static size_t
option(struct refusal *r, uint8_t out[REFUSAL_REPLY_MAX])
{
	struct hs_option o;

	r->have = 0;
	if (hs_parse_option(r->hdr, &o) == -1 ||
	    o.opt == NBD_OPT_EXPORT_NAME || o.opt == NBD_OPT_ABORT ||
	    o.len > NBDD_MAX_OPTION || r->answered == REFUSAL_OPTIONS_MAX) {
		r->phase = REFUSAL_OVER;
		return 0;
	}
	r->answered++;
	r->skip = o.len;
	r->phase = o.len > 0 ? REFUSAL_PAYLOAD : REFUSAL_HEADER;
	return hs_reply(out, REFUSAL_REPLY_MAX, o.opt, NBD_REP_ERR_POLICY,
	    r->msg, r->msglen);
}

size_t
refusal_feed(struct refusal *r, const uint8_t *in, size_t len,
    uint8_t out[REFUSAL_REPLY_MAX], size_t *outlen)
{
	size_t used = 0, n, want;
	uint32_t flags;

	*outlen = 0;
	while (used < len && r->phase != REFUSAL_OVER) {
		if (r->phase == REFUSAL_PAYLOAD) {
			n = len - used < r->skip ? len - used : r->skip;
			used += n;
			r->skip -= (uint32_t)n;
			if (r->skip == 0)
				r->phase = REFUSAL_HEADER;
			continue;
		}
		want = r->phase == REFUSAL_FLAGS ? 4 : HS_OPTION_HDR_SIZE;
		n = len - used < want - r->have ? len - used : want - r->have;
		memcpy(r->hdr + r->have, in + used, n);
		r->have += n;
		used += n;
		if (r->have < want)
			break;
		if (r->phase == REFUSAL_FLAGS) {
			r->have = 0;
			r->phase = hs_parse_client_flags(r->hdr, &flags) == 0 ?
			    REFUSAL_HEADER : REFUSAL_OVER;
			continue;
		}
		if ((*outlen = option(r, out)) > 0)
			break;
	}
	return used;
}
