/* The DHCP packet layer: parsing a BOOTP/DHCP packet, and building the
 * one kind of packet dhcpproxyd sends, a proxy reply. Pure: no sockets,
 * no files, no globals. */
#include <stdio.h>
#include <string.h>

#include "common/byteorder.h"
#include "dhcp.h"

/* Addresses stay in network order: copy the bytes as they are. */
static uint32_t
getaddr(const uint8_t *p)
{
	uint32_t a;

	memcpy(&a, p, sizeof(a));
	return a;
}

enum walk_mode { WALK_COUNT, WALK_COPY };

/* Walks the options in p[0..n). Counting adds each occurrence's length to
 * the code's total; copying appends the value at the code's cursor, so
 * both passes see the occurrences in the same order (RFC 3396). Option 52
 * counts only in the options field (overloaded), as RFC 2131 says. */
static enum dhcp_parse_result
walk(const uint8_t *p, size_t n, int overloaded, enum walk_mode mode,
    struct dhcp_msg *m, uint16_t *cursor)
{
	size_t i = 0;

	while (i < n) {
		uint8_t code = p[i], len;

		if (code == OPT_PAD) {
			i++;
			continue;
		}
		if (code == OPT_END)
			return DHCP_OK;
		if (i + 1 >= n)
			return DHCP_ERR_TRUNCATED;
		len = p[i + 1];
		if (len > n - i - 2)
			return DHCP_ERR_TRUNCATED;
		if (code == OPT_OVERLOAD && overloaded) {
			i += 2 + (size_t)len;
			continue;
		}
		if (mode == WALK_COUNT) {
			m->present[code] = 1;
			m->opt_len[code] += len;
			if (code == OPT_OVERLOAD && len > 0)
				m->overload = p[i + 2 + len - 1];
		} else {
			memcpy(m->optbuf + m->opt_off[code] + cursor[code],
			    p + i + 2, len);
			cursor[code] += len;
		}
		i += 2 + (size_t)len;
	}
	return DHCP_ERR_NO_END;
}

/* The option areas in the order RFC 3396 concatenates them. */
static enum dhcp_parse_result
walk_all(const uint8_t *buf, size_t len, enum walk_mode mode,
    struct dhcp_msg *m, uint16_t *cursor)
{
	enum dhcp_parse_result r;

	r = walk(buf + DHCP_OFF_OPTIONS, len - DHCP_OFF_OPTIONS, 0, mode, m,
	    cursor);
	if (r != DHCP_OK)
		return r;
	if (mode == WALK_COUNT && m->present[OPT_OVERLOAD]) {
		if (m->opt_len[OPT_OVERLOAD] != 1 || m->overload < 1 ||
		    m->overload > OVERLOAD_BOTH)
			return DHCP_ERR_OVERLOAD;
	}
	if (m->overload & OVERLOAD_FILE) {
		r = walk(buf + DHCP_OFF_FILE, DHCP_FILE_LEN, 1, mode, m,
		    cursor);
		if (r != DHCP_OK)
			return r;
	}
	if (m->overload & OVERLOAD_SNAME) {
		r = walk(buf + DHCP_OFF_SNAME, DHCP_SNAME_LEN, 1, mode, m,
		    cursor);
		if (r != DHCP_OK)
			return r;
	}
	return DHCP_OK;
}

static void
copy_text(char *dst, const uint8_t *src, size_t n)
{
	size_t l = strnlen((const char *)src, n);

	memcpy(dst, src, l);
	dst[l] = '\0';
}

