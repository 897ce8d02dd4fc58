/* SPDX-License-Identifier: Apache-2.0 */
/* edk2 variable stores: parse, look up, write a record, parse the result. */
#include <string.h>

#include "shield/varstore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct shield_varstore *vs = NULL, *again = NULL;
        const uint8_t payload[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

        if (shield_varstore_parse(data, size, &vs, NULL) < 0)
                return 0;
        for (size_t i = 0; i < shield_varstore_count(vs); i++) {
                char attrs[40];
                shield_var_attributes_text(shield_varstore_variable(vs, i)->attributes, attrs, sizeof attrs);
        }
        (void)shield_varstore_find(vs, "PK", &SHIELD_GUID_GLOBAL_VARIABLE);
        if (shield_varstore_set(vs, "db", &SHIELD_GUID_IMAGE_SECURITY_DATABASE, SHIELD_VAR_SECURE_BOOT_DB, NULL, payload,
                                sizeof payload) == 0) {
                size_t len;
                const uint8_t *bytes = shield_varstore_bytes(vs, &len);
                if (shield_varstore_parse(bytes, len, &again, NULL) == 0)
                        shield_varstore_free(again);
        }
        shield_varstore_free(vs);
        return 0;
}
