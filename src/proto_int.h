/* proto_int.h -- what the files of the proto module share (private) */
#ifndef CGOPS_PROTO_INT_H
#define CGOPS_PROTO_INT_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

/* Copy text[0..len) into a NUL-terminated heap string. */
char *proto__dupn(const char *text, size_t len);

/* Leading decimal digits of s as a uint64: returns the digits used (0 when
 * s does not start with a digit) and sets *v, or -1 when the value does
 * not fit in 64 bits. */
int proto__lead_u64(const char *s, uint64_t *v);

/* The whole of s as a uint64 (digits only) or an int64 (optional '-').
 * 0, -EINVAL or -ERANGE. */
int proto__parse_u64(const char *s, uint64_t *v);
int proto__parse_i64(const char *s, int64_t *v);

/* Exact integers as JSON: raw items with the digits, since cJSON's doubles
 * would round values above 2^53. */
cJSON *proto__json_u64(uint64_t v);
cJSON *proto__json_i64(int64_t v);

/* 1 when s is a JSON number that strtod reads as a finite value. */
int proto__json_number_text(const char *s);

#endif
