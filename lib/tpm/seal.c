/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A key sealed to a boot state, on the machine's TPM (the issue "Sealed
 * machine credentials", step 2): an RSA-2048 RSA-OAEP decryption key
 * created under the EK, whose authPolicy is the PolicyPCR digest of the
 * intended boot (shield_policy_pcr_digest); fixedTPM and fixedParent, and
 * no userWithAuth, so nothing but that policy opens it; and TPM2_Certify by
 * the AK, so a verifier knows the key lives in this TPM with this policy.
 */
#include <stdlib.h>
#include <string.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>

#include "shield/crypto.h"
#include "shield/tpm.h"
#include "tpm-internal.h"

void shield_tpm_sealing_key_clear(struct shield_tpm_sealing_key *k) {
        if (!k)
                return;
        free(k->public);
        free(k->private);
        free(k->certify_attest);
        free(k->certify_signature);
        memset(k, 0, sizeof *k);
}

static int copy_out(const void *src, size_t n, uint8_t **dst, size_t *dst_len) {
        if (!(*dst = malloc(n ? n : 1)))
                return SHIELD_E_NOMEM;
        memcpy(*dst, src, n);
        *dst_len = n;
        return 0;
}

int shield_tpm_sealing_key_create(struct shield_tpm *t, const uint8_t *policy, size_t policy_len, uint32_t ak_handle,
                                  const uint8_t *nonce, size_t nonce_len, struct shield_tpm_sealing_key *ret,
                                  struct shield_diag *diag) {
        struct shield_tpm_sealing_key k = { 0 };
        ESYS_TR ek = ESYS_TR_NONE, s = ESYS_TR_NONE, key = ESYS_TR_NONE, ak = ESYS_TR_NONE;
        TPM2B_PUBLIC *pub = NULL;
        TPM2B_PRIVATE *priv = NULL;
        TPM2B_NAME *name = NULL;
        TPM2B_ATTEST *attest = NULL;
        TPMT_SIGNATURE *sig = NULL;
        bool transient = false;
        TSS2_RC rc;
        int r;

        if (!t || !policy || policy_len != 32 || !ret || nonce_len > sizeof(((TPM2B_DATA *)0)->buffer) ||
            (!nonce && nonce_len))
                return SHIELD_E_INVAL;
        /* Part 1, 27.2: decrypt only; the user role only through the policy (no userWithAuth). */
        TPM2B_PUBLIC tmpl = { .publicArea = {
                .type = TPM2_ALG_RSA, .nameAlg = TPM2_ALG_SHA256,
                .objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
                                    TPMA_OBJECT_DECRYPT,
                .parameters.rsaDetail = { .symmetric = { .algorithm = TPM2_ALG_NULL },
                                          .scheme = { .scheme = TPM2_ALG_OAEP, .details.oaep.hashAlg = TPM2_ALG_SHA256 },
                                          .keyBits = 2048, .exponent = 0 },
        } };
        tmpl.publicArea.authPolicy.size = 32;
        memcpy(tmpl.publicArea.authPolicy.buffer, policy, 32);
        TPM2B_SENSITIVE_CREATE sens = { 0 };
        TPM2B_DATA outside = { 0 };
        TPML_PCR_SELECTION creation = { 0 };

        if ((r = tpm_ek_load(t, &ek, &transient, NULL, diag)) < 0)
                return r;
        if ((r = tpm_endorsement_session(t, &s, diag)) < 0)
                goto out;
        rc = Esys_Create(t->esys, ek, s, ESYS_TR_NONE, ESYS_TR_NONE, &sens, &tmpl, &outside, &creation, &priv, &pub,
                         NULL, NULL, NULL);
        Esys_FlushContext(t->esys, s);
        s = ESYS_TR_NONE;
        if (rc != TSS2_RC_SUCCESS) {
                r = tpm_fail(t, diag, rc, "TPM2_Create of the sealing key under the EK");
                goto out;
        }
        if ((r = tpm_endorsement_session(t, &s, diag)) < 0)
                goto out;
        rc = Esys_Load(t->esys, ek, s, ESYS_TR_NONE, ESYS_TR_NONE, priv, pub, &key);
        Esys_FlushContext(t->esys, s);
        s = ESYS_TR_NONE;
        if (rc != TSS2_RC_SUCCESS) {
                r = tpm_fail(t, diag, rc, "TPM2_Load of the sealing key");
                goto out;
        }
        if ((rc = Esys_TR_GetName(t->esys, key, &name)) != TSS2_RC_SUCCESS || name->size > sizeof k.name) {
                r = tpm_fail(t, diag, rc, "Esys_TR_GetName of the sealing key");
                goto out;
        }
        memcpy(k.name, name->name, name->size);
        k.name_len = name->size;
        /* TPM2_Certify: the object's admin role is its (empty) authValue, as adminWithPolicy is clear. */
        if ((r = tpm_open_handle(t, ak_handle, &ak, diag)) < 0)
                goto out;
        TPM2B_DATA qualifying = { .size = (UINT16)nonce_len };
        if (nonce_len)
                memcpy(qualifying.buffer, nonce, nonce_len);
        TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_NULL };
        rc = Esys_Certify(t->esys, key, ak, ESYS_TR_PASSWORD, ESYS_TR_PASSWORD, ESYS_TR_NONE, &qualifying, &scheme,
                          &attest, &sig);
        if (rc != TSS2_RC_SUCCESS) {
                r = tpm_fail(t, diag, rc, "TPM2_Certify of the sealing key by the AK");
                goto out;
        }
        uint8_t buf[sizeof(TPM2B_PRIVATE) + sizeof(TPMT_SIGNATURE)];
        size_t off = 0;
        if ((r = tpm_marshal_public(t, pub, &k.public, &k.public_len, diag)) < 0)
                goto out;
        if ((rc = Tss2_MU_TPM2B_PRIVATE_Marshal(priv, buf, sizeof buf, &off)) != TSS2_RC_SUCCESS) {
                r = tpm_fail(t, diag, rc, "marshalling the TPM2B_PRIVATE");
                goto out;
        }
        if ((r = copy_out(buf, off, &k.private, &k.private_len)) < 0 ||
            (r = copy_out(attest->attestationData, attest->size, &k.certify_attest, &k.certify_attest_len)) < 0)
                goto out;
        off = 0;
        if ((rc = Tss2_MU_TPMT_SIGNATURE_Marshal(sig, buf, sizeof buf, &off)) != TSS2_RC_SUCCESS) {
                r = tpm_fail(t, diag, rc, "marshalling the certification's signature");
                goto out;
        }
        if ((r = copy_out(buf, off, &k.certify_signature, &k.certify_signature_len)) < 0)
                goto out;
        *ret = k;
        memset(&k, 0, sizeof k);
        r = 0;
