/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Small helpers shared by every layer: encodings, files, number parsing. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The value of one hex digit (either case), or -1. */
int shield_hex_digit(char c);

/* Lower-case hex of len bytes into out, which must hold 2*len+1 bytes. */
void shield_hex_encode(const uint8_t *in, size_t len, char *out);

/*
 * Decode hex (either case, no separators; an optional "0x" prefix is
 * allowed) into a new buffer. Returns SHIELD_E_FORMAT on odd length or a
 * non-hex character. *ret_buf is malloc'd; free() it.
 */
__attribute__((warn_unused_result))
int shield_hex_decode(const char *hex, uint8_t **ret_buf, size_t *ret_len);

/* CRC-32 as zlib, UEFI and the serial frames compute it (reflected, polynomial 0xEDB88320). Start with crc = 0. */
uint32_t shield_crc32(uint32_t crc, const void *buf, size_t len);

/* Standard base64 with padding; returns a malloc'd NUL-terminated string or NULL. */
char *shield_base64_encode(const uint8_t *in, size_t len);

/*
 * Decode standard base64 (padding optional, whitespace ignored). Returns
 * SHIELD_E_FORMAT on a bad character or length. *ret_buf is malloc'd.
 */
__attribute__((warn_unused_result))
int shield_base64_decode(const char *in, size_t inlen, uint8_t **ret_buf, size_t *ret_len);

/* base64url without padding (RFC 7515, 2); malloc'd, NULL on failure. */
char *shield_base64url_encode(const uint8_t *in, size_t len);
/* The value (0-63) of a base64url symbol, -1 for any other character. */
int shield_base64url_value(char c);
/*
 * Strict base64url: the URL-safe alphabet only, no padding or whitespace,
 * and the unused low bits of the last symbol zero, so each byte string has
 * exactly one encoding. SHIELD_E_FORMAT with *ret_bad the offset of the
 * offending character (len for a bad length); SHIELD_E_NOMEM.
 */
__attribute__((warn_unused_result))
int shield_base64url_decode(const char *in, size_t len, uint8_t **ret, size_t *ret_len, size_t *ret_bad);

/*
 * Convert UTF-16LE (len bytes, may or may not be NUL-terminated: decoding
 * stops at the first NUL code unit) to a malloc'd UTF-8 string. Unpaired
 * surrogates become U+FFFD. Returns SHIELD_E_FORMAT on an odd byte count.
 */
__attribute__((warn_unused_result))
int shield_utf16le_to_utf8(const uint8_t *in, size_t len, char **ret);

/*
 * Read a whole file (or "-" for stdin) into a malloc'd buffer, refusing
 * files over max bytes with SHIELD_E_LIMIT. A NUL is appended after the
 * data (not counted in *ret_len) so text parsers can use it directly.
 */
__attribute__((warn_unused_result))
int shield_read_file(const char *path, size_t max, uint8_t **ret_buf, size_t *ret_len);

/*
 * Write len bytes to path atomically: a temporary file in the same
 * directory, fsync, then rename. mode is the new file's permission bits
 * (0600 for secrets). On failure the old file is untouched.
 */
__attribute__((warn_unused_result))
int shield_write_file_atomic(const char *path, const void *buf, size_t len, unsigned mode);

#define SHIELD_NAME_MAX 256 /* bytes in a name */

/*
 * The one rule for a name (an instance, an image, a golden's owner): 1 to
 * SHIELD_NAME_MAX bytes; no control bytes (below 0x20, and 0x7f); no '/';
 * not starting with '.'. Anything else is allowed, spaces and UTF-8 among
 * them, so a name is safe as one path component and one line of text but
 * is not a shell word. Local resource names are a narrower profile of
 * these (shield_resource_name_valid in shield/image.h).
 */
bool shield_name_valid(const char *name);

/*
 * mkdir -p: make every missing directory of path, the missing parents with
 * parent_mode and path itself with mode (both before the umask); existing
 * directories are left as they are. SHIELD_E_SYSTEM with errno set, or
 * SHIELD_E_NOMEM.
 */
__attribute__((warn_unused_result))
int shield_mkdir_parents(const char *path, unsigned parent_mode, unsigned mode);

/* shield_mkdir_parents(path, 0755, mode): the platform's state directories. */
__attribute__((warn_unused_result))
int shield_mkdir_p(const char *path, unsigned mode);

/*
 * rm -rf of a directory tree the caller owns (instances, scratch, a failed
 * image import): symbolic links are removed, never followed. A missing
 * path is not an error; SHIELD_E_SYSTEM with errno set otherwise.
 */
int shield_remove_tree(const char *path);

/*
 * Checked number parsing: the whole string must be a number in [min, max];
 * base 0 accepts 0x/0 prefixes. Returns SHIELD_E_FORMAT or SHIELD_E_LIMIT.
 */
__attribute__((warn_unused_result))
int shield_parse_u64(const char *s, int base, uint64_t max, uint64_t *ret);
__attribute__((warn_unused_result))
int shield_parse_i64(const char *s, int base, int64_t min, int64_t max, int64_t *ret);

/* Parse "1,3,5-7" into a bit mask of values < 64. SHIELD_E_FORMAT/LIMIT. */
__attribute__((warn_unused_result))
int shield_parse_index_list(const char *s, unsigned max_value, uint64_t *ret_mask);

/*
 * malloc for buffers of many megabytes (whole logs, event arrays): aligned
 * and marked for transparent huge pages, so filling them costs a few page
 * faults instead of thousands. Release with free(); realloc() is allowed.
 */
void *shield_alloc_large(size_t n);

/* Constant-time comparison for secrets and MACs (true when equal). */
bool shield_memeq_secret(const void *a, const void *b, size_t len);

struct shield_diag;
/*
 * Run a program (found on PATH) with stdin/stdout on /dev/null and wait.
 * env_extra (NULL-terminated "NAME=VALUE", may be NULL) is added to the
 * environment. 0 when it exits 0; otherwise SHIELD_E_SYSTEM with diag
 * holding the exit status and the last line it wrote to stderr, or
 * SHIELD_E_NOT_FOUND when it cannot be started.
 */
__attribute__((warn_unused_result))
int shield_run(const char *const argv[], const char *const env_extra[], struct shield_diag *diag);

/* Parse a size such as "100M", "1G", "512K" or "4096" (bytes; K/M/G/T are powers of 1024). */
__attribute__((warn_unused_result))
int shield_parse_size(const char *s, uint64_t *ret);
