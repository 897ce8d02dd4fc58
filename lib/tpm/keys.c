/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TPM's identity and the EK/AK binding: TPM properties, the EK (read
 * or derived from the TCG template), an AK made as a child of the EK the
 * way tpm2_createak makes one, and TPM2_ActivateCredential. Every
 * transient object and session made here is flushed on every path: swtpm
 * without a resource manager holds three objects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>

#include "shield/crypto.h"
#include "shield/tpm.h"
#include "tpm-internal.h"

/* Four property bytes as ASCII, NULs and trailing spaces dropped. */
static void prop_ascii(uint32_t v, char *out, size_t *len) {
        for (int b = 3; b >= 0; b--) {
                char c = (char)(v >> (8 * b));
                if (c >= 0x20 && c < 0x7f)
                        out[(*len)++] = c;
        }
        out[*len] = '\0';
}

static void rstrip(char *s) {
        size_t n = strlen(s);
        while (n && s[n - 1] == ' ')
                s[--n] = '\0';
}

int shield_tpm_get_info(struct shield_tpm *t, struct shield_tpm_info *ret, struct shield_diag *diag) {
        struct shield_tpm_info info = { 0 };
        size_t vlen = 0, mlen = 0, flen = 0;
        uint32_t prop = TPM2_PT_FIXED;
        TPMI_YES_NO more = TPM2_YES;
        TSS2_RC rc;

        if (!t || !ret)
                return SHIELD_E_INVAL;
        uint32_t vendor[4] = { 0 };
        while (more == TPM2_YES && prop < TPM2_PT_FIXED + 0x100) {
                TPMS_CAPABILITY_DATA *cap = NULL;
                rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_TPM_PROPERTIES,
                                        prop, TPM2_MAX_TPM_PROPERTIES, &more, &cap);
                if (rc != TSS2_RC_SUCCESS)
                        return tpm_fail(t, diag, rc, "TPM2_GetCapability(TPM_PROPERTIES)");
                const TPML_TAGGED_TPM_PROPERTY *l = &cap->data.tpmProperties;
                if (l->count == 0) {
                        Esys_Free(cap);
                        break;
                }
                for (size_t i = 0; i < l->count && i < TPM2_MAX_TPM_PROPERTIES; i++) {
                        uint32_t v = l->tpmProperty[i].value;
                        switch (l->tpmProperty[i].property) {
                        case TPM2_PT_FAMILY_INDICATOR: prop_ascii(v, info.family, &flen); break;
                        case TPM2_PT_LEVEL: info.spec_level = v; break;
                        case TPM2_PT_REVISION: info.spec_revision = v; break;
                        case TPM2_PT_DAY_OF_YEAR: info.spec_day_of_year = v; break;
                        case TPM2_PT_YEAR: info.spec_year = v; break;
                        case TPM2_PT_MANUFACTURER:
                                info.manufacturer_id = v;
                                prop_ascii(v, info.manufacturer, &mlen);
                                break;
                        case TPM2_PT_VENDOR_STRING_1: vendor[0] = v; break;
                        case TPM2_PT_VENDOR_STRING_2: vendor[1] = v; break;
                        case TPM2_PT_VENDOR_STRING_3: vendor[2] = v; break;
                        case TPM2_PT_VENDOR_STRING_4: vendor[3] = v; break;
                        case TPM2_PT_VENDOR_TPM_TYPE: info.vendor_tpm_type = v; break;
                        case TPM2_PT_FIRMWARE_VERSION_1: info.firmware_version_1 = v; break;
                        case TPM2_PT_FIRMWARE_VERSION_2: info.firmware_version_2 = v; break;
                        case TPM2_PT_INPUT_BUFFER: info.input_buffer = v; break;
                        case TPM2_PT_PCR_COUNT: info.pcr_count = v; break;
                        case TPM2_PT_MAX_COMMAND_SIZE: info.max_command_size = v; break;
                        case TPM2_PT_MAX_RESPONSE_SIZE: info.max_response_size = v; break;
                        case TPM2_PT_MAX_DIGEST: info.max_digest = v; break;
                        case TPM2_PT_NV_INDEX_MAX: info.nv_index_max = v; break;
                        case TPM2_PT_NV_BUFFER_MAX: info.nv_buffer_max = v; break;
                        default: break;
                        }
                }
                prop = l->tpmProperty[l->count - 1].property + 1;
                Esys_Free(cap);
        }
        for (int i = 0; i < 4; i++)
                prop_ascii(vendor[i], info.vendor, &vlen);
        rstrip(info.manufacturer);
        rstrip(info.vendor);

        TPMS_CAPABILITY_DATA *cap = NULL;
        rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_PCRS, 0, 1, &more, &cap);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, diag, rc, "TPM2_GetCapability(PCRS)");
        const TPML_PCR_SELECTION *a = &cap->data.assignedPCR;
        for (size_t i = 0; i < a->count && i < TPM2_NUM_PCR_BANKS && info.n_banks < SHIELD_TPM_INFO_BANKS_MAX; i++) {
                uint32_t mask = 0;
                for (unsigned b = 0; b < a->pcrSelections[i].sizeofSelect && b < 4; b++)
                        mask |= (uint32_t)a->pcrSelections[i].pcrSelect[b] << (8 * b);
                info.bank_alg[info.n_banks] = a->pcrSelections[i].hash;
                info.bank_allocated[info.n_banks++] = mask;
        }
        Esys_Free(cap);
        *ret = info;
        return 0;
}

