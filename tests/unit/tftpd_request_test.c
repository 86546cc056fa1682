/* The request port's decisions (request.c): what each datagram gets
 * (dropped, refused with which TFTP error, opened with which parameters),
 * when the host is asked about, what each outcome of the open gets, the
 * line each is logged with and at which level, and the rate limit on the
 * lines a remote host can cause. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "tftpd/request.h"
#include "tests/unit/check_main.h"

/* The host check, as the listener's: counts its calls. */
struct host {
	int allowed;
	int asked;
};

static int
host_check(void *ctx)
{
	struct host *h = ctx;

	h->asked++;
	return h->allowed;
}

static struct host host;
static struct request_facts facts;
static struct request_decision d;

static void
setup(void)
{
	host = (struct host){ 1, 0 };
	facts = (struct request_facts){ .ntransfers = 0, .max_transfers = 512,
	    .debug = 1, .host_allowed = host_check, .ctx = &host };
}

static void
decide_bytes(const void *buf, size_t len)
{
	host.asked = 0;
	request_decide(buf, len, &facts, &d);
}

/* A request of opcode op for file in mode, with name/value pairs. */
static void
decide_req(int op, const char *file, const char *mode,
    const char *const *opts, size_t nopts)
{
	static uint8_t pkt[2048];
	size_t len;

	len = packet_build_request(pkt, sizeof(pkt), op, file, mode, opts,
	    nopts);
	ck_assert_uint_gt(len, 0);
	decide_bytes(pkt, len);
}

static void
decide_rrq(const char *file, const char *const *opts, size_t nopts)
{
	decide_req(TFTP_RRQ, file, "octet", opts, nopts);
}

#define ASSERT_REFUSED(code, msg) do {					\
	ck_assert_int_eq(d.action, REQUEST_REFUSE);			\
	ck_assert_uint_eq(d.error, (code));				\
	if ((msg) == NULL)						\
		ck_assert_ptr_null(d.message);				\
	else								\
		ck_assert_str_eq(d.message, (msg));			\
} while (0)

#define ASSERT_LINE(lvl, text) do {					\
	ck_assert_int_eq(d.level, (lvl));				\
	ck_assert_str_eq(d.line, (text));				\
} while (0)

START_TEST(stray_packets_are_dropped_unasked)
{
	static const uint8_t stray[][6] = {
		{ 0, TFTP_DATA, 0, 1, 'a', 'b' },
		{ 0, TFTP_ACK, 0, 1, 0, 0 },
		{ 0, TFTP_ERROR, 0, 1, 'x', 0 },
		{ 0, TFTP_OACK, 'b', 0, '1', 0 },
	};
	char want[64];

	for (size_t i = 0; i < 4; i++) {
		/* Whatever the host: a refusal would be an answer. */
		host.allowed = (int)(i % 2);
		decide_bytes(stray[i], i == 1 ? 4 : sizeof(stray[i]));
		ck_assert_int_eq(d.action, REQUEST_DROP);
		ck_assert_int_eq(host.asked, 0);
		snprintf(want, sizeof(want), "opcode %d on the request port, "
		    "dropped", stray[i][1]);
		ASSERT_LINE(LOG_LEVEL_DEBUG, want);
	}
	/* The opcode alone is enough to drop. */
	decide_bytes("\0\3", 2);
	ck_assert_int_eq(d.action, REQUEST_DROP);
}
END_TEST

