/* The TFTP wire format: every malformed request the issue lists, option
 * negotiation at and beyond the RFCs' limits, and the packets we build. */
#include <check.h>
#include <string.h>

#include "tftpd/packet.h"
#include "tftpd/proto.h"
#include "tests/unit/check_main.h"

static uint8_t pkt[2048];

/* An RRQ from a list of strings, each written with its NUL. */
static size_t
rrq(const char *const *parts, size_t n)
{
	size_t len = 2;

	pkt[0] = 0;
	pkt[1] = TFTP_RRQ;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(parts[i]) + 1;
		memcpy(pkt + len, parts[i], l);
		len += l;
	}
	return len;
}

#define RRQ(...) ({ const char *const p_[] = { __VA_ARGS__ }; \
	rrq(p_, sizeof(p_) / sizeof(p_[0])); })

static enum packet_status
negotiate(struct tftp_params *p, const char *name, const char *value)
{
	struct tftp_request req;
	const char *why;
	size_t len = RRQ("f", "octet", name, value);

	ck_assert_int_eq(packet_parse_request(pkt, len, &req), PKT_OK);
	return packet_negotiate(&req, p, &why);
}

START_TEST(parse_plain_rrq)
{
	struct tftp_request req;
	size_t len = RRQ("abcd1234/start4.elf", "octet");

	ck_assert_int_eq(packet_parse_request(pkt, len, &req), PKT_OK);
	ck_assert_int_eq(req.opcode, TFTP_RRQ);
	ck_assert_uint_eq(req.filename_len, 19);
	ck_assert_str_eq(req.filename, "abcd1234/start4.elf");
	ck_assert_int_eq(req.netascii, 0);
	ck_assert_uint_eq(req.nopts, 0);
}
END_TEST

START_TEST(parse_pi_probe)
{
	struct tftp_request req;
	struct tftp_params p;
	const char *why;
	size_t len = RRQ("abcd1234/start4.elf", "octet", "tsize", "0",
	    "blksize", "1468");

	ck_assert_int_eq(packet_parse_request(pkt, len, &req), PKT_OK);
	ck_assert_uint_eq(req.nopts, 2);
	ck_assert_int_eq(packet_negotiate(&req, &p, &why), PKT_OK);
	ck_assert_uint_eq(p.blksize, 1468);
	ck_assert(p.tsize_asked && p.blksize_asked);
	ck_assert(!p.windowsize_asked && !p.timeout_asked);
	ck_assert_uint_eq(p.windowsize, 1);
}
END_TEST

START_TEST(parse_modes)
{
	struct tftp_request req;

	ck_assert_int_eq(packet_parse_request(pkt, RRQ("f", "NetASCII"),
	    &req), PKT_OK);
	ck_assert_int_eq(req.netascii, 1);
	ck_assert_int_eq(packet_parse_request(pkt, RRQ("f", "OCTET"), &req),
	    PKT_OK);
	ck_assert_int_eq(req.netascii, 0);
	ck_assert_int_eq(packet_parse_request(pkt, RRQ("f", "mail"), &req),
	    PKT_BAD_MODE);
	ck_assert_int_eq(packet_parse_request(pkt, RRQ("f", "binary"), &req),
	    PKT_BAD_MODE);
	ck_assert_int_eq(packet_parse_request(pkt, RRQ("f", ""), &req),
	    PKT_BAD_MODE);
}
END_TEST

START_TEST(parse_wrq)
{
	struct tftp_request req;
	size_t len = RRQ("x", "octet");

	pkt[1] = TFTP_WRQ;
	ck_assert_int_eq(packet_parse_request(pkt, len, &req), PKT_OK);
	ck_assert_int_eq(req.opcode, TFTP_WRQ);
}
END_TEST

