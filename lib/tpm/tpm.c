/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TPM through ESAPI. Every call uses empty (password) auth: the keys and
 * NV indexes we make have none, and provisioning expects the owner and
 * endorsement hierarchies to have none either (a fresh TPM, swtpm, a vTPM).
 * Transient objects are flushed at once: without a resource manager swtpm
 * holds only three.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "shield/crypto.h"
#include "shield/tpm.h"
#include "tpm-internal.h"

int tpm_fail(struct shield_tpm *t, struct shield_diag *diag, TSS2_RC rc, const char *what) {
        if (t)
                t->last_rc = rc;
        return shield_diag_fail(diag, SHIELD_E_TPM, 0, -1, "%s: %s (0x%x)", what, Tss2_RC_Decode(rc), (unsigned)rc);
}

uint32_t shield_tpm_last_rc(const struct shield_tpm *t) {
        return t ? t->last_rc : 0;
}

const char *shield_tpm_default_tcti(const char *tcti) {
        if (!tcti || !*tcti)
                tcti = getenv("SHIELD_TCTI");
        if (!tcti || !*tcti)
                tcti = getenv("TPM2TOOLS_TCTI");
        if (!tcti || !*tcti)
                tcti = "device:/dev/tpmrm0";
        return tcti;
}

int shield_tpm_open(const char *tcti, struct shield_tpm **ret, struct shield_diag *diag) {
        if (!ret)
                return SHIELD_E_INVAL;
        tcti = shield_tpm_default_tcti(tcti);

        struct shield_tpm *t = calloc(1, sizeof *t);
        if (!t)
                return SHIELD_E_NOMEM;
        TSS2_RC rc = Tss2_TctiLdr_Initialize(tcti, &t->tcti);
        if (rc != TSS2_RC_SUCCESS) {
                free(t);
                return shield_diag_fail(diag, SHIELD_E_TPM, 0, -1, "cannot open the TCTI '%s': %s", tcti,
                                        Tss2_RC_Decode(rc));
        }
        rc = Esys_Initialize(&t->esys, t->tcti, NULL);
        if (rc != TSS2_RC_SUCCESS) {
                Tss2_TctiLdr_Finalize(&t->tcti);
                free(t);
                return shield_diag_fail(diag, SHIELD_E_TPM, 0, -1, "cannot start ESAPI on '%s': %s", tcti,
                                        Tss2_RC_Decode(rc));
        }
        /*
         * A simulator may need TPM2_Startup; a started TPM answers
         * TPM_RC_INITIALIZE and a resource manager may refuse the command:
         * only a failure to talk to the TPM at all is an error here.
         */
        rc = Esys_Startup(t->esys, TPM2_SU_CLEAR);
        if (rc != TSS2_RC_SUCCESS && (rc & TSS2_RC_LAYER_MASK) != TSS2_TPM_RC_LAYER &&
            (rc & TSS2_RC_LAYER_MASK) != TSS2_RESMGR_TPM_RC_LAYER && (rc & TSS2_RC_LAYER_MASK) != TSS2_RESMGR_RC_LAYER) {
                shield_diag_fail(diag, SHIELD_E_TPM, 0, -1, "the TPM at '%s' does not answer: %s", tcti,
                                 Tss2_RC_Decode(rc));
                shield_tpm_close(t);
                return SHIELD_E_TPM;
        }
        *ret = t;
        return 0;
}

void shield_tpm_close(struct shield_tpm *t) {
        if (!t)
                return;
        if (t->esys)
                Esys_Finalize(&t->esys);
        if (t->tcti)
                Tss2_TctiLdr_Finalize(&t->tcti);
        free(t);
}

/* Whether a persistent object or NV index exists (TPM2_GetCapability(HANDLES) from it). */
int tpm_handle_exists(struct shield_tpm *t, uint32_t handle, bool *ret, struct shield_diag *diag) {
        TPMS_CAPABILITY_DATA *cap = NULL;
        TPMI_YES_NO more;
        TSS2_RC rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES, handle, 1,
                                        &more, &cap);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, diag, rc, "TPM2_GetCapability(HANDLES)");
        *ret = cap->data.handles.count > 0 && cap->data.handles.handle[0] == handle;
        Esys_Free(cap);
        return 0;
}