START_TEST(host_not_served_learns_nothing_else)
{
	static const char *const opts[] = { "blksize", "0" };

	host.allowed = 0;
	/* A good request, a write, a bad option, a malformed packet: the
	 * same refusal, asked once, before anything is parsed. */
	decide_rrq("abcd1234/start4.elf", NULL, 0);
	ASSERT_REFUSED(TFTP_EACCESS,
	    "Access violation: this host is not served");
	ck_assert_int_eq(host.asked, 1);
	ck_assert_str_eq(d.line, "");	/* access_check logged it */
	ck_assert_uint_eq(d.req.filename_len, 0);	/* not even parsed */
	decide_req(TFTP_WRQ, "x", "octet", NULL, 0);
	ASSERT_REFUSED(TFTP_EACCESS,
	    "Access violation: this host is not served");
	decide_rrq("x", opts, 1);
	ASSERT_REFUSED(TFTP_EACCESS,
	    "Access violation: this host is not served");
	decide_bytes("\0\7x\0octet\0", 10);
	ASSERT_REFUSED(TFTP_EACCESS,
	    "Access violation: this host is not served");
	decide_bytes("", 0);
	ASSERT_REFUSED(TFTP_EACCESS,
	    "Access violation: this host is not served");
	ck_assert_int_eq(host.asked, 1);
	/* Busy or not. */
	facts.ntransfers = facts.max_transfers;
	decide_rrq("x", NULL, 0);
	ASSERT_REFUSED(TFTP_EACCESS,
	    "Access violation: this host is not served");
}
END_TEST

/* bytes (len) is refused with code and the parser's reason. */
static void
assert_malformed(const char *bytes, size_t len, uint16_t code,
    const char *why)
{
	char line[64];

	decide_bytes(bytes, len);
	ASSERT_REFUSED(code, why);
	ck_assert_int_eq(host.asked, 1);
	snprintf(line, sizeof(line), "bad request: %s", why);
	ASSERT_LINE(LOG_LEVEL_DEBUG, line);
}

#define MALFORMED(lit, code, why) \
	assert_malformed(lit, sizeof(lit) - 1, code, why)

START_TEST(malformed_requests)
{
	char big[600];

	/* Truncated, and strings without their terminator. */
	MALFORMED("", TFTP_EBADOP, "truncated packet");
	MALFORMED("\0", TFTP_EBADOP, "truncated packet");
	MALFORMED("\0\1", TFTP_EBADOP, "truncated packet");
	MALFORMED("\0\1abcd1234/config.txt", TFTP_EBADOP,
	    "string without terminator");
	MALFORMED("\0\1abcd1234/config.txt\0", TFTP_EBADOP,
	    "truncated packet");
	MALFORMED("\0\1abcd1234/config.txt\0octet", TFTP_EBADOP,
	    "string without terminator");
	MALFORMED("\0\1f\0octet\0blksize", TFTP_EBADOP,
	    "string without terminator");
	MALFORMED("\0\1f\0octet\0blksize\0" "1468", TFTP_EBADOP,
	    "string without terminator");
	MALFORMED("\0\1\0octet\0", TFTP_EBADOP, "empty file name");
	/* Opcodes that are no request. */
	MALFORMED("\0\0f\0octet\0", TFTP_EBADOP, "unknown opcode");
	MALFORMED("\0\7f\0octet\0", TFTP_EBADOP, "unknown opcode");
	MALFORMED("\xff\xff", TFTP_EBADOP, "unknown opcode");
	/* Modes. */
	MALFORMED("\0\1f\0mail\0", TFTP_EBADOP, "unknown transfer mode");
	MALFORMED("\0\1f\0binary\0", TFTP_EBADOP, "unknown transfer mode");
	/* A write request is parsed like a read request. */
	MALFORMED("\0\2f\0mail\0", TFTP_EBADOP, "unknown transfer mode");
	/* Options: repeated (in any case) or too many is a negotiation
	 * failure. */
	MALFORMED("\0\1f\0octet\0blksize\0" "512\0blksize\0" "1468\0",
	    TFTP_EOPTNEG, "repeated option");
	MALFORMED("\0\1f\0octet\0tsize\0" "0\0TSIZE\0" "0\0", TFTP_EOPTNEG,
	    "repeated option");
	{
		static const char *const many[] = {
			"o1", "1", "o2", "1", "o3", "1", "o4", "1", "o5", "1",
			"o6", "1", "o7", "1", "o8", "1", "o9", "1", "o10", "1",
			"o11", "1", "o12", "1", "o13", "1", "o14", "1",
			"o15", "1", "o16", "1",
		};
		uint8_t pkt[512];
		size_t len = packet_build_request(pkt, sizeof(pkt), TFTP_RRQ,
		    "f", "octet", many, 16);

		decide_bytes(pkt, len);
		ck_assert_int_eq(d.action, REQUEST_OPEN);
		memcpy(pkt + len, "o17\0" "1\0", 6);
		assert_malformed((const char *)pkt, len + 6, TFTP_EOPTNEG,
		    "too many options");
	}
	/* A name longer than TFTPD_PATH_MAX. */
	big[0] = 0;
	big[1] = TFTP_RRQ;
	memset(big + 2, 'a', TFTPD_PATH_MAX + 1);
	memcpy(big + 3 + TFTPD_PATH_MAX, "\0octet\0", 7);
	assert_malformed(big, TFTPD_PATH_MAX + 10, TFTP_EBADOP,
	    "file name too long");
	memcpy(big + 2 + TFTPD_PATH_MAX, "\0octet\0", 7);
	decide_bytes(big, TFTPD_PATH_MAX + 9);
	ck_assert_int_eq(d.action, REQUEST_OPEN);
	ck_assert_uint_eq(d.req.filename_len, TFTPD_PATH_MAX);
}
END_TEST