enum dhcp_parse_result
dhcp_parse(const uint8_t *buf, size_t len, struct dhcp_msg *m)
{
	uint16_t cursor[256];
	enum dhcp_parse_result r;
	size_t off = 0;

	memset(m, 0, sizeof(*m));
	if (len < DHCP_MIN_LEN)
		return DHCP_ERR_SHORT;
	if (len > DHCP_MAX_LEN)
		return DHCP_ERR_LONG;
	m->op = buf[DHCP_OFF_OP];
	m->htype = buf[DHCP_OFF_HTYPE];
	m->hlen = buf[DHCP_OFF_HLEN];
	m->hops = buf[DHCP_OFF_HOPS];
	if (m->op != BOOTREQUEST && m->op != BOOTREPLY)
		return DHCP_ERR_OP;
	if (m->htype != HTYPE_ETHER)
		return DHCP_ERR_HTYPE;
	if (m->hlen != HLEN_ETHER)
		return DHCP_ERR_HLEN;
	if (get32(buf + DHCP_OFF_COOKIE) != DHCP_COOKIE)
		return DHCP_ERR_COOKIE;
	m->xid = get32(buf + DHCP_OFF_XID);
	m->secs = get16(buf + DHCP_OFF_SECS);
	m->flags = get16(buf + DHCP_OFF_FLAGS);
	m->ciaddr = getaddr(buf + DHCP_OFF_CIADDR);
	m->yiaddr = getaddr(buf + DHCP_OFF_YIADDR);
	m->siaddr = getaddr(buf + DHCP_OFF_SIADDR);
	m->giaddr = getaddr(buf + DHCP_OFF_GIADDR);
	memcpy(m->chaddr, buf + DHCP_OFF_CHADDR, DHCP_CHADDR_LEN);

	/* Two passes: total length of each code, then the values. */
	if ((r = walk_all(buf, len, WALK_COUNT, m, NULL)) != DHCP_OK)
		return r;
	for (int c = 0; c < 256; c++) {
		m->opt_off[c] = (uint16_t)off;
		off += m->opt_len[c];
	}
	/* The values come from at most len bytes of the packet. */
	if (off > sizeof(m->optbuf))
		return DHCP_ERR_LONG;
	memset(cursor, 0, sizeof(cursor));
	if ((r = walk_all(buf, len, WALK_COPY, m, cursor)) != DHCP_OK)
		return r;

	if (!(m->overload & OVERLOAD_SNAME))
		copy_text(m->sname, buf + DHCP_OFF_SNAME, DHCP_SNAME_LEN);
	if (!(m->overload & OVERLOAD_FILE))
		copy_text(m->file, buf + DHCP_OFF_FILE, DHCP_FILE_LEN);
	if (m->present[OPT_MSG_TYPE]) {
		if (m->opt_len[OPT_MSG_TYPE] != 1)
			return DHCP_ERR_MSG_TYPE;
		m->msg_type = m->optbuf[m->opt_off[OPT_MSG_TYPE]];
	}
	return DHCP_OK;
}

const char *
dhcp_parse_error(enum dhcp_parse_result r)
{
	switch (r) {
	case DHCP_OK:
		return "ok";
	case DHCP_ERR_SHORT:
		return "packet too short";
	case DHCP_ERR_LONG:
		return "packet too long";
	case DHCP_ERR_OP:
		return "bad op";
	case DHCP_ERR_HTYPE:
		return "hardware type is not Ethernet";
	case DHCP_ERR_HLEN:
		return "hardware address length is not 6";
	case DHCP_ERR_COOKIE:
		return "no DHCP magic cookie";
	case DHCP_ERR_TRUNCATED:
		return "option runs past the end of its field";
	case DHCP_ERR_NO_END:
		return "options not ended by option 255";
	case DHCP_ERR_OVERLOAD:
		return "bad option overload (52)";
	case DHCP_ERR_MSG_TYPE:
		return "bad message type option (53)";
	}
	return "unknown error";
}

const uint8_t *
dhcp_opt(const struct dhcp_msg *m, int code, size_t *len)
{
	if (code < 0 || code > 255 || !m->present[code])
		return NULL;
	*len = m->opt_len[code];
	return m->optbuf + m->opt_off[code];
}

int
dhcp_is_pxe(const struct dhcp_msg *m)
{
	static const char pxe[] = PXE_VENDOR_CLASS;
	const uint8_t *v;
	size_t len;

	if ((v = dhcp_opt(m, OPT_VENDOR_CLASS, &len)) == NULL)
		return 0;
	return len >= sizeof(pxe) - 1 && memcmp(v, pxe, sizeof(pxe) - 1) == 0;
}