int tpm_open_handle(struct shield_tpm *t, uint32_t handle, ESYS_TR *ret, struct shield_diag *diag) {
        bool exists;
        int r = tpm_handle_exists(t, handle, &exists, diag);
        if (r < 0)
                return r;
        if (!exists)
                return shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "nothing at TPM handle 0x%08x",
                                        (unsigned)handle);
        TSS2_RC rc = Esys_TR_FromTPMPublic(t->esys, handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ret);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, diag, rc, "Esys_TR_FromTPMPublic");
        return 0;
}

/* Active banks with PCRs allocated, of hash algorithms we know. */
static int active_banks(struct shield_tpm *t, TPML_PCR_SELECTION *ret, struct shield_diag *diag) {
        TPMS_CAPABILITY_DATA *cap = NULL;
        TPMI_YES_NO more;
        TSS2_RC rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_PCRS, 0, 1, &more,
                                        &cap);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, diag, rc, "TPM2_GetCapability(PCRS)");
        TPML_PCR_SELECTION sel = { 0 };
        const TPML_PCR_SELECTION *a = &cap->data.assignedPCR;
        for (size_t i = 0; i < a->count && i < TPM2_NUM_PCR_BANKS; i++) {
                bool any3 = false;
                for (unsigned b = 0; b < a->pcrSelections[i].sizeofSelect && b < 3; b++)
                        any3 |= a->pcrSelections[i].pcrSelect[b] != 0;
                if (!any3 || shield_hash_size(a->pcrSelections[i].hash) == 0 || sel.count >= SHIELD_BANKS_MAX)
                        continue;
                /* PCRs 0-23 as far as the bank has them allocated. */
                TPMS_PCR_SELECTION *s = &sel.pcrSelections[sel.count++];
                s->hash = a->pcrSelections[i].hash;
                s->sizeofSelect = 3;
                for (unsigned b = 0; b < 3 && b < a->pcrSelections[i].sizeofSelect; b++)
                        s->pcrSelect[b] = a->pcrSelections[i].pcrSelect[b];
        }
        Esys_Free(cap);
        if (sel.count == 0)
                return shield_diag_fail(diag, SHIELD_E_UNSUPPORTED, 0, -1, "the TPM has no active PCR bank we know");
        *ret = sel;
        return 0;
}

int shield_tpm_read_pcrs(struct shield_tpm *t, struct shield_pcrs *ret, struct shield_diag *diag) {
        TPML_PCR_SELECTION banks;
        struct shield_pcrs pcrs = { 0 };
        int r;

        if (!t || !ret)
                return SHIELD_E_INVAL;
        if ((r = active_banks(t, &banks, diag)) < 0)
                return r;
        for (size_t i = 0; i < banks.count; i++) {
                uint16_t alg = banks.pcrSelections[i].hash;
                struct shield_pcr_bank *bank;
                if ((r = shield_pcrs_add_bank(&pcrs, alg, (uint16_t)shield_hash_size(alg), &bank)) < 0)
                        return r;
                const BYTE *m = banks.pcrSelections[i].pcrSelect;
                uint32_t want = (uint32_t)m[0] | (uint32_t)m[1] << 8 | (uint32_t)m[2] << 16;
                /* TPM2_PCR_Read answers at most 8 digests per call (TPML_DIGEST). */
                while (want) {
                        TPML_PCR_SELECTION in = { .count = 1 }, *outsel = NULL;
                        TPML_DIGEST *values = NULL;
                        UINT32 counter;
                        in.pcrSelections[0].hash = alg;
                        in.pcrSelections[0].sizeofSelect = 3;
                        for (unsigned b = 0; b < 3; b++)
                                in.pcrSelections[0].pcrSelect[b] = (uint8_t)(want >> (8 * b));
                        TSS2_RC rc = Esys_PCR_Read(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &in, &counter,
                                                   &outsel, &values);
                        if (rc != TSS2_RC_SUCCESS)
                                return tpm_fail(t, diag, rc, "TPM2_PCR_Read");
                        uint32_t got = 0;
                        size_t k = 0;
                        for (size_t s = 0; s < outsel->count; s++) {
                                const TPMS_PCR_SELECTION *os = &outsel->pcrSelections[s];
                                for (unsigned j = 0; j < 8u * os->sizeofSelect && j < 32; j++) {
                                        if (!(os->pcrSelect[j / 8] & (1u << (j % 8))))
                                                continue;
                                        if (k >= values->count)
                                                break;
                                        const TPM2B_DIGEST *v = &values->digests[k++];
                                        if (os->hash != alg || j >= SHIELD_PCR_COUNT || v->size != bank->size)
                                                continue;
                                        memcpy(bank->value[j], v->buffer, v->size);
                                        got |= 1u << j;
                                }
                        }
                        Esys_Free(outsel);
                        Esys_Free(values);
                        if (!(got & want))
                                return shield_diag_fail(diag, SHIELD_E_TPM, 0, -1,
                                                        "TPM2_PCR_Read returned none of the %s PCRs asked for",
                                                        shield_hash_name(alg));
                        bank->present |= got & want;
                        want &= ~got;
                }
                bank->extended = bank->present;
        }
        *ret = pcrs;
        return 0;
}