START_TEST(write_requests_refused)
{
	static const char *const bad[] = { "blksize", "0" };

	decide_req(TFTP_WRQ, "abcd1234/new.txt", "octet", NULL, 0);
	ASSERT_REFUSED(TFTP_EACCESS, "Access violation: read-only server");
	ASSERT_LINE(LOG_LEVEL_INFO,
	    "write request for abcd1234/new.txt refused: read-only");
	/* Before its options are looked at, and whatever the load. */
	facts.ntransfers = facts.max_transfers;
	decide_req(TFTP_WRQ, "x", "netascii", bad, 1);
	ASSERT_REFUSED(TFTP_EACCESS, "Access violation: read-only server");
	ASSERT_LINE(LOG_LEVEL_INFO, "write request for x refused: read-only");
}
END_TEST

START_TEST(bad_option_values)
{
	static const char *const cases[][2] = {
		{ "blksize", "0" }, { "blksize", "7" }, { "blksize", "-1" },
		{ "blksize", "" }, { "tsize", "abc" }, { "windowsize", "0" },
		{ "windowsize", "65536" }, { "timeout", "0" },
		{ "timeout", "256" }, { "timeout", "300" }, { "TimeOut", "x" },
	};
	char msg[64], line[128];

	/* Refused before the load is: a full server still says what was
	 * wrong with the options. */
	facts.ntransfers = facts.max_transfers;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *opts[2] = { cases[i][0], cases[i][1] };
		char lower[16];
		size_t k;

		decide_rrq("abcd1234/config.txt", opts, 1);
		for (k = 0; cases[i][0][k] != '\0'; k++)
			lower[k] = (char)(cases[i][0][k] | 0x20);
		lower[k] = '\0';
		snprintf(msg, sizeof(msg), "bad value for option %s", lower);
		ASSERT_REFUSED(TFTP_EOPTNEG, msg);
		snprintf(line, sizeof(line), "abcd1234/config.txt: %s", msg);
		ASSERT_LINE(LOG_LEVEL_DEBUG, line);
	}
}
END_TEST

START_TEST(too_busy_at_exactly_the_limit)
{
	facts.max_transfers = 3;
	facts.ntransfers = 2;
	decide_rrq("abcd1234/start4.elf", NULL, 0);
	ck_assert_int_eq(d.action, REQUEST_OPEN);
	facts.ntransfers = 3;
	decide_rrq("abcd1234/start4.elf", NULL, 0);
	ASSERT_REFUSED(TFTP_EUNDEF,
	    "Server busy: too many transfers, try again");
	ASSERT_LINE(LOG_LEVEL_INFO,
	    "abcd1234/start4.elf refused: 3 transfers running");
	facts.ntransfers = 4;
	decide_rrq("abcd1234/start4.elf", NULL, 0);
	ck_assert_int_eq(d.action, REQUEST_REFUSE);
	facts.max_transfers = 1;
	facts.ntransfers = 0;
	decide_rrq("x", NULL, 0);
	ck_assert_int_eq(d.action, REQUEST_OPEN);
}
END_TEST