/* The EK as an ESYS_TR: the persistent one, else a transient primary (*ret_transient: flush it). */
int tpm_ek_load(struct shield_tpm *t, ESYS_TR *ret, bool *ret_transient, TPM2B_PUBLIC **ret_pub,
                   struct shield_diag *diag) {
        bool exists;
        int r = tpm_handle_exists(t, SHIELD_TPM_EK_HANDLE, &exists, diag);
        if (r < 0)
                return r;
        if (exists) {
                ESYS_TR tr;
                if ((r = tpm_open_handle(t, SHIELD_TPM_EK_HANDLE, &tr, diag)) < 0)
                        return r;
                if (ret_pub && (r = tpm_read_public_tr(t, tr, ret_pub, diag)) < 0) {
                        Esys_TR_Close(t->esys, &tr);
                        return r;
                }
                *ret = tr;
                *ret_transient = false;
                return 0;
        }
        TPM2B_PUBLIC tmpl;
        TPM2B_SENSITIVE_CREATE sens = { 0 };
        TPM2B_DATA outside = { 0 };
        TPML_PCR_SELECTION creation = { 0 };
        ESYS_TR obj = ESYS_TR_NONE;
        tpm_ek_template(&tmpl);
        TSS2_RC rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                        &sens, &tmpl, &outside, &creation, &obj, ret_pub, NULL, NULL, NULL);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, diag, rc, "TPM2_CreatePrimary (EK template) in the endorsement hierarchy");
        *ret = obj;
        *ret_transient = true;
        return 0;
}

void tpm_ek_release(struct shield_tpm *t, ESYS_TR *tr, bool transient) {
        if (*tr == ESYS_TR_NONE)
                return;
        if (transient)
                Esys_FlushContext(t->esys, *tr);
        else
                Esys_TR_Close(t->esys, tr);
        *tr = ESYS_TR_NONE;
}

/* A policy session satisfied by PolicySecret(TPM_RH_ENDORSEMENT): the EK's policy A. Flush it after use. */
int tpm_endorsement_session(struct shield_tpm *t, ESYS_TR *ret, struct shield_diag *diag) {
        TPMT_SYM_DEF sym = { .algorithm = TPM2_ALG_NULL };
        ESYS_TR s = ESYS_TR_NONE;
        TSS2_RC rc = Esys_StartAuthSession(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                           ESYS_TR_NONE, NULL, TPM2_SE_POLICY, &sym, TPM2_ALG_SHA256, &s);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, diag, rc, "TPM2_StartAuthSession (policy)");
        rc = Esys_PolicySecret(t->esys, ESYS_TR_RH_ENDORSEMENT, s, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, NULL,
                               NULL, NULL, 0, NULL, NULL);
        if (rc != TSS2_RC_SUCCESS) {
                Esys_FlushContext(t->esys, s);
                return tpm_fail(t, diag, rc, "TPM2_PolicySecret(TPM_RH_ENDORSEMENT)");
        }
        *ret = s;
        return 0;
}

