/* pi-boot: one Raspberry Pi 4 netbooting, from power-on to its root file
 * system on NBD, for the boot storm (tests/storm/). One process per Pi, in
 * the Pi's own network namespace; a hundred of them start at the same
 * instant. It shares no code with the daemons: it is an independent
 * reading of the RFCs, of the NBD protocol and of what the Pi's bootloader
 * is documented to do.
 *
 * What the bootloader does, and where we read it:
 *
 * - EEPROM settings, "Raspberry Pi bootloader configuration"
 *   (raspberrypi/documentation, computers/raspberry-pi/
 *   eeprom-bootloader.adoc): DHCP_TIMEOUT (default 45000 ms, "the
 *   timeout for the entire DHCP sequence before failing the current
 *   iteration"), DHCP_REQ_TIMEOUT (default 4000 ms, "before retrying DHCP
 *   DISCOVER or DHCP REQ"), TFTP_FILE_TIMEOUT (default 30000 ms, "for an
 *   individual file download via TFTP"), NET_BOOT_MAX_RETRIES (default 0:
 *   a failed network boot is not retried; the boot mode fails and the Pi
 *   moves on to the next BOOT_ORDER mode). So a file that does not arrive
 *   within 30 s is a failed boot here. rpi-eeprom#687: a Pi 5 whose TFTP
 *   download timed out did not retry at all.
 * - What comes after a failed boot, the same page: BOOT_ORDER=0xf12, the
 *   walkthrough's setting (its digits are read from the right), tries
 *   the network (2), then the SD card (1), then RESTART (0xf) "from the first boot-mode in the BOOT_ORDER field
 *   (loop)", with MAX_RESTARTS -1 (infinite) by default: a Pi without an
 *   SD card starts its network boot again, with DHCP, for as long as it
 *   is powered. The page names no pause for the loop itself;
 *   bootflow-eeprom.adoc has none either. What paces it is the LED error
 *   pattern the bootloader shows after each failed boot mode: in
 *   rpi-eeprom#140 its author says a failing netboot "will retry every
 *   few seconds" because of it (REBOOT_ON_FATAL_ERROR shows the same
 *   pattern three times before its reset). We model 5 s from the failure
 *   to the next DISCOVER (-x), the empty SD slot and the link coming up
 *   again included, and count the boot attempts. A failure after the
 *   bootloader handed over (start4.elf loading the kernel or initramfs,
 *   the kernel's NBD requests) is taken to end in the same restart; on a
 *   real Pi that needs BOOT_WATCHDOG_TIMEOUT or the kernel's panic=
 *   reboot, or it hangs as the field reports say.
 * - rpi-eeprom firmware-2711/release-notes.md: blksize 1468
 *   (2019-10-08 "uses RFC2348 blksize", later "Increase TFTP_MAX_BLOCKSIZE
 *   to 1468"); 2021-02-16 "Change TFTP to ACK data blocks which it has
 *   already ACK'd instead of ignoring them" (so a duplicate DATA is
 *   re-acknowledged); 2025-09-23 "Allow TFTP block counter to rollover".
 * - The request sequence: /work/shared/pi-netboot.md and the capture in
 *   rpi-eeprom#74 (SERIAL/start4.elf, config.txt, recover4.elf,
 *   recovery.elf, ... every request with tsize=0, each from a new port).
 * - Option 97 in both forms, DHCP_OPTION97 in the same documentation
 *   page: "RPi4", the board revision, the MAC's low 4 bytes and the serial
 *   (each a little-endian 32-bit value), or the serial four times.
 *
 * Where the documentation says nothing we take the stricter choice, the
 * one that leaves recovery to the server:
 * - The Pi never re-sends an ACK on a timer of its own: a lost DATA or ACK
 *   is recovered only by the server's retransmission (then re-ACKed as a
 *   duplicate). It re-sends an unanswered RRQ every -a ms (default 1000),
 *   the one packet no server can recover.
 * - A new transaction id for every DISCOVER; the proxy's offer must come in
 *   the same DISCOVER round as the address.
 * - The root: one connection attempt (initramfs-tools' nbd script runs
 *   nbd-client once); a request unanswered for 30 s fails the boot (the
 *   kernel's NBD request timeout).
 * - No ICMP port-unreachable from the bootloader: the harness drops what
 *   this Linux namespace would send.
 *
 * The DHCP socket asks for broadcast replies (flags 0x8000): with no
 * address configured yet, a Linux socket cannot receive a unicast OFFER,
 * which the Pi's firmware can. The LAN's server and the proxy answer
 * either way.
 *
 * Every byte is checked: each TFTP file against the reference copy in -R
 * DIR (the harness extracted it from the image with mcopy), every NBD
 * read against the template image -T (the per-Pi images are copies of it),
 * and what the Pi wrote is read back after FLUSH.
 *
 * Output: a line for each failed attempt, then one for the Pi, key=value:
 *   try id=3 n=1 phase=tftp reason="initrd.img: TFTP_FILE_TIMEOUT ..."
 *   dhcp_start=0.000 ... nbd_end=-1.000
 *   pi id=3 serial=5e700003 mac=dc:a6:32:00:00:03 form=new result=ok
 *   phase=- reason="-" attempts=2 dhcp_start=40.412 ... root=46.021
 *   boot_bytes=... discovers=2 requests=2 files=13 tftp_bytes=...
 * kernel_start is when the kernel's first block came, tftp_wait the time
 * the attempt's files took to their first blocks (what the server made
 * it wait, a round trip each when it is not busy).
 * The pi line's phase times and reason are its last attempt's, boot_bytes
 * what that attempt moved (TFTP and NBD payload) if it reached its root,
 * the counters are summed over every attempt. Times are seconds since the
 * common start (-S, or -G's file); -D ends every attempt that far from
 * it. Exit status 0 when the Pi reached its root, 1 when it had not by
 * then, 2 on bad usage.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define DHCP_MAX 1500
#define TFTP_BLKSIZE 1468
#define TFTP_MAXPKT (4 + 65464)
#define NBD_PORT 10809
#define NBD_TIMEOUT_MS 30000
#define SECTOR 512

enum phase { PH_DHCP, PH_TFTP, PH_NBD, PH_DONE };
static const char *const phase_names[] = { "dhcp", "tftp", "nbd", "-" };

struct config {
	int id;
	const char *iface;
	uint32_t serial, revision;
	int old_form;			/* option 97 as the serial 4 times */
	const char *refdir;		/* reference boot files */
	const char *template;		/* the image every Pi's is a copy of */
	double start;			/* common start, CLOCK_REALTIME seconds */
	const char *gofile;		/* or the file that will say it */
	double deadline;		/* give up this many s after start */
	int dhcp_timeout, dhcp_req_timeout;	/* ms */
	int tftp_file_timeout, rrq_retry;	/* ms */
	uint64_t read_bytes;		/* of the root, per boot */
	int writes;			/* chunks written */
	int qdepth;			/* NBD reads in flight */
	int restart_ms;			/* a failed boot starts again after
					 * this; -1: it does not */
};

struct pi {
	const struct config *cf;
	uint8_t mac[6];
	enum phase phase;
	char reason[300];
	int attempts;
	double t[PH_DONE][2];		/* each phase's start and end */
	double root;
	uint64_t boot_bytes;		/* what the attempt that reached its
					 * root moved */
	double kernel_start;		/* the kernel's first block came */
	double tftp_wait;		/* s the files' first blocks took */
	struct in_addr addr, mask, router, tftp;
	/* DHCP */
	int discovers, requests, naks, offers_lan, offers_proxy;
	/* TFTP */
	int files, missing, probes;
	uint64_t tftp_bytes, blocks;
	int dup_data, dup_oack, rrq_retx, reack, stray;
	char cmdline[1024];
	/* NBD */
	uint64_t nbd_read, nbd_written, nbd_reqs;
	unsigned nbd_tcp_retx;
	uint64_t rng;
};

/* --- time and failure ------------------------------------------------- */

static double
now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
now_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Seconds since the storm's common start. */
static double
since_start(const struct pi *pi)
{
	return now_real() - pi->cf->start;
}