START_TEST(opened_with_negotiated_parameters)
{
	static const char *const opts[] = { "tsize", "0", "blksize", "70000",
	    "windowsize", "64", "frobnicate", "1" };

	decide_rrq("/abcd1234/start4.elf", opts, 4);
	ck_assert_int_eq(d.action, REQUEST_OPEN);
	ck_assert_int_eq(host.asked, 1);
	ck_assert_str_eq(d.line, "");
	ck_assert_uint_eq(d.req.filename_len, 20);
	ck_assert(memcmp(d.req.filename, "/abcd1234/start4.elf", 20) == 0);
	ck_assert_int_eq(d.req.netascii, 0);
	ck_assert_uint_eq(d.params.blksize, TFTP_BLKSIZE_MAX);
	ck_assert(d.params.blksize_asked && d.params.tsize_asked &&
	    d.params.windowsize_asked && !d.params.timeout_asked);
	/* 64 blocks of 65464 bytes exceed the window's memory: 16 fit. */
	ck_assert_uint_eq(d.params.windowsize, 16);
	decide_req(TFTP_RRQ, "readme.txt", "NetASCII", NULL, 0);
	ck_assert_int_eq(d.action, REQUEST_OPEN);
	ck_assert_int_eq(d.req.netascii, 1);
	ck_assert_uint_eq(d.params.blksize, TFTP_DEFAULT_BLKSIZE);
	ck_assert_uint_eq(d.params.windowsize, 1);
}
END_TEST

START_TEST(names_cannot_forge_log_lines)
{
	static const char pkt[] = "\0\2a\nb\rc\x7f\x1b[1m\xc3\xa9\0octet\0";

	decide_bytes(pkt, sizeof(pkt) - 1);
	ck_assert_int_eq(d.action, REQUEST_REFUSE);
	/* UTF-8 stays; control bytes do not. */
	ck_assert_ptr_null(strpbrk(d.line, "\n\r\x1b\x7f"));
	ck_assert_str_eq(d.line,
	    "write request for a?b?c?" "?[1m\xc3\xa9 refused: read-only");
	/* The name opened is the one received, byte for byte. */
	decide_bytes("\0\1a\nb\0octet\0", 12);
	ck_assert_int_eq(d.action, REQUEST_OPEN);
	ck_assert(memcmp(d.req.filename, "a\nb", 4) == 0);
	/* A reason may quote the path asked for: the whole line is made
	 * printable. */
	request_opened(&d, SOURCE_BROKEN, "image pi (/srv/pi.img): partition "
	    "1: a\nb: \x1b[2Jbytes per sector 0");
	ASSERT_LINE(LOG_LEVEL_WARN, "a?b: image pi (/srv/pi.img): partition "
	    "1: a?b: ?[2Jbytes per sector 0");
	/* The helper itself: cut to fit, always terminated. */
	char out[4];
	packet_printable(out, sizeof(out), "\tab\ncd", 6);
	ck_assert_str_eq(out, "?ab");
	packet_printable(out, 1, "abc", 3);
	ck_assert_str_eq(out, "");
}
END_TEST

/* A fresh OPEN decision for name, then the open's outcome. */
static void
opened(const char *name, enum source_status st, const char *why)
{
	decide_rrq(name, NULL, 0);
	ck_assert_int_eq(d.action, REQUEST_OPEN);
	request_opened(&d, st, why);
}