void shield_tpm_ek_clear(struct shield_tpm_ek *ek) {
        if (!ek)
                return;
        free(ek->public);
        free(ek->cert);
        memset(ek, 0, sizeof *ek);
}

int shield_tpm_read_ek(struct shield_tpm *t, struct shield_tpm_ek *ret, struct shield_diag *diag) {
        struct shield_tpm_ek ek = { 0 };
        TPM2B_PUBLIC *pub = NULL;
        ESYS_TR tr = ESYS_TR_NONE;
        bool transient = false;
        int r;

        if (!t || !ret)
                return SHIELD_E_INVAL;
        if ((r = tpm_ek_load(t, &tr, &transient, &pub, diag)) < 0)
                return r;
        tpm_ek_release(t, &tr, transient);
        ek.persistent = !transient;
        r = tpm_marshal_public(t, pub, &ek.public, &ek.public_len, diag);
        Esys_Free(pub);
        if (r < 0)
                return r;
        r = shield_tpm_nv_read(t, SHIELD_TPM_EK_CERT_NV, &ek.cert, &ek.cert_len, diag);
        if (r < 0 && r != SHIELD_E_NOT_FOUND) {
                shield_tpm_ek_clear(&ek);
                return r;
        }
        *ret = ek;
        return 0;
}

void shield_tpm_ak_clear(struct shield_tpm_ak *ak) {
        if (!ak)
                return;
        free(ak->public);
        free(ak->private);
        memset(ak, 0, sizeof *ak);
}

static void ak_template(enum shield_tpm_ak_alg alg, TPM2B_PUBLIC *p) {
        memset(p, 0, sizeof *p);
        TPMT_PUBLIC *a = &p->publicArea;
        a->nameAlg = TPM2_ALG_SHA256;
        a->objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
                              TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
        if (alg == SHIELD_TPM_AK_ECC) {
                a->type = TPM2_ALG_ECC;
                a->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
                a->parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
                a->parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
                a->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
                a->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
        } else {
                a->type = TPM2_ALG_RSA;
                a->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
                a->parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
                a->parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
                a->parameters.rsaDetail.keyBits = 2048;
        }
}

/* Load an AK (public + private) under the EK ek; *ret to flush. */
static int ak_load(struct shield_tpm *t, ESYS_TR ek, const TPM2B_PUBLIC *pub, const TPM2B_PRIVATE *priv, ESYS_TR *ret,
                   struct shield_diag *diag) {
        ESYS_TR s;
        int r = tpm_endorsement_session(t, &s, diag);
        if (r < 0)
                return r;
        TSS2_RC rc = Esys_Load(t->esys, ek, s, ESYS_TR_NONE, ESYS_TR_NONE, priv, pub, ret);
        Esys_FlushContext(t->esys, s);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, diag, rc, "TPM2_Load of the AK under the EK");
        return 0;
}

