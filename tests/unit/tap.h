/*
 * A minimal TAP harness for unit tests. Each test is a function; a failed
 * CHECK marks the current test failed and says where. The runner
 * (tests/run.sh) counts the "ok" and "not ok" lines of every binary.
 */
#ifndef SATCHEL_TAP_H
#define SATCHEL_TAP_H

#include <stdio.h>

static int tap_failed_checks;

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			printf("#   %s:%d: CHECK(%s) failed\n",	\
			    __FILE__, __LINE__, #cond);			\
			tap_failed_checks++;				\
		}							\
	} while (0)

struct tap_test {
	const char	*name;
	void		(*fn)(void);
};

#define TAP_TEST(fn) { #fn, fn }

static inline int
tap_run(const struct tap_test *tests, size_t n)
{
	int failures = 0;

	for (size_t i = 0; i < n; i++) {
		tap_failed_checks = 0;
		tests[i].fn();
		if (tap_failed_checks == 0)
			printf("ok %zu - %s\n", i + 1, tests[i].name);
		else {
			printf("not ok %zu - %s\n", i + 1, tests[i].name);
			failures++;
		}
		fflush(stdout);
	}
	printf("1..%zu\n", n);
	return failures == 0 ? 0 : 1;
}

#define TAP_MAIN(...)							\
	int								\
	main(void)							\
	{								\
		static const struct tap_test tests[] = { __VA_ARGS__ };\
		if (sodium_init() < 0)					\
			return 1;					\
		return tap_run(tests, sizeof(tests) / sizeof(tests[0]));\
	}

#endif
