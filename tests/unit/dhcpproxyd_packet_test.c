/* dhcpproxyd's packet layer: parsing, bad input, and the proxy reply. */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "dhcpproxyd/dhcp.h"
#include "dhcpproxyd_pkt.h"

static struct dhcp_msg *m;

static void
setup(void)
{
	m = malloc(sizeof(*m));
	ck_assert_ptr_nonnull(m);
}

static void
teardown(void)
{
	free(m);
}

START_TEST(parse_pi_discover)
{
	struct pkt p;
	const uint8_t *v;
	size_t len;

	pkt_pi_discover(&p, test_mac, 0, 0xabcd1234);
	ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_OK);
	ck_assert_int_eq(m->op, BOOTREQUEST);
	ck_assert_uint_eq(m->xid, 0x12345678);
	ck_assert_uint_eq(m->flags, DHCP_FLAG_BROADCAST);
	ck_assert_int_eq(m->msg_type, DHCPDISCOVER);
	ck_assert_mem_eq(m->chaddr, test_mac, 6);
	ck_assert(dhcp_is_pxe(m));
	ck_assert(!dhcp_is_ipxe(m));
	ck_assert_int_eq(dhcp_client_arch(m), 0);
	v = dhcp_opt(m, OPT_CLIENT_UUID, &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(len, 17);
	ck_assert_mem_eq(v + 1, "RPi4", 4);
	ck_assert_ptr_null(dhcp_opt(m, OPT_ROUTER, &len));
}
END_TEST

START_TEST(bad_short)
{
	struct pkt p;

	pkt_pi_discover(&p, test_mac, 0, 1);
	ck_assert_int_eq(dhcp_parse(p.b, 0, m), DHCP_ERR_SHORT);
	ck_assert_int_eq(dhcp_parse(p.b, 100, m), DHCP_ERR_SHORT);
	ck_assert_int_eq(dhcp_parse(p.b, DHCP_OFF_OPTIONS, m), DHCP_ERR_SHORT);
	/* Header, cookie and a bare end option is the least we take. */
	pkt_init(&p, test_mac);
	pkt_end(&p);
	ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_OK);
	ck_assert_int_eq(m->msg_type, 0);
}
END_TEST

START_TEST(bad_long)
{
	struct pkt p;

	pkt_pi_discover(&p, test_mac, 0, 1);
	ck_assert_int_eq(dhcp_parse(p.b, DHCP_MAX_LEN + 1, m), DHCP_ERR_LONG);
	/* Trailing padding up to the limit is fine. */
	ck_assert_int_eq(dhcp_parse(p.b, DHCP_MAX_LEN, m), DHCP_OK);
}
END_TEST

START_TEST(bad_header)
{
	struct pkt p;

	pkt_pi_discover(&p, test_mac, 0, 1);
	p.b[DHCP_OFF_OP] = 3;
	ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_ERR_OP);
	p.b[DHCP_OFF_OP] = 0;
	ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_ERR_OP);
	p.b[DHCP_OFF_OP] = BOOTREQUEST;
	p.b[DHCP_OFF_HTYPE] = 6;
	ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_ERR_HTYPE);
	p.b[DHCP_OFF_HTYPE] = HTYPE_ETHER;
	p.b[DHCP_OFF_HLEN] = 16;
	ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_ERR_HLEN);
	p.b[DHCP_OFF_HLEN] = HLEN_ETHER;
	p.b[DHCP_OFF_COOKIE + 3] = 0;
	ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_ERR_COOKIE);
}
END_TEST

START_TEST(bad_option_overrun)
{
	struct pkt p;

	pkt_init(&p, test_mac);
	pkt_type(&p, DHCPDISCOVER);
	p.b[p.n++] = OPT_VENDOR;
	p.b[p.n++] = 200;
	memset(p.b + p.n, 'A', 8);
	p.n += 8;
	ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_ERR_TRUNCATED);
	/* A code with no room for its length byte. */
	pkt_init(&p, test_mac);
	pkt_type(&p, DHCPDISCOVER);
	p.b[p.n++] = OPT_VENDOR;
	ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_ERR_TRUNCATED);
	/* Exactly at the end, with no end option after it. */
	pkt_init(&p, test_mac);
	pkt_opt(&p, OPT_VENDOR, "abc", 3);
	ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_ERR_NO_END);
}
END_TEST