out:
        if (key != ESYS_TR_NONE)
                Esys_FlushContext(t->esys, key);
        if (ak != ESYS_TR_NONE)
                Esys_TR_Close(t->esys, &ak);
        tpm_ek_release(t, &ek, transient);
        shield_tpm_sealing_key_clear(&k);
        Esys_Free(pub);
        Esys_Free(priv);
        Esys_Free(name);
        Esys_Free(attest);
        Esys_Free(sig);
        return r;
}

int shield_tpm_unseal(struct shield_tpm *t, const uint8_t *key_public, size_t key_public_len, const uint8_t *key_private,
                      size_t key_private_len, const struct shield_seal_policy *p, const uint8_t *blob, size_t blob_len,
                      uint8_t **ret, size_t *ret_len, struct shield_diag *diag) {
        struct shield_sealed s;
        TPM2B_PUBLIC pub = { 0 };
        TPM2B_PRIVATE priv = { 0 };
        ESYS_TR ek = ESYS_TR_NONE, sess = ESYS_TR_NONE, key = ESYS_TR_NONE;
        TPM2B_PUBLIC_KEY_RSA *plain = NULL;
        bool transient = false;
        size_t off = 0;
        TSS2_RC rc;
        int r;

        if (!t || !key_public || !key_private || !p || !p->mask || !blob || !ret || !ret_len)
                return SHIELD_E_INVAL;
        if ((r = shield_sealed_parse(blob, blob_len, &s, diag)) < 0)
                return r;
        if (s.wrapped_len > sizeof ((TPM2B_PUBLIC_KEY_RSA *)0)->buffer)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 8, -1, "the wrapped key is %zu bytes", s.wrapped_len);
        if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(key_public, key_public_len, &off, &pub) != TSS2_RC_SUCCESS || off != key_public_len)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, off, -1, "key.pub is not a TPM2B_PUBLIC");
        off = 0;
        if (Tss2_MU_TPM2B_PRIVATE_Unmarshal(key_private, key_private_len, &off, &priv) != TSS2_RC_SUCCESS ||
            off != key_private_len)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, off, -1, "key.priv is not a TPM2B_PRIVATE");
        if ((r = tpm_ek_load(t, &ek, &transient, NULL, diag)) < 0)
                return r;
        if ((r = tpm_endorsement_session(t, &sess, diag)) < 0)
                goto out;
        rc = Esys_Load(t->esys, ek, sess, ESYS_TR_NONE, ESYS_TR_NONE, &priv, &pub, &key);
        Esys_FlushContext(t->esys, sess);
        sess = ESYS_TR_NONE;
        if (rc != TSS2_RC_SUCCESS) {
                r = tpm_fail(t, diag, rc, "TPM2_Load of the sealing key (another TPM's?)");
                goto out;
        }
        /* A policy session over the TPM's PCRs (and epoch counter) now: only the sealed state satisfies the key's policy. */
        if ((r = tpm_seal_policy_session(t, p, &sess, diag)) < 0)
                goto out;
        TPM2B_PUBLIC_KEY_RSA cipher = { .size = (UINT16)s.wrapped_len };
        memcpy(cipher.buffer, s.wrapped, s.wrapped_len);
        TPMT_RSA_DECRYPT scheme = { .scheme = TPM2_ALG_OAEP, .details.oaep.hashAlg = TPM2_ALG_SHA256 };
        TPM2B_DATA label = { .size = sizeof shield_seal_label };
        memcpy(label.buffer, shield_seal_label, sizeof shield_seal_label);
        rc = Esys_RSA_Decrypt(t->esys, key, sess, ESYS_TR_NONE, ESYS_TR_NONE, &cipher, &scheme, &label, &plain);
        if (rc != TSS2_RC_SUCCESS) {
                r = tpm_policy_use_failed(t, rc, "TPM2_RSA_Decrypt of the wrapped key", diag);
                goto out;
        }
        if (plain->size != 32) {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "the unwrapped key is %u bytes, not 32", plain->size);
                goto out;
        }
        r = shield_sealed_open(&s, plain->buffer, ret, ret_len);
        if (r == SHIELD_E_VERIFY)
                shield_diag_fail(diag, r, 0, -1, "the sealed data does not verify under its key (edited?)");
