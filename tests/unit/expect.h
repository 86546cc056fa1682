/* Check's assertions cost a system call each in fork mode (the test's
 * last position travels through a pipe), which loops that try millions
 * of cases cannot afford: those count their failures with EXPECT, keep
 * the first one's message, and assert once with EXPECT_NONE. */
#ifndef TESTS_EXPECT_H
#define TESTS_EXPECT_H

#include <check.h>
#include <stdio.h>

static long expect_failures;
static char expect_first[512];

#define EXPECT(cond, ...) do {						\
	if (!(cond) && __atomic_fetch_add(&expect_failures, 1,	\
	    __ATOMIC_RELAXED) == 0)				\
		snprintf(expect_first, sizeof(expect_first),		\
		    __VA_ARGS__);					\
} while (0)

#define EXPECT_NONE() ck_assert_msg(expect_failures == 0, "%ld "	\
	"failures; the first: %s", expect_failures, expect_first)

#endif