START_TEST(bad_no_end)
{
	struct pkt p;

	pkt_init(&p, test_mac);
	pkt_type(&p, DHCPDISCOVER);
	pkt_opt(&p, OPT_VENDOR_CLASS, "PXEClient", 9);
	ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_ERR_NO_END);
	/* Pad bytes are not an end either. */
	p.b[p.n++] = OPT_PAD;
	p.b[p.n++] = OPT_PAD;
	ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_ERR_NO_END);
}
END_TEST

START_TEST(overload_file_options)
{
	struct pkt p;
	uint8_t ov = OVERLOAD_FILE;
	const uint8_t *v;
	size_t len;

	pkt_init(&p, test_mac);
	pkt_type(&p, DHCPDISCOVER);
	pkt_opt(&p, OPT_OVERLOAD, &ov, 1);
	pkt_end(&p);
	/* The file field holds option 60 and an end. */
	p.b[DHCP_OFF_FILE] = OPT_VENDOR_CLASS;
	p.b[DHCP_OFF_FILE + 1] = 9;
	memcpy(p.b + DHCP_OFF_FILE + 2, "PXEClient", 9);
	p.b[DHCP_OFF_FILE + 11] = OPT_END;
	ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_OK);
	ck_assert_int_eq(m->overload, OVERLOAD_FILE);
	ck_assert(dhcp_is_pxe(m));
	ck_assert_str_eq(m->file, "");
	v = dhcp_opt(m, OPT_VENDOR_CLASS, &len);
	ck_assert_uint_eq(len, 9);
	ck_assert_mem_eq(v, "PXEClient", 9);
}
END_TEST

START_TEST(overload_sname_concatenates)
{
	struct pkt p;
	uint8_t ov = OVERLOAD_BOTH;
	const uint8_t *v;
	size_t len;

	pkt_init(&p, test_mac);
	pkt_type(&p, DHCPDISCOVER);
	pkt_opt(&p, OPT_VENDOR_CLASS, "PXE", 3);
	pkt_opt(&p, OPT_OVERLOAD, &ov, 1);
	pkt_end(&p);
	/* RFC 3396: options field, then file, then sname. */
	memcpy(p.b + DHCP_OFF_FILE, "\x3c\x03" "Cli\xff", 6);
	memcpy(p.b + DHCP_OFF_SNAME, "\x3c\x03" "ent\x34\x01\x02\xff", 9);
	ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_OK);
	v = dhcp_opt(m, OPT_VENDOR_CLASS, &len);
	ck_assert_uint_eq(len, 9);
	ck_assert_mem_eq(v, "PXEClient", 9);
	/* Option 52 inside an overloaded field is ignored. */
	ck_assert_uint_eq(m->opt_len[OPT_OVERLOAD], 1);
	ck_assert_int_eq(m->overload, OVERLOAD_BOTH);
}
END_TEST

START_TEST(bad_overload)
{
	struct pkt p;
	uint8_t ov = OVERLOAD_FILE, two[2] = { 1, 1 };

	/* Option 52 pointing at garbage: an option longer than the field. */
	pkt_init(&p, test_mac);
	pkt_type(&p, DHCPDISCOVER);
	pkt_opt(&p, OPT_OVERLOAD, &ov, 1);
	pkt_end(&p);
	p.b[DHCP_OFF_FILE] = OPT_VENDOR;
	p.b[DHCP_OFF_FILE + 1] = 250;
	ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_ERR_TRUNCATED);
	/* File field of zeros: all pad, no end. */
	memset(p.b + DHCP_OFF_FILE, 0, DHCP_FILE_LEN);
	ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_ERR_NO_END);
	/* Values other than 1, 2, 3; wrong length; duplicated. */
	for (int bad = 0; bad < 256; bad += 4) {
		uint8_t b = (uint8_t)bad;

		pkt_init(&p, test_mac);
		pkt_opt(&p, OPT_OVERLOAD, &b, 1);
		pkt_end(&p);
		ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_ERR_OVERLOAD);
	}
	pkt_init(&p, test_mac);
	pkt_opt(&p, OPT_OVERLOAD, two, 2);
	pkt_end(&p);
	ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_ERR_OVERLOAD);
	pkt_init(&p, test_mac);
	pkt_opt(&p, OPT_OVERLOAD, &ov, 1);
	pkt_opt(&p, OPT_OVERLOAD, &ov, 1);
	pkt_end(&p);
	ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_ERR_OVERLOAD);
	pkt_init(&p, test_mac);
	pkt_opt(&p, OPT_OVERLOAD, "", 0);
	pkt_end(&p);
	ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_ERR_OVERLOAD);
}
END_TEST