int shield_tpm_pcr_extend(struct shield_tpm *t, unsigned pcr, uint16_t alg, const uint8_t *digest,
                          struct shield_diag *diag) {
        size_t size = shield_hash_size(alg);
        if (!t || !digest || pcr >= SHIELD_PCR_COUNT || size == 0 || size > sizeof(TPMU_HA))
                return SHIELD_E_INVAL;
        TPML_DIGEST_VALUES v = { .count = 1 };
        v.digests[0].hashAlg = alg;
        memcpy(&v.digests[0].digest, digest, size);
        TSS2_RC rc = Esys_PCR_Extend(t->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &v);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, diag, rc, "TPM2_PCR_Extend");
        return 0;
}

void shield_quote_clear(struct shield_quote *q) {
        if (!q)
                return;
        free(q->attest);
        free(q->signature);
        memset(q, 0, sizeof *q);
}

int shield_tpm_quote(struct shield_tpm *t, uint32_t ak_handle, const uint8_t *nonce, size_t nonce_len,
                     struct shield_quote *ret, struct shield_diag *diag) {
        return shield_tpm_quote_pcrs(t, ak_handle, 0xffffffu, nonce, nonce_len, ret, diag);
}

int shield_tpm_quote_pcrs(struct shield_tpm *t, uint32_t ak_handle, uint32_t pcr_mask, const uint8_t *nonce,
                          size_t nonce_len, struct shield_quote *ret, struct shield_diag *diag) {
        TPML_PCR_SELECTION sel;
        ESYS_TR ak = ESYS_TR_NONE;
        TPM2B_ATTEST *quoted = NULL;
        TPMT_SIGNATURE *sig = NULL;
        struct shield_quote q = { 0 };
        int r;

        if (!t || !ret || !nonce || nonce_len == 0 || nonce_len > SHIELD_TPM_NONCE_MAX)
                return SHIELD_E_INVAL;
        if ((r = active_banks(t, &sel, diag)) < 0)
                return r;
        if ((pcr_mask & 0xffffffu) == 0)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "no PCR selected for the quote");
        /* Only the PCRs asked for, in every active bank. */
        for (UINT32 b = 0; b < sel.count; b++)
                for (UINT8 k = 0; k < sel.pcrSelections[b].sizeofSelect && k < 3; k++)
                        sel.pcrSelections[b].pcrSelect[k] &= (BYTE)(pcr_mask >> (8 * k));
        if ((r = tpm_open_handle(t, ak_handle, &ak, diag)) < 0)
                return r;
        TPM2B_DATA qd = { .size = (UINT16)nonce_len };
        memcpy(qd.buffer, nonce, nonce_len);
        TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_NULL };
        TSS2_RC rc = Esys_Quote(t->esys, ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &qd, &scheme, &sel, &quoted,
                                &sig);
        Esys_TR_Close(t->esys, &ak);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, diag, rc, "TPM2_Quote");

        uint8_t buf[sizeof(TPMT_SIGNATURE)];
        size_t off = 0;
        r = SHIELD_E_NOMEM;
        q.attest = malloc(quoted->size ? quoted->size : 1);
        if (!q.attest)
                goto out;
        memcpy(q.attest, quoted->attestationData, quoted->size);
        q.attest_len = quoted->size;
        rc = Tss2_MU_TPMT_SIGNATURE_Marshal(sig, buf, sizeof buf, &off);
        if (rc != TSS2_RC_SUCCESS) {
                r = tpm_fail(t, diag, rc, "marshalling the TPMT_SIGNATURE");
                goto out;
        }
        q.signature = malloc(off);
        if (!q.signature)
                goto out;
        memcpy(q.signature, buf, off);
        q.signature_len = off;
        *ret = q;
        memset(&q, 0, sizeof q);
        r = 0;