int
dhcp_is_ipxe(const struct dhcp_msg *m)
{
	const uint8_t *v;
	size_t len, i;

	if ((v = dhcp_opt(m, OPT_USER_CLASS, &len)) == NULL)
		return 0;
	/* iPXE sends the bare string, not an RFC 3004 list. */
	if (len == 4 && memcmp(v, "iPXE", 4) == 0)
		return 1;
	for (i = 0; i < len; i += 1 + (size_t)v[i]) {
		if (v[i] > len - i - 1)
			return 0;
		if (v[i] == 4 && memcmp(v + i + 1, "iPXE", 4) == 0)
			return 1;
	}
	return 0;
}

int
dhcp_client_arch(const struct dhcp_msg *m)
{
	const uint8_t *v;
	size_t len;

	if ((v = dhcp_opt(m, OPT_CLIENT_ARCH, &len)) == NULL || len < 2 ||
	    len % 2 != 0)
		return -1;
	return get16(v);
}

const char *
dhcp_msg_type_name(int type)
{
	static const char *const names[] = { "BOOTP", "DISCOVER", "OFFER",
	    "REQUEST", "DECLINE", "ACK", "NAK", "RELEASE", "INFORM" };

	if (type >= 0 && type < (int)(sizeof(names) / sizeof(names[0])))
		return names[type];
	return "unknown";
}

/* Appends one option; keeps one byte for the end option. */
static int
put_opt(uint8_t *buf, size_t cap, size_t *pos, int code, const void *val,
    size_t len)
{
	if (len > 255 || *pos + 2 + len + 1 > cap)
		return -1;
	buf[(*pos)++] = (uint8_t)code;
	buf[(*pos)++] = (uint8_t)len;
	memcpy(buf + *pos, val, len);
	*pos += len;
	return 0;
}

/* Option 43 in PXE form: discovery control, a menu prompt with timeout 0,
 * one boot menu item, end. Byte for byte what dnsmasq's proxy mode sends
 * for --pxe-service=0,"Raspberry Pi Boot" (checked against dnsmasq 2.90 by a test),
 * the setup Pi netboot guides use, so the bootloader sees nothing new. */
static size_t
pxe_vendor(uint8_t *out, const char *menu, int has_bootfile)
{
	size_t n = 0, tl = strlen(menu);

	out[n++] = PXE_DISCOVERY_CONTROL;
	out[n++] = 1;
	/* Discovery over broadcast or multicast would find no boot server
	 * but us; with a boot file here, PXE firmware should just boot it. */
	out[n++] = PXE_DISABLE_BROADCAST | PXE_DISABLE_MULTICAST |
	    (has_bootfile ? PXE_USE_BOOTFILE : 0);
	out[n++] = PXE_MENU_PROMPT;
	out[n++] = 1 + sizeof(PXE_PROMPT_TEXT) - 1;
	out[n++] = 0;		/* timeout: no prompt, boot at once */
	memcpy(out + n, PXE_PROMPT_TEXT, sizeof(PXE_PROMPT_TEXT) - 1);
	n += sizeof(PXE_PROMPT_TEXT) - 1;
	out[n++] = PXE_BOOT_MENU;
	out[n++] = (uint8_t)(3 + tl);
	out[n++] = PXE_BOOT_TYPE >> 8;
	out[n++] = PXE_BOOT_TYPE & 0xff;
	out[n++] = (uint8_t)tl;
	memcpy(out + n, menu, tl);
	n += tl;
	out[n++] = PXE_END;
	return n;
}

