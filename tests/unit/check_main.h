/* Shared main() for the Check unit tests: each tests/unit/NAME_test.c file
 * defines its suite and ends with CHECK_MAIN(its_suite). */
#ifndef TESTS_CHECK_MAIN_H
#define TESTS_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

#define CHECK_MAIN(suite_fn)						\
	int main(void)							\
	{								\
		SRunner *sr = srunner_create(suite_fn());		\
		int failed;						\
		srunner_run_all(sr, CK_NORMAL);				\
		failed = srunner_ntests_failed(sr);			\
		srunner_free(sr);					\
		return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;	\
	}

#endif
