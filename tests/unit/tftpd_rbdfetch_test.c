/* The workers that read files in Ceph away from the event loop
 * (rbdfetch.c), over the fake librbd: a job comes back through the
 * eventfd with the whole file in memory (bytes equal to mcopy's), or with
 * the status and reason of a refusal or of a read Ceph failed (naming the
 * image and the cause); a snapshot's file shared while a transfer holds
 * it, an image's never; jobs not begun when the workers stop come back
 * refused; nothing is held after. */
#include <poll.h>

#include "tests/unit/tftpd_rbd_fixture.h"
#include "tests/unit/check_main.h"
#include "tftpd/rbdfetch.h"

static struct rbdfetch f;

static void
setup(void)
{
	char why[256];

	rbd_setup();
	ck_assert_int_eq(rbdfetch_start(&f, &cl, why, sizeof(why)), 0);
}

static void
teardown(void)
{
	rbdfetch_stop(&f);
	ck_assert_ptr_null(rbdfetch_take(&f));
	rbd_teardown();
}

static void
job_for(struct rbdfetch_job *j, const char *spec, const char *path)
{
	memset(j, 0, sizeof(*j));
	ck_assert_ptr_null(rbd_target_parse(spec, strlen(spec), &j->target));
	strlcpy(j->entry, "aaaa0001", sizeof(j->entry));
	strlcpy(j->path, path, sizeof(j->path));
	snprintf(j->name, sizeof(j->name), "aaaa0001/%s", path);
}

/* Submits j and waits for it through the eventfd, as the loop does. */
static void
run(struct rbdfetch_job *j)
{
	struct pollfd p = { .fd = f.efd, .events = POLLIN };
	struct rbdfetch_job *back = NULL;

	rbdfetch_submit(&f, j);
	while (back == NULL) {
		ck_assert_int_eq(poll(&p, 1, 10000), 1);
		back = rbdfetch_take(&f);
	}
	ck_assert_ptr_eq(back, j);
	ck_assert_ptr_null(back->next);
}

START_TEST(whole_file)
{
	struct rbdfetch_job j;
	uint8_t *want, *got;
	size_t wlen;
	uint64_t off = 0;

	fx_sh("rm -f want.bin && mcopy -n -i pi.img@@1M ::start4.elf want.bin");
	want = fx_slurp(fx_path("want.bin"), &wlen);
	job_for(&j, "rbd:pis/class@v2", "start4.elf");
	run(&j);
	ck_assert_int_eq(j.st, SOURCE_OK);
	ck_assert_str_eq(j.why, "");
	ck_assert_str_eq(j.src->name, "aaaa0001/start4.elf");
	ck_assert_uint_eq(j.src->size, wlen);
	got = malloc(wlen);
	while (off < wlen) {
		ssize_t n = source_read(j.src, got + off, 1468, off);
		ck_assert_int_gt(n, 0);
		off += (uint64_t)n;
	}
	ck_assert_int_eq(source_read(j.src, got, 1468, off), 0);
	ck_assert_int_eq(memcmp(got, want, wlen), 0);
	/* In memory: the cluster failing now changes nothing. */
	rbdfake.read_rc = -ETIMEDOUT;
	ck_assert_int_eq(source_read(j.src, got, 1468, 0), 1468);
	source_close(j.src);
	free(got);
	free(want);
}
END_TEST

START_TEST(refused)
{
	struct rbdfetch_job j;

	job_for(&j, "rbd:pis/gone", "config.txt");
	run(&j);
	ck_assert_int_eq(j.st, SOURCE_BROKEN);
	ck_assert_ptr_null(j.src);
	ck_assert_str_eq(j.why, "image aaaa0001 (rbd:pis/gone): no image gone "
	    "in pool pis of the Ceph cluster");
	job_for(&j, "rbd:pis/class", "nosuch.txt");
	run(&j);
	ck_assert_int_eq(j.st, SOURCE_NOT_FOUND);
	ck_assert_str_eq(j.why, "");
}
END_TEST

/* Ceph fails a read: SOURCE_ERROR, the reason naming the image, the file
 * and the cause, for the request port's rate-limited line. */
START_TEST(read_fails)
{
	struct rbdfetch_job j;

	/* Opened (and cached) first, so the failure is a read's. */
	job_for(&j, "rbd:pis/class", "config.txt");
	run(&j);
	ck_assert_int_eq(j.st, SOURCE_OK);
	source_close(j.src);
	rbdfake.read_rc = -ETIMEDOUT;
	for (int i = 0; i < RBDFETCH_WORKERS + 1; i++) {
		job_for(&j, "rbd:pis/class", "start4.elf");
		run(&j);
		ck_assert_int_eq(j.st, SOURCE_ERROR);
		ck_assert_ptr_null(j.src);
		ck_assert_msg(strstr(j.why, "image aaaa0001 (rbd:pis/class)") !=
		    NULL && strstr(j.why, "Connection timed out") != NULL,
		    "why: %s", j.why);
	}
	rbdfake.read_rc = 0;
	job_for(&j, "rbd:pis/class", "config.txt");
	run(&j);
	ck_assert_int_eq(j.st, SOURCE_OK);
	source_close(j.src);
}
END_TEST

