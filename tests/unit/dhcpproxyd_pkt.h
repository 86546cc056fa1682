/* Building request packets byte by byte for the dhcpproxyd unit tests. */
#ifndef TESTS_DHCPPROXYD_PKT_H
#define TESTS_DHCPPROXYD_PKT_H

#include <stdint.h>
#include <string.h>

#include "dhcpproxyd/dhcp.h"

struct pkt {
	uint8_t b[DHCP_MAX_LEN + 64];
	size_t n;
};

static const uint8_t test_mac[6] = { 0xdc, 0xa6, 0x32, 0x01, 0x36, 0xc2 };

/* Header and cookie of a request from test_mac; options start empty. */
static inline void
pkt_init(struct pkt *p, const uint8_t mac[6])
{
	memset(p, 0, sizeof(*p));
	p->b[DHCP_OFF_OP] = BOOTREQUEST;
	p->b[DHCP_OFF_HTYPE] = HTYPE_ETHER;
	p->b[DHCP_OFF_HLEN] = HLEN_ETHER;
	p->b[DHCP_OFF_XID] = 0x12;
	p->b[DHCP_OFF_XID + 1] = 0x34;
	p->b[DHCP_OFF_XID + 2] = 0x56;
	p->b[DHCP_OFF_XID + 3] = 0x78;
	p->b[DHCP_OFF_FLAGS] = 0x80;
	memcpy(p->b + DHCP_OFF_CHADDR, mac, 6);
	p->b[DHCP_OFF_COOKIE] = 0x63;
	p->b[DHCP_OFF_COOKIE + 1] = 0x82;
	p->b[DHCP_OFF_COOKIE + 2] = 0x53;
	p->b[DHCP_OFF_COOKIE + 3] = 0x63;
	p->n = DHCP_OFF_OPTIONS;
}

static inline void
pkt_opt(struct pkt *p, int code, const void *v, size_t len)
{
	p->b[p->n++] = (uint8_t)code;
	p->b[p->n++] = (uint8_t)len;
	memcpy(p->b + p->n, v, len);
	p->n += len;
}

static inline void
pkt_type(struct pkt *p, uint8_t type)
{
	pkt_opt(p, OPT_MSG_TYPE, &type, 1);
}

static inline void
pkt_end(struct pkt *p)
{
	p->b[p->n++] = OPT_END;
}

/* Option 97 of a Pi: new form (fourcc, revision, MAC low bytes, serial)
 * or old (serial four times), little-endian as pi-netboot.md says. */
static inline void
pkt_opt97(struct pkt *p, int old, uint32_t serial)
{
	uint8_t v[17] = { 0 };

	for (int i = 0; i < 4; i++) {
		uint8_t *f = v + 1 + 4 * i;

		if (!old && i == 0)
			memcpy(f, "RPi4", 4);
		else if (!old && i == 1)
			memcpy(f, "\x11\x31\xc0\x00", 4);
		else if (!old && i == 2)
			memcpy(f, test_mac + 2, 4);
		else {
			f[0] = (uint8_t)serial;
			f[1] = (uint8_t)(serial >> 8);
			f[2] = (uint8_t)(serial >> 16);
			f[3] = (uint8_t)(serial >> 24);
		}
	}
	pkt_opt(p, OPT_CLIENT_UUID, v, sizeof(v));
}

/* A Pi's DISCOVER as pi-netboot.md describes it. */
static inline void
pkt_pi_discover(struct pkt *p, const uint8_t mac[6], int old, uint32_t serial)
{
	static const char class[] = "PXEClient:Arch:00000:UNDI:002001";
	static const uint8_t arch[2] = { 0, 0 }, ndi[3] = { 1, 2, 1 };
	static const uint8_t params[] = { 1, 3, 43, 60, 66, 67, 128, 129,
	    130, 131, 132, 133, 134, 135 };

	pkt_init(p, mac);
	pkt_type(p, DHCPDISCOVER);
	pkt_opt(p, OPT_VENDOR_CLASS, class, sizeof(class) - 1);
	pkt_opt(p, OPT_CLIENT_ARCH, arch, 2);
	pkt_opt(p, OPT_CLIENT_NDI, ndi, 3);
	pkt_opt97(p, old, serial);
	pkt_opt(p, OPT_PARAM_LIST, params, sizeof(params));
	pkt_end(p);
}

#endif