START_TEST(parse_truncated)
{
	struct tftp_request req;
	size_t len = RRQ("file", "octet");

	ck_assert_int_eq(packet_parse_request(pkt, 0, &req), PKT_TRUNCATED);
	ck_assert_int_eq(packet_parse_request(pkt, 1, &req), PKT_TRUNCATED);
	ck_assert_int_eq(packet_parse_request(pkt, 2, &req), PKT_TRUNCATED);
	/* Every cut of a good request fails, none reads past the end. */
	for (size_t cut = 3; cut < len; cut++)
		ck_assert_int_ne(packet_parse_request(pkt, cut, &req), PKT_OK);
	/* Name but no mode. */
	ck_assert_int_eq(packet_parse_request(pkt, 7, &req), PKT_TRUNCATED);
}
END_TEST

START_TEST(parse_missing_nul)
{
	struct tftp_request req;
	size_t len;

	len = RRQ("file", "octet");
	ck_assert_int_eq(packet_parse_request(pkt, len - 1, &req),
	    PKT_NO_NUL);
	len = RRQ("file");
	ck_assert_int_eq(packet_parse_request(pkt, len - 1, &req),
	    PKT_NO_NUL);
	len = RRQ("file", "octet", "blksize", "1468");
	ck_assert_int_eq(packet_parse_request(pkt, len - 1, &req),
	    PKT_NO_NUL);
	/* An option name with no value at all. */
	len = RRQ("file", "octet", "blksize");
	ck_assert_int_eq(packet_parse_request(pkt, len - 1, &req),
	    PKT_NO_NUL);
	ck_assert_int_eq(packet_parse_request(pkt, len, &req), PKT_NO_NUL);
}
END_TEST

START_TEST(parse_unknown_opcodes)
{
	struct tftp_request req;
	size_t len = RRQ("file", "octet");
	const int ops[] = { 0, TFTP_DATA, TFTP_ACK, TFTP_ERROR, TFTP_OACK, 7,
		99, 0xffff };

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		pkt[0] = (uint8_t)(ops[i] >> 8);
		pkt[1] = (uint8_t)ops[i];
		ck_assert_int_eq(packet_parse_request(pkt, len, &req),
		    PKT_BAD_OPCODE);
	}
}
END_TEST

START_TEST(parse_names)
{
	struct tftp_request req;
	char name[1001];

	ck_assert_int_eq(packet_parse_request(pkt, RRQ("", "octet"), &req),
	    PKT_EMPTY_NAME);
	memset(name, 'a', 1000);
	name[1000] = '\0';
	ck_assert_int_eq(packet_parse_request(pkt, RRQ(name, "octet"), &req),
	    PKT_NAME_TOO_LONG);
	name[TFTPD_PATH_MAX] = '\0';
	ck_assert_int_eq(packet_parse_request(pkt, RRQ(name, "octet"), &req),
	    PKT_OK);
	name[TFTPD_PATH_MAX] = 'a';
	name[TFTPD_PATH_MAX + 1] = '\0';
	ck_assert_int_eq(packet_parse_request(pkt, RRQ(name, "octet"), &req),
	    PKT_NAME_TOO_LONG);
}
END_TEST

START_TEST(parse_repeated_options)
{
	struct tftp_request req;

	ck_assert_int_eq(packet_parse_request(pkt, RRQ("f", "octet",
	    "blksize", "512", "blksize", "1468"), &req), PKT_REPEATED_OPTION);
	ck_assert_int_eq(packet_parse_request(pkt, RRQ("f", "octet",
	    "tsize", "0", "TSIZE", "0"), &req), PKT_REPEATED_OPTION);
	ck_assert_int_eq(packet_parse_request(pkt, RRQ("f", "octet",
	    "foo", "1", "foo", "2"), &req), PKT_REPEATED_OPTION);
}
END_TEST

