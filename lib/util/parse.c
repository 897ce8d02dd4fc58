/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shield/error.h"
#include "shield/util.h"

int shield_parse_u64(const char *s, int base, uint64_t max, uint64_t *ret) {
        if (!s || !ret)
                return SHIELD_E_INVAL;
        /* strtoull silently accepts leading space and a minus sign: refuse both. */
        if (!*s || isspace((unsigned char)*s) || *s == '-' || *s == '+')
                return SHIELD_E_FORMAT;
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(s, &end, base);
        if (end == s || *end)
                return SHIELD_E_FORMAT;
        if (errno == ERANGE || v > max)
                return SHIELD_E_LIMIT;
        *ret = v;
        return 0;
}

int shield_parse_i64(const char *s, int base, int64_t min, int64_t max, int64_t *ret) {
        if (!s || !ret)
                return SHIELD_E_INVAL;
        if (!*s || isspace((unsigned char)*s) || *s == '+')
                return SHIELD_E_FORMAT;
        char *end = NULL;
        errno = 0;
        long long v = strtoll(s, &end, base);
        if (end == s || *end)
                return SHIELD_E_FORMAT;
        if (errno == ERANGE || v < min || v > max)
                return SHIELD_E_LIMIT;
        *ret = v;
        return 0;
}

int shield_parse_index_list(const char *s, unsigned max_value, uint64_t *ret_mask) {
        if (!s || !ret_mask || max_value > 63)
                return SHIELD_E_INVAL;
        uint64_t mask = 0;
        const char *p = s;

        if (!*p)
                return SHIELD_E_FORMAT;
        while (*p) {
                unsigned lo = 0, hi;
                if (!isdigit((unsigned char)*p))
                        return SHIELD_E_FORMAT;
                while (isdigit((unsigned char)*p)) {
                        lo = lo * 10 + (unsigned)(*p++ - '0');
                        if (lo > max_value)
                                return SHIELD_E_LIMIT;
                }
                hi = lo;
                if (*p == '-') {
                        p++;
                        if (!isdigit((unsigned char)*p))
                                return SHIELD_E_FORMAT;
                        hi = 0;
                        while (isdigit((unsigned char)*p)) {
                                hi = hi * 10 + (unsigned)(*p++ - '0');
                                if (hi > max_value)
                                        return SHIELD_E_LIMIT;
                        }
                        if (hi < lo)
                                return SHIELD_E_FORMAT;
                }
                for (unsigned i = lo; i <= hi; i++)
                        mask |= UINT64_C(1) << i;
                if (*p == ',')
                        p++;
                else if (*p)
                        return SHIELD_E_FORMAT;
        }
        *ret_mask = mask;
        return 0;
}

int shield_parse_size(const char *s, uint64_t *ret) {
        if (!s || !ret || !*s)
                return SHIELD_E_INVAL;
        size_t n = strlen(s);
        unsigned shift = 0;
        switch (s[n - 1]) {
        case 'K': case 'k': shift = 10; break;
        case 'M': case 'm': shift = 20; break;
        case 'G': case 'g': shift = 30; break;
        case 'T': case 't': shift = 40; break;
        default: break;
        }
        char digits[32];
        size_t dn = shift ? n - 1 : n;
        if (dn == 0 || dn >= sizeof digits)
                return SHIELD_E_FORMAT;
        memcpy(digits, s, dn);
        digits[dn] = '\0';
        uint64_t v;
        if (shield_parse_u64(digits, 10, UINT64_MAX >> shift, &v) < 0)
                return SHIELD_E_FORMAT;
        *ret = v << shift;
        return 0;
}

bool shield_name_valid(const char *name) {
        size_t n = name ? strnlen(name, SHIELD_NAME_MAX + 1) : 0;

        if (n == 0 || n > SHIELD_NAME_MAX || name[0] == '.')
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f || name[i] == '/')
                        return false;
        return true;
}
