/* SPDX-License-Identifier: Apache-2.0 */
/*
 * edk2 variable stores: parse, decode every record the way `shield
 * varstore show` does, look variables up, write one, and check that what
 * was written parses back with the new record live (a write that produces
 * a store its own parser refuses is a bug, so it aborts).
 */
#include <stdlib.h>
#include <string.h>

#include "shield/varstore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void consume(const struct shield_varstore *vs) {
        for (size_t i = 0; i < shield_varstore_count(vs); i++) {
                const struct shield_variable *v = shield_varstore_variable(vs, i);
                char attrs[64], when[48];
                struct shield_siglist list;
                shield_var_attributes_text(v->attributes, attrs, sizeof attrs);
                (void)shield_var_time_text(v->timestamp, when, sizeof when);
                (void)shield_guid_name(&v->vendor);
                if (shield_siglist_parse(v->data, v->data_size, &list, NULL) == 0)
                        shield_siglist_clear(&list);
        }
        const uint8_t *d;
        size_t n;
        (void)shield_varstore_find(vs, "PK", &SHIELD_GUID_GLOBAL_VARIABLE);
        if (shield_varstore_get(vs, "db", &SHIELD_GUID_IMAGE_SECURITY_DATABASE, &d, &n, NULL) == 0 && n && !d)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct shield_varstore *vs = NULL, *again = NULL;
        const uint8_t payload[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

        if (shield_varstore_parse(data, size, &vs, NULL) < 0)
                return 0;
        consume(vs);
        uint32_t attrs = shield_varstore_authenticated(vs) ? SHIELD_VAR_SECURE_BOOT_DB : 0x07;
        size_t count = shield_varstore_count(vs);
        if (shield_varstore_set(vs, "db", &SHIELD_GUID_IMAGE_SECURITY_DATABASE, attrs, NULL, payload, sizeof payload) == 0) {
                size_t len;
                const uint8_t *bytes = shield_varstore_bytes(vs, &len);
                const uint8_t *got;
                size_t got_len;
                if (len != size || shield_varstore_count(vs) != count + 1 ||
                    shield_varstore_parse(bytes, len, &again, NULL) < 0 || shield_varstore_count(again) != count + 1 ||
                    shield_varstore_free_space(again) != shield_varstore_free_space(vs) ||
                    shield_varstore_get(again, "db", &SHIELD_GUID_IMAGE_SECURITY_DATABASE, &got, &got_len, NULL) < 0 ||
                    got_len != sizeof payload || memcmp(got, payload, sizeof payload) != 0)
                        abort();
                consume(again);
                shield_varstore_free(again);
        }
        shield_varstore_free(vs);
        return 0;
}
