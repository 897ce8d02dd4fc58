/* SPDX-License-Identifier: Apache-2.0 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shield/error.h"
#include "shield/util.h"

static const char hexdigits[] = "0123456789abcdef";

void shield_hex_encode(const uint8_t *in, size_t len, char *out) {
        for (size_t i = 0; i < len; i++) {
                out[2 * i] = hexdigits[in[i] >> 4];
                out[2 * i + 1] = hexdigits[in[i] & 0xf];
        }
        out[2 * len] = '\0';
}

int shield_hex_digit(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int shield_hex_decode(const char *hex, uint8_t **ret_buf, size_t *ret_len) {
        if (!hex || !ret_buf || !ret_len)
                return SHIELD_E_INVAL;
        if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
                hex += 2;
        size_t n = strlen(hex);
        if (n % 2)
                return SHIELD_E_FORMAT;
        uint8_t *buf = malloc(n / 2 ? n / 2 : 1);
        if (!buf)
                return SHIELD_E_NOMEM;
        for (size_t i = 0; i < n / 2; i++) {
                int hi = shield_hex_digit(hex[2 * i]), lo = shield_hex_digit(hex[2 * i + 1]);
                if (hi < 0 || lo < 0) {
                        free(buf);
                        return SHIELD_E_FORMAT;
                }
                buf[i] = (uint8_t)(hi << 4 | lo);
        }
        *ret_buf = buf;
        *ret_len = n / 2;
        return 0;
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* One encoder for both alphabets: standard base64 pads with '=', base64url (RFC 7515) does not. */
static char *encode(const uint8_t *in, size_t len, const char *chars, bool pad) {
        if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
                return NULL;
        size_t outlen = (len + 2) / 3 * 4;
        char *out = malloc(outlen + 1), *o = out;
        if (!out)
                return NULL;
        size_t i = 0;
        for (; i + 3 <= len; i += 3) {
                uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
                *o++ = chars[v >> 18];
                *o++ = chars[(v >> 12) & 63];
                *o++ = chars[(v >> 6) & 63];
                *o++ = chars[v & 63];
        }
        if (i < len) {
                uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);
                *o++ = chars[v >> 18];
                *o++ = chars[(v >> 12) & 63];
                if (i + 1 < len)
                        *o++ = chars[(v >> 6) & 63];
                else if (pad)
                        *o++ = '=';
                if (pad)
                        *o++ = '=';
        }
        *o = '\0';
        return out;
}

char *shield_base64_encode(const uint8_t *in, size_t len) {
        return encode(in, len, b64chars, true);
}

char *shield_base64url_encode(const uint8_t *in, size_t len) {
        return encode(in, len, b64url_chars, false);
}

/* The value of a base64 symbol in the alphabet whose last two symbols are c62 and c63; -1 when none. */
static int symbol(char c, char c62, char c63) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == c62)
                return 62;
        if (c == c63)
                return 63;
        return -1;
}

static int b64val(char c) {
        return symbol(c, '+', '/');
}

int shield_base64url_value(char c) {
        return symbol(c, '-', '_');
}

int shield_base64url_decode(const char *in, size_t len, uint8_t **ret, size_t *ret_len, size_t *ret_bad) {
        if (len % 4 == 1) {
                *ret_bad = len;
                return SHIELD_E_FORMAT;
        }
        uint8_t *buf = malloc(len / 4 * 3 + 3);
        if (!buf)
                return SHIELD_E_NOMEM;
        size_t n = 0;
        uint32_t acc = 0;
        unsigned bits = 0;
        for (size_t i = 0; i < len; i++) {
                int v = shield_base64url_value(in[i]);
                if (v < 0) {
                        free(buf);
                        *ret_bad = i;
                        return SHIELD_E_FORMAT;
                }
                acc = (acc << 6 | (uint32_t)v) & 0xffffff;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        buf[n++] = (uint8_t)(acc >> bits);
                }
        }
        if (bits && (acc & ((1u << bits) - 1))) {
                free(buf);
                *ret_bad = len - 1;
                return SHIELD_E_FORMAT;
        }
        *ret = buf;
        *ret_len = n;
        return 0;
}

