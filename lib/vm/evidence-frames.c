/* SPDX-License-Identifier: Apache-2.0 */
/* Turn what a guest sent over its console into one evidence document. */
#include <stdlib.h>
#include <string.h>

#include "shield/evidence.h"
#include "shield/vm.h"

/* A copy of a frame's bytes, or NULL/0 when the frame was not sent. */
static int take(const struct shield_frames *f, const char *name, uint8_t **ret, size_t *ret_len) {
        const struct shield_frame *fr = shield_frames_find(f, name);
        *ret = NULL;
        *ret_len = 0;
        if (!fr)
                return 0;
        if (!(*ret = malloc(fr->len ? fr->len : 1)))
                return SHIELD_E_NOMEM;
        memcpy(*ret, fr->data, fr->len);
        *ret_len = fr->len;
        return 0;
}

/* "secureboot=1" style values in the agent's info frame: 1, 0, or -1 when absent or "?". */
static int info_value(const struct shield_frame *info, const char *key) {
        if (!info)
                return -1;
        size_t kl = strlen(key);
        for (size_t i = 0; i + kl + 1 < info->len; i++) {
                bool word_start = i == 0 || info->data[i - 1] == ' ' || info->data[i - 1] == '\n';
                if (word_start && memcmp(info->data + i, key, kl) == 0 && info->data[i + kl] == '=') {
                        char c = (char)info->data[i + kl + 1];
                        return c == '1' ? 1 : c == '0' ? 0 : -1;
                }
        }
        return -1;
}

int shield_evidence_from_frames(const struct shield_frames *f, const char *producer, struct shield_evidence *ret,
                                struct shield_diag *diag) {
        struct shield_evidence e = { 0 };
        const struct shield_frame *fr;
        int r;

        if ((fr = shield_frames_find(f, "evidence")))
                return shield_evidence_parse_json((const char *)fr->data, fr->len, ret, diag);

        if (!shield_frames_find(f, "eventlog") || !shield_frames_find(f, "pcrs"))
                return shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1,
                                        "the guest sent no evidence (neither an evidence frame nor eventlog + pcrs)");
        if (!(e.producer = strdup(producer ? producer : "shield-agent.efi")))
                return SHIELD_E_NOMEM;
        fr = shield_frames_find(f, "pcrs");
        if ((r = shield_pcrs_parse_json((const char *)fr->data, fr->len, &e.pcrs, diag)) < 0)
                goto fail;
        e.has_pcrs = true;
        fr = shield_frames_find(f, "info");
        e.secure_boot = info_value(fr, "secureboot");
        e.setup_mode = info_value(fr, "setupmode");
        if ((r = take(f, "eventlog", &e.eventlog, &e.eventlog_len)) < 0 || (r = take(f, "nonce", &e.nonce, &e.nonce_len)) < 0 ||
            (r = take(f, "quote-attest", &e.quote.attest, &e.quote.attest_len)) < 0 ||
            (r = take(f, "quote-signature", &e.quote.signature, &e.quote.signature_len)) < 0 ||
            (r = take(f, "ak-public", &e.ak_public, &e.ak_public_len)) < 0 ||
            (r = take(f, "ak-cert", &e.ak_cert, &e.ak_cert_len)) < 0 || (r = take(f, "ek-cert", &e.ek_cert, &e.ek_cert_len)) < 0)
                goto fail;
        if (!e.quote.attest && (r = shield_evidence_add_note(&e, f->n_errors ? f->first_error : "no quote was sent")) < 0)
                goto fail;
        *ret = e;
        return 0;
fail:
        shield_evidence_free(&e);
        return r;
}