size_t
dhcp_build_reply(const struct dhcp_msg *req, const struct dhcp_reply_params *p,
    uint8_t *buf, size_t cap)
{
	uint8_t vendor[255];
	const uint8_t *tftp = (const uint8_t *)&p->tftp_addr;
	const uint8_t *v;
	const char *menu = p->menu_text ? p->menu_text : PI_MENU_TEXT;
	size_t pos, len, blen = p->bootfile ? strlen(p->bootfile) : 0;
	char addr[16];
	uint32_t cookie = DHCP_COOKIE;

	if (cap < DHCP_MIN_REPLY_LEN || cap < DHCP_OFF_OPTIONS + 1)
		return 0;
	if (strlen(menu) > PXE_MENU_TEXT_MAX || blen >= DHCP_FILE_LEN)
		return 0;
	if (p->msg_type != DHCPOFFER && p->msg_type != DHCPACK)
		return 0;
	memset(buf, 0, cap);
	buf[DHCP_OFF_OP] = BOOTREPLY;
	buf[DHCP_OFF_HTYPE] = req->htype;
	buf[DHCP_OFF_HLEN] = req->hlen;
	buf[DHCP_OFF_XID] = (uint8_t)(req->xid >> 24);
	buf[DHCP_OFF_XID + 1] = (uint8_t)(req->xid >> 16);
	buf[DHCP_OFF_XID + 2] = (uint8_t)(req->xid >> 8);
	buf[DHCP_OFF_XID + 3] = (uint8_t)req->xid;
	buf[DHCP_OFF_FLAGS] = (uint8_t)(req->flags >> 8);
	buf[DHCP_OFF_FLAGS + 1] = (uint8_t)req->flags;
	memcpy(buf + DHCP_OFF_CIADDR, &req->ciaddr, 4);
	/* yiaddr stays 0.0.0.0: a proxy never offers an address. */
	memcpy(buf + DHCP_OFF_SIADDR, &p->tftp_addr, 4);
	memcpy(buf + DHCP_OFF_GIADDR, &req->giaddr, 4);
	memcpy(buf + DHCP_OFF_CHADDR, req->chaddr, DHCP_CHADDR_LEN);
	if (blen > 0)
		memcpy(buf + DHCP_OFF_FILE, p->bootfile, blen);
	buf[DHCP_OFF_COOKIE] = (uint8_t)(cookie >> 24);
	buf[DHCP_OFF_COOKIE + 1] = (uint8_t)(cookie >> 16);
	buf[DHCP_OFF_COOKIE + 2] = (uint8_t)(cookie >> 8);
	buf[DHCP_OFF_COOKIE + 3] = (uint8_t)cookie;
	pos = DHCP_OFF_OPTIONS;

	if (put_opt(buf, cap, &pos, OPT_MSG_TYPE, &p->msg_type, 1) == -1 ||
	    put_opt(buf, cap, &pos, OPT_SERVER_ID, &p->server_id, 4) == -1 ||
	    put_opt(buf, cap, &pos, OPT_VENDOR_CLASS, PXE_VENDOR_CLASS,
	    sizeof(PXE_VENDOR_CLASS) - 1) == -1)
		return 0;
	/* Option 97 is echoed only in the form RFC 4578 defines (type 0 and
	 * a 16-byte id), which is what a Pi and PXE firmware send. */
	if ((v = dhcp_opt(req, OPT_CLIENT_UUID, &len)) != NULL && len == 17 &&
	    v[0] == 0 && put_opt(buf, cap, &pos, OPT_CLIENT_UUID, v, len) == -1)
		return 0;
	len = pxe_vendor(vendor, menu, blen > 0);
	if (put_opt(buf, cap, &pos, OPT_VENDOR, vendor, len) == -1)
		return 0;
	if (p->send_opt66) {
		snprintf(addr, sizeof(addr), "%u.%u.%u.%u", tftp[0], tftp[1],
		    tftp[2], tftp[3]);
		if (put_opt(buf, cap, &pos, OPT_TFTP_SERVER, addr,
		    strlen(addr)) == -1)
			return 0;
	}
	if (blen > 0 &&
	    put_opt(buf, cap, &pos, OPT_BOOTFILE, p->bootfile, blen) == -1)
		return 0;
	buf[pos++] = OPT_END;
	return pos < DHCP_MIN_REPLY_LEN ? DHCP_MIN_REPLY_LEN : pos;
}

int
dhcp_is_proxy_reply(const struct dhcp_msg *m)
{
	return m->op == BOOTREPLY && m->yiaddr == 0 &&
	    (m->msg_type == DHCPOFFER || m->msg_type == DHCPACK) &&
	    !m->present[OPT_SUBNET_MASK] && !m->present[OPT_ROUTER] &&
	    !m->present[OPT_LEASE_TIME];
}
