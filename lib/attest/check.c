/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Evidence checking: each check adds its own reasons, so one report says
 * everything that is wrong rather than stopping at the first problem. The
 * quote comes first because every later check trusts the PCR values only
 * because the quote binds them to the AK and the nonce.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shield/attest.h"
#include "shield/crypto.h"
#include "shield/ima.h"
#include "shield/tpm.h"

#define ERR(r, code, ...) shield_reasons_add(&(r)->reasons, code, SHIELD_SEV_ERROR, 0, -1, -1, SIZE_MAX, __VA_ARGS__)
#define WARN(r, code, ...) shield_reasons_add(&(r)->reasons, code, SHIELD_SEV_WARNING, 0, -1, -1, SIZE_MAX, __VA_ARGS__)

/* Append src's reasons to dst. */
static int take_reasons(struct shield_reasons *dst, const struct shield_reasons *src) {
        for (size_t i = 0; i < src->n; i++) {
                const struct shield_reason *x = &src->items[i];
                int r = shield_reasons_add(dst, x->code, x->severity, x->bank, x->pcr, x->event_index, x->offset, "%s",
                                           x->message);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int check_quote(const struct shield_evidence *e, const struct shield_evidence_policy *p,
                       struct shield_evidence_result *res) {
        struct shield_reasons out = { 0 };
        struct shield_diag diag = { 0 };
        if (!e->quote.attest || !e->quote.signature || !e->ak_public)
                return ERR(res, "quote-missing", "the evidence has no quote (or no AK public key): nothing binds its "
                           "PCR values to a TPM");
        struct shield_quote_input in = {
                .attest = e->quote.attest, .attest_len = e->quote.attest_len,
                .signature = e->quote.signature, .signature_len = e->quote.signature_len,
                .ak_public = e->ak_public, .ak_public_len = e->ak_public_len,
                .nonce = p->nonce, .nonce_len = p->nonce_len,
                .pcrs = e->has_pcrs ? &e->pcrs : NULL,
        };
        int r = shield_quote_check(&in, &out, &diag);
        res->quote_ok = r == 0;
        int t = take_reasons(&res->reasons, &out);
        shield_reasons_clear(&out);
        if (t < 0)
                return t;
        if (r < 0 && r != SHIELD_E_VERIFY && out.n == 0)
                return ERR(res, "quote-malformed", "the quote cannot be read: %s (offset %zu)", diag.msg, diag.offset);
        if (!e->has_pcrs)
                return ERR(res, "pcrs-missing", "the evidence reports no PCR values");
        return 0;
}

static int check_ak_cert(const struct shield_evidence *e, const struct shield_evidence_policy *p,
                         struct shield_evidence_result *res) {
        if (!p->ca_cert)
                return WARN(res, "ak-cert-unchecked", "no CA given: the AK is not known to belong to a trusted TPM");
        if (!e->ak_cert)
                return ERR(res, "ak-cert-missing", "the evidence has no AK certificate");
        struct shield_reasons out = { 0 };
        struct shield_diag diag = { 0 };
        int r = shield_ak_cert_check(e->ak_public, e->ak_public_len, e->ak_cert, e->ak_cert_len, p->ca_cert,
                                     p->ca_cert_len, &out, &diag);
        res->ak_cert_ok = r == 0;
        int t = take_reasons(&res->reasons, &out);
        shield_reasons_clear(&out);
        if (t < 0)
                return t;
        if (r < 0 && out.n == 0)
                return ERR(res, "ak-cert-invalid", "the AK certificate cannot be checked: %s", diag.msg);
        return 0;
}

static int check_eventlog(const struct shield_evidence *e, struct shield_evidence_result *res) {
        struct shield_eventlog *log = NULL;
        struct shield_diag diag = { 0 };
        struct shield_pcrs replay;
        struct shield_reasons out = { 0 };

        if (!e->eventlog)
                return WARN(res, "eventlog-missing", "the evidence has no firmware event log");
        if (shield_eventlog_parse(e->eventlog, e->eventlog_len, &log, &diag) < 0)
                return ERR(res, "eventlog-malformed", "the event log does not parse: %s (offset %zu)", diag.msg,
                           diag.offset);
        int r = shield_eventlog_replay(log, NULL, &replay, NULL);
        if (r == 0 && shield_eventlog_secureboot(log, &res->secureboot) == 0)
                res->has_secureboot = true;
        shield_eventlog_free(log);
        if (r < 0)
                return ERR(res, "eventlog-malformed", "the event log cannot be replayed: %s", shield_strerror(r));
        /* Only the PCRs the log extends are its business (PCR 10 is IMA's, 11+ the OS's). */
        uint32_t mask = 0;
        for (size_t b = 0; b < replay.n_banks; b++)
                mask |= replay.banks[b].extended;
        res->eventlog_pcrs = mask;
        if (!e->has_pcrs)
                return 0;
        r = shield_pcrs_compare(&replay, &e->pcrs, ~mask, &out);
        res->eventlog_ok = r == 0;
        int t = take_reasons(&res->reasons, &out);
        shield_reasons_clear(&out);
        if (t < 0)
                return t;
        return r == SHIELD_E_VERIFY || r == 0 ? 0 : r;
}

static int check_ima(const struct shield_evidence *e, struct shield_evidence_result *res) {
        struct shield_ima_list *list = NULL;
        struct shield_diag diag = { 0 };
        struct shield_ima_options opts = { 0 };

        if (!e->ima_log || !e->has_pcrs)
                return 0;
        res->ima_checked = true;
        if (shield_ima_parse(e->ima_log, e->ima_log_len, &opts, &list, &diag) < 0)
                return ERR(res, "ima-malformed", "the IMA list does not parse: %s (offset %zu)", diag.msg, diag.offset);
        res->ima_ok = true;
        for (size_t b = 0; b < e->pcrs.n_banks; b++) {
                const struct shield_pcr_bank *bank = &e->pcrs.banks[b];
                uint8_t value[SHIELD_HASH_MAX_SIZE];
                if (!(bank->present & (1u << 10)))
                        continue;
                if (shield_ima_replay(list, 10, bank->alg, NULL, value) < 0)
                        continue;
                if (memcmp(value, bank->value[10], bank->size) != 0) {
                        res->ima_ok = false;
                        int r = shield_reasons_add(&res->reasons, "ima-pcr-mismatch", SHIELD_SEV_ERROR, bank->alg, 10, -1,
                                                   SIZE_MAX, "the IMA list does not replay to PCR 10 (%s)",
                                                   shield_hash_name(bank->alg));
                        if (r < 0)
                                break;
                }
        }
        shield_ima_free(list);
        return 0;
}

int shield_evidence_check(const struct shield_evidence *e, const struct shield_evidence_policy *p,
                          struct shield_evidence_result *ret) {
        memset(ret, 0, sizeof *ret);
        int r;
        if ((r = check_quote(e, p, ret)) < 0 || (r = check_ak_cert(e, p, ret)) < 0 || (r = check_eventlog(e, ret)) < 0 ||
            (r = check_ima(e, ret)) < 0)
                return r;
        return shield_reasons_count(&ret->reasons, SHIELD_SEV_ERROR) ? SHIELD_E_VERIFY : 0;
}

void shield_evidence_result_clear(struct shield_evidence_result *r) {
        if (!r)
                return;
        shield_reasons_clear(&r->reasons);
        if (r->has_secureboot)
                shield_secureboot_clear(&r->secureboot);
        memset(r, 0, sizeof *r);
}