START_TEST(each_source_status)
{
	/* Served: nothing changes, nothing to log. */
	opened("abcd1234/start4.elf", SOURCE_OK, "");
	ck_assert_int_eq(d.action, REQUEST_OPEN);
	ck_assert_str_eq(d.line, "");
	/* A miss is quiet; a name that is there but never served is told,
	 * with why. */
	opened("abcd1234/nothere", SOURCE_NOT_FOUND, "");
	ASSERT_REFUSED(TFTP_ENOTFOUND, NULL);
	ASSERT_LINE(LOG_LEVEL_DEBUG, "abcd1234/nothere: not found");
	opened("abcd1234/nothere", SOURCE_NOT_FOUND, NULL);
	ASSERT_LINE(LOG_LEVEL_DEBUG, "abcd1234/nothere: not found");
	opened("abcd1234", SOURCE_NOT_FOUND, "names a boot entry, not a file");
	ASSERT_REFUSED(TFTP_ENOTFOUND, NULL);
	ASSERT_LINE(LOG_LEVEL_INFO,
	    "abcd1234: names a boot entry, not a file: refused");
	/* A broken image: "file not found" for the client, a warning with
	 * the reason for the administrator. */
	opened("abcd1234/start4.elf", SOURCE_BROKEN, "image abcd1234 "
	    "(/srv/pi.img): bad partition table: partitions 1 and 2 overlap");
	ASSERT_REFUSED(TFTP_ENOTFOUND, NULL);
	ASSERT_LINE(LOG_LEVEL_WARN, "abcd1234/start4.elf: image abcd1234 "
	    "(/srv/pi.img): bad partition table: partitions 1 and 2 overlap");
	opened("abcd1234/start4.elf", SOURCE_BROKEN, "");
	ASSERT_REFUSED(TFTP_ENOTFOUND, NULL);
	ASSERT_LINE(LOG_LEVEL_WARN, "abcd1234/start4.elf: its entry cannot be "
	    "read as an image");
	/* Access violations. */
	opened("abcd1234/abs-link", SOURCE_DENIED, "");
	ASSERT_REFUSED(TFTP_EACCESS, NULL);
	ASSERT_LINE(LOG_LEVEL_INFO, "abcd1234/abs-link: access violation");
	opened("abcd1234/x", SOURCE_DENIED, "leaves the directory");
	ASSERT_REFUSED(TFTP_EACCESS, NULL);
	ASSERT_LINE(LOG_LEVEL_INFO,
	    "abcd1234/x: access violation: leaves the directory");
	/* The server's own failure. */
	opened("abcd1234/x", SOURCE_ERROR, "");
	ASSERT_REFUSED(TFTP_EUNDEF, "Cannot open file");
	ASSERT_LINE(LOG_LEVEL_WARN, "abcd1234/x: cannot open");
	opened("abcd1234/x", SOURCE_ERROR, "stat: Input/output error");
	ASSERT_REFUSED(TFTP_EUNDEF, "Cannot open file");
	ASSERT_LINE(LOG_LEVEL_WARN,
	    "abcd1234/x: cannot open: stat: Input/output error");
	/* A status this code does not know is an error, not a file. */
	opened("abcd1234/x", (enum source_status)99, NULL);
	ASSERT_REFUSED(TFTP_EUNDEF, "Cannot open file");
}
END_TEST

/* Without -v, debug lines are not even written: a Pi's many misses cost
 * no formatting. Lines above debug always are. */
START_TEST(debug_lines_only_when_logged)
{
	facts.debug = 0;
	decide_bytes("\0\4\0\1", 4);
	ck_assert_int_eq(d.action, REQUEST_DROP);
	ASSERT_LINE(LOG_LEVEL_DEBUG, "");
	decide_bytes("\0\1f\0mail\0", 10);
	ASSERT_REFUSED(TFTP_EBADOP, "unknown transfer mode");
	ASSERT_LINE(LOG_LEVEL_DEBUG, "");
	opened("abcd1234/nothere", SOURCE_NOT_FOUND, "");
	ASSERT_REFUSED(TFTP_ENOTFOUND, NULL);
	ASSERT_LINE(LOG_LEVEL_DEBUG, "");
	opened("abcd1234", SOURCE_NOT_FOUND, "names a boot entry, not a file");
	ASSERT_LINE(LOG_LEVEL_INFO,
	    "abcd1234: names a boot entry, not a file: refused");
	decide_req(TFTP_WRQ, "x", "octet", NULL, 0);
	ASSERT_LINE(LOG_LEVEL_INFO, "write request for x refused: read-only");
}
END_TEST

