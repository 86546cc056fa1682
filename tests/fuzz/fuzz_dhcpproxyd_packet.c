/* libFuzzer harness over dhcpproxyd's packet layer: every input is parsed;
 * an accepted request is answered with a reply built both ways (OFFER with
 * nothing optional, ACK with everything), and each reply must parse back
 * as a proxy reply: op BOOTREPLY, yiaddr 0, no option 1, 3 or 51. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dhcpproxyd/dhcp.h"

static void
check_reply(const struct dhcp_msg *req, const struct dhcp_reply_params *p,
    struct dhcp_msg *r)
{
	uint8_t out[DHCP_MAX_LEN];
	const uint8_t *v;
	size_t n, len;

	n = dhcp_build_reply(req, p, out, sizeof(out));
	if (n == 0 || n > sizeof(out))
		abort();
	if (dhcp_parse(out, n, r) != DHCP_OK || !dhcp_is_proxy_reply(r))
		abort();
	if (r->xid != req->xid || memcmp(r->chaddr, req->chaddr, 16) != 0 ||
	    r->msg_type != p->msg_type)
		abort();
	v = dhcp_opt(r, OPT_SERVER_ID, &len);
	if (v == NULL || len != 4 || memcmp(v, &p->server_id, 4) != 0)
		abort();
	if ((v = dhcp_opt(r, OPT_CLIENT_UUID, &len)) != NULL && len != 17)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dhcp_msg m, r;
	struct dhcp_reply_params p;

	if (dhcp_parse(data, size, &m) != DHCP_OK)
		return 0;
	(void)dhcp_is_pxe(&m);
	(void)dhcp_is_ipxe(&m);
	(void)dhcp_client_arch(&m);
	(void)dhcp_msg_type_name(m.msg_type);
	memset(&p, 0, sizeof(p));
	p.msg_type = DHCPOFFER;
	p.server_id = 0x0400a8c0;
	p.tftp_addr = 0x0400a8c0;
	check_reply(&m, &p, &r);
	p.msg_type = DHCPACK;
	p.send_opt66 = 1;
	p.menu_text = "Raspberry Pi Boot   ";
	p.bootfile = "ipxe.efi";
	check_reply(&m, &p, &r);
	return 0;
}