START_TEST(long_options)
{
	struct pkt p;
	uint8_t big[255];
	const uint8_t *v;
	size_t len;

	memset(big, 0x42, sizeof(big));
	big[0] = 0;
	pkt_init(&p, test_mac);
	pkt_type(&p, DHCPDISCOVER);
	pkt_opt(&p, OPT_VENDOR_CLASS, "PXEClient", 9);
	pkt_opt(&p, OPT_VENDOR, big, 255);
	pkt_opt(&p, OPT_CLIENT_UUID, big, 255);
	pkt_end(&p);
	ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_OK);
	v = dhcp_opt(m, OPT_VENDOR, &len);
	ck_assert_uint_eq(len, 255);
	ck_assert_int_eq(v[254], 0x42);
	ck_assert_ptr_nonnull(dhcp_opt(m, OPT_CLIENT_UUID, &len));
	ck_assert_uint_eq(len, 255);
}
END_TEST

START_TEST(duplicates)
{
	struct pkt p;
	uint8_t t = DHCPDISCOVER;
	const uint8_t *v;
	size_t len;

	/* Two option 53s join into two bytes: not a message type. */
	pkt_init(&p, test_mac);
	pkt_type(&p, DHCPDISCOVER);
	pkt_opt(&p, OPT_MSG_TYPE, &t, 1);
	pkt_end(&p);
	ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_ERR_MSG_TYPE);
	/* Option 97 split in two is joined back (RFC 3396). */
	pkt_init(&p, test_mac);
	pkt_type(&p, DHCPDISCOVER);
	pkt_opt(&p, OPT_VENDOR_CLASS, "PXE", 3);
	pkt_opt(&p, OPT_CLIENT_UUID, "\0RPi4abcd", 9);
	pkt_opt(&p, OPT_VENDOR_CLASS, "Client", 6);
	pkt_opt(&p, OPT_CLIENT_UUID, "efgh\x34\x12\xcd\xab", 8);
	pkt_end(&p);
	ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_OK);
	v = dhcp_opt(m, OPT_CLIENT_UUID, &len);
	ck_assert_uint_eq(len, 17);
	ck_assert_mem_eq(v, "\0RPi4abcdefgh\x34\x12\xcd\xab", 17);
	ck_assert(dhcp_is_pxe(m));
	/* Two zero-length options: present, empty. */
	pkt_init(&p, test_mac);
	pkt_opt(&p, 80, "", 0);
	pkt_opt(&p, 80, "", 0);
	pkt_end(&p);
	ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_OK);
	ck_assert_ptr_nonnull(dhcp_opt(m, 80, &len));
	ck_assert_uint_eq(len, 0);
}
END_TEST

START_TEST(classes_and_arch)
{
	struct pkt p;

	pkt_init(&p, test_mac);
	pkt_opt(&p, OPT_VENDOR_CLASS, "PXEClien", 8);
	pkt_opt(&p, OPT_USER_CLASS, "iPXE", 4);
	pkt_opt(&p, OPT_CLIENT_ARCH, "\0\x07\0\x09", 4);
	pkt_end(&p);
	ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_OK);
	ck_assert(!dhcp_is_pxe(m));
	ck_assert(dhcp_is_ipxe(m));
	ck_assert_int_eq(dhcp_client_arch(m), 7);
	/* RFC 3004 list form, and malformed ones. */
	pkt_init(&p, test_mac);
	pkt_opt(&p, OPT_USER_CLASS, "\x03" "abc" "\x04" "iPXE", 9);
	pkt_opt(&p, OPT_CLIENT_ARCH, "\0", 1);
	pkt_end(&p);
	ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_OK);
	ck_assert(dhcp_is_ipxe(m));
	ck_assert_int_eq(dhcp_client_arch(m), -1);
	pkt_init(&p, test_mac);
	pkt_opt(&p, OPT_USER_CLASS, "\x09" "iPXE", 5);
	pkt_end(&p);
	ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_OK);
	ck_assert(!dhcp_is_ipxe(m));
}
END_TEST

static struct dhcp_reply_params
params(void)
{
	struct dhcp_reply_params p;

	memset(&p, 0, sizeof(p));
	p.msg_type = DHCPOFFER;
	p.server_id = inet_addr("192.168.0.4");
	p.tftp_addr = inet_addr("192.168.0.4");
	return p;
}

