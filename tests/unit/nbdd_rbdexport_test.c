/* A host's overlay over a shared base in Ceph (an RBD snapshot): the
 * overlay is a local file as over a base file, and the base is read
 * through librbd, here a fake of it (the calls nbdd makes, in
 * struct rbdlib, over an image in memory). Every command against a model
 * of the merged disk; the snapshot never written; BLOCK_STATUS from the
 * snapshot's allocation; large reads of the base never offered to
 * sendfile; the overlay keeping its own handle on the snapshot after the
 * export that made it is closed, and letting go of it and of the cluster
 * when discarded; a read Ceph fails fails the request. */
#include <sys/stat.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "nbdd/export.h"
#include "nbdd/overlay.h"
#include "nbdd/proto.h"
#include "nbdd/rbdexport.h"
#include "tests/unit/check_main.h"
#include "tests/unit/expect.h"
#include "tests/unit/rbdfake.h"

#define B	4096u
#define OBJ	(64u * 1024)	/* the fake's objects */
#define HZ	(NBD_STATE_HOLE | NBD_STATE_ZERO)

static struct rbd_cluster cl;
static struct rbdc_instance inst;

/* --- the test's disk --------------------------------------------------- */

static char root[64], ovldir[96];
static int64_t fake_now = 1000000;

static int64_t
test_clock(void)
{
	return fake_now;
}

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t
below(uint64_t *s, uint64_t n)
{
	return n == 0 ? 0 : rnd(s) % n;
}

static void
setup(void)
{
	uint64_t seed = 9;

	strlcpy(root, "/tmp/nbdd-rbdbase-XXXXXX", sizeof(root));
	ck_assert_ptr_nonnull(mkdtemp(root));
	snprintf(ovldir, sizeof(ovldir), "%s/overlays", root);
	ck_assert_int_eq(mkdir(ovldir, 0700), 0);
	log_init("rbdbase-test", 0, -1);
	rbdfake_init("class", NULL);
	rbdfake.object_size = OBJ;
	rbdfake_cluster(&cl);
	memset(&inst, 0, sizeof(inst));
	inst.refs = 1;		/* the test's own: never freed */
	strlcpy(inst.who, "client.4100 at 127.0.0.1:0/1", sizeof(inst.who));
	/* A snapshot with data in every object but the 2nd and 5th, and a
	 * short last block. */
	rbdfake.size = 8 * OBJ + 1234;
	rbdfake.bytes = calloc(1, rbdfake.size);
	ck_assert_ptr_nonnull(rbdfake.bytes);
	for (uint64_t o = 0; o < rbdfake.size; o += OBJ)
		if (o / OBJ != 1 && o / OBJ != 4)
			for (uint64_t i = o; i < o + OBJ &&
			    i < rbdfake.size; i++)
				rbdfake.bytes[i] = (uint8_t)(rnd(&seed) | 1);
}

static void
teardown(void)
{
	char cmd[128];

	rbdfake_cluster_destroy(&cl);
	rbdfake_destroy();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	ck_assert_int_eq(system(cmd), 0);
}

/* The export as rbdx_open leaves it for rbd:pis/class@v2, without a
 * cluster: its own handle on the snapshot and a reference. */
static void
open_snapshot(struct export *ex)
{
	struct rbd_export *rx = calloc(1, sizeof(*rx));

	ck_assert_ptr_nonnull(rx);
	memset(ex, 0, sizeof(*ex));
	ex->fd = -1;
	strlcpy(ex->name, "class", sizeof(ex->name));
	ck_assert_ptr_null(rbd_target_parse("rbd:pis/class@v2", 16,
	    &ex->rbd_target));
	ex->dev = EXPORT_RBD_DEV;
	ex->ino = (ino_t)rbd_target_key(&ex->rbd_target);
	ex->size = rbdfake.size;
	ex->kind = IMAGE_BASE_SNAPSHOT;
	ex->read_only = 1;
	rx->cl = &cl;
	rx->inst = &inst;
	rx->t = ex->rbd_target;
	rbd_target_str(&rx->t, rx->str, sizeof(rx->str));
	ck_assert_int_eq(cl.lib.rbd_open_read_only(NULL, "class", &rx->image,
	    RBDFAKE_SNAP), 0);
	pthread_mutex_lock(&cl.lock);
	inst.refs++;
	pthread_mutex_unlock(&cl.lock);
	ex->rbd = rx;
}