START_TEST(parse_too_many_options)
{
	struct tftp_request req;
	const char *parts[2 + 2 * (TFTPD_OPTIONS_MAX + 1)];
	char names[TFTPD_OPTIONS_MAX + 1][16];
	size_t n = 0;

	parts[n++] = "f";
	parts[n++] = "octet";
	for (int i = 0; i <= TFTPD_OPTIONS_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "x%d", i);
		parts[n++] = names[i];
		parts[n++] = "1";
	}
	ck_assert_int_eq(packet_parse_request(pkt, rrq(parts, n), &req),
	    PKT_TOO_MANY_OPTIONS);
	ck_assert_int_eq(packet_parse_request(pkt, rrq(parts, n - 2), &req),
	    PKT_OK);
}
END_TEST

START_TEST(parse_trailing_padding)
{
	struct tftp_request req;
	size_t len = RRQ("f", "octet", "blksize", "1468");

	pkt[len++] = '\0';
	ck_assert_int_eq(packet_parse_request(pkt, len, &req), PKT_OK);
	ck_assert_uint_eq(req.nopts, 1);
}
END_TEST

START_TEST(negotiate_blksize)
{
	struct tftp_params p;

	ck_assert_int_eq(negotiate(&p, "blksize", "0"), PKT_BAD_OPTION);
	ck_assert_int_eq(negotiate(&p, "blksize", "7"), PKT_BAD_OPTION);
	ck_assert_int_eq(negotiate(&p, "blksize", "8"), PKT_OK);
	ck_assert_uint_eq(p.blksize, 8);
	ck_assert_int_eq(negotiate(&p, "blksize", "65464"), PKT_OK);
	ck_assert_uint_eq(p.blksize, 65464);
	/* Larger than the RFC's range: answered with the most we do. */
	ck_assert_int_eq(negotiate(&p, "blksize", "70000"), PKT_OK);
	ck_assert_uint_eq(p.blksize, TFTP_BLKSIZE_MAX);
	ck_assert_int_eq(negotiate(&p, "BlkSize", "1024"), PKT_OK);
	ck_assert_uint_eq(p.blksize, 1024);
	ck_assert_int_eq(negotiate(&p, "blksize", ""), PKT_BAD_OPTION);
	ck_assert_int_eq(negotiate(&p, "blksize", "-1"), PKT_BAD_OPTION);
	ck_assert_int_eq(negotiate(&p, "blksize", "12x"), PKT_BAD_OPTION);
	ck_assert_int_eq(negotiate(&p, "blksize", " 512"), PKT_BAD_OPTION);
	ck_assert_int_eq(negotiate(&p, "blksize",
	    "99999999999999999999999"), PKT_BAD_OPTION);
}
END_TEST

START_TEST(negotiate_tsize)
{
	struct tftp_params p;

	ck_assert_int_eq(negotiate(&p, "tsize", "0"), PKT_OK);
	ck_assert(p.tsize_asked);
	ck_assert_int_eq(negotiate(&p, "tsize", "abc"), PKT_BAD_OPTION);
	ck_assert_int_eq(negotiate(&p, "tsize", ""), PKT_BAD_OPTION);
	ck_assert_int_eq(negotiate(&p, "tsize", "0x10"), PKT_BAD_OPTION);
}
END_TEST

START_TEST(negotiate_windowsize)
{
	struct tftp_params p;
	struct tftp_request req;
	const char *why;

	ck_assert_int_eq(negotiate(&p, "windowsize", "0"), PKT_BAD_OPTION);
	ck_assert_int_eq(negotiate(&p, "windowsize", "1"), PKT_OK);
	ck_assert_uint_eq(p.windowsize, 1);
	ck_assert_int_eq(negotiate(&p, "windowsize", "16"), PKT_OK);
	ck_assert_uint_eq(p.windowsize, 16);
	ck_assert(p.windowsize_asked);
	ck_assert_int_eq(negotiate(&p, "windowsize", "65535"), PKT_OK);
	ck_assert_uint_eq(p.windowsize, TFTPD_WINDOWSIZE_CAP);
	ck_assert_int_eq(negotiate(&p, "windowsize", "65536"),
	    PKT_BAD_OPTION);
	ck_assert_int_eq(negotiate(&p, "windowsize", "x"), PKT_BAD_OPTION);
	/* The window must fit the memory bound. */
	ck_assert_int_eq(packet_parse_request(pkt, RRQ("f", "octet",
	    "blksize", "65464", "windowsize", "64"), &req), PKT_OK);
	ck_assert_int_eq(packet_negotiate(&req, &p, &why), PKT_OK);
	ck_assert_uint_le((size_t)p.windowsize * p.blksize,
	    TFTPD_WINDOW_BYTES_MAX);
	ck_assert_uint_ge(p.windowsize, 1);
}
END_TEST

