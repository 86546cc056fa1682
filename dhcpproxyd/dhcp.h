/* layer: pure */
/* DHCP as dhcpproxyd speaks it: the constants (RFC 2131, 2132, 4578 and
 * the PXE 2.1 specification) that the daemon, its unit tests and its fuzz
 * harness share, and the pure packet layer (packet.c): bytes in, struct
 * out, and a proxy reply back into bytes. No sockets, no globals. */
#ifndef DHCPPROXYD_DHCP_H
#define DHCPPROXYD_DHCP_H

#include <stddef.h>
#include <stdint.h>

/* BOOTP header (RFC 2131 section 2): op .. file, then the magic cookie. */
#define DHCP_OFF_OP		0
#define DHCP_OFF_HTYPE		1
#define DHCP_OFF_HLEN		2
#define DHCP_OFF_HOPS		3
#define DHCP_OFF_XID		4
#define DHCP_OFF_SECS		8
#define DHCP_OFF_FLAGS		10
#define DHCP_OFF_CIADDR		12
#define DHCP_OFF_YIADDR		16
#define DHCP_OFF_SIADDR		20
#define DHCP_OFF_GIADDR		24
#define DHCP_OFF_CHADDR		28
#define DHCP_OFF_SNAME		44
#define DHCP_OFF_FILE		108
#define DHCP_OFF_COOKIE		236
#define DHCP_OFF_OPTIONS	240
#define DHCP_CHADDR_LEN		16
#define DHCP_SNAME_LEN		64
#define DHCP_FILE_LEN		128
#define DHCP_COOKIE		0x63825363u
/* The smallest packet we accept: header, cookie and at least an end
 * option. */
#define DHCP_MIN_LEN		(DHCP_OFF_OPTIONS + 1)
/* The largest we accept or build. Larger requests (option 57 lets a
 * client ask for more) are not something a netbooting firmware sends. */
#define DHCP_MAX_LEN		2048
/* RFC 951: BOOTP relays and old clients want at least 300 bytes. */
#define DHCP_MIN_REPLY_LEN	300

#define BOOTREQUEST		1
#define BOOTREPLY		2
#define HTYPE_ETHER		1
#define HLEN_ETHER		6
#define DHCP_FLAG_BROADCAST	0x8000

/* Ports (RFC 2131 section 4.1, PXE 2.1 boot server discovery). */
#define DHCP_SERVER_PORT	67
#define DHCP_CLIENT_PORT	68
#define PXE_DISCOVERY_PORT	4011

/* Option 53 message types (RFC 2132 section 9.6). */
#define DHCPDISCOVER		1
#define DHCPOFFER		2
#define DHCPREQUEST		3
#define DHCPDECLINE		4
#define DHCPACK			5
#define DHCPNAK			6
#define DHCPRELEASE		7
#define DHCPINFORM		8

/* Option codes. */
#define OPT_PAD			0
#define OPT_SUBNET_MASK		1
#define OPT_ROUTER		3
#define OPT_VENDOR		43	/* vendor specific: PXE sub-options */
#define OPT_LEASE_TIME		51
#define OPT_OVERLOAD		52
#define OPT_MSG_TYPE		53
#define OPT_SERVER_ID		54
#define OPT_PARAM_LIST		55
#define OPT_VENDOR_CLASS	60
#define OPT_TFTP_SERVER		66
#define OPT_BOOTFILE		67
#define OPT_USER_CLASS		77
#define OPT_CLIENT_ARCH		93	/* RFC 4578 */
#define OPT_CLIENT_NDI		94	/* RFC 4578 */
#define OPT_CLIENT_UUID		97	/* RFC 4578; a Pi's serial */
#define OPT_END			255

/* Option 52 values: which header fields carry more options. */
#define OVERLOAD_FILE		1
#define OVERLOAD_SNAME		2
#define OVERLOAD_BOTH		3

/* PXE 2.1 option 43 sub-options. */
#define PXE_DISCOVERY_CONTROL	6
#define PXE_BOOT_SERVERS	8
#define PXE_BOOT_MENU		9
#define PXE_MENU_PROMPT		10
#define PXE_END			255
/* Discovery control bits. */
#define PXE_DISABLE_BROADCAST	0x01
#define PXE_DISABLE_MULTICAST	0x02
#define PXE_USE_BOOTFILE	0x08	/* boot the file in this packet */
/* The boot server type of the one menu item: 0, "PXE bootstrap server". */
#define PXE_BOOT_TYPE		0
#define PXE_PROMPT_TEXT		"PXE"