int shield_tpm_ak_create(struct shield_tpm *t, enum shield_tpm_ak_alg alg, uint32_t persist,
                         struct shield_tpm_ak *ret, struct shield_diag *diag) {
        struct shield_tpm_ak ak = { 0 };
        ESYS_TR ek = ESYS_TR_NONE, s = ESYS_TR_NONE, obj = ESYS_TR_NONE;
        TPM2B_PUBLIC tmpl, *pub = NULL;
        TPM2B_PRIVATE *priv = NULL;
        TPM2B_NAME *name = NULL;
        bool transient = false;
        TSS2_RC rc;
        int r;

        if (!t || !ret || (alg != SHIELD_TPM_AK_RSA && alg != SHIELD_TPM_AK_ECC))
                return SHIELD_E_INVAL;
        if (persist) {
                bool taken;
                if ((persist >> 24) != TPM2_HT_PERSISTENT)
                        return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1,
                                                "0x%08x is not a persistent handle (0x81xxxxxx)", (unsigned)persist);
                if ((r = tpm_handle_exists(t, persist, &taken, diag)) < 0)
                        return r;
                if (taken)
                        return shield_diag_fail(diag, SHIELD_E_UNSUPPORTED, 0, -1,
                                                "0x%08x is taken: evict it first (tpm2_evictcontrol -c 0x%08x)",
                                                (unsigned)persist, (unsigned)persist);
        }
        if ((r = tpm_ek_load(t, &ek, &transient, NULL, diag)) < 0)
                return r;
        if ((r = tpm_endorsement_session(t, &s, diag)) < 0)
                goto out;
        ak_template(alg, &tmpl);
        TPM2B_SENSITIVE_CREATE sens = { 0 };
        TPM2B_DATA outside = { 0 };
        TPML_PCR_SELECTION creation = { 0 };
        rc = Esys_Create(t->esys, ek, s, ESYS_TR_NONE, ESYS_TR_NONE, &sens, &tmpl, &outside, &creation, &priv, &pub,
                         NULL, NULL, NULL);
        Esys_FlushContext(t->esys, s);
        s = ESYS_TR_NONE;
        if (rc != TSS2_RC_SUCCESS) {
                r = tpm_fail(t, diag, rc, "TPM2_Create of the AK under the EK");
                goto out;
        }
        if ((r = ak_load(t, ek, pub, priv, &obj, diag)) < 0)
                goto out;
        rc = Esys_TR_GetName(t->esys, obj, &name);
        if (rc != TSS2_RC_SUCCESS || name->size > sizeof ak.name) {
                r = tpm_fail(t, diag, rc, "Esys_TR_GetName of the AK");
                goto out;
        }
        memcpy(ak.name, name->name, name->size);
        ak.name_len = name->size;
        if (persist) {
                ESYS_TR ptr = ESYS_TR_NONE;
                rc = Esys_EvictControl(t->esys, ESYS_TR_RH_OWNER, obj, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                       persist, &ptr);
                if (rc != TSS2_RC_SUCCESS) {
                        r = tpm_fail(t, diag, rc, "TPM2_EvictControl (persisting the AK)");
                        goto out;
                }
                Esys_TR_Close(t->esys, &ptr);
        }
        if ((r = tpm_marshal_public(t, pub, &ak.public, &ak.public_len, diag)) < 0)
                goto out;
        uint8_t buf[sizeof(TPM2B_PRIVATE)];
        size_t off = 0;
        rc = Tss2_MU_TPM2B_PRIVATE_Marshal(priv, buf, sizeof buf, &off);
        if (rc != TSS2_RC_SUCCESS) {
                r = tpm_fail(t, diag, rc, "marshalling the TPM2B_PRIVATE");
                goto out;
        }
        r = SHIELD_E_NOMEM;
        if (!(ak.private = malloc(off)))
                goto out;
        memcpy(ak.private, buf, off);
        ak.private_len = off;
        *ret = ak;
        memset(&ak, 0, sizeof ak);
        r = 0;
out:
        if (obj != ESYS_TR_NONE)
                Esys_FlushContext(t->esys, obj);
        tpm_ek_release(t, &ek, transient);
        shield_tpm_ak_clear(&ak);
        Esys_Free(name);
        Esys_Free(pub);
        Esys_Free(priv);
        return r;
}

int tpm_credential_parse(const uint8_t *blob, size_t len, TPM2B_ID_OBJECT *ret_id, TPM2B_ENCRYPTED_SECRET *ret_secret,
                         struct shield_diag *diag) {
        size_t off = 8;
        TPM2B_ID_OBJECT id = { 0 };
        TPM2B_ENCRYPTED_SECRET sec = { 0 };

        if (!blob || len < 8)
                return shield_diag_fail(diag, SHIELD_E_TRUNCATED, 0, -1, "a credential blob has at least 8 bytes");
        if (len > SHIELD_CREDENTIAL_MAX)
                return shield_diag_fail(diag, SHIELD_E_LIMIT, 0, -1, "the credential blob has %zu bytes, over %u", len,
                                        SHIELD_CREDENTIAL_MAX);
        uint32_t magic = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 | (uint32_t)blob[2] << 8 | blob[3];
        uint32_t version = (uint32_t)blob[4] << 24 | (uint32_t)blob[5] << 16 | (uint32_t)blob[6] << 8 | blob[7];
        /* tpm2-tools lib/files.c: files_write_header(MAGIC 0xBADCC0DE, version 1). */
        if (magic != 0xBADCC0DEu)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1,
                                        "magic 0x%08x, expected 0xbadcc0de (tpm2_makecredential's file)",
                                        (unsigned)magic);
        if (version != 1)
                return shield_diag_fail(diag, SHIELD_E_UNSUPPORTED, 4, -1, "version %u, expected 1", (unsigned)version);
        if (Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(blob, len, &off, &id))
                return shield_diag_fail(diag, SHIELD_E_TRUNCATED, off, -1, "TPM2B_ID_OBJECT does not parse");
        size_t at = off;
        if (Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(blob, len, &off, &sec))
                return shield_diag_fail(diag, SHIELD_E_TRUNCATED, at, -1, "TPM2B_ENCRYPTED_SECRET does not parse");
        if (off != len)
                return shield_diag_fail(diag, SHIELD_E_TRAILING, off, -1, "%zu bytes after the credential", len - off);
        *ret_id = id;
        *ret_secret = sec;
        return 0;
}