START_TEST(reply_for_pi)
{
	static const uint8_t want43[] = {
		6, 1, 3,
		10, 4, 0, 'P', 'X', 'E',
		9, 20, 0, 0, 17, 'R', 'a', 's', 'p', 'b', 'e', 'r', 'r', 'y',
		' ', 'P', 'i', ' ', 'B', 'o', 'o', 't',
		255,
	};
	struct dhcp_reply_params rp = params();
	struct pkt p;
	struct dhcp_msg *r = malloc(sizeof(*r));
	uint8_t out[DHCP_MAX_LEN];
	const uint8_t *v, *v97;
	size_t len, len97, n;

	ck_assert_ptr_nonnull(r);
	pkt_pi_discover(&p, test_mac, 0, 0xabcd1234);
	p.b[DHCP_OFF_GIADDR] = 10;
	ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_OK);
	n = dhcp_build_reply(m, &rp, out, sizeof(out));
	ck_assert_uint_ge(n, DHCP_MIN_REPLY_LEN);
	ck_assert_int_eq(dhcp_parse(out, n, r), DHCP_OK);
	ck_assert(dhcp_is_proxy_reply(r));
	ck_assert_int_eq(r->op, BOOTREPLY);
	ck_assert_int_eq(r->msg_type, DHCPOFFER);
	ck_assert_uint_eq(r->yiaddr, 0);
	ck_assert_uint_eq(r->siaddr, inet_addr("192.168.0.4"));
	ck_assert_uint_eq(r->giaddr, m->giaddr);
	ck_assert_uint_eq(r->xid, 0x12345678);
	ck_assert_uint_eq(r->flags, DHCP_FLAG_BROADCAST);
	ck_assert_mem_eq(r->chaddr, test_mac, 6);
	v = dhcp_opt(r, OPT_SERVER_ID, &len);
	ck_assert_uint_eq(len, 4);
	ck_assert_mem_eq(v, &rp.server_id, 4);
	v = dhcp_opt(r, OPT_VENDOR_CLASS, &len);
	ck_assert_uint_eq(len, 9);
	ck_assert_mem_eq(v, "PXEClient", 9);
	v = dhcp_opt(r, OPT_VENDOR, &len);
	ck_assert_uint_eq(len, sizeof(want43));
	ck_assert_mem_eq(v, want43, sizeof(want43));
	v = dhcp_opt(r, OPT_CLIENT_UUID, &len);
	v97 = dhcp_opt(m, OPT_CLIENT_UUID, &len97);
	ck_assert_uint_eq(len, 17);
	ck_assert_mem_eq(v, v97, 17);
	ck_assert_ptr_null(dhcp_opt(r, OPT_TFTP_SERVER, &len));
	ck_assert_ptr_null(dhcp_opt(r, OPT_BOOTFILE, &len));
	ck_assert_ptr_null(dhcp_opt(r, OPT_LEASE_TIME, &len));
	ck_assert_str_eq(r->file, "");
	free(r);
}
END_TEST

START_TEST(reply_options)
{
	struct dhcp_reply_params rp = params();
	struct pkt p;
	struct dhcp_msg *r = malloc(sizeof(*r));
	uint8_t out[DHCP_MAX_LEN];
	const uint8_t *v;
	size_t len, n;

	ck_assert_ptr_nonnull(r);
	pkt_pi_discover(&p, test_mac, 1, 0xabcd1234);
	ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_OK);
	rp.msg_type = DHCPACK;
	rp.send_opt66 = 1;
	rp.menu_text = "Raspberry Pi Boot   ";
	rp.bootfile = "ipxe.efi";
	n = dhcp_build_reply(m, &rp, out, sizeof(out));
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(dhcp_parse(out, n, r), DHCP_OK);
	ck_assert(dhcp_is_proxy_reply(r));
	ck_assert_int_eq(r->msg_type, DHCPACK);
	v = dhcp_opt(r, OPT_TFTP_SERVER, &len);
	ck_assert_uint_eq(len, 11);
	ck_assert_mem_eq(v, "192.168.0.4", 11);
	v = dhcp_opt(r, OPT_BOOTFILE, &len);
	ck_assert_uint_eq(len, 8);
	ck_assert_mem_eq(v, "ipxe.efi", 8);
	ck_assert_str_eq(r->file, "ipxe.efi");
	v = dhcp_opt(r, OPT_VENDOR, &len);
	/* Discovery control says: boot the file in this packet. */
	ck_assert_int_eq(v[2], 0x0b);
	ck_assert_int_eq(v[13], 20);
	ck_assert_mem_eq(v + 14, "Raspberry Pi Boot   ", 20);
	free(r);
}
END_TEST