out:
        shield_quote_clear(&q);
        Esys_Free(quoted);
        Esys_Free(sig);
        return r;
}

int tpm_marshal_public(struct shield_tpm *t, const TPM2B_PUBLIC *pub, uint8_t **ret, size_t *ret_len,
                          struct shield_diag *diag) {
        uint8_t buf[sizeof(TPM2B_PUBLIC) + 2];
        size_t off = 0;
        TSS2_RC rc = Tss2_MU_TPM2B_PUBLIC_Marshal(pub, buf, sizeof buf, &off);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, diag, rc, "marshalling the TPM2B_PUBLIC");
        uint8_t *copy = malloc(off);
        if (!copy)
                return SHIELD_E_NOMEM;
        memcpy(copy, buf, off);
        *ret = copy;
        *ret_len = off;
        return 0;
}

int tpm_read_public_tr(struct shield_tpm *t, ESYS_TR tr, TPM2B_PUBLIC **ret, struct shield_diag *diag) {
        TSS2_RC rc = Esys_ReadPublic(t->esys, tr, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ret, NULL, NULL);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, diag, rc, "TPM2_ReadPublic");
        return 0;
}

int shield_tpm_read_public(struct shield_tpm *t, uint32_t handle, uint8_t **ret, size_t *ret_len,
                           struct shield_diag *diag) {
        ESYS_TR tr;
        TPM2B_PUBLIC *pub = NULL;
        if (!t || !ret || !ret_len)
                return SHIELD_E_INVAL;
        int r = tpm_open_handle(t, handle, &tr, diag);
        if (r < 0)
                return r;
        r = tpm_read_public_tr(t, tr, &pub, diag);
        Esys_TR_Close(t->esys, &tr);
        if (r < 0)
                return r;
        r = tpm_marshal_public(t, pub, ret, ret_len, diag);
        Esys_Free(pub);
        return r;
}

static int nv_public(struct shield_tpm *t, ESYS_TR tr, uint16_t *ret, TPMA_NV *ret_attrs, struct shield_diag *diag) {
        TPM2B_NV_PUBLIC *pub = NULL;
        TSS2_RC rc = Esys_NV_ReadPublic(t->esys, tr, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, diag, rc, "TPM2_NV_ReadPublic");
        *ret = pub->nvPublic.dataSize;
        if (ret_attrs)
                *ret_attrs = pub->nvPublic.attributes;
        Esys_Free(pub);
        return 0;
}

/* TPM2_PT_NV_BUFFER_MAX: the largest NV_Read/NV_Write; 512 when the TPM does not say. */
static size_t nv_chunk(struct shield_tpm *t) {
        TPMS_CAPABILITY_DATA *cap = NULL;
        TPMI_YES_NO more;
        size_t n = 512;
        if (Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_TPM_PROPERTIES,
                               TPM2_PT_NV_BUFFER_MAX, 1, &more, &cap) == TSS2_RC_SUCCESS) {
                if (cap->data.tpmProperties.count > 0 &&
                    cap->data.tpmProperties.tpmProperty[0].property == TPM2_PT_NV_BUFFER_MAX)
                        n = cap->data.tpmProperties.tpmProperty[0].value;
                Esys_Free(cap);
        }
        if (n == 0 || n > TPM2_MAX_NV_BUFFER_SIZE)
                n = n ? TPM2_MAX_NV_BUFFER_SIZE : 512;
        return n;
}