int shield_tpm_activate_credential(struct shield_tpm *t, uint32_t ak_handle, const struct shield_tpm_ak *ak,
                                   const uint8_t *blob, size_t blob_len, uint8_t *ret_secret, size_t *ret_len,
                                   struct shield_diag *diag) {
        TPM2B_ID_OBJECT id;
        TPM2B_ENCRYPTED_SECRET sec;
        ESYS_TR ek = ESYS_TR_NONE, akt = ESYS_TR_NONE, s = ESYS_TR_NONE;
        TPM2B_DIGEST *cert = NULL;
        bool transient = false, ak_loaded = false;
        TSS2_RC rc;
        int r;

        if (!t || !ret_secret || !ret_len || (!ak_handle && (!ak || !ak->public || !ak->private)))
                return SHIELD_E_INVAL;
        if ((r = tpm_credential_parse(blob, blob_len, &id, &sec, diag)) < 0)
                return r;
        if ((r = tpm_ek_load(t, &ek, &transient, NULL, diag)) < 0)
                return r;
        if (ak_handle) {
                if ((r = tpm_open_handle(t, ak_handle, &akt, diag)) < 0)
                        goto out;
        } else {
                TPM2B_PUBLIC pub;
                TPM2B_PRIVATE priv = { 0 };
                size_t off = 0;
                if ((r = tpm_parse_public(ak->public, ak->public_len, &pub, 2, diag)) < 0)
                        goto out;
                if (Tss2_MU_TPM2B_PRIVATE_Unmarshal(ak->private, ak->private_len, &off, &priv) ||
                    off != ak->private_len) {
                        r = shield_diag_fail(diag, SHIELD_E_FORMAT, off, -1, "the AK's TPM2B_PRIVATE does not parse");
                        goto out;
                }
                if ((r = ak_load(t, ek, &pub, &priv, &akt, diag)) < 0)
                        goto out;
                ak_loaded = true;
        }
        if ((r = tpm_endorsement_session(t, &s, diag)) < 0)
                goto out;
        rc = Esys_ActivateCredential(t->esys, akt, ek, ESYS_TR_PASSWORD, s, ESYS_TR_NONE, &id, &sec, &cert);
        Esys_FlushContext(t->esys, s);
        if (rc != TSS2_RC_SUCCESS) {
                r = tpm_fail(t, diag, rc, "TPM2_ActivateCredential");
                uint32_t code = (rc & 0x3fu) | 0x80u;
                /* Part 2, 6.6.3: TPM_RC_INTEGRITY (the HMAC: another name), TPM_RC_VALUE (the seed: another EK). */
                if ((rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER && (rc & 0x80u) &&
                    (code == TPM2_RC_INTEGRITY || code == TPM2_RC_VALUE || code == TPM2_RC_SIZE))
                        r = SHIELD_E_VERIFY;
                goto out;
        }
        memcpy(ret_secret, cert->buffer, cert->size);
        *ret_len = cert->size;
        memset(cert->buffer, 0, cert->size); /* scrub the TPM-returned secret before freeing */
        r = 0;
out:
        Esys_Free(cert);
        if (akt != ESYS_TR_NONE) {
                if (ak_loaded)
                        Esys_FlushContext(t->esys, akt);
                else
                        Esys_TR_Close(t->esys, &akt);
        }
        tpm_ek_release(t, &ek, transient);
        return r;
}