START_TEST(negotiate_timeout)
{
	struct tftp_params p;

	ck_assert_int_eq(negotiate(&p, "timeout", "0"), PKT_BAD_OPTION);
	ck_assert_int_eq(negotiate(&p, "timeout", "300"), PKT_BAD_OPTION);
	ck_assert_int_eq(negotiate(&p, "timeout", "256"), PKT_BAD_OPTION);
	ck_assert_int_eq(negotiate(&p, "timeout", "255"), PKT_OK);
	ck_assert_uint_eq(p.timeout, 255);
	ck_assert_int_eq(negotiate(&p, "timeout", "1"), PKT_OK);
	ck_assert_uint_eq(p.timeout, 1);
	ck_assert(p.timeout_asked);
}
END_TEST

START_TEST(negotiate_unknown_ignored)
{
	struct tftp_params p;

	ck_assert_int_eq(negotiate(&p, "multicast", ""), PKT_OK);
	ck_assert(!p.blksize_asked && !p.tsize_asked && !p.timeout_asked &&
	    !p.windowsize_asked);
	ck_assert_uint_eq(p.blksize, 512);
}
END_TEST

START_TEST(ack_parse)
{
	uint8_t a[] = { 0, TFTP_ACK, 0x12, 0x34 };
	uint16_t b = 0;

	ck_assert_int_eq(packet_parse_ack(a, 4, &b), PKT_OK);
	ck_assert_uint_eq(b, 0x1234);
	ck_assert_int_eq(packet_parse_ack(a, 3, &b), PKT_TRUNCATED);
	ck_assert_int_eq(packet_parse_ack(a, 1, &b), PKT_TRUNCATED);
	a[1] = TFTP_DATA;
	ck_assert_int_eq(packet_parse_ack(a, 4, &b), PKT_BAD_OPCODE);
}
END_TEST

START_TEST(error_parse)
{
	uint8_t e[] = { 0, TFTP_ERROR, 0, 0, 'A', 'b', 0x01, 'c' };
	uint16_t code = 9;
	char msg[64];

	/* No terminator: the message ends with the packet. */
	ck_assert_int_eq(packet_parse_error(e, sizeof(e), &code, msg,
	    sizeof(msg)), PKT_OK);
	ck_assert_uint_eq(code, 0);
	ck_assert_str_eq(msg, "Ab?c");
	ck_assert_int_eq(packet_parse_error(e, 3, &code, msg, sizeof(msg)),
	    PKT_TRUNCATED);
	ck_assert_int_eq(packet_parse_error(e, 4, &code, msg, sizeof(msg)),
	    PKT_OK);
	ck_assert_str_eq(msg, "");
	ck_assert_int_eq(packet_parse_error(e, sizeof(e), &code, msg, 3),
	    PKT_OK);
	ck_assert_str_eq(msg, "Ab");
}
END_TEST

