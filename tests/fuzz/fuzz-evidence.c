/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Evidence JSON: parse; what parses is written back, parsed again (the
 * same text must come out) and its quote checked.
 */
#include <stdlib.h>
#include <string.h>

#include "shield/evidence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct shield_evidence e, again;
        struct shield_diag diag;
        char *text = NULL, *text2 = NULL;

        setenv("TSS2_LOG", "all+NONE", 0);
        if (shield_evidence_parse_json((const char *)data, size, &e, &diag) < 0)
                return 0;
        struct shield_reasons reasons = { 0 };
        struct shield_quote_input in = {
                .attest = e.quote.attest, .attest_len = e.quote.attest_len,
                .signature = e.quote.signature, .signature_len = e.quote.signature_len,
                .ak_public = e.ak_public, .ak_public_len = e.ak_public_len,
                .nonce = e.nonce, .nonce_len = e.nonce_len, .pcrs = e.has_pcrs ? &e.pcrs : NULL,
        };
        (void)!shield_quote_check(&in, &reasons, &diag);
        shield_reasons_clear(&reasons);
        if (shield_evidence_to_json(&e, &text) == 0) {
                if (shield_evidence_parse_json(text, strlen(text), &again, &diag) != 0)
                        abort(); /* what we write we must read */
                if (shield_evidence_to_json(&again, &text2) != 0 || strcmp(text, text2) != 0)
                        abort();
                shield_evidence_free(&again);
        }
        free(text);
        free(text2);
        shield_evidence_free(&e);
        return 0;
}
