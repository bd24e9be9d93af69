/* test_util.h - shared by the test files (tests/test_kdc.c defines these). */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

extern int passed, failed;
/* Counts a check; prints "FAIL what: detail" when cond is false. */
void ok(int cond, const char *what, const char *detail);
/* 1 if got[0..n) == want[0..n); else prints the first differing byte and returns 0. */
int check_bytes(const char *name, const int8_t *got, const int8_t *want, size_t n);
/* n bytes of garbage scratch at an odd address, NULL for n == 0 (kernel calls). */
void *test_scratch(size_t n);

void test_variants(void); /* tests/test_variants.c */

#endif