int shield_tpm_nv_read(struct shield_tpm *t, uint32_t index, uint8_t **ret, size_t *ret_len,
                       struct shield_diag *diag) {
        ESYS_TR tr;
        uint16_t size;
        if (!t || !ret || !ret_len)
                return SHIELD_E_INVAL;
        int r = tpm_open_handle(t, index, &tr, diag);
        if (r < 0)
                return r;
        if ((r = nv_public(t, tr, &size, NULL, diag)) < 0)
                goto out;
        size_t chunk = nv_chunk(t);
        uint8_t *buf = malloc(size ? size : 1);
        r = SHIELD_E_NOMEM;
        if (!buf)
                goto out;
        for (size_t off = 0; off < size;) {
                TPM2B_MAX_NV_BUFFER *data = NULL;
                UINT16 n = (UINT16)(size - off < chunk ? size - off : chunk);
                TSS2_RC rc = Esys_NV_Read(t->esys, tr, tr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, n,
                                          (UINT16)off, &data);
                if (rc != TSS2_RC_SUCCESS) {
                        free(buf);
                        r = tpm_fail(t, diag, rc, "TPM2_NV_Read");
                        goto out;
                }
                if (data->size != n) {
                        Esys_Free(data);
                        free(buf);
                        r = shield_diag_fail(diag, SHIELD_E_TPM, off, -1, "TPM2_NV_Read returned %u bytes, asked %u",
                                             (unsigned)data->size, (unsigned)n);
                        goto out;
                }
                memcpy(buf + off, data->buffer, n);
                off += n;
                Esys_Free(data);
        }
        *ret = buf;
        *ret_len = size;
        r = 0;
out:
        Esys_TR_Close(t->esys, &tr);
        return r;
}

/*
 * Define (or redefine at another size) an owner NV index and write data to
 * it. An index the platform created (a manufacturer's EK certificate on a
 * real TPM) is never touched: SHIELD_E_UNSUPPORTED.
 */
static int nv_store(struct shield_tpm *t, uint32_t index, const uint8_t *data, size_t len, struct shield_diag *diag) {
        ESYS_TR tr = ESYS_TR_NONE;
        bool exists;
        TSS2_RC rc;
        int r;

        if (len == 0 || len > SHIELD_TPM_CERT_MAX)
                return shield_diag_fail(diag, SHIELD_E_LIMIT, 0, -1, "%zu bytes do not fit an NV index", len);
        if ((r = tpm_handle_exists(t, index, &exists, diag)) < 0)
                return r;
        if (exists) {
                uint16_t size;
                TPMA_NV attrs;
                if ((r = tpm_open_handle(t, index, &tr, diag)) < 0)
                        return r;
                if ((r = nv_public(t, tr, &size, &attrs, diag)) < 0) {
                        Esys_TR_Close(t->esys, &tr);
                        return r;
                }
                if (attrs & TPMA_NV_PLATFORMCREATE) {
                        Esys_TR_Close(t->esys, &tr);
                        return shield_diag_fail(diag, SHIELD_E_UNSUPPORTED, 0, -1,
                                                "NV index 0x%08x was created by the platform: not replacing it",
                                                (unsigned)index);
                }
                if (size != len) {
                        rc = Esys_NV_UndefineSpace(t->esys, ESYS_TR_RH_OWNER, tr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                                   ESYS_TR_NONE);
                        if (rc != TSS2_RC_SUCCESS) {
                                Esys_TR_Close(t->esys, &tr);
                                return tpm_fail(t, diag, rc, "TPM2_NV_UndefineSpace");
                        }
                        tr = ESYS_TR_NONE; /* UndefineSpace released it */
                        exists = false;
                }
        }
        if (!exists) {
                TPM2B_AUTH auth = { 0 };
                TPM2B_NV_PUBLIC info = {
                        .nvPublic = {
                                .nvIndex = index,
                                .nameAlg = TPM2_ALG_SHA256,
                                .attributes = TPMA_NV_OWNERWRITE | TPMA_NV_AUTHWRITE | TPMA_NV_OWNERREAD |
                                              TPMA_NV_AUTHREAD | TPMA_NV_NO_DA |
                                              (TPM2_NT_ORDINARY << TPMA_NV_TPM2_NT_SHIFT),
                                .dataSize = (UINT16)len,
                        },
                };
                rc = Esys_NV_DefineSpace(t->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &auth,
                                         &info, &tr);
                if (rc != TSS2_RC_SUCCESS)
                        return tpm_fail(t, diag, rc, "TPM2_NV_DefineSpace");
        }
        size_t chunk = nv_chunk(t);
        r = 0;
        for (size_t off = 0; off < len && r == 0;) {
                TPM2B_MAX_NV_BUFFER buf;
                buf.size = (UINT16)(len - off < chunk ? len - off : chunk);
                memcpy(buf.buffer, data + off, buf.size);
                rc = Esys_NV_Write(t->esys, ESYS_TR_RH_OWNER, tr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &buf,
                                   (UINT16)off);
                if (rc != TSS2_RC_SUCCESS)
                        r = tpm_fail(t, diag, rc, "TPM2_NV_Write");
                off += buf.size;
        }
        Esys_TR_Close(t->esys, &tr);
        return r;
}