#define PXE_VENDOR_CLASS	"PXEClient"
#define PI_MENU_TEXT		"Raspberry Pi Boot"
/* Option 43 is one option of at most 255 bytes: discovery control (3),
 * menu item header (5), menu prompt (2 + 1 + 3) and end (1) leave this
 * much for the menu text. */
#define PXE_MENU_TEXT_MAX	240

/* A parsed packet. Options are kept as RFC 3396 says: every occurrence of
 * a code, in the options field, then file, then sname (when option 52
 * overloads them), is concatenated into one value. So a duplicated
 * option 53 is two bytes long and rejected, and a duplicated option 97 is
 * not a valid Pi identifier. */
struct dhcp_msg {
	uint8_t op, htype, hlen, hops;
	uint32_t xid;			/* host order */
	uint16_t secs, flags;		/* host order */
	uint32_t ciaddr, yiaddr, siaddr, giaddr;	/* network order */
	uint8_t chaddr[DHCP_CHADDR_LEN];
	/* The header fields as text when option 52 does not claim them:
	 * NUL-terminated copies, cut at the first NUL. */
	char sname[DHCP_SNAME_LEN + 1];
	char file[DHCP_FILE_LEN + 1];
	uint8_t overload;		/* option 52, 0 when absent */
	uint8_t msg_type;		/* option 53, 0 when absent */
	uint8_t present[256];		/* 1 when the option occurred */
	uint16_t opt_off[256];		/* value offset in optbuf */
	uint16_t opt_len[256];		/* total length of the value */
	uint8_t optbuf[DHCP_MAX_LEN];
};

/* Why a packet was refused; dhcp_parse_error() names each. */
enum dhcp_parse_result {
	DHCP_OK = 0,
	DHCP_ERR_SHORT,		/* shorter than header, cookie and end */
	DHCP_ERR_LONG,		/* longer than DHCP_MAX_LEN */
	DHCP_ERR_OP,		/* op is neither request nor reply */
	DHCP_ERR_HTYPE,		/* not Ethernet */
	DHCP_ERR_HLEN,		/* not a 6-byte MAC */
	DHCP_ERR_COOKIE,	/* no DHCP magic cookie: plain BOOTP */
	DHCP_ERR_TRUNCATED,	/* an option runs past the end of its field */
	DHCP_ERR_NO_END,	/* a field's options are not ended by 255 */
	DHCP_ERR_OVERLOAD,	/* option 52 is not one byte of 1, 2 or 3 */
	DHCP_ERR_MSG_TYPE,	/* option 53 is not one byte */
};

/* Parses len bytes. Returns DHCP_OK and fills *m, or the reason. */
enum dhcp_parse_result dhcp_parse(const uint8_t *buf, size_t len,
    struct dhcp_msg *m);
const char *dhcp_parse_error(enum dhcp_parse_result r);

/* An option's value: its length in *len and a pointer into m, or NULL when
 * the option did not occur. */
const uint8_t *dhcp_opt(const struct dhcp_msg *m, int code, size_t *len);

/* Option 60 begins "PXEClient". */
int dhcp_is_pxe(const struct dhcp_msg *m);
/* Option 77 names iPXE: either the plain string iPXE sends, or an
 * RFC 3004 list holding an "iPXE" item. */
int dhcp_is_ipxe(const struct dhcp_msg *m);
/* The first architecture of option 93, or -1 when absent or malformed. */
int dhcp_client_arch(const struct dhcp_msg *m);
const char *dhcp_msg_type_name(int type);

/* What goes into a proxy reply besides what the request dictates. */
struct dhcp_reply_params {
	uint8_t msg_type;	/* DHCPOFFER or DHCPACK */
	uint32_t server_id;	/* option 54, network order */
	uint32_t tftp_addr;	/* siaddr, network order */
	const char *menu_text;	/* option 43 boot menu item */
	int send_opt66;		/* option 66: tftp_addr as text */
	const char *bootfile;	/* file field and option 67, or NULL */
};

/* Builds the proxy reply to req into buf (cap bytes, at least
 * DHCP_MIN_REPLY_LEN). It never carries an address: yiaddr is 0 and there
 * is no option 1, 3 or 51. Returns the length, or 0 when the parameters
 * do not fit (menu text or boot file too long, buffer too small). */
size_t dhcp_build_reply(const struct dhcp_msg *req,
    const struct dhcp_reply_params *p, uint8_t *buf, size_t cap);

/* Whether a parsed packet is a reply dhcpproxyd may send: op BOOTREPLY,
 * yiaddr 0, type OFFER or ACK, no option 1, 3 or 51. The fuzz harness
 * and the tests check every built reply with it. */
int dhcp_is_proxy_reply(const struct dhcp_msg *m);

#endif
