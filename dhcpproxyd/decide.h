/* layer: pure */
/* The decision layer: whether a parsed request gets a proxy reply, what
 * the reply carries, how often one client may be answered, and at what
 * level each decision is logged. Pure: no sockets, no files; what the
 * boot directory's entries are is asked through the config's callback. */
#ifndef DHCPPROXYD_DECIDE_H
#define DHCPPROXYD_DECIDE_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "common/bootname.h"
#include "common/loglevel.h"
#include "common/piid.h"
#include "common/ratelimit.h"
#include "dhcp.h"

/* Clients remembered for rate limiting and log-once. Bounded: when full,
 * the client seen longest ago is forgotten. */
#define DECIDE_CLIENTS		256
/* Each client may be answered RATE_BURST times at once, then RATE_PER_SEC
 * times a second: a Pi retries every second or so, a flood gets little. */
#define RATE_BURST		4
#define RATE_PER_SEC		2
/* Distinct log lines remembered per client. */
#define DECIDE_LOGGED		4

#define BOOTFILES_MAX		16
#define BOOTFILE_IPXE		(-1)	/* -b ipxe=FILE: option 77 "iPXE" */

struct bootfile {
	int arch;			/* option 93 value, or BOOTFILE_IPXE */
	char file[DHCP_FILE_LEN];
};

/* A broken entry's reason, as bootdir.h writes it. */
#define DECIDE_ENTRY_WHY_LEN	320

struct decide_config {
	/* What the boot directory's entry NAME (a serial, a MAC entry or
	 * "default") is, as bootdir_look says: on BROKEN, the reason in
	 * why (whylen bytes). NULL when there is no boot directory. */
	enum boot_entry_type (*look_entry)(void *ctx, const char *name,
	    char *why, size_t whylen);
	void *entries;			/* its ctx */
	int answer_all;			/* -a */
	const struct bootfile *bootfiles;
	size_t nbootfiles;
	const char *menu_text;		/* -M, NULL for the default */
	int send_opt66;			/* -O */
};

struct decide_input {
	const struct dhcp_msg *m;
	int discovery_port;		/* arrived on port 4011 */
	/* Our option 54 and next server, network order (arrival.h). */
	uint32_t server_id;
	uint64_t now_ms;		/* a monotonic clock */
};

enum decide_verdict {
	DECIDE_ANSWER,
	DECIDE_IGNORE,			/* not for us: no reply */
	DECIDE_RATE_LIMITED,		/* for us, but too often */
	DECIDE_BROKEN,			/* its entry is there but broken: no
					 * reply, -a or not, and a warning */
};

/* Why a verdict was reached; decision_line() says it with the client's
 * particulars. */
enum decide_reason {
	DECIDE_ANSWERED = 0,
	DECIDE_NOT_REQUEST,		/* not an Ethernet BOOTREQUEST */
	DECIDE_OTHER_SERVER,		/* a REQUEST for the LAN's server */
	DECIDE_WRONG_PORT,		/* a type this port does not answer */
	DECIDE_NOT_PXE,			/* no option 60 PXEClient */
	DECIDE_TOO_OFTEN,		/* DECIDE_RATE_LIMITED */
	DECIDE_ENTRY_BROKEN,		/* DECIDE_BROKEN */
	DECIDE_NO_ENTRY,		/* and no -a */
};