static void
registry(struct ovl_registry *r, int64_t grace_ms)
{
	struct ovl_limits lim = { .grace_ms = grace_ms };
	char why[256];

	ck_assert_msg(ovl_registry_init(r, ovldir, &lim, test_clock, why,
	    sizeof(why)) == 0, "%s", why);
}

static struct overlay *
get(struct ovl_registry *r, const struct export *ex, const char *host)
{
	char why[256];
	struct overlay *o = ovl_get(r, ex, host, NULL, why, sizeof(why));

	ck_assert_msg(o != NULL, "ovl_get: %s", why);
	return o;
}

static int
all_zero(const uint8_t *p, uint64_t len)
{
	for (uint64_t i = 0; i < len; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/* --- tests ------------------------------------------------------------- */

START_TEST(model)
{
	struct ovl_registry r;
	struct export ex;
	struct overlay *o;
	uint8_t *m, *buf = malloc(256 * 1024), *snap;
	uint64_t seed = 42, size = rbdfake.size;
	struct blk_extent ext[64];

	snap = malloc(size);
	memcpy(snap, rbdfake.bytes, size);
	m = malloc(size);
	memcpy(m, rbdfake.bytes, size);
	registry(&r, 0);
	open_snapshot(&ex);
	o = get(&r, &ex, "10.0.0.5");
	ck_assert_str_eq(rbdfake.snap, "v2");
	/* The export's handle, the overlay's. */
	ck_assert_int_eq(rbdfake.opens, 2);
	ck_assert_uint_eq(ovl_size(o), size);
	for (int i = 0; i < 6000; i++) {
		uint64_t off;
		uint32_t len;
		int op = (int)below(&seed, 8), n;

		len = (uint32_t)(below(&seed, 3) == 0 ? 1 + below(&seed, 3 * B) :
		    1 + below(&seed, 200 * 1024));
		if (len > size)
			len = (uint32_t)size;
		off = below(&seed, size - len + 1);
		if (below(&seed, 3) == 0)
			off = off / B * B;
		switch (op) {
		case 0: case 1:
			for (uint32_t k = 0; k < len; k++)
				buf[k] = (uint8_t)rnd(&seed);
			EXPECT(ovl_write(o, buf, len, off, (int)below(&seed,
			    2)) == 0, "write %u at %llu: %s", len,
			    (unsigned long long)off, strerror(errno));
			memcpy(m + off, buf, len);
			break;
		case 2: case 3: case 4:
			EXPECT(ovl_read(o, buf, len, off) == 0 &&
			    memcmp(buf, m + off, len) == 0, "read %u at %llu",
			    len, (unsigned long long)off);
			break;
		case 5:
			EXPECT(ovl_zero(o, off, len, 0, 0, 0) == 0, "zero");
			memset(m + off, 0, len);
			break;
		case 6:
			EXPECT(ovl_cache(o, off, len) == 0, "cache");
			break;
		default:
			n = ovl_extents(o, off, len, ext, 1 + (int)below(&seed,
			    64));
			EXPECT(n >= 1, "extents %u at %llu: %d", len,
			    (unsigned long long)off, n);
			for (int k = 0; k < n; k++) {
				EXPECT(!(ext[k].flags & NBD_STATE_ZERO) ||
				    all_zero(m + off, ext[k].len), "extent "
				    "%llu+%u said zero but is not",
				    (unsigned long long)off, ext[k].len);
				off += ext[k].len;
			}
			break;
		}
	}
	EXPECT_NONE();
	ck_assert_int_eq(ovl_read(o, buf, 100, size - 100), 0);
	ck_assert_int_eq(memcmp(buf, m + size - 100, 100), 0);
	/* The snapshot was only read. */
	ck_assert_int_eq(memcmp(rbdfake.bytes, snap, size), 0);
	ovl_put(&r, o);
	export_close(&ex);
	ovl_registry_destroy(&r);
	ck_assert_int_eq(rbdfake.opens, 0);
	ck_assert_int_eq(inst.refs, 1);
	free(m);
	free(snap);
	free(buf);
}
END_TEST

START_TEST(extents_and_sendfile)
{
	struct ovl_registry r;
	struct export ex;
	struct overlay *o;
	struct blk_extent e[16];
	uint8_t data[100];
	uint32_t run;

	registry(&r, 0);
	open_snapshot(&ex);
	o = get(&r, &ex, "10.0.0.5");
	/* The snapshot's allocation: object 1 is a hole. */
	ck_assert_int_eq(ovl_extents(o, 0, 3 * OBJ, e, 16), 3);
	ck_assert_uint_eq(e[0].len, OBJ);
	ck_assert_uint_eq(e[0].flags, 0);
	ck_assert_uint_eq(e[1].len, OBJ);
	ck_assert_uint_eq(e[1].flags, HZ);
	ck_assert_uint_eq(e[2].flags, 0);
	/* Written in the overlay: data there now. */
	memset(data, 0xab, sizeof(data));
	ck_assert_int_eq(ovl_write(o, data, 100, OBJ + 10, 0), 0);
	ck_assert_int_eq(ovl_extents(o, OBJ, OBJ, e, 16), 2);
	ck_assert_uint_eq(e[0].len, B);
	ck_assert_uint_eq(e[0].flags, 0);
	ck_assert_uint_eq(e[1].flags, HZ);
	/* The base's bytes are never offered to sendfile: they are in
	 * Ceph; the overlay's are. */
	errno = 0;
	ck_assert_int_eq(ovl_source(o, 0, 10 * B, &run), -1);
	ck_assert_int_eq(errno, ENOTSUP);
	ck_assert_int_ge(ovl_source(o, OBJ, 10 * B, &run), 0);
	ck_assert_uint_eq(run, B);
	ovl_put(&r, o);
	export_close(&ex);
	ovl_registry_destroy(&r);
	ck_assert_int_eq(rbdfake.opens, 0);
}
END_TEST

/* The overlay outlives the connection (the grace period) and the export
 * that made it: it reads the snapshot through a handle of its own, let
 * go of when the overlay is discarded. */
START_TEST(outlives_the_export)
{
	struct ovl_registry r;
	struct export ex;
	struct overlay *o;
	uint8_t buf[3 * B];

	registry(&r, 60000);
	open_snapshot(&ex);
	o = get(&r, &ex, "10.0.0.5");
	ovl_put(&r, o);
	export_close(&ex);
	ck_assert_int_eq(rbdfake.opens, 1);
	ck_assert_int_eq(inst.refs, 2);
	/* The host is back within the grace period: the same overlay. */
	open_snapshot(&ex);
	ck_assert_ptr_eq(get(&r, &ex, "10.0.0.5"), o);
	export_close(&ex);
	ck_assert_int_eq(ovl_read(o, buf, sizeof(buf), 2 * OBJ - B), 0);
	ck_assert_int_eq(memcmp(buf, rbdfake.bytes + 2 * OBJ - B, sizeof(buf)),
	    0);
	/* A read Ceph fails fails the request, with its error. */
	rbdfake.read_rc = -EIO;
	errno = 0;
	ck_assert_int_eq(ovl_read(o, buf, sizeof(buf), 0), -1);
	ck_assert_int_eq(errno, EIO);
	rbdfake.read_rc = 0;
	ovl_put(&r, o);
	fake_now += 60001;
	(void)ovl_expire(&r);
	ck_assert_int_eq(rbdfake.opens, 0);
	ck_assert_int_eq(inst.refs, 1);
	ovl_registry_destroy(&r);
}
END_TEST

static Suite *
rbdbase_suite(void)
{
	Suite *s = suite_create("nbdd_rbdbase");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, model);
	tcase_add_test(tc, extents_and_sendfile);
	tcase_add_test(tc, outlives_the_export);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(rbdbase_suite)