/* TCG EK Credential Profile 2.0, B.3.3 Template L-1: RSA 2048 (policy A). */
static const uint8_t ek_policy_a[32] = {
        0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24,
        0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa,
};

void tpm_ek_template(TPM2B_PUBLIC *p) {
        memset(p, 0, sizeof *p);
        TPMT_PUBLIC *a = &p->publicArea;
        a->type = TPM2_ALG_RSA;
        a->nameAlg = TPM2_ALG_SHA256;
        a->objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
                              TPMA_OBJECT_ADMINWITHPOLICY | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
        a->authPolicy.size = sizeof ek_policy_a;
        memcpy(a->authPolicy.buffer, ek_policy_a, sizeof ek_policy_a);
        a->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
        a->parameters.rsaDetail.symmetric.keyBits.aes = 128;
        a->parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
        a->parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
        a->parameters.rsaDetail.keyBits = 2048;
        a->parameters.rsaDetail.exponent = 0;
        a->unique.rsa.size = 256; /* 256 zero bytes, as the template says */
}

/* The AK: docs/FORMATS.md, "Keys"; the EFI agent builds the same template. */
static void ak_template(TPM2B_PUBLIC *p) {
        memset(p, 0, sizeof *p);
        TPMT_PUBLIC *a = &p->publicArea;
        a->type = TPM2_ALG_RSA;
        a->nameAlg = TPM2_ALG_SHA256;
        a->objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
                              TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
        a->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
        a->parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
        a->parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
        a->parameters.rsaDetail.keyBits = 2048;
        a->parameters.rsaDetail.exponent = 0;
}

/* An existing key is "the right kind" when its type, attributes, policy and parameters match the template. */
static bool same_kind(const TPMT_PUBLIC *have, const TPMT_PUBLIC *want) {
        const TPMS_RSA_PARMS *h = &have->parameters.rsaDetail, *w = &want->parameters.rsaDetail;
        return have->type == want->type && have->nameAlg == want->nameAlg &&
               have->objectAttributes == want->objectAttributes && have->authPolicy.size == want->authPolicy.size &&
               memcmp(have->authPolicy.buffer, want->authPolicy.buffer, want->authPolicy.size) == 0 &&
               h->keyBits == w->keyBits && h->scheme.scheme == w->scheme.scheme &&
               h->symmetric.algorithm == w->symmetric.algorithm &&
               (h->exponent == w->exponent || (h->exponent | w->exponent) == 65537);
}