/* A snapshot's file, while a transfer holds it, is the next request's
 * too, read no more; the image's own files never are; once the last
 * transfer lets go, the bytes are gone. */
START_TEST(snapshot_files_shared)
{
	struct rbdfetch_job a, b, c;
	struct source *s2, *s3;
	uint8_t x[4096], y[4096];
	int reads;

	job_for(&a, "rbd:pis/class@v2", "start4.elf");
	run(&a);
	ck_assert_int_eq(a.st, SOURCE_OK);
	rbdfetch_share(&f, &a);
	job_for(&b, "rbd:pis/class@v2", "start4.elf");
	strlcpy(b.name, "bbbb0002/start4.elf", sizeof(b.name));
	reads = rbdfake.opened;
	ck_assert_int_eq(rbdfetch_shared(&f, &b, &s2), 0);
	ck_assert_int_eq(rbdfake.opened, reads);
	ck_assert_str_eq(s2->name, "bbbb0002/start4.elf");
	ck_assert_uint_eq(s2->size, a.src->size);
	ck_assert_int_eq(source_read(a.src, x, sizeof(x), 8192), 4096);
	ck_assert_int_eq(source_read(s2, y, sizeof(y), 8192), 4096);
	ck_assert_int_eq(memcmp(x, y, sizeof(x)), 0);
	/* Read again meanwhile (asked for at once): the copy already
	 * shared takes its place. */
	job_for(&c, "rbd:pis/class@v2", "start4.elf");
	run(&c);
	ck_assert_int_eq(c.st, SOURCE_OK);
	rbdfetch_share(&f, &c);
	ck_assert_str_eq(c.src->name, "aaaa0001/start4.elf");
	ck_assert_int_eq(source_read(c.src, y, sizeof(y), 8192), 4096);
	ck_assert_int_eq(memcmp(x, y, sizeof(x)), 0);
	source_close(c.src);
	/* Another file, another partition, the image itself: not shared. */
	job_for(&c, "rbd:pis/class@v2", "config.txt");
	ck_assert_int_eq(rbdfetch_shared(&f, &c, &s3), -1);
	job_for(&c, "rbd:pis/class@v2", "start4.elf");
	c.partition = 1;
	ck_assert_int_eq(rbdfetch_shared(&f, &c, &s3), -1);
	job_for(&c, "rbd:pis/class", "start4.elf");
	run(&c);
	ck_assert_int_eq(c.st, SOURCE_OK);
	rbdfetch_share(&f, &c);
	job_for(&b, "rbd:pis/class", "start4.elf");
	ck_assert_int_eq(rbdfetch_shared(&f, &b, &s3), -1);
	source_close(c.src);
	/* The first transfer ends: the second still reads. */
	source_close(a.src);
	ck_assert_int_eq(source_read(s2, y, sizeof(y), 8192), 4096);
	ck_assert_int_eq(memcmp(x, y, sizeof(x)), 0);
	job_for(&b, "rbd:pis/class@v2", "start4.elf");
	ck_assert_int_eq(rbdfetch_shared(&f, &b, &s3), 0);
	source_close(s3);
	source_close(s2);
	ck_assert_ptr_null(f.shared);
	ck_assert_int_eq(rbdfetch_shared(&f, &b, &s3), -1);
}
END_TEST

/* Stopping: what no worker began comes back refused, once. */
START_TEST(stop_returns_all)
{
	struct rbdfetch_job j[16];
	struct rbdfetch_job *back;
	int n = 0;

	for (int i = 0; i < 16; i++) {
		job_for(&j[i], "rbd:pis/class", "start4.elf");
		rbdfetch_submit(&f, &j[i]);
	}
	rbdfetch_stop(&f);
	for (back = rbdfetch_take(&f); back != NULL; back = back->next) {
		n++;
		if (back->st == SOURCE_OK)
			source_close(back->src);
		else
			ck_assert_str_eq(back->why, "tftpd is shutting down");
	}
	ck_assert_int_eq(n, 16);
	ck_assert_int_eq(rbdfake.opens, 0);
	ck_assert_int_eq(inst->refs, 1);
	/* teardown stops again: harmless. */
	ck_assert_int_eq(rbdfetch_start(&f, &cl, j[0].why, 64), 0);
}
END_TEST

static Suite *
rbdfetch_suite(void)
{
	Suite *s = suite_create("tftpd_rbdfetch");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, whole_file);
	tcase_add_test(tc, refused);
	tcase_add_test(tc, read_fails);
	tcase_add_test(tc, stop_returns_all);
	tcase_add_test(tc, snapshot_files_shared);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(rbdfetch_suite)