START_TEST(reply_refuses)
{
	struct dhcp_reply_params rp = params();
	struct pkt p;
	uint8_t out[DHCP_MAX_LEN], big[300];
	char menu[PXE_MENU_TEXT_MAX + 2], file[DHCP_FILE_LEN + 1];
	const uint8_t *v;
	size_t len, n;

	pkt_init(&p, test_mac);
	pkt_type(&p, DHCPDISCOVER);
	memset(big, 0x55, sizeof(big));
	big[0] = 0;
	/* A 255-byte option 97 is not echoed: not RFC 4578's form. */
	pkt_opt(&p, OPT_CLIENT_UUID, big, 255);
	pkt_end(&p);
	ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_OK);
	n = dhcp_build_reply(m, &rp, out, sizeof(out));
	ck_assert_uint_eq(n, DHCP_MIN_REPLY_LEN);
	{
		struct dhcp_msg *r = malloc(sizeof(*r));

		ck_assert_ptr_nonnull(r);
		ck_assert_int_eq(dhcp_parse(out, n, r), DHCP_OK);
		ck_assert_ptr_null(dhcp_opt(r, OPT_CLIENT_UUID, &len));
		free(r);
	}
	memset(menu, 'x', sizeof(menu));
	menu[PXE_MENU_TEXT_MAX] = '\0';
	rp.menu_text = menu;
	ck_assert_uint_gt(dhcp_build_reply(m, &rp, out, sizeof(out)), 0);
	menu[PXE_MENU_TEXT_MAX] = 'x';
	menu[PXE_MENU_TEXT_MAX + 1] = '\0';
	ck_assert_uint_eq(dhcp_build_reply(m, &rp, out, sizeof(out)), 0);
	rp = params();
	memset(file, 'f', sizeof(file));
	file[DHCP_FILE_LEN] = '\0';
	rp.bootfile = file;
	ck_assert_uint_eq(dhcp_build_reply(m, &rp, out, sizeof(out)), 0);
	file[DHCP_FILE_LEN - 1] = '\0';
	ck_assert_uint_gt(dhcp_build_reply(m, &rp, out, sizeof(out)), 0);
	rp = params();
	rp.msg_type = DHCPNAK;
	ck_assert_uint_eq(dhcp_build_reply(m, &rp, out, sizeof(out)), 0);
	rp.msg_type = DHCPOFFER;
	ck_assert_uint_eq(dhcp_build_reply(m, &rp, out, 299), 0);
	(void)v;
}
END_TEST

START_TEST(not_proxy_reply)
{
	struct pkt p;
	uint32_t lease = 3600;

	pkt_init(&p, test_mac);
	p.b[DHCP_OFF_OP] = BOOTREPLY;
	pkt_type(&p, DHCPOFFER);
	pkt_end(&p);
	ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_OK);
	ck_assert(dhcp_is_proxy_reply(m));
	p.b[DHCP_OFF_YIADDR] = 10;
	ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_OK);
	ck_assert(!dhcp_is_proxy_reply(m));
	p.b[DHCP_OFF_YIADDR] = 0;
	p.n--;
	pkt_opt(&p, OPT_LEASE_TIME, &lease, 4);
	pkt_end(&p);
	ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_OK);
	ck_assert(!dhcp_is_proxy_reply(m));
}
END_TEST

static Suite *
packet_suite(void)
{
	Suite *s = suite_create("dhcpproxyd_packet");
	TCase *tc = tcase_create("packet");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, parse_pi_discover);
	tcase_add_test(tc, bad_short);
	tcase_add_test(tc, bad_long);
	tcase_add_test(tc, bad_header);
	tcase_add_test(tc, bad_option_overrun);
	tcase_add_test(tc, bad_no_end);
	tcase_add_test(tc, overload_file_options);
	tcase_add_test(tc, overload_sname_concatenates);
	tcase_add_test(tc, bad_overload);
	tcase_add_test(tc, long_options);
	tcase_add_test(tc, duplicates);
	tcase_add_test(tc, classes_and_arch);
	tcase_add_test(tc, reply_for_pi);
	tcase_add_test(tc, reply_options);
	tcase_add_test(tc, reply_refuses);
	tcase_add_test(tc, not_proxy_reply);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(packet_suite)