static int
failf(struct pi *pi, const char *fmt, ...)
{
	va_list ap;

	if (pi->reason[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(pi->reason, sizeof(pi->reason), fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Milliseconds left before the storm's overall deadline (never below 0). */
static double
storm_left_ms(const struct pi *pi)
{
	double left = (pi->cf->deadline - since_start(pi)) * 1e3;

	return left > 0 ? left : 0;
}

/* The earlier of a phase's own deadline and the storm's. */
static double
deadline_ms(const struct pi *pi, double own_ms)
{
	double left = storm_left_ms(pi);

	return now_mono_ms() + (own_ms < left ? own_ms : left);
}

static int
poll_ms(int fd, short events, double until)
{
	struct pollfd p = { .fd = fd, .events = events };
	double left = until - now_mono_ms();
	int r;

	if (left < 0)
		left = 0;
	r = poll(&p, 1, (int)left + (left > 0));
	if (r == -1 && errno == EINTR)
		return 0;
	return r;
}

static uint64_t
rng_next(struct pi *pi)
{
	/* xorshift64*: reproducible per serial, so a run can be repeated. */
	pi->rng ^= pi->rng >> 12;
	pi->rng ^= pi->rng << 25;
	pi->rng ^= pi->rng >> 27;
	return pi->rng * 2685821657736338717ULL;
}

static void
le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* --- DHCP -------------------------------------------------------------- */

struct dhcp_reply {
	int type;			/* option 53 */
	struct in_addr yiaddr, server_id, mask, router;
	int has_server_id, has_mask, has_router;
	int pi_menu;			/* option 43 names "Raspberry Pi Boot" */
	struct in_addr opt66;
	int has_opt66;
};

static void
put_opt(uint8_t *p, size_t *n, int code, const void *v, size_t len)
{
	p[(*n)++] = (uint8_t)code;
	p[(*n)++] = (uint8_t)len;
	memcpy(p + *n, v, len);
	*n += len;
}

/* A DISCOVER or REQUEST as the Pi 4's bootloader sends it. */
static size_t
dhcp_build(const struct pi *pi, uint8_t *p, int type, uint32_t xid,
    uint16_t secs, struct in_addr want, struct in_addr server)
{
	static const uint8_t params[] = { 1, 3, 43, 60, 66, 67, 128, 129,
	    130, 131, 132, 133, 134, 135 };
	static const uint8_t ndi[] = { 1, 2, 1 };	/* UNDI 2.1 */
	static const char class[] = "PXEClient:Arch:00000:UNDI:002001";
	static const uint8_t arch[] = { 0, 0 };
	uint8_t v[17], t = (uint8_t)type;
	size_t n = 240;

	memset(p, 0, DHCP_MAX);
	p[0] = 1;
	p[1] = 1;
	p[2] = 6;
	p[4] = (uint8_t)(xid >> 24);
	p[5] = (uint8_t)(xid >> 16);
	p[6] = (uint8_t)(xid >> 8);
	p[7] = (uint8_t)xid;
	p[8] = (uint8_t)(secs >> 8);
	p[9] = (uint8_t)secs;
	p[10] = 0x80;
	memcpy(p + 28, pi->mac, 6);
	p[236] = 0x63;
	p[237] = 0x82;
	p[238] = 0x53;
	p[239] = 0x63;
	put_opt(p, &n, 53, &t, 1);
	if (type == 3) {
		put_opt(p, &n, 50, &want.s_addr, 4);
		put_opt(p, &n, 54, &server.s_addr, 4);
	}
	put_opt(p, &n, 60, class, sizeof(class) - 1);
	put_opt(p, &n, 93, arch, sizeof(arch));
	put_opt(p, &n, 94, ndi, sizeof(ndi));
	v[0] = 0;
	if (pi->cf->old_form) {
		for (int i = 0; i < 4; i++)
			le32(v + 1 + 4 * i, pi->cf->serial);
	} else {
		memcpy(v + 1, "RPi4", 4);
		le32(v + 5, pi->cf->revision);
		memcpy(v + 9, pi->mac + 2, 4);
		le32(v + 13, pi->cf->serial);
	}
	put_opt(p, &n, 97, v, sizeof(v));
	put_opt(p, &n, 55, params, sizeof(params));
	p[n++] = 255;
	return n < 300 ? 300 : n;
}

/* Option 43 in PXE form: does its boot menu (sub-option 9) hold the text
 * the bootloader matches (PXE_OPTION43, by substring since 2019)? */
static int
pxe_menu_is_pi(const uint8_t *v, size_t len)
{
	static const char want[] = "Raspberry Pi Boot";
	size_t i = 0;

	while (i < len && v[i] != 255) {
		size_t l;

		if (v[i] == 0) {
			i++;
			continue;
		}
		if (i + 1 >= len || (l = v[i + 1]) > len - i - 2)
			return 0;
		if (v[i] == 9 && l >= 3 && v[i + 4] <= l - 3 &&
		    memmem(v + i + 5, v[i + 4], want, sizeof(want) - 1))
			return 1;
		i += 2 + l;
	}
	return 0;
}

/* A reply to us (our xid and MAC), decoded; -1 if it is not one. */
static int
dhcp_parse(const struct pi *pi, const uint8_t *p, size_t n, uint32_t xid,
    struct dhcp_reply *r)
{
	size_t i = 240;

	memset(r, 0, sizeof(*r));
	if (n < 240 || p[0] != 2 || p[1] != 1 || p[2] != 6 ||
	    ((uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 |
	    (uint32_t)p[6] << 8 | p[7]) != xid ||
	    memcmp(p + 28, pi->mac, 6) != 0 ||
	    p[236] != 0x63 || p[237] != 0x82 || p[238] != 0x53 ||
	    p[239] != 0x63)
		return -1;
	memcpy(&r->yiaddr, p + 16, 4);
	while (i < n && p[i] != 255) {
		const uint8_t *v;
		size_t l;

		if (p[i] == 0) {
			i++;
			continue;
		}
		if (i + 1 >= n || (l = p[i + 1]) > n - i - 2)
			return -1;
		v = p + i + 2;
		switch (p[i]) {
		case 53:
			if (l == 1)
				r->type = v[0];
			break;
		case 54:
			if (l == 4) {
				memcpy(&r->server_id, v, 4);
				r->has_server_id = 1;
			}
			break;
		case 1:
			if (l == 4) {
				memcpy(&r->mask, v, 4);
				r->has_mask = 1;
			}
			break;
		case 3:
			if (l >= 4) {
				memcpy(&r->router, v, 4);
				r->has_router = 1;
			}
			break;
		case 43:
			r->pi_menu |= pxe_menu_is_pi(v, l);
			break;
		case 66: {
			char s[64];

			if (l < sizeof(s)) {
				memcpy(s, v, l);
				s[l] = '\0';
				r->has_opt66 = inet_pton(AF_INET, s,
				    &r->opt66) == 1;
			}
			break;
		}
		}
		i += 2 + l;
	}
	return r->type ? 0 : -1;
}

static int
dhcp_socket(struct pi *pi)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons(68) };
	int fd, on = 1, rcvbuf = 4 << 20;

	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return failf(pi, "dhcp socket: %s", strerror(errno));
	/* Every broadcast reply on the LAN lands here (a hundred Pis', the
	 * flood's). A real Pi has a core of its own to read them; a client
	 * here shares two with everything, so a default buffer would drop
	 * its own offer while it waits to run. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
	    sizeof(rcvbuf)) == -1)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof(on)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, pi->cf->iface,
	    (socklen_t)strlen(pi->cf->iface)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		failf(pi, "dhcp socket on %s: %s", pi->cf->iface,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int
dhcp_send(struct pi *pi, int fd, const uint8_t *p, size_t n)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
	    .sin_port = htons(67), .sin_addr.s_addr = INADDR_BROADCAST };

	if (sendto(fd, p, n, 0, (struct sockaddr *)&to, sizeof(to)) == -1)
		return failf(pi, "dhcp send: %s", strerror(errno));
	return 0;
}

/* The address the LAN's server gave, on the interface, as the bootloader
 * configures its own stack. */
static int
configure_address(struct pi *pi)
{
	struct ifreq ifr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd == -1)
		return failf(pi, "socket: %s", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", pi->cf->iface);
	sin->sin_family = AF_INET;
	sin->sin_addr = pi->addr;
	if (ioctl(fd, SIOCSIFADDR, &ifr) == -1) {
		failf(pi, "setting address %s on %s: %s",
		    inet_ntoa(pi->addr), pi->cf->iface, strerror(errno));
		close(fd);
		return -1;
	}
	sin->sin_addr = pi->mask;
	if (ioctl(fd, SIOCSIFNETMASK, &ifr) == -1) {
		failf(pi, "setting netmask on %s: %s", pi->cf->iface,
		    strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* One DISCOVER round: DISCOVER, the LAN's OFFER, REQUEST (re-sent every
 * DHCP_REQ_TIMEOUT), ACK, and the proxy's offer with the boot menu, all
 * under one xid. 1 when bound with a TFTP server, 0 to start a new round,
 * -1 on failure. */
static int
dhcp_round(struct pi *pi, int fd, double dhcp_end, double started)
{
	const struct config *cf = pi->cf;
	uint8_t pkt[DHCP_MAX], buf[DHCP_MAX];
	struct dhcp_reply r;
	struct in_addr chosen = { 0 }, server = { 0 };
	double round_end;
	uint32_t xid = (uint32_t)rng_next(pi);
	uint16_t secs = (uint16_t)((now_mono_ms() - started) / 1000);
	int requested = 0, bound = 0, have_tftp = 0;
	size_t n;

	n = dhcp_build(pi, pkt, 1, xid, secs, chosen, server);
	pi->discovers++;
	if (dhcp_send(pi, fd, pkt, n) == -1)
		return -1;
	round_end = now_mono_ms() + cf->dhcp_req_timeout;
	for (;;) {
		double until = round_end < dhcp_end ? round_end : dhcp_end;
		ssize_t got;
		int pr;

		if ((pr = poll_ms(fd, POLLIN, until)) == -1)
			return failf(pi, "dhcp poll: %s", strerror(errno));
		if (pr == 0) {
			if (now_mono_ms() >= dhcp_end)
				return 0;
			if (now_mono_ms() < round_end)
				continue;
			if (!requested || bound)
				return 0;	/* DISCOVER again */
			/* The REQUEST or its ACK was lost: REQUEST again. */
			n = dhcp_build(pi, pkt, 3, xid, secs, chosen, server);
			pi->requests++;
			if (dhcp_send(pi, fd, pkt, n) == -1)
				return -1;
			round_end = now_mono_ms() + cf->dhcp_req_timeout;
			continue;
		}
		if ((got = recv(fd, buf, sizeof(buf), 0)) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return failf(pi, "dhcp recv: %s", strerror(errno));
		}
		if (dhcp_parse(pi, buf, (size_t)got, xid, &r) == -1)
			continue;
		if (r.pi_menu || r.has_opt66) {
			if (r.has_opt66)
				pi->tftp = r.opt66;
			else if (r.has_server_id)
				pi->tftp = r.server_id;
			if (r.has_opt66 || r.has_server_id) {
				if (!have_tftp)
					pi->offers_proxy++;
				have_tftp = 1;
			}
		}
		if (r.type == 2 && r.yiaddr.s_addr != 0 && r.has_server_id &&
		    !requested) {
			pi->offers_lan++;
			chosen = r.yiaddr;
			server = r.server_id;
			pi->mask = r.has_mask ? r.mask :
			    (struct in_addr){ htonl(0xffffff00) };
			pi->router = r.router;
			n = dhcp_build(pi, pkt, 3, xid, secs, chosen, server);
			pi->requests++;
			requested = 1;
			if (dhcp_send(pi, fd, pkt, n) == -1)
				return -1;
			round_end = now_mono_ms() + cf->dhcp_req_timeout;
		} else if (requested && !bound && r.has_server_id &&
		    r.server_id.s_addr == server.s_addr) {
			if (r.type == 6) {
				pi->naks++;
				return 0;
			}
			if (r.type == 5 && r.yiaddr.s_addr == chosen.s_addr) {
				bound = 1;
				pi->addr = chosen;
				if (r.has_mask)
					pi->mask = r.mask;
			}
		}
		if (bound && have_tftp)
			return 1;
	}
}

static int
dhcp_phase(struct pi *pi)
{
	double started = now_mono_ms();
	double end = deadline_ms(pi, pi->cf->dhcp_timeout);
	int fd, r = 0;

	if ((fd = dhcp_socket(pi)) == -1)
		return -1;
	while (r == 0 && now_mono_ms() < end)
		r = dhcp_round(pi, fd, end, started);
	close(fd);
	if (r == -1)
		return -1;
	if (r == 0)
		return failf(pi, "no address and boot server within %d ms "
		    "(%d DISCOVERs, %d REQUESTs, %d LAN offers, %d proxy "
		    "offers, %d NAKs)", pi->cf->dhcp_timeout, pi->discovers,
		    pi->requests, pi->offers_lan, pi->offers_proxy, pi->naks);
	return configure_address(pi);
}

/* --- TFTP -------------------------------------------------------------- */

enum tftp_kind {
	T_PROBE,	/* RRQ tsize=0 blksize=1468; ERROR after the OACK */
	T_FETCH,	/* RRQ tsize=0 blksize=1468; the whole file */
	T_MISSING	/* like a probe, but "file not found" is the answer */
};

struct transfer {
	struct pi *pi;
	const char *name;	/* without the SERIAL/ prefix */
	enum tftp_kind kind;
	int fd;
	const uint8_t *ref;	/* the reference file, mapped */
	size_t ref_len;
	struct sockaddr_in server, tid;
	int have_tid, got_oack, acked_oack;
	unsigned blksize;
	uint64_t tsize, bytes;
	int has_tsize;
	uint16_t expect;	/* next block; wraps as the 2025 firmware does */
	uint64_t blocks;
	uint8_t rrq[600];
	size_t rrq_len;
	char *keep;		/* -K: a copy of the file (cmdline.txt) */
	size_t keep_cap;
	double asked;		/* the RRQ went out (since_start) */
};

static int
tftp_send(struct transfer *x, const void *p, size_t n)
{
	ssize_t r;

	if (x->have_tid)
		r = send(x->fd, p, n, 0);
	else
		r = sendto(x->fd, p, n, 0, (struct sockaddr *)&x->server,
		    sizeof(x->server));
	if (r == -1 && errno != ECONNREFUSED)
		return failf(x->pi, "%s: send: %s", x->name, strerror(errno));
	return 0;
}

static int
tftp_ack(struct transfer *x, uint16_t block)
{
	uint8_t a[4] = { 0, 4, (uint8_t)(block >> 8), (uint8_t)block };

	return tftp_send(x, a, sizeof(a));
}

static int
tftp_abort(struct transfer *x)
{
	static const uint8_t e[] = "\0\5\0\0Early terminate";

	return tftp_send(x, e, sizeof(e));
}

static void
tftp_rrq(struct transfer *x, const char *serial)
{
	int n;

	n = snprintf((char *)x->rrq, sizeof(x->rrq),
	    "%c%c%s/%s%coctet%ctsize%c0%cblksize%c%u", 0, 1, serial, x->name,
	    0, 0, 0, 0, 0, TFTP_BLKSIZE);
	x->rrq_len = (size_t)n + 1;
}

static int
parse_oack(struct transfer *x, const uint8_t *p, size_t n)
{
	size_t at = 2;

	x->blksize = 512;
	while (at < n) {
		const char *name = (const char *)p + at, *val;
		const uint8_t *z = memchr(p + at, 0, n - at);
		char *end;

		if (z == NULL)
			return -1;
		at = (size_t)(z - p) + 1;
		if ((z = memchr(p + at, 0, n - at)) == NULL)
			return -1;
		val = (const char *)p + at;
		at = (size_t)(z - p) + 1;
		if (strcasecmp(name, "tsize") == 0) {
			x->tsize = strtoull(val, &end, 10);
			if (*end != '\0')
				return -1;
			x->has_tsize = 1;
		} else if (strcasecmp(name, "blksize") == 0) {
			x->blksize = (unsigned)strtoul(val, &end, 10);
			if (*end != '\0' || x->blksize < 8 ||
			    x->blksize > TFTP_BLKSIZE)
				return -1;
		} else
			return -1;	/* we asked for nothing else */
	}
	return 0;
}

/* The bytes of a DATA block against the reference file. */
static int
tftp_check(struct transfer *x, const uint8_t *d, size_t n)
{
	if (n == 0)
		return 0;
	if (x->keep != NULL) {
		if (x->bytes + n >= x->keep_cap)
			return failf(x->pi, "%s: longer than %zu bytes",
			    x->name, x->keep_cap);
		memcpy(x->keep + x->bytes, d, n);
		x->keep[x->bytes + n] = '\0';
	}
	if (x->bytes + n > x->ref_len ||
	    memcmp(x->ref + x->bytes, d, n) != 0)
		return failf(x->pi, "%s: bytes %llu-%llu differ from the "
		    "reference", x->name, (unsigned long long)x->bytes,
		    (unsigned long long)(x->bytes + n - 1));
	return 0;
}

/* A packet from the transfer's server. 1 when the transfer is over (a
 * probe answered, a file in, or "file not found" where that is the
 * expected answer), 0 to go on, -1 on failure. */
static int
tftp_packet(struct transfer *x, const uint8_t *p, size_t n)
{
	struct pi *pi = x->pi;
	uint16_t op, block;

	if (n < 4)
		return 0;
	op = (uint16_t)(p[0] << 8 | p[1]);
	block = (uint16_t)(p[2] << 8 | p[3]);
	switch (op) {
	case 6:		/* OACK */
		if (x->got_oack) {
			/* Our ACK 0 was lost: the server sent it again. */
			pi->dup_oack++;
			if (x->kind != T_FETCH || x->blocks > 0)
				return 0;
			pi->reack++;
			return tftp_ack(x, 0);
		}
		x->got_oack = 1;
		if (parse_oack(x, p, n) == -1)
			return failf(pi, "%s: malformed OACK", x->name);
		if (x->kind == T_MISSING)
			return failf(pi, "%s: expected \"file not found\", "
			    "got an OACK", x->name);
		if (!x->has_tsize || x->blksize != TFTP_BLKSIZE)
			return failf(pi, "%s: OACK without tsize or blksize "
			    "%u", x->name, TFTP_BLKSIZE);
		if (x->kind == T_PROBE) {
			pi->probes++;
			return tftp_abort(x) == -1 ? -1 : 1;
		}
		x->acked_oack = 1;
		return tftp_ack(x, 0);
	case 3:		/* DATA */
		if (x->kind != T_FETCH)
			return failf(pi, "%s: DATA for a probe", x->name);
		if (!x->got_oack)
			return failf(pi, "%s: DATA without OACK", x->name);
		if (block == (uint16_t)(x->expect - 1)) {
			/* The server timed out (our ACK was lost or slow). */
			pi->dup_data++;
			pi->reack++;
			return tftp_ack(x, block);
		}
		if (block != x->expect) {
			pi->stray++;
			return 0;
		}
		if (n - 4 > x->blksize)
			return failf(pi, "%s: block %u has %zu bytes", x->name,
			    block, n - 4);
		if (tftp_check(x, p + 4, n - 4) == -1)
			return -1;
		if (x->blocks == 0) {
			/* What the server made it wait for its first block
			 * (its OACK and our ACK 0 included). */
			pi->tftp_wait += since_start(pi) - x->asked;
			if (strcmp(x->name, "kernel8.img") == 0)
				pi->kernel_start = since_start(pi);
		}
		x->bytes += n - 4;
		x->blocks++;
		x->expect++;
		if (tftp_ack(x, block) == -1)
			return -1;
		if (n - 4 < x->blksize) {
			if (x->bytes != x->tsize)
				return failf(pi, "%s: %llu bytes, tsize said "
				    "%llu", x->name,
				    (unsigned long long)x->bytes,
				    (unsigned long long)x->tsize);
			return 1;
		}
		return 0;
	case 5:		/* ERROR */
		if (block == 1 && x->kind == T_MISSING) {
			pi->missing++;
			return 1;
		}
		return failf(pi, "%s: server error %u: %.*s", x->name, block,
		    (int)(n > 4 ? strnlen((const char *)p + 4, n - 4) : 0),
		    (const char *)p + 4);
	default:
		pi->stray++;
		return 0;
	}
}

static int
tftp_transfer(struct transfer *x)
{
	struct pi *pi = x->pi;
	double end = deadline_ms(pi, pi->cf->tftp_file_timeout);
	double retry = now_mono_ms() + pi->cf->rrq_retry, timeout_at = 0;
	char serial[16];
	uint8_t buf[TFTP_MAXPKT];
	int r = 0;

	snprintf(serial, sizeof(serial), "%08x", pi->cf->serial);
	tftp_rrq(x, serial);
	x->asked = since_start(pi);
	/* Every request from a new port, as the bootloader sends them. */
	x->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (x->fd == -1)
		return failf(pi, "%s: socket: %s", x->name, strerror(errno));
	if (tftp_send(x, x->rrq, x->rrq_len) == -1)
		goto out;
	/* One blocking receive per packet, with a timeout, rather than poll
	 * and receive: a hundred clients share the machine with the server
	 * they measure. */
	while (r == 0) {
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		double now = now_mono_ms();
		double until = x->have_tid || retry > end ? end : retry;
		ssize_t got;

		if (now >= end) {
			r = failf(pi, "%s: %s after %.0f ms (%s, %llu of %llu "
			    "bytes)", x->name, storm_left_ms(pi) == 0 ?
			    "storm deadline" : "TFTP_FILE_TIMEOUT",
			    (double)pi->cf->tftp_file_timeout, x->have_tid ?
			    "transfer started" : "no answer to the RRQ",
			    (unsigned long long)x->bytes,
			    (unsigned long long)x->tsize);
			break;
		}
		if (!x->have_tid && now >= retry) {
			pi->rrq_retx++;
			if (tftp_send(x, x->rrq, x->rrq_len) == -1) {
				r = -1;
				break;
			}
			retry = now + pi->cf->rrq_retry;
			continue;
		}
		if (until != timeout_at) {
			struct timeval tv;
			double ms = until - now + 1;

			tv.tv_sec = (time_t)(ms / 1000);
			tv.tv_usec = (suseconds_t)((ms - (double)tv.tv_sec *
			    1000) * 1000);
			if (setsockopt(x->fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
			    sizeof(tv)) == -1) {
				r = failf(pi, "%s: SO_RCVTIMEO: %s", x->name,
				    strerror(errno));
				break;
			}
			timeout_at = until;
		}
		got = recvfrom(x->fd, buf, sizeof(buf), 0,
		    (struct sockaddr *)&from, &flen);
		if (got == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				/* The timeout runs anew from each call. */
				timeout_at = 0;
				continue;
			}
			if (errno == EINTR || errno == ECONNREFUSED)
				continue;
			r = failf(pi, "%s: recv: %s", x->name,
			    strerror(errno));
			break;
		}
		if (from.sin_addr.s_addr != x->server.sin_addr.s_addr) {
			pi->stray++;
			continue;
		}
		if (!x->have_tid) {
			x->tid = from;
			x->have_tid = 1;
			if (connect(x->fd, (struct sockaddr *)&from,
			    sizeof(from)) == -1) {
				r = failf(pi, "%s: connect: %s", x->name,
				    strerror(errno));
				break;
			}
		} else if (from.sin_port != x->tid.sin_port) {
			pi->stray++;
			continue;
		}
		r = tftp_packet(x, buf, (size_t)got);
	}
out:
	close(x->fd);
	pi->tftp_bytes += x->bytes;
	pi->blocks += x->blocks;
	return r == 1 ? 0 : -1;
}

/* One file the way the bootloader asks for it. */
static int
tftp_file(struct pi *pi, const char *name, enum tftp_kind kind,
    char *keep, size_t keep_cap)
{
	struct transfer x;
	char path[1200];
	int r;

	memset(&x, 0, sizeof(x));
	x.pi = pi;
	x.name = name;
	x.kind = kind;
	x.expect = 1;
	x.keep = keep;
	x.keep_cap = keep_cap;
	x.server.sin_family = AF_INET;
	x.server.sin_port = htons(69);
	x.server.sin_addr = pi->tftp;
	if (kind == T_FETCH) {
		struct stat st;
		int fd;

		snprintf(path, sizeof(path), "%s/%s", pi->cf->refdir, name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
		    fstat(fd, &st) == -1) {
			failf(pi, "reference %s: %s", path, strerror(errno));
			if (fd != -1)
				close(fd);
			return -1;
		}
		x.ref_len = (size_t)st.st_size;
		x.ref = x.ref_len == 0 ? NULL : mmap(NULL, x.ref_len,
		    PROT_READ, MAP_SHARED, fd, 0);
		close(fd);
		if (x.ref == MAP_FAILED)
			return failf(pi, "reference %s: mmap: %s", path,
			    strerror(errno));
	}
	r = tftp_transfer(&x);
	if (r == 0 && kind == T_FETCH)
		pi->files++;
	if (x.ref != NULL)
		munmap((void *)x.ref, x.ref_len);
	return r;
}

/* The kernel and initramfs start4.elf loads, as config.txt names them
 * for a Pi 4 ("config.txt" in the Raspberry Pi documentation): kernel=,
 * "initramfs FILE", or auto_initramfs=1, which loads the kernel's name
 * with "kernel" made "initramfs" and no extension (kernel8.img:
 * initramfs8); the lines of [all] and [pi4] sections only. Read from the
 * reference copy, which the Pi's own fetch of config.txt was checked
 * against. An empty initramfs name: none is loaded. */
static int
boot_files(struct pi *pi, char *kernel, size_t klen, char *initrd,
    size_t ilen)
{
	char path[4096], line[512];
	int active = 1, autoinit = 0;
	FILE *f;

	snprintf(kernel, klen, "kernel8.img");
	initrd[0] = '\0';
	snprintf(path, sizeof(path), "%s/config.txt", pi->cf->refdir);
	if ((f = fopen(path, "r")) == NULL)
		return failf(pi, "reference %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		char *l = line, *e;

		l[strcspn(l, "#\r\n")] = '\0';
		while (*l == ' ' || *l == '\t')
			l++;
		for (e = l + strlen(l); e > l && isspace((unsigned char)e[-1]);)
			*--e = '\0';
		if (*l == '[') {
			active = strcmp(l, "[all]") == 0 ||
			    strcmp(l, "[pi4]") == 0;
			continue;
		}
		if (!active)
			continue;
		if (strncmp(l, "kernel=", 7) == 0)
			snprintf(kernel, klen, "%s", l + 7);
		else if (strncmp(l, "initramfs ", 10) == 0) {
			l += 10;
			snprintf(initrd, ilen, "%.*s", (int)strcspn(l, " \t"),
			    l);
		} else if (strcmp(l, "auto_initramfs=1") == 0)
			autoinit = 1;
	}
	fclose(f);
	if (initrd[0] == '\0' && autoinit && strncmp(kernel, "kernel", 6) == 0)
		snprintf(initrd, ilen, "initramfs%.*s",
		    (int)strcspn(kernel + 6, "."), kernel + 6);
	return 0;
}

/* The Pi 4's sequence with the default TFTP_PREFIX (serial): the probe of
 * SERIAL/start4.elf, then what the bootloader and start4.elf ask for, the
 * kernel and initramfs as config.txt names them (boot_files).
 * Files marked with a probe are first asked with tsize=0 and aborted after
 * the OACK, then asked again at once. */
static int
tftp_phase(struct pi *pi)
{
	static char kernel[256], initrd[256];
	static const struct {
		const char *name;
		int probe_first;
		enum tftp_kind kind;
	} seq[] = {
		{ "start4.elf", 0, T_PROBE },
		{ "config.txt", 0, T_FETCH },
		{ "recover4.elf", 0, T_MISSING },
		{ "recovery.elf", 0, T_MISSING },
		{ "start4.elf", 1, T_FETCH },
		{ "fixup4.dat", 1, T_FETCH },
		{ "config.txt", 0, T_FETCH },
		{ "bcm2711-rpi-4-b.dtb", 1, T_FETCH },
		{ "overlays/overlay_map.dtb", 0, T_FETCH },
		{ "overlays/vc4-kms-v3d.dtbo", 1, T_FETCH },
		{ "cmdline.txt", 0, T_FETCH },
		{ "kernel8.img", 1, T_FETCH },
		{ "initrd.img", 1, T_FETCH },
	};

	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		int cmdline = strcmp(seq[i].name, "cmdline.txt") == 0;
		const char *name = seq[i].name;

		if (strcmp(name, "kernel8.img") == 0) {
			/* config.txt was fetched by now. */
			if (boot_files(pi, kernel, sizeof(kernel), initrd,
			    sizeof(initrd)) == -1)
				return -1;
			name = kernel;
		} else if (strcmp(name, "initrd.img") == 0) {
			if (initrd[0] == '\0')
				continue;
			name = initrd;
		}
		if (seq[i].probe_first &&
		    tftp_file(pi, name, T_PROBE, NULL, 0) == -1)
			return -1;
		if (tftp_file(pi, name, seq[i].kind,
		    cmdline ? pi->cmdline : NULL,
		    cmdline ? sizeof(pi->cmdline) : 0) == -1)
			return -1;
	}
	return 0;
}

/* --- NBD --------------------------------------------------------------- */

#define NBD_MAGIC 0x4e42444d41474943ULL		/* "NBDMAGIC" */
#define NBD_IHAVEOPT 0x49484156454f5054ULL
#define NBD_REPLY_MAGIC 0x0003e889045565a9ULL
#define NBD_REQUEST_MAGIC 0x25609513U
#define NBD_SIMPLE_MAGIC 0x67446698U
#define NBD_FLAG_FIXED_NEWSTYLE 1
#define NBD_FLAG_NO_ZEROES 2
#define NBD_OPT_GO 7
#define NBD_REP_ACK 1
#define NBD_REP_INFO 3
#define NBD_INFO_EXPORT 0
#define NBD_CMD_READ 0
#define NBD_CMD_WRITE 1
#define NBD_CMD_DISC 2
#define NBD_CMD_FLUSH 3
#define NBD_FLAG_READ_ONLY 2
#define NBD_MAX_IO (128 * 1024)
#define NBD_QMAX 32

struct nbd {
	struct pi *pi;
	int fd, tpl;
	uint64_t size;
	uint16_t flags;
	uint64_t p2_start, p2_size;	/* bytes */
	uint64_t next_handle;
};

static uint64_t
get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The socket has a 30 s timeout each way (SO_RCVTIMEO, SO_SNDTIMEO): the
 * kernel's NBD request timeout. */
static int
nbd_read_all(struct nbd *c, void *buf, size_t n, const char *what)
{
	uint8_t *p = buf;

	while (n > 0) {
		ssize_t r;

		if (storm_left_ms(c->pi) == 0)
			return failf(c->pi, "nbd: storm deadline during %s",
			    what);
		r = recv(c->fd, p, n, 0);

		if (r == 0)
			return failf(c->pi, "nbd: server closed during %s",
			    what);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return failf(c->pi, "nbd: %s: %s", what,
			    errno == EAGAIN ? "no answer within 30 s" :
			    strerror(errno));
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
nbd_write_all(struct nbd *c, const void *buf, size_t n, const char *what)
{
	const uint8_t *p = buf;

	while (n > 0) {
		ssize_t r = send(c->fd, p, n, MSG_NOSIGNAL);

		if (r == -1) {
			if (errno == EINTR)
				continue;
			return failf(c->pi, "nbd: %s: %s", what,
			    errno == EAGAIN ? "stuck for 30 s" :
			    strerror(errno));
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* nbdroot=SERVER/EXPORT, SERVER:PORT/EXPORT or [V6]:PORT/EXPORT, as
 * initramfs-tools' nbd script reads it from the kernel command line. */
static int
parse_nbdroot(struct pi *pi, char *host, size_t hlen, unsigned *port,
    char *export, size_t elen)
{
	const char *p = pi->cmdline, *v = NULL, *slash, *colon, *hend;
	size_t vlen;

	for (; *p; p++)
		if ((p == pi->cmdline || isspace((unsigned char)p[-1])) &&
		    strncmp(p, "nbdroot=", 8) == 0) {
			v = p + 8;
			break;
		}
	if (v == NULL)
		return failf(pi, "no nbdroot= in cmdline.txt");
	for (vlen = 0; v[vlen] && !isspace((unsigned char)v[vlen]); vlen++)
		;
	if ((slash = memchr(v, '/', vlen)) == NULL)
		return failf(pi, "nbdroot=%.*s: no /EXPORT", (int)vlen, v);
	*port = NBD_PORT;
	if (v[0] == '[') {
		if ((hend = memchr(v, ']', (size_t)(slash - v))) == NULL)
			return failf(pi, "nbdroot=%.*s: no ]", (int)vlen, v);
		snprintf(host, hlen, "%.*s", (int)(hend - v - 1), v + 1);
		colon = hend[1] == ':' ? hend + 1 : NULL;
	} else {
		colon = memchr(v, ':', (size_t)(slash - v));
		hend = colon ? colon : slash;
		snprintf(host, hlen, "%.*s", (int)(hend - v), v);
	}
	if (colon) {
		char *end;
		unsigned long n = strtoul(colon + 1, &end, 10);

		if (end != slash || n == 0 || n > 65535)
			return failf(pi, "nbdroot=%.*s: bad port", (int)vlen,
			    v);
		*port = (unsigned)n;
	}
	snprintf(export, elen, "%.*s", (int)(v + vlen - slash - 1), slash + 1);
	if (export[0] == '\0' || host[0] == '\0')
		return failf(pi, "nbdroot=%.*s: empty server or export",
		    (int)vlen, v);
	return 0;
}

static int
nbd_connect(struct nbd *c, const char *host, unsigned port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct timeval tv = { .tv_sec = NBD_TIMEOUT_MS / 1000 };
	socklen_t len;
	int on = 1;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		len = sizeof(*sin6);
	} else
		return failf(c->pi, "nbdroot server %s: not an address", host);
	if ((c->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) ==
	    -1)
		return failf(c->pi, "nbd socket: %s", strerror(errno));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ==
	    -1 || setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
	    sizeof(tv)) == -1)
		return failf(c->pi, "nbd socket timeouts: %s",
		    strerror(errno));
	if (connect(c->fd, (struct sockaddr *)&ss, len) == -1)
		return failf(c->pi, "nbd connect to %s port %u: %s", host,
		    port, errno == EINPROGRESS ? "timed out" :
		    strerror(errno));
	return 0;
}

/* Fixed newstyle, then NBD_OPT_GO with the export name, as nbd-client
 * does before it hands the socket to the kernel. */
static int
nbd_handshake(struct nbd *c, const char *export)
{
	uint8_t b[512], hdr[20];
	size_t nlen = strlen(export);
	uint32_t cflags;
	uint16_t gflags;

	if (nbd_read_all(c, b, 18, "greeting") == -1)
		return -1;
	if (get_be64(b) != NBD_MAGIC || get_be64(b + 8) != NBD_IHAVEOPT)
		return failf(c->pi, "nbd: not a newstyle server");
	gflags = (uint16_t)(b[16] << 8 | b[17]);
	if (!(gflags & NBD_FLAG_FIXED_NEWSTYLE))
		return failf(c->pi, "nbd: server is not fixed newstyle");
	cflags = NBD_FLAG_FIXED_NEWSTYLE | (gflags & NBD_FLAG_NO_ZEROES);
	put_be32(b, cflags);
	if (nlen > sizeof(b) - 32)
		return failf(c->pi, "nbd: export name too long");
	put_be64(b + 4, NBD_IHAVEOPT);
	put_be32(b + 12, NBD_OPT_GO);
	put_be32(b + 16, (uint32_t)(4 + nlen + 2));
	put_be32(b + 20, (uint32_t)nlen);
	memcpy(b + 24, export, nlen);
	b[24 + nlen] = 0;	/* no information requests */
	b[25 + nlen] = 0;
	if (nbd_write_all(c, b, 26 + nlen, "NBD_OPT_GO") == -1)
		return -1;
	for (;;) {
		uint32_t type, len;

		if (nbd_read_all(c, hdr, 20, "option reply") == -1)
			return -1;
		if (get_be64(hdr) != NBD_REPLY_MAGIC ||
		    get_be32(hdr + 8) != NBD_OPT_GO)
			return failf(c->pi, "nbd: malformed option reply");
		type = get_be32(hdr + 12);
		len = get_be32(hdr + 16);
		if (len > sizeof(b) - 1)
			return failf(c->pi, "nbd: option reply of %u bytes",
			    len);
		if (nbd_read_all(c, b, len, "option reply data") == -1)
			return -1;
		if (type & 0x80000000U) {
			b[len] = '\0';
			return failf(c->pi, "nbd: export %s refused "
			    "(error 0x%x): %s", export, type, (char *)b);
		}
		if (type == NBD_REP_INFO && len >= 12 && b[0] == 0 &&
		    b[1] == NBD_INFO_EXPORT) {
			c->size = get_be64(b + 2);
			c->flags = (uint16_t)(b[10] << 8 | b[11]);
		} else if (type == NBD_REP_ACK)
			break;
	}
	if (c->size == 0)
		return failf(c->pi, "nbd: no export size before the ACK");
	if (c->flags & NBD_FLAG_READ_ONLY)
		return failf(c->pi, "nbd: export %s is read-only", export);
	return 0;
}

static int
nbd_request(struct nbd *c, uint16_t type, uint64_t handle, uint64_t off,
    uint32_t len, const void *data)
{
	uint8_t h[28];

	put_be32(h, NBD_REQUEST_MAGIC);
	h[4] = 0;
	h[5] = 0;
	h[6] = (uint8_t)(type >> 8);
	h[7] = (uint8_t)type;
	put_be64(h + 8, handle);
	put_be64(h + 16, off);
	put_be32(h + 24, len);
	c->pi->nbd_reqs++;
	if (nbd_write_all(c, h, sizeof(h), "request") == -1)
		return -1;
	if (data && nbd_write_all(c, data, len, "write data") == -1)
		return -1;
	return 0;
}

static int
nbd_simple_reply(struct nbd *c, uint64_t *handle)
{
	uint8_t r[16];
	uint32_t err;

	if (nbd_read_all(c, r, 16, "reply") == -1)
		return -1;
	if (get_be32(r) != NBD_SIMPLE_MAGIC)
		return failf(c->pi, "nbd: reply magic 0x%08x", get_be32(r));
	*handle = get_be64(r + 8);
	if ((err = get_be32(r + 4)) != 0)
		return failf(c->pi, "nbd: request %llu failed: error %u",
		    (unsigned long long)*handle, err);
	return 0;
}

struct nbd_read {
	uint64_t handle, off;
	uint32_t len;
	int busy;
};

/* Reads, up to qdepth in flight (readahead keeps the kernel's queue
 * full), each checked against the template. */
static int
nbd_reads(struct nbd *c, const uint64_t *offs, const uint32_t *lens,
    size_t n)
{
	struct nbd_read q[NBD_QMAX];
	static uint8_t buf[NBD_MAX_IO], ref[NBD_MAX_IO];
	size_t next = 0, done = 0;
	int qd = c->pi->cf->qdepth;

	memset(q, 0, sizeof(q));
	while (done < n) {
		uint64_t h;
		int i, inflight = 0;

		for (i = 0; i < qd; i++)
			inflight += q[i].busy;
		while (next < n && inflight < qd) {
			for (i = 0; q[i].busy; i++)
				;
			q[i] = (struct nbd_read){ ++c->next_handle,
			    offs[next], lens[next], 1 };
			if (nbd_request(c, NBD_CMD_READ, q[i].handle,
			    q[i].off, q[i].len, NULL) == -1)
				return -1;
			next++;
			inflight++;
		}
		if (nbd_simple_reply(c, &h) == -1)
			return -1;
		for (i = 0; i < qd && !(q[i].busy && q[i].handle == h); i++)
			;
		if (i == qd)
			return failf(c->pi, "nbd: reply to unknown handle %llu",
			    (unsigned long long)h);
		if (nbd_read_all(c, buf, q[i].len, "read data") == -1)
			return -1;
		if (pread(c->tpl, ref, q[i].len, (off_t)q[i].off) !=
		    (ssize_t)q[i].len || memcmp(buf, ref, q[i].len) != 0)
			return failf(c->pi, "nbd: read of %u bytes at %llu "
			    "differs from the image", q[i].len,
			    (unsigned long long)q[i].off);
		c->pi->nbd_read += q[i].len;
		q[i].busy = 0;
		done++;
	}
	return 0;
}

/* The partition table, as the kernel reads it first: root=/dev/nbd0p2. */
static int
nbd_partitions(struct nbd *c)
{
	uint64_t off = 0;
	uint32_t len = 4096;
	uint8_t mbr[SECTOR];
	const uint8_t *e = mbr + 446 + 16;	/* entry 2 */

	if (nbd_reads(c, &off, &len, 1) == -1)
		return -1;
	if (pread(c->tpl, mbr, SECTOR, 0) != SECTOR || mbr[510] != 0x55 ||
	    mbr[511] != 0xaa || e[4] == 0)
		return failf(c->pi, "nbd: no partition 2 in the MBR");
	c->p2_start = (uint64_t)(e[8] | e[9] << 8 | e[10] << 16 |
	    (uint32_t)e[11] << 24) * SECTOR;
	c->p2_size = (uint64_t)(e[12] | e[13] << 8 | e[14] << 16 |
	    (uint32_t)e[15] << 24) * SECTOR;
	if (c->p2_start + c->p2_size > c->size || c->p2_size < (16 << 20))
		return failf(c->pi, "nbd: partition 2 (%llu+%llu) does not "
		    "fit the export (%llu)", (unsigned long long)c->p2_start,
		    (unsigned long long)c->p2_size,
		    (unsigned long long)c->size);
	return 0;
}

/* What the Pi writes: chunk k of its scratch area, the last 4 MiB of
 * partition 2, holds "SERIAL chunk KKKK\n" repeated (20 bytes), cut to
 * 4 KiB x (1 + (k * 7 + serial) % 16). tests/storm/report.py checks the
 * images with the same rule. */
#define SCRATCH (4u << 20)
#define CHUNK_STRIDE (64u * 1024)

static uint32_t
chunk_len(const struct pi *pi, int k)
{
	return 4096u * (1 + (uint32_t)(k * 7 + pi->cf->serial) % 16);
}

static void
chunk_fill(const struct pi *pi, int k, uint8_t *p, uint32_t len)
{
	char rec[32];

	snprintf(rec, sizeof(rec), "%08x chunk %04d\n", pi->cf->serial,
	    k % 10000);
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)rec[i % 20];
}

static int
nbd_writes(struct nbd *c)
{
	static uint8_t buf[CHUNK_STRIDE], back[CHUNK_STRIDE];
	uint64_t base = c->p2_start + c->p2_size - SCRATCH, h;
	int n = c->pi->cf->writes;

	if ((uint64_t)n * CHUNK_STRIDE > SCRATCH)
		n = SCRATCH / CHUNK_STRIDE;
	for (int k = 0; k < n; k++) {
		uint32_t len = chunk_len(c->pi, k);

		chunk_fill(c->pi, k, buf, len);
		if (nbd_request(c, NBD_CMD_WRITE, ++c->next_handle,
		    base + (uint64_t)k * CHUNK_STRIDE, len, buf) == -1 ||
		    nbd_simple_reply(c, &h) == -1)
			return -1;
		c->pi->nbd_written += len;
	}
	if (nbd_request(c, NBD_CMD_FLUSH, ++c->next_handle, 0, 0, NULL) ==
	    -1 || nbd_simple_reply(c, &h) == -1)
		return -1;
	/* Read back what was written: the kernel would see it next. */
	for (int k = 0; k < n; k++) {
		uint32_t len = chunk_len(c->pi, k);

		chunk_fill(c->pi, k, buf, len);
		if (nbd_request(c, NBD_CMD_READ, ++c->next_handle,
		    base + (uint64_t)k * CHUNK_STRIDE, len, NULL) == -1 ||
		    nbd_simple_reply(c, &h) == -1 ||
		    nbd_read_all(c, back, len, "read back") == -1)
			return -1;
		if (memcmp(buf, back, len) != 0)
			return failf(c->pi, "nbd: chunk %d reads back "
			    "different from what was written", k);
		c->pi->nbd_read += len;
	}
	return 0;
}

/* What a boot reads of its root: half scattered 4-128 KiB reads, half
 * sequential runs of 1-4 MiB in 128 KiB requests, all within partition 2
 * outside the scratch area. */
static int
nbd_boot_reads(struct nbd *c)
{
	uint64_t area = c->p2_size - SCRATCH, want = c->pi->cf->read_bytes;
	uint64_t got = 0, *offs;
	uint32_t *lens;
	size_t n = 0, cap = (size_t)(want / 4096) + 64;
	int r;

	if ((offs = calloc(cap, sizeof(*offs))) == NULL ||
	    (lens = calloc(cap, sizeof(*lens))) == NULL) {
		free(offs);
		return failf(c->pi, "out of memory");
	}
	while (got < want && n < cap - 40) {
		if (got < want / 2) {
			uint32_t len = 4096u * (1 + (uint32_t)(rng_next(c->pi) %
			    32));
			uint64_t off = (rng_next(c->pi) % ((area - len) /
			    4096)) * 4096;

			offs[n] = c->p2_start + off;
			lens[n++] = len;
			got += len;
		} else {
			uint64_t run = (1 + rng_next(c->pi) % 4) << 20;
			uint64_t off = (rng_next(c->pi) % ((area - run) /
			    4096)) * 4096;

			for (uint64_t o = 0; o < run && n < cap; o +=
			    NBD_MAX_IO) {
				offs[n] = c->p2_start + off + o;
				lens[n++] = NBD_MAX_IO;
				got += NBD_MAX_IO;
			}
		}
	}
	r = nbd_reads(c, offs, lens, n);
	free(offs);
	free(lens);
	return r;
}

static int
nbd_phase(struct pi *pi)
{
	struct nbd c = { .pi = pi, .fd = -1 };
	char host[128], export[256];
	unsigned port = NBD_PORT;
	struct tcp_info ti;
	socklen_t tl = sizeof(ti);
	int r = -1;

	if (parse_nbdroot(pi, host, sizeof(host), &port, export,
	    sizeof(export)) == -1)
		return -1;
	if ((c.tpl = open(pi->cf->template, O_RDONLY | O_CLOEXEC)) == -1)
		return failf(pi, "template %s: %s", pi->cf->template,
		    strerror(errno));
	if (nbd_connect(&c, host, port) == 0 &&
	    nbd_handshake(&c, export) == 0 &&
	    nbd_partitions(&c) == 0 &&
	    nbd_boot_reads(&c) == 0 &&
	    nbd_writes(&c) == 0) {
		pi->root = since_start(pi);
		r = nbd_request(&c, NBD_CMD_DISC, ++c.next_handle, 0, 0,
		    NULL);
	}
	if (c.fd != -1) {
		if (getsockopt(c.fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0)
			pi->nbd_tcp_retx = ti.tcpi_total_retrans;
		close(c.fd);
	}
	close(c.tpl);
	return r;
}

/* --- the boot ---------------------------------------------------------- */

/* The bootloader starts a network boot with no address: the last
 * attempt's is taken off the interface. */
static int
clear_address(struct pi *pi)
{
	struct ifreq ifr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd == -1)
		return failf(pi, "socket: %s", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", pi->cf->iface);
	sin->sin_family = AF_INET;
	if (ioctl(fd, SIOCSIFADDR, &ifr) == -1 && errno != EADDRNOTAVAIL) {
		failf(pi, "clearing the address of %s: %s", pi->cf->iface,
		    strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	pi->addr.s_addr = 0;
	return 0;
}

/* One network boot, from the first DISCOVER to the root: 0 when the Pi
 * reached it, -1 when the attempt failed (pi->reason says why). */
static int
boot(struct pi *pi)
{
	static int (*const phases[])(struct pi *) = { dhcp_phase, tftp_phase,
	    nbd_phase };
	uint64_t moved = pi->tftp_bytes + pi->nbd_read + pi->nbd_written;

	pi->attempts++;
	pi->reason[0] = '\0';
	pi->kernel_start = -1;
	pi->tftp_wait = 0;
	for (int i = 0; i < PH_DONE; i++)
		pi->t[i][0] = pi->t[i][1] = -1;
	for (pi->phase = PH_DHCP; pi->phase < PH_DONE; pi->phase++) {
		int r;

		pi->t[pi->phase][0] = since_start(pi);
		r = phases[pi->phase](pi);
		pi->t[pi->phase][1] = since_start(pi);
		if (r == -1)
			return -1;
	}
	pi->boot_bytes = pi->tftp_bytes + pi->nbd_read + pi->nbd_written -
	    moved;
	return 0;
}

/* The bootloader's pause between a failed boot and the next one (see
 * the top of this file). */
static void
pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int
read_mac(struct pi *pi)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd == -1)
		return failf(pi, "socket: %s", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", pi->cf->iface);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) == -1) {
		failf(pi, "%s: %s", pi->cf->iface, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	memcpy(pi->mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

/* The common start: -S TIME, or the time written into -G FILE once the
 * harness has started every Pi's process (they all wait for the file, so a
 * slow start of the hundredth process delays none). */
static int
wait_for_start(struct pi *pi, struct config *cf)
{
	double left;

	if (cf->gofile != NULL) {
		struct timespec tick = { 0, 5000000 };
		double give_up = now_mono_ms() + 300000;
		char buf[64];
		ssize_t n;
		int fd;

		while ((fd = open(cf->gofile, O_RDONLY | O_CLOEXEC)) == -1) {
			if (errno != ENOENT || now_mono_ms() > give_up)
				return failf(pi, "start file %s: %s",
				    cf->gofile, strerror(errno));
			nanosleep(&tick, NULL);
		}
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		if ((cf->start = atof(buf)) <= 0)
			return failf(pi, "start file %s: no time in it",
			    cf->gofile);
	}
	left = cf->start - now_real();
	if (left > 0) {
		struct timespec ts = { (time_t)left,
		    (long)((left - (double)(time_t)left) * 1e9) };

		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
	}
	return 0;
}

/* The reason, quoted, and the phases' times of the attempt. */
static void
print_attempt(const struct pi *pi)
{
	printf(" phase=%s reason=\"", phase_names[pi->phase]);
	for (const char *p = pi->reason[0] ? pi->reason : "-"; *p; p++)
		putchar(*p == '"' || *p == '\\' || !isprint((unsigned char)*p) ?
		    '?' : *p);
	putchar('"');
	for (int i = PH_DHCP; i < PH_DONE; i++)
		printf(" %s_start=%.3f %s_end=%.3f", phase_names[i],
		    pi->t[i][0], phase_names[i], pi->t[i][1]);
	printf(" kernel_start=%.3f tftp_wait=%.3f", pi->kernel_start,
	    pi->tftp_wait);
}

/* A failed attempt, before the Pi starts again. */
static void
print_try(const struct pi *pi)
{
	printf("try id=%d n=%d", pi->cf->id, pi->attempts);
	print_attempt(pi);
	putchar('\n');
	fflush(stdout);
}

static void
print_result(const struct pi *pi)
{
	printf("pi id=%d serial=%08x mac=%02x:%02x:%02x:%02x:%02x:%02x "
	    "form=%s addr=%s result=%s attempts=%d",
	    pi->cf->id, pi->cf->serial, pi->mac[0], pi->mac[1], pi->mac[2],
	    pi->mac[3], pi->mac[4], pi->mac[5],
	    pi->cf->old_form ? "old" : "new", inet_ntoa(pi->addr),
	    pi->phase == PH_DONE ? "ok" : "fail", pi->attempts);
	print_attempt(pi);
	printf(" boot_bytes=%llu", (unsigned long long)pi->boot_bytes);
	printf(" root=%.3f discovers=%d requests=%d naks=%d lan_offers=%d "
	    "proxy_offers=%d files=%d "
	    "missing=%d probes=%d tftp_bytes=%llu blocks=%llu dup_data=%d "
	    "dup_oack=%d rrq_retx=%d reack=%d stray=%d nbd_read=%llu "
	    "nbd_written=%llu nbd_reqs=%llu nbd_tcp_retx=%u\n",
	    pi->phase == PH_DONE ? pi->root : -1.0, pi->discovers,
	    pi->requests, pi->naks, pi->offers_lan, pi->offers_proxy,
	    pi->files, pi->missing, pi->probes,
	    (unsigned long long)pi->tftp_bytes,
	    (unsigned long long)pi->blocks, pi->dup_data, pi->dup_oack,
	    pi->rrq_retx, pi->reack, pi->stray,
	    (unsigned long long)pi->nbd_read,
	    (unsigned long long)pi->nbd_written,
	    (unsigned long long)pi->nbd_reqs, pi->nbd_tcp_retx);
	fflush(stdout);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: pi-boot -i IFACE -s SERIAL -R REFDIR -T TEMPLATE "
	    "[-o] [-r REVISION]\n"
	    "    [-n ID] [-S START | -G STARTFILE] [-D DEADLINE] "
	    "[-b READ_BYTES] "
	    "[-w WRITES] [-q QDEPTH]\n"
	    "    [-d DHCP_TIMEOUT] [-e DHCP_REQ_TIMEOUT] "
	    "[-t TFTP_FILE_TIMEOUT] [-a RRQ_RETRY]\n"
	    "    [-x RESTART_MS | -x -1]\n");
	exit(2);
}

static long
num(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || *end || v < lo || v > hi)
		usage();
	return v;
}

int
main(int argc, char *argv[])
{
	struct config cf = { .revision = 0x00c03111, .dhcp_timeout = 45000,
	    .dhcp_req_timeout = 4000, .tftp_file_timeout = 30000,
	    .rrq_retry = 1000, .read_bytes = 4 << 20, .writes = 16,
	    .qdepth = 4, .deadline = 600, .restart_ms = 5000 };
	struct pi pi;
	int ch;

	while ((ch = getopt(argc, argv,
	    "a:b:d:D:e:G:i:n:oq:r:R:s:S:t:T:w:x:"))
	    != -1) {
		switch (ch) {
		case 'a': cf.rrq_retry = (int)num(optarg, 10, 60000); break;
		case 'b': cf.read_bytes = (uint64_t)num(optarg, 0, 1L << 40);
			break;
		case 'd': cf.dhcp_timeout = (int)num(optarg, 5000, 600000);
			break;
		case 'D': cf.deadline = atof(optarg); break;
		case 'e': cf.dhcp_req_timeout = (int)num(optarg, 500, 60000);
			break;
		case 'G': cf.gofile = optarg; break;
		case 'i': cf.iface = optarg; break;
		case 'n': cf.id = (int)num(optarg, 0, 1 << 20); break;
		case 'o': cf.old_form = 1; break;
		case 'q': cf.qdepth = (int)num(optarg, 1, NBD_QMAX); break;
		case 'r': cf.revision = (uint32_t)num(optarg, 0, 0xffffffffL);
			break;
		case 'R': cf.refdir = optarg; break;
		case 's': cf.serial = (uint32_t)num(optarg, 1, 0xffffffffL);
			break;
		case 'S': cf.start = atof(optarg); break;
		case 't': cf.tftp_file_timeout = (int)num(optarg, 5000,
			    600000);
			break;
		case 'T': cf.template = optarg; break;
		case 'w': cf.writes = (int)num(optarg, 0, 64); break;
		case 'x': cf.restart_ms = (int)num(optarg, -1, 600000);
			break;
		default: usage();
		}
	}
	if (optind != argc || cf.iface == NULL || cf.serial == 0 ||
	    cf.refdir == NULL || cf.template == NULL)
		usage();
	if (cf.start == 0 && cf.gofile == NULL)
		cf.start = now_real();

	memset(&pi, 0, sizeof(pi));
	pi.cf = &cf;
	pi.rng = 0x9e3779b97f4a7c15ULL ^ cf.serial;
	for (int i = 0; i < PH_DONE; i++)
		pi.t[i][0] = pi.t[i][1] = -1;
	if (read_mac(&pi) == -1 || wait_for_start(&pi, &cf) == -1) {
		print_result(&pi);
		return 1;
	}
	while (boot(&pi) == -1 && cf.restart_ms >= 0 &&
	    storm_left_ms(&pi) > cf.restart_ms) {
		print_try(&pi);
		pause_ms(cf.restart_ms);
		if (clear_address(&pi) == -1)
			break;
	}
	print_result(&pi);
	return pi.phase == PH_DONE ? 0 : 1;
}