START_TEST(build_error)
{
	uint8_t b[64];
	size_t len;
	char longmsg[200];

	len = packet_build_error(b, sizeof(b), TFTP_ENOTFOUND, NULL);
	ck_assert_uint_eq(len, 4 + strlen("File not found") + 1);
	ck_assert_uint_eq(b[1], TFTP_ERROR);
	ck_assert_uint_eq(b[3], TFTP_ENOTFOUND);
	ck_assert_str_eq((char *)b + 4, "File not found");
	memset(longmsg, 'x', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	len = packet_build_error(b, sizeof(b), 0, longmsg);
	ck_assert_uint_eq(len, sizeof(b));
	ck_assert_uint_eq(b[sizeof(b) - 1], 0);
	ck_assert_uint_eq(packet_build_error(b, 4, 0, "x"), 0);
}
END_TEST

START_TEST(build_oack)
{
	struct tftp_params p = { .blksize = 1468, .windowsize = 1,
		.timeout = 1, .blksize_asked = 1, .tsize_asked = 1 };
	const uint8_t want[] = "\0\6blksize\0" "1468\0tsize\0" "3000000";
	uint8_t b[128];
	size_t len;

	len = packet_build_oack(b, sizeof(b), &p, 1, 3000000);
	ck_assert_uint_eq(len, sizeof(want));
	ck_assert_mem_eq(b, want, sizeof(want));
	/* tsize unknown (netascii): left out. */
	len = packet_build_oack(b, sizeof(b), &p, 0, 0);
	ck_assert_uint_eq(len, 2 + sizeof("blksize") + sizeof("1468"));
	/* Does not fit. */
	ck_assert_uint_eq(packet_build_oack(b, 10, &p, 1, 3000000), 0);
	/* Nothing asked: just the opcode. */
	memset(&p, 0, sizeof(p));
	ck_assert_uint_eq(packet_build_oack(b, sizeof(b), &p, 1, 5), 2);
}
END_TEST

START_TEST(build_request_roundtrip)
{
	const char *const opts[] = { "windowsize", "16", "blksize", "1468" };
	struct tftp_request req;
	size_t len;

	len = packet_build_request(pkt, sizeof(pkt), TFTP_RRQ, "a/b",
	    "octet", opts, 2);
	ck_assert_uint_gt(len, 0);
	ck_assert_int_eq(packet_parse_request(pkt, len, &req), PKT_OK);
	ck_assert_str_eq(req.opts[0].name, "windowsize");
	ck_assert_str_eq(req.opts[1].value, "1468");
	ck_assert_uint_eq(packet_build_request(pkt, 5, TFTP_RRQ, "a/b",
	    "octet", opts, 2), 0);
}
END_TEST

START_TEST(data_header)
{
	uint8_t h[4];

	packet_data_header(h, 0xfffe);
	ck_assert_uint_eq(h[0], 0);
	ck_assert_uint_eq(h[1], TFTP_DATA);
	ck_assert_uint_eq(h[2], 0xff);
	ck_assert_uint_eq(h[3], 0xfe);
	ck_assert_int_eq(packet_opcode(h, 1), -1);
	ck_assert_int_eq(packet_opcode(h, 2), TFTP_DATA);
}
END_TEST

static Suite *
packet_suite(void)
{
	Suite *s = suite_create("tftpd_packet");
	TCase *tc = tcase_create("packet");

	tcase_add_test(tc, parse_plain_rrq);
	tcase_add_test(tc, parse_pi_probe);
	tcase_add_test(tc, parse_modes);
	tcase_add_test(tc, parse_wrq);
	tcase_add_test(tc, parse_truncated);
	tcase_add_test(tc, parse_missing_nul);
	tcase_add_test(tc, parse_unknown_opcodes);
	tcase_add_test(tc, parse_names);
	tcase_add_test(tc, parse_repeated_options);
	tcase_add_test(tc, parse_too_many_options);
	tcase_add_test(tc, parse_trailing_padding);
	tcase_add_test(tc, negotiate_blksize);
	tcase_add_test(tc, negotiate_tsize);
	tcase_add_test(tc, negotiate_windowsize);
	tcase_add_test(tc, negotiate_timeout);
	tcase_add_test(tc, negotiate_unknown_ignored);
	tcase_add_test(tc, ack_parse);
	tcase_add_test(tc, error_parse);
	tcase_add_test(tc, build_error);
	tcase_add_test(tc, build_oack);
	tcase_add_test(tc, build_request_roundtrip);
	tcase_add_test(tc, data_header);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(packet_suite)
