/* SPDX-License-Identifier: Apache-2.0 */
/* Signed variable updates and the database inputs built from them. */
#include <stdlib.h>

#include "shield/initial-state.h"
#include "shield/uefi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct shield_authvar2 a;
        uint8_t *esl = NULL;
        size_t len = 0;
        shield_guid owner = { 0 };

        (void)!shield_authvar2_parse(data, size, &a, NULL);
        (void)!shield_siglist_append_input(&esl, &len, &owner, data, size, NULL);
        free(esl);

        /* The same bytes as an initial_state.json. */
        struct shield_initial_state st;
        if (shield_initial_state_parse((const char *)data, size, &st, NULL) == 0) {
                char *text = shield_initial_state_to_json(&st);
                free(text);
                if (st.dbs.set && shield_initial_state_esl(&st.dbs, &owner, &esl, &len) == 0)
                        free(esl);
                shield_initial_state_clear(&st);
        }
        return 0;
}
