/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signed variable updates (EFI_VARIABLE_AUTHENTICATION_2) and the image's
 * initial_state_config JSON: the same input is tried as both, and every
 * consumer of a successful parse runs too (the payload's signature lists,
 * the PKCS#7 reader, the database inputs, the JSON writer, resolve and the
 * signature-list form of each value).
 */
#include <stdlib.h>
#include <string.h>

#include "shield/crypto.h"
#include "shield/initial-state.h"
#include "shield/uefi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_state(const struct shield_initial_state *st) {
        const struct shield_is_value *vals[] = { &st->pk, &st->keks, &st->dbs, &st->dbxs };
        shield_guid owner = { { 0x42 } };

        for (size_t k = 0; k < 4; k++) {
                uint8_t *esl = NULL;
                size_t len = 0;
                struct shield_siglist l;
                /* What the varstore writer and `sb check` consume: the value as signature lists. */
                if (vals[k]->set && shield_initial_state_esl(vals[k], &owner, &esl, &len) == 0) {
                        if (shield_siglist_parse(esl, len, &l, NULL) == 0)
                                shield_siglist_clear(&l);
                        else if (len)
                                abort(); /* we built lists the parser refuses */
                        free(esl);
                }
        }

        /* Writing and reading back keeps every entry. */
        char *text = shield_initial_state_to_json(st);
        if (text) {
                struct shield_initial_state again;
                if (shield_initial_state_parse(text, strlen(text), &again, NULL) != 0)
                        abort();
                for (size_t k = 0; k < 4; k++) {
                        const struct shield_is_value *a = vals[k];
                        const struct shield_is_value *b = k == 0 ? &again.pk : k == 1 ? &again.keks : k == 2 ? &again.dbs : &again.dbxs;
                        if (a->set != b->set || a->n != b->n)
                                abort();
                        for (size_t i = 0; i < a->n; i++)
                                if (a->entries[i].len != b->entries[i].len ||
                                    memcmp(a->entries[i].content, b->entries[i].content, a->entries[i].len) != 0)
                                        abort();
                }
                shield_initial_state_clear(&again);
                free(text);
        }

        /* Resolve against itself as the defaults (a PK is needed from one side). */
        struct shield_initial_state out;
        struct shield_reasons warnings = { 0 };
        if (shield_initial_state_resolve(st, st, &out, &warnings) == 0)
                shield_initial_state_clear(&out);
        shield_reasons_clear(&warnings);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct shield_authvar2 a;
        uint8_t *esl = NULL;
        size_t len = 0;
        shield_guid owner = { 0 };

        if (shield_authvar2_parse(data, size, &a, NULL) == 0) {
                struct shield_siglist l;
                if (shield_siglist_parse(a.payload, a.payload_size, &l, NULL) == 0)
                        shield_siglist_clear(&l);
                /* The PKCS#7 reader (bare or wrapped SignedData); the "anchor" is no certificate, so never verifies. */
                if (shield_pkcs7_verify_detached(a.pkcs7, a.pkcs7_size, a.payload, a.payload_size, a.timestamp, 16) == 0)
                        abort();
        }
        (void)!shield_siglist_append_input(&esl, &len, &owner, data, size, NULL);
        free(esl);

        /* The same bytes as an initial_state.json. */
        struct shield_initial_state st;
        if (shield_initial_state_parse((const char *)data, size, &st, NULL) == 0) {
                check_state(&st);
                shield_initial_state_clear(&st);
        }
        return 0;
}