struct decision {
	enum decide_verdict verdict;
	enum decide_reason reason;
	int quiet;			/* only worth a debug line */
	uint8_t reply_type;		/* DHCPOFFER or DHCPACK */
	const char *bootfile;		/* NULL for none */
	/* DECIDE_ANSWER: what the reply carries beside the request's own
	 * fields (bootfile points into this decision or the config). */
	struct dhcp_reply_params reply;
	/* The boot directory entry that made the client known (or, when
	 * DECIDE_BROKEN, the broken one): its serial, its MAC entry or
	 * "default"; "" with -a and no entry. */
	char entry[MAC_NAME_LEN + 1];
	char bootfile_buf[DHCP_FILE_LEN];
	char serial[SERIAL_LEN + 1];	/* from option 97, "" if none */
	/* "abcd1234 dc:a6:32:01:36:c2" or "dc:a6:32:01:36:c2". */
	char who[SERIAL_LEN + 1 + MAC_NAME_LEN + 1];
	/* DECIDE_ENTRY_BROKEN: what the lookup found wrong with the entry,
	 * as bootdir.h words it. */
	char entry_why[DECIDE_ENTRY_WHY_LEN];
	/* No entry names it, answered with -a or not: a machine to enrol
	 * (-U). */
	int no_entry;
};

/* Room for any decision's line. */
#define DECISION_LINE_LEN	(DECIDE_ENTRY_WHY_LEN + 192)

struct client_slot {
	int used;
	uint8_t mac[6];
	uint64_t last_ms;
	uint32_t tokens;		/* thousandths of a reply */
	uint32_t logged[DECIDE_LOGGED];	/* hashes of lines logged */
	unsigned int next_logged;
};

struct decider {
	struct client_slot clients[DECIDE_CLIENTS];
	/* The lines of clients with no entry of their own, which a flood
	 * of made-up MACs can cause at will. */
	struct ratelimit unowned_log;
};

void decider_init(struct decider *d);

void decide(struct decider *d, const struct decide_config *c,
    const struct decide_input *in, struct decision *out);

/* The decision's log line into buf (len bytes, DECISION_LINE_LEN is
 * enough): who asked, then what became of it and why. */
void decision_line(const struct decide_input *in, const struct decision *d,
    char *buf, size_t len);

/* Whether line is new for this client (log it at INFO) or was logged for
 * it recently (DEBUG): each decision is logged once per client and
 * reason, however often the client retries. */
int decider_log_once(struct decider *d, const uint8_t mac[6],
    const char *line, uint64_t now_ms);

/* How a decision's line is logged. */
struct decision_log {
	enum log_level level;
	/* Appended to the line: " (again)", " (held back)", the count of
	 * lines held back before it, or "". */
	char note[48];
};

/* The level of line, the decision's line (decision_line), for the
 * client mac: once per client and reason at INFO (a broken entry at
 * WARN), a repeat at DEBUG; a client with no entry of its own through
 * the decider's rate limit, since every MAC a flood makes up is one.
 * Quiet decisions are DEBUG. Counts the line as logged or held back. */
void decision_log(struct decider *d, const uint8_t mac[6],
    const struct decision *dec, const char *line, uint64_t now_ms,
    struct decision_log *out);

/* Parses -b ARCH=FILE: ARCH is an option 93 number (0 BIOS, 7 and 9 x64
 * UEFI, 11 arm64 UEFI, ...) or "ipxe". Returns NULL or the reason. */
const char *bootfile_parse(const char *arg, struct bootfile *out);

/* The boot file for this client: for iPXE (option 77), the -b ipxe= file,
 * else ENTRY/boot.ipxe when an entry made it known (the script beside its
 * boot files, so a chain-loaded iPXE does not load iPXE again); else the
 * file for its architecture (option 93); else NULL. entry may be "" and
 * buf (DHCP_FILE_LEN bytes) holds a made-up name. */
const char *bootfile_for(const struct decide_config *c,
    const struct dhcp_msg *m, const char *entry, char *buf);

/* Where a reply goes (RFC 2131 section 4.1, PXE 2.1): to the source of a
 * port 4011 request; to the relay (giaddr, relay_port); to the client's own
 * address (ciaddr, client_port); else broadcast to client_port out of the
 * arrival interface, since the client has no address. Returns 1 for a
 * broadcast, else 0. */
int reply_destination(const struct dhcp_msg *m, int discovery,
    const struct sockaddr_in *from, uint16_t client_port,
    uint16_t relay_port, struct sockaddr_in *to);

#endif
