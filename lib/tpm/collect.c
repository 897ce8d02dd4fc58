/* SPDX-License-Identifier: Apache-2.0 */
/* What an agent asks the TPM for one attestation (shield tpm quote, shield attest). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shield/evidence.h"
#include "shield/util.h"

#define COLLECT_TRIES 3

static int nv_optional(struct shield_tpm *t, uint32_t index, const char *what, uint8_t **ret, size_t *ret_len,
                       struct shield_evidence *e, struct shield_diag *diag) {
        struct shield_diag d = { 0 };
        int r = shield_tpm_nv_read(t, index, ret, ret_len, &d);
        if (r == SHIELD_E_NOT_FOUND) {
                char note[128];
                snprintf(note, sizeof note, "no %s: NV index 0x%08x is not defined", what, (unsigned)index);
                return shield_evidence_add_note(e, note);
        }
        if (r < 0 && diag)
                *diag = d;
        return r;
}

int shield_evidence_collect(struct shield_tpm *t, uint32_t ak_handle, const uint8_t *nonce, size_t nonce_len,
                            struct shield_evidence *ret, struct shield_diag *diag) {
        return shield_evidence_collect_pcrs(t, ak_handle, 0xffffffu, nonce, nonce_len, ret, diag);
}

int shield_evidence_collect_pcrs(struct shield_tpm *t, uint32_t ak_handle, uint32_t pcr_mask, const uint8_t *nonce,
                                 size_t nonce_len, struct shield_evidence *ret, struct shield_diag *diag) {
        struct shield_evidence e = { .secure_boot = -1, .setup_mode = -1 };
        int r;

        if (!t || !ret || !nonce || nonce_len == 0 || nonce_len > SHIELD_TPM_NONCE_MAX)
                return SHIELD_E_INVAL;
        e.nonce = malloc(nonce_len);
        if (!e.nonce)
                return SHIELD_E_NOMEM;
        memcpy(e.nonce, nonce, nonce_len);
        e.nonce_len = nonce_len;

        if ((r = shield_tpm_read_public(t, ak_handle, &e.ak_public, &e.ak_public_len, diag)) < 0)
                goto out;
        /*
         * The PCR values are read after the quote; a PCR extended in between
         * makes them disagree with pcrDigest, so check and try again.
         */
        for (int i = 0;; i++) {
                struct shield_reasons reasons = { 0 };
                shield_quote_clear(&e.quote);
                if ((r = shield_tpm_quote_pcrs(t, ak_handle, pcr_mask, nonce, nonce_len, &e.quote, diag)) < 0 ||
                    (r = shield_tpm_read_pcrs(t, &e.pcrs, diag)) < 0)
                        goto out;
                /* Report exactly what the quote covers: an unquoted value would look vouched for. */
                for (size_t b = 0; b < e.pcrs.n_banks; b++) {
                        e.pcrs.banks[b].present &= pcr_mask;
                        e.pcrs.banks[b].extended &= pcr_mask;
                }
                struct shield_quote_input in = {
                        .attest = e.quote.attest, .attest_len = e.quote.attest_len,
                        .signature = e.quote.signature, .signature_len = e.quote.signature_len,
                        .ak_public = e.ak_public, .ak_public_len = e.ak_public_len,
                        .nonce = nonce, .nonce_len = nonce_len, .pcrs = &e.pcrs,
                };
                r = shield_quote_check(&in, &reasons, diag);
                bool moved = reasons.n == 1 && strcmp(reasons.items[0].code, "quote-pcr-digest-mismatch") == 0;
                if (r == 0) {
                        shield_reasons_clear(&reasons);
                        break;
                }
                if (!moved || i + 1 >= COLLECT_TRIES) {
                        if (r == SHIELD_E_VERIFY)
                                r = shield_diag_fail(diag, SHIELD_E_VERIFY, 0, -1,
                                                     "the TPM's own quote does not check%s: [%s] %s",
                                                     moved ? " (PCRs kept changing)" : "", reasons.items[0].code,
                                                     reasons.items[0].message);
                        shield_reasons_clear(&reasons);
                        goto out;
                }
                shield_reasons_clear(&reasons);
        }
        e.has_pcrs = true;
        struct shield_tpm_ek ek = { 0 };
        struct shield_diag ek_diag = { 0 };
        if (shield_tpm_read_ek(t, &ek, &ek_diag) == 0) {
                e.ek_public = ek.public;
                e.ek_public_len = ek.public_len;
                ek.public = NULL;
                shield_tpm_ek_clear(&ek);
        } else if ((r = shield_evidence_add_note(&e, "no EK public area: the TPM did not give one")) < 0) {
                goto out;
        }
        if ((r = nv_optional(t, SHIELD_TPM_AK_CERT_NV, "AK certificate", &e.ak_cert, &e.ak_cert_len, &e, diag)) < 0 ||
            (r = nv_optional(t, SHIELD_TPM_EK_CERT_NV, "EK certificate", &e.ek_cert, &e.ek_cert_len, &e, diag)) < 0)
                goto out;
        *ret = e;
        memset(&e, 0, sizeof e);
        r = 0;
out:
        shield_evidence_free(&e);
        return r;
}

/* A missing log is a note in the evidence, not an error: the verifier says what it means. */
static int read_optional(const char *path, const char *what, uint8_t **ret, size_t *ret_len,
                         struct shield_evidence *e) {
        uint8_t *buf = NULL;
        size_t len = 0;
        int r = shield_read_file(path, SHIELD_EVIDENCE_LOG_MAX, &buf, &len);
        if (r < 0) {
                char note[512];
                snprintf(note, sizeof note, "no %s: %s: %s", what, path,
                         r == SHIELD_E_SYSTEM ? strerror(errno) : shield_strerror(r));
                return shield_evidence_add_note(e, note);
        }
        *ret = buf;
        *ret_len = len;
        return 0;
}

/* An EFI global boolean variable from efivarfs (4 attribute bytes, then the value); -1 when unknown. */
static int efi_bool(const char *name) {
        char path[160];
        uint8_t *buf = NULL;
        size_t len = 0;
        snprintf(path, sizeof path, "/sys/firmware/efi/efivars/%s-8be4df61-93ca-11d2-aa0d-00e098032b8c", name);
        if (shield_read_file(path, 64, &buf, &len) < 0)
                return -1;
        int v = len == 5 && buf[4] <= 1 ? buf[4] : -1;
        free(buf);
        return v;
}

int shield_evidence_add_host_state(struct shield_evidence *e, const char *eventlog, const char *ima_log) {
        int r;
        if ((r = read_optional(eventlog ? eventlog : SHIELD_EVIDENCE_DEFAULT_EVENTLOG, "firmware event log",
                               &e->eventlog, &e->eventlog_len, e)) < 0 ||
            (r = read_optional(ima_log ? ima_log : SHIELD_EVIDENCE_DEFAULT_IMA_LOG, "IMA measurement list",
                               &e->ima_log, &e->ima_log_len, e)) < 0)
                return r;
        e->secure_boot = efi_bool("SecureBoot");
        e->setup_mode = efi_bool("SetupMode");
        return 0;
}