out:
        if (plain) {
                explicit_bzero(plain->buffer, sizeof plain->buffer);
                Esys_Free(plain);
        }
        if (sess != ESYS_TR_NONE)
                Esys_FlushContext(t->esys, sess);
        if (key != ESYS_TR_NONE)
                Esys_FlushContext(t->esys, key);
        tpm_ek_release(t, &ek, transient);
        return r;
}

int tpm_nv_counter_read(struct shield_tpm *t, ESYS_TR nv, uint64_t *ret, struct shield_diag *diag) {
        TPM2B_MAX_NV_BUFFER *data = NULL;
        TSS2_RC rc = Esys_NV_Read(t->esys, nv, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, 8, 0, &data);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, diag, rc, "TPM2_NV_Read of the epoch counter");
        if (data->size != 8) {
                Esys_Free(data);
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "the counter read %u bytes, not 8", data->size);
        }
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
                v = v << 8 | data->buffer[i];
        Esys_Free(data);
        *ret = v;
        return 0;
}

int tpm_seal_policy_session(struct shield_tpm *t, const struct shield_seal_policy *p, ESYS_TR *ret,
                            struct shield_diag *diag) {
        ESYS_TR sess = ESYS_TR_NONE, nv = ESYS_TR_NONE;
        TSS2_RC rc;
        int r;

        if (!p->mask || p->mask >> 24)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "a PCR policy selects 1 to 24 PCRs (0..23)");
        TPMT_SYM_DEF sym = { .algorithm = TPM2_ALG_NULL };
        rc = Esys_StartAuthSession(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, NULL,
                                   TPM2_SE_POLICY, &sym, TPM2_ALG_SHA256, &sess);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, diag, rc, "TPM2_StartAuthSession (policy)");
        /* PolicyPCR never fails on values: the TPM records them, and the key's use compares the digest. */
        TPML_PCR_SELECTION sel = { .count = 1 };
        sel.pcrSelections[0].hash = p->bank;
        sel.pcrSelections[0].sizeofSelect = 3;
        for (unsigned i = 0; i < 24; i++)
                if (p->mask & (1u << i))
                        sel.pcrSelections[0].pcrSelect[i / 8] |= (uint8_t)(1u << (i % 8));
        TPM2B_DIGEST none = { 0 };
        if ((rc = Esys_PolicyPCR(t->esys, sess, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &none, &sel)) != TSS2_RC_SUCCESS) {
                r = tpm_fail(t, diag, rc, "TPM2_PolicyPCR");
                goto out;
        }
        if (p->epoch_nv) {
                if ((r = tpm_open_handle(t, p->epoch_nv, &nv, diag)) < 0) {
                        if (r == SHIELD_E_NOT_FOUND)
                                r = shield_diag_fail(diag, SHIELD_E_VERIFY, 0, -1,
                                                     "the TPM has no epoch counter at 0x%08x: the epoch differs",
                                                     (unsigned)p->epoch_nv);
                        goto out;
                }
                TPM2B_OPERAND operand = { .size = 8 };
                for (int i = 0; i < 8; i++)
                        operand.buffer[i] = (uint8_t)(p->epoch >> (56 - 8 * i));
                /* Part 3, 23.9: authHandle is the index itself (TPMA_NV_AUTHREAD, empty password). */
                rc = Esys_PolicyNV(t->esys, nv, nv, sess, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &operand, 0,
                                   TPM2_EO_EQ);
                if ((rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER && (rc & 0xfffu) == TPM2_RC_POLICY) {
                        uint64_t now = 0;
                        struct shield_diag ignored = { 0 };
                        t->last_rc = rc;
                        if (tpm_nv_counter_read(t, nv, &now, &ignored) == 0)
                                r = shield_diag_fail(diag, SHIELD_E_VERIFY, 0, -1,
                                                     "the TPM refused: its epoch counter 0x%08x holds %llu, not %llu "
                                                     "(the epoch %s)",
                                                     (unsigned)p->epoch_nv, (unsigned long long)now,
                                                     (unsigned long long)p->epoch, now > p->epoch ? "passed" : "differs");
                        else
                                r = shield_diag_fail(diag, SHIELD_E_VERIFY, 0, -1,
                                                     "the TPM refused: its epoch counter 0x%08x does not hold %llu "
                                                     "(the epoch passed or differs)",
                                                     (unsigned)p->epoch_nv, (unsigned long long)p->epoch);
                        goto out;
                }
                if (rc != TSS2_RC_SUCCESS) {
                        r = tpm_fail(t, diag, rc, "TPM2_PolicyNV on the epoch counter");
                        goto out;
                }
        }
        *ret = sess;
        sess = ESYS_TR_NONE;
        r = 0;
out:
        if (nv != ESYS_TR_NONE)
                Esys_TR_Close(t->esys, &nv);
        if (sess != ESYS_TR_NONE)
                Esys_FlushContext(t->esys, sess);
        return r;
}

int tpm_policy_use_failed(struct shield_tpm *t, TSS2_RC rc, const char *what, struct shield_diag *diag) {
        /* TPM_RC_POLICY_FAIL is a format-one code: the session (or handle) number sits in bits 8-11. */
        if ((rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER && (rc & TPM2_RC_FMT1) &&
            (rc & 0x3fu) == (TPM2_RC_POLICY_FAIL & 0x3fu)) {
                t->last_rc = rc;
                return shield_diag_fail(diag, SHIELD_E_VERIFY, 0, -1,
                                        "the TPM refused: its PCRs are not the state the key is sealed to (%s)",
                                        Tss2_RC_Decode(rc));
        }
        return tpm_fail(t, diag, rc, what);
}
