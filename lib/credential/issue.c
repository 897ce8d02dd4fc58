/* SPDX-License-Identifier: Apache-2.0 */
/* Issuing a machine credential to a certified sealing key or an EK (shield/credential.h, step 3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credential-internal.h"
#include "shield/tpm.h"
#include "shield/util.h"

void shield_credential_result_clear(struct shield_credential_result *r) {
        if (!r)
                return;
        shield_reasons_clear(&r->refusal);
        shield_credential_record_clear(&r->current);
        memset(r, 0, sizeof *r);
}

int credential_issue_sealed(struct shield_store *store, const struct shield_machine_ca *ca, const char *instance,
                            const struct shield_intent_record *intent, const uint8_t policy[32],
                            const struct shield_seal_policy *pol, const uint8_t *key_public, size_t key_public_len,
                            const uint8_t *ek_public, size_t ek_public_len, uint32_t validity, int64_t now,
                            char *ret_serial, struct shield_diag *diag) {
        struct shield_issued_credential ic = { 0 };
        struct shield_credential_record rec = { .intent = intent->id, .method = intent->method, .issued = now };
        char *bundle = NULL;
        size_t bundle_len = 0;
        int r;

        if (!ca)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "no machine CA to issue with");
        if ((r = shield_machine_ca_issue(ca, instance, now, validity ? validity : SHIELD_CREDENTIAL_VALIDITY_DEFAULT, &ic,
                                         diag)) < 0)
                return r;
        if ((r = shield_credential_bundle_make(&ic, shield_machine_ca_cert_pem(ca), &bundle, &bundle_len)) < 0)
                goto out;
        if (key_public)
                r = shield_seal_to_key(key_public, key_public_len, (const uint8_t *)bundle, bundle_len, &rec.sealed,
                                       &rec.sealed_len, diag);
        else
                r = shield_seal_to_ek(ek_public, ek_public_len, policy, 32, (const uint8_t *)bundle, bundle_len, &rec.sealed,
                                      &rec.sealed_len, diag);
        if (r < 0)
                goto out;
        snprintf(rec.serial, sizeof rec.serial, "%s", ic.serial);
        snprintf(rec.instance, sizeof rec.instance, "%s", instance);
        rec.not_after = ic.not_after;
        memcpy(rec.policy, policy, sizeof rec.policy);
        rec.epoch_nv = pol->epoch_nv;
        rec.epoch = pol->epoch;
        rec.cert_der = ic.cert_der;
        rec.cert_der_len = ic.cert_der_len;
        r = shield_store_credential_add(store, &rec, diag);
        rec.cert_der = NULL; /* ic's */
        if (r >= 0)
                snprintf(ret_serial, SHIELD_CA_SERIAL_HEX + 1, "%s", ic.serial);
out:
        if (bundle) {
                explicit_bzero(bundle, bundle_len);
                free(bundle);
        }
        shield_credential_record_clear(&rec);
        shield_issued_credential_clear(&ic);
        return r;
}

static int refuse(struct shield_credential_result *ret, const char *code, const char *msg) {
        return shield_reasons_add(&ret->refusal, code, SHIELD_SEV_ERROR, 0, -1, -1, SIZE_MAX, "%s", msg);
}

/* Check the request against the intent and issue; refusals are reasons, store failures errors. */
static int issue_for(struct shield_store *store, const struct shield_machine_ca *ca, const char *instance,
                     const uint8_t *ak_public, size_t ak_public_len, const uint8_t *nonce, size_t nonce_len,
                     const struct shield_sealing_request *req, uint32_t validity, int64_t now,
                     struct shield_credential_result *ret, struct shield_diag *diag) {
        struct shield_intent_record in = { 0 };
        struct shield_seal_policy pol = { 0 };
        struct shield_diag pd = { 0 };
        uint8_t policy[32];
        char serial[SHIELD_CA_SERIAL_HEX + 1];
        bool issued = false;
        int r = shield_store_intent_active(store, instance, &in, diag);

        if (r == SHIELD_E_NOT_FOUND || (r >= 0 && (in.id != req->intent || in.method != SHIELD_CREDENTIAL_SEALING_KEY))) {
                r = refuse(ret, "credential-intent-unknown",
                           "the sealing key is for an intent that is not the instance's active sealing-key intent");
                goto out;
        }
        if (r < 0 || (r = shield_store_intent_issued(store, in.id, &issued, diag)) < 0)
                goto out;
        if (issued) {
                r = refuse(ret, "credential-issued", "the intent's credential was issued already");
                goto out;
        }
        pol.bank = in.bank;
        pol.mask = in.mask;
        if ((r = credential_intent_pcrs(&in, &pol.pcrs, diag)) < 0)
                goto out;
        if (req->epoch_nv_public) {
                if (shield_tpm_epoch_public_check(req->epoch_nv_public, req->epoch_nv_public_len, &pol.epoch_nv,
                                                  pol.epoch_nv_name, &pol.epoch_nv_name_len, &pd) < 0) {
                        r = shield_reasons_add(&ret->refusal, "credential-epoch", SHIELD_SEV_ERROR, 0, -1, -1, SIZE_MAX,
                                               "the epoch counter: %s", pd.msg);
                        goto out;
                }
                pol.epoch = req->epoch;
        }
        if ((r = shield_seal_policy_digest(&pol, policy, diag)) < 0)
                goto out;
        r = shield_sealing_key_check(ak_public, ak_public_len, req->certify_attest, req->certify_attest_len,
                                     req->certify_signature, req->certify_signature_len, req->key_public,
                                     req->key_public_len, nonce, nonce_len, policy, sizeof policy, &ret->refusal, &pd);
        if (r == SHIELD_E_VERIFY || (r < 0 && r != SHIELD_E_NOMEM)) {
                if (r != SHIELD_E_VERIFY)
                        r = shield_reasons_add(&ret->refusal, "credential-sealing-key-format", SHIELD_SEV_ERROR, 0, -1,
                                               -1, SIZE_MAX, "the sealing key: %s", pd.msg);
                else
                        r = 0;
                goto out;
        }
        if (r < 0)
                goto out;
        if ((r = credential_issue_sealed(store, ca, instance, &in, policy, &pol, req->key_public, req->key_public_len, NULL, 0,
                                         validity, now, serial, diag)) < 0)
                goto out;
        ret->issued = true;
out:
        shield_intent_record_clear(&in);
        return r < 0 ? r : 0;
}

int shield_credential_issue(struct shield_store *store, const struct shield_machine_ca *ca, const char *instance,
                            const uint8_t *ak_public, size_t ak_public_len, const uint8_t *nonce, size_t nonce_len,
                            const struct shield_sealing_request *req, uint32_t validity, int64_t now,
                            struct shield_credential_result *ret, struct shield_diag *diag) {
        int r;

        if (!store || !instance || !ret)
                return SHIELD_E_INVAL;
        memset(ret, 0, sizeof *ret);
        if (req) {
                ret->attempted = true;
                if (!ca)
                        r = refuse(ret, "credential-no-ca", "this verifier issues no credentials");
                else
                        r = issue_for(store, ca, instance, ak_public, ak_public_len, nonce, nonce_len, req, validity, now, ret,
                                      diag);
                if (r < 0)
                        return r;
        }
        r = shield_store_credential_current(store, instance, &ret->current, diag);
        if (r == SHIELD_E_NOT_FOUND)
                return 0;
        if (r < 0)
                return r;
        ret->has_current = true;
        return 0;
}