START_TEST(reasons_do_not_overflow_the_line)
{
	char name[TFTPD_PATH_MAX + 1], why[SOURCE_WHY_LEN];

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	memset(why, 'w', sizeof(why) - 1);
	why[sizeof(why) - 1] = '\0';
	opened(name, SOURCE_NOT_FOUND, why);
	ck_assert_uint_eq(strlen(d.line), TFTPD_PATH_MAX + 2 +
	    SOURCE_WHY_LEN - 1 + strlen(": refused"));
	opened(name, SOURCE_ERROR, why);
	ck_assert_uint_lt(strlen(d.line), sizeof(d.line));
}
END_TEST

START_TEST(rate_limit)
{
	struct ratelimit rl;
	uint32_t held = 99;
	int ok = 0;

	ratelimit_init(&rl, REQUEST_LOG_BURST, REQUEST_LOG_PER_MIN);
	/* No line: nothing to admit, and nothing counted. */
	decide_rrq("x", NULL, 0);
	ck_assert(!request_log_admit(&d, &rl, 1000, &held));
	ck_assert_uint_eq(held, 0);
	/* Debug lines were asked for (-v): never held back, never counted. */
	opened("x", SOURCE_NOT_FOUND, "");
	for (int i = 0; i < 5000; i++)
		ok += request_log_admit(&d, &rl, 1000, &held);
	ck_assert_int_eq(ok, 5000);
	/* Refusals: the burst, then the rest held back. */
	opened("abcd1234", SOURCE_NOT_FOUND, "names a boot entry, not a file");
	ok = 0;
	for (int i = 0; i < 1000; i++)
		ok += request_log_admit(&d, &rl, 1000, &held);
	ck_assert_int_eq(ok, REQUEST_LOG_BURST);
	/* Any line at info and above draws on the same bucket. */
	opened("abcd1234/x", SOURCE_BROKEN, "image: damaged");
	ck_assert(!request_log_admit(&d, &rl, 1000, &held));
	facts.ntransfers = facts.max_transfers;
	decide_rrq("x", NULL, 0);
	ck_assert(!request_log_admit(&d, &rl, 1000, &held));
	/* A minute on, the next line says how many were held back. */
	ck_assert(request_log_admit(&d, &rl, 1000 + 60000 /
	    REQUEST_LOG_PER_MIN, &held));
	ck_assert_uint_eq(held, 1000 - REQUEST_LOG_BURST + 2);
	/* A flood gets about PER_MIN lines a minute. */
	ok = 0;
	for (uint64_t t = 2000; t < 62000; t += 5)
		ok += request_log_admit(&d, &rl, t, &held);
	ck_assert_int_le(ok, REQUEST_LOG_PER_MIN + 1);
	ck_assert_int_ge(ok, REQUEST_LOG_PER_MIN - 1);
}
END_TEST

static Suite *
request_suite(void)
{
	Suite *s = suite_create("tftpd_request");
	TCase *tc = tcase_create("request");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, stray_packets_are_dropped_unasked);
	tcase_add_test(tc, host_not_served_learns_nothing_else);
	tcase_add_test(tc, malformed_requests);
	tcase_add_test(tc, write_requests_refused);
	tcase_add_test(tc, bad_option_values);
	tcase_add_test(tc, too_busy_at_exactly_the_limit);
	tcase_add_test(tc, opened_with_negotiated_parameters);
	tcase_add_test(tc, names_cannot_forge_log_lines);
	tcase_add_test(tc, each_source_status);
	tcase_add_test(tc, debug_lines_only_when_logged);
	tcase_add_test(tc, reasons_do_not_overflow_the_line);
	tcase_add_test(tc, rate_limit);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(request_suite)