int shield_base64_decode(const char *in, size_t inlen, uint8_t **ret_buf, size_t *ret_len) {
        if (!in || !ret_buf || !ret_len)
                return SHIELD_E_INVAL;
        uint8_t *buf = malloc(inlen / 4 * 3 + 3);
        if (!buf)
                return SHIELD_E_NOMEM;
        size_t n = 0, pad = 0;
        uint32_t acc = 0;
        unsigned bits = 0;
        for (size_t i = 0; i < inlen; i++) {
                char c = in[i];
                if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
                        continue;
                if (c == '=') {
                        pad++;
                        continue;
                }
                int v = b64val(c);
                if (v < 0 || pad) {
                        free(buf);
                        return SHIELD_E_FORMAT;
                }
                acc = acc << 6 | (uint32_t)v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        buf[n++] = (uint8_t)(acc >> bits);
                }
        }
        /* 6 leftover bits can never be a whole byte: a single trailing symbol is malformed. */
        if (bits >= 6 || pad > 2) {
                free(buf);
                return SHIELD_E_FORMAT;
        }
        *ret_buf = buf;
        *ret_len = n;
        return 0;
}

static size_t put_utf8(char *o, uint32_t cp) {
        if (cp < 0x80) {
                o[0] = (char)cp;
                return 1;
        }
        if (cp < 0x800) {
                o[0] = (char)(0xc0 | cp >> 6);
                o[1] = (char)(0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp < 0x10000) {
                o[0] = (char)(0xe0 | cp >> 12);
                o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
                o[2] = (char)(0x80 | (cp & 0x3f));
                return 3;
        }
        o[0] = (char)(0xf0 | cp >> 18);
        o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[3] = (char)(0x80 | (cp & 0x3f));
        return 4;
}

int shield_utf16le_to_utf8(const uint8_t *in, size_t len, char **ret) {
        if (!ret || (!in && len))
                return SHIELD_E_INVAL;
        if (len % 2)
                return SHIELD_E_FORMAT;
        size_t units = len / 2;
        /* Each unit yields at most 3 bytes (a surrogate pair: 4 bytes for 2 units). */
        char *out = malloc(units * 3 + 1), *o = out;
        if (!out)
                return SHIELD_E_NOMEM;
        for (size_t i = 0; i < units; i++) {
                uint32_t u = (uint32_t)in[2 * i] | (uint32_t)in[2 * i + 1] << 8;
                if (u == 0)
                        break;
                if (u >= 0xd800 && u < 0xdc00 && i + 1 < units) {
                        uint32_t lo = (uint32_t)in[2 * i + 2] | (uint32_t)in[2 * i + 3] << 8;
                        if (lo >= 0xdc00 && lo < 0xe000) {
                                o += put_utf8(o, 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00));
                                i++;
                                continue;
                        }
                }
                if (u >= 0xd800 && u < 0xe000)
                        u = 0xfffd;
                o += put_utf8(o, u);
        }
        *o = '\0';
        *ret = out;
        return 0;
}

bool shield_memeq_secret(const void *a, const void *b, size_t len) {
        const volatile uint8_t *x = a, *y = b;
        uint8_t d = 0;

        for (size_t i = 0; i < len; i++)
                d |= x[i] ^ y[i];
        return d == 0;
}

/* Reflected CRC-32 (0xEDB88320) four bits at a time: small, and fast enough for a 16 KiB entry array. */
uint32_t shield_crc32(uint32_t crc, const void *buf, size_t len) {
        static const uint32_t nibble[16] = { 0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4,
                                             0x4db26158, 0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
                                             0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c };
        const uint8_t *p = buf;

        crc = ~crc;
        for (size_t i = 0; i < len; i++) {
                crc ^= p[i];
                crc = (crc >> 4) ^ nibble[crc & 15];
                crc = (crc >> 4) ^ nibble[crc & 15];
        }
        return ~crc;
}