static int ensure_key(struct shield_tpm *t, uint32_t handle, const TPM2B_PUBLIC *tmpl, const char *what,
                      TPM2B_PUBLIC *ret, struct shield_diag *diag) {
        ESYS_TR tr = ESYS_TR_NONE, obj = ESYS_TR_NONE;
        TPM2B_PUBLIC *pub = NULL;
        bool exists;
        int r;

        if ((r = tpm_handle_exists(t, handle, &exists, diag)) < 0)
                return r;
        if (exists) {
                if ((r = tpm_open_handle(t, handle, &tr, diag)) < 0)
                        return r;
                r = tpm_read_public_tr(t, tr, &pub, diag);
                Esys_TR_Close(t->esys, &tr);
                if (r < 0)
                        return r;
                if (!same_kind(&pub->publicArea, &tmpl->publicArea)) {
                        Esys_Free(pub);
                        return shield_diag_fail(diag, SHIELD_E_UNSUPPORTED, 0, -1,
                                                "0x%08x holds another kind of object than the %s: evict it first "
                                                "(tpm2_evictcontrol -c 0x%08x)",
                                                (unsigned)handle, what, (unsigned)handle);
                }
                *ret = *pub;
                Esys_Free(pub);
                return 0;
        }
        TPM2B_SENSITIVE_CREATE sens = { 0 };
        TPM2B_DATA outside = { 0 };
        TPML_PCR_SELECTION creation = { 0 };
        TSS2_RC rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                        &sens, tmpl, &outside, &creation, &obj, &pub, NULL, NULL, NULL);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, diag, rc, "TPM2_CreatePrimary in the endorsement hierarchy");
        rc = Esys_EvictControl(t->esys, ESYS_TR_RH_OWNER, obj, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, handle,
                               &tr);
        Esys_FlushContext(t->esys, obj);
        if (rc != TSS2_RC_SUCCESS) {
                Esys_Free(pub);
                return tpm_fail(t, diag, rc, "TPM2_EvictControl");
        }
        Esys_TR_Close(t->esys, &tr);
        *ret = *pub;
        Esys_Free(pub);
        return 0;
}

int shield_tpm_provision(struct shield_tpm *t, const struct shield_tpm_provision_opts *o, struct shield_diag *diag) {
        TPM2B_PUBLIC tmpl, ek, ak;
        struct tpmc_key key;
        uint8_t *der = NULL;
        size_t len = 0;
        char cn[320];
        int r;

        if (!t || !o || !o->name || !*o->name || !o->ca_key_path || !o->ca_cert_path)
                return SHIELD_E_INVAL;
        if (strlen(o->name) > 200)
                return shield_diag_fail(diag, SHIELD_E_LIMIT, 0, -1, "the instance name is over 200 bytes");
        unsigned days = o->days ? o->days : 3650;

        tpm_ek_template(&tmpl);
        if ((r = ensure_key(t, SHIELD_TPM_EK_HANDLE, &tmpl, "EK", &ek, diag)) < 0)
                return r;
        ak_template(&tmpl);
        if ((r = ensure_key(t, SHIELD_TPM_AK_HANDLE, &tmpl, "AK", &ak, diag)) < 0)
                return r;

        if ((r = tpm_public_key(&ek.publicArea, &key)) < 0)
                return r;
        snprintf(cn, sizeof cn, "%s EK", o->name);
        if ((r = tpmc_issue_cert(&key, cn, o->ca_key_path, o->ca_cert_path, days, false, &der, &len, diag)) < 0)
                return r;
        /* A manufacturer's EK certificate in a platform-created index stays. */
        r = nv_store(t, SHIELD_TPM_EK_CERT_NV, der, len, diag);
        free(der);
        der = NULL;
        if (r < 0 && r != SHIELD_E_UNSUPPORTED)
                return r;

        if ((r = tpm_public_key(&ak.publicArea, &key)) < 0)
                return r;
        snprintf(cn, sizeof cn, "%s AK", o->name);
        if ((r = tpmc_issue_cert(&key, cn, o->ca_key_path, o->ca_cert_path, days, true, &der, &len, diag)) < 0)
                return r;
        r = nv_store(t, SHIELD_TPM_AK_CERT_NV, der, len, diag);
        free(der);
        return r;
}
