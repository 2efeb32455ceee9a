/* check.h — the unit tests' assertion: CHECK(cond, printf-args...) counts
 * a pass, or counts a failure and prints where and why; each test's main()
 * prints the two counters and fails when `failed` is not 0. Each test file
 * includes it once (the counters are its own). */
#ifndef TESTS_UNIT_CHECK_H
#define TESTS_UNIT_CHECK_H

#include <stdio.h>

static int passed, failed;

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (cond) {                                                    \
			passed++;                                              \
		} else {                                                       \
			failed++;                                              \
			printf("FAIL %s:%d: ", __FILE__, __LINE__);            \
			printf(__VA_ARGS__);                                   \
			printf("\n");                                          \
		}                                                              \
	} while (0)

#endif
