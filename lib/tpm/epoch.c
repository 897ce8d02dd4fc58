/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The epoch counter a sealed credential's policy names (TPM2_PolicyNV,
 * shield/tpm.h "shield_seal_policy"): an NV counter the agent advances to
 * retire every blob sealed to an older epoch, and the verifier's check of
 * its public area, from which the Name in the policy is computed.
 */
#include <string.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>

#include "shield/crypto.h"
#include "shield/tpm.h"
#include "tpm-internal.h"
#include "util/rd.h"

#define EPOCH_ADVANCE_MAX 64 /* increments in one shield_tpm_epoch_advance (shield/tpm.h) */

/* Part 2, 13.4: TPMA_NV_TPM_NT is bits 7:4. */
static unsigned nv_type(TPMA_NV a) {
        return (a & TPMA_NV_TPM2_NT_MASK) >> TPMA_NV_TPM2_NT_SHIFT;
}

static int counter_public(struct shield_tpm *t, ESYS_TR nv, uint32_t index, TPM2B_NV_PUBLIC **ret_pub,
                          TPM2B_NAME **ret_name, struct shield_diag *diag) {
        TPM2B_NV_PUBLIC *pub = NULL;
        TPM2B_NAME *name = NULL;
        TSS2_RC rc = Esys_NV_ReadPublic(t->esys, nv, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, &name);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, diag, rc, "TPM2_NV_ReadPublic of the epoch counter");
        TPMA_NV a = pub->nvPublic.attributes;
        int r = 0;
        if (nv_type(a) != TPM2_NT_COUNTER)
                r = shield_diag_fail(diag, SHIELD_E_UNSUPPORTED, 0, -1,
                                     "NV index 0x%08x is not a counter (TPM_NT %u): not an epoch counter",
                                     (unsigned)index, nv_type(a));
        else if ((a & (TPMA_NV_AUTHREAD | TPMA_NV_AUTHWRITE)) != (TPMA_NV_AUTHREAD | TPMA_NV_AUTHWRITE) ||
                 pub->nvPublic.nameAlg != TPM2_ALG_SHA256)
                r = shield_diag_fail(diag, SHIELD_E_UNSUPPORTED, 0, -1,
                                     "the counter 0x%08x lacks AUTHREAD|AUTHWRITE or SHA-256 (attributes 0x%08x)",
                                     (unsigned)index, (unsigned)a);
        if (r < 0) {
                Esys_Free(pub);
                Esys_Free(name);
                return r;
        }
        *ret_pub = pub;
        if (ret_name)
                *ret_name = name;
        else
                Esys_Free(name);
        return 0;
}

static int increment(struct shield_tpm *t, ESYS_TR nv, struct shield_diag *diag) {
        TSS2_RC rc = Esys_NV_Increment(t->esys, nv, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE);
        return rc == TSS2_RC_SUCCESS ? 0 : tpm_fail(t, diag, rc, "TPM2_NV_Increment of the epoch counter");
}

int shield_tpm_epoch_read(struct shield_tpm *t, uint32_t index, struct shield_tpm_epoch *ret, struct shield_diag *diag) {
        struct shield_tpm_epoch e = { 0 };
        TPM2B_NV_PUBLIC *pub = NULL;
        TPM2B_NAME *name = NULL;
        ESYS_TR nv = ESYS_TR_NONE;
        bool exists = false;
        TSS2_RC rc;
        int r;

        if (!t || !ret)
                return SHIELD_E_INVAL;
        if (!index)
                index = SHIELD_TPM_EPOCH_NV;
        if (index >> 24 != TPM2_HT_NV_INDEX)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "0x%08x is not an NV index (0x01xxxxxx)",
                                        (unsigned)index);
        if ((r = tpm_handle_exists(t, index, &exists, diag)) < 0)
                return r;
        if (!exists) {
                TPM2B_AUTH auth = { 0 };
                TPM2B_NV_PUBLIC info = { .nvPublic = {
                        .nvIndex = index, .nameAlg = TPM2_ALG_SHA256, .dataSize = 8,
                        .attributes = (TPM2_NT_COUNTER << TPMA_NV_TPM2_NT_SHIFT) | TPMA_NV_AUTHWRITE |
                                      TPMA_NV_AUTHREAD | TPMA_NV_OWNERREAD | TPMA_NV_NO_DA,
                } };
                rc = Esys_NV_DefineSpace(t->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &auth,
                                         &info, &nv);
                if (rc != TSS2_RC_SUCCESS)
                        return tpm_fail(t, diag, rc, "TPM2_NV_DefineSpace of the epoch counter (owner auth empty?)");
        } else if ((r = tpm_open_handle(t, index, &nv, diag)) < 0)
                return r;
        if ((r = counter_public(t, nv, index, &pub, NULL, diag)) < 0)
                goto out;
        /* A counter has no value before its first increment (Part 3, 31.8): once written, its Name is final. */
        if (!(pub->nvPublic.attributes & TPMA_NV_WRITTEN) && (r = increment(t, nv, diag)) < 0)
                goto out;
        Esys_Free(pub);
        pub = NULL;
        if ((r = counter_public(t, nv, index, &pub, &name, diag)) < 0 || (r = tpm_nv_counter_read(t, nv, &e.value, diag)) < 0)
                goto out;
        size_t off = 0;
        if (name->size > sizeof e.name ||
            Tss2_MU_TPM2B_NV_PUBLIC_Marshal(pub, e.nv_public, sizeof e.nv_public, &off) != TSS2_RC_SUCCESS) {
                r = shield_diag_fail(diag, SHIELD_E_LIMIT, 0, -1, "the counter's public area or Name is too large");
                goto out;
        }
        e.index = index;
        e.nv_public_len = off;
        memcpy(e.name, name->name, name->size);
        e.name_len = name->size;
        *ret = e;
        r = 0;
out:
        Esys_Free(pub);
        Esys_Free(name);
        if (nv != ESYS_TR_NONE)
                Esys_TR_Close(t->esys, &nv);
        return r;
}

int shield_tpm_epoch_advance(struct shield_tpm *t, uint32_t index, uint64_t value, struct shield_diag *diag) {
        TPM2B_NV_PUBLIC *pub = NULL;
        ESYS_TR nv = ESYS_TR_NONE;
        uint64_t now = 0;
        int r;

        if (!t)
                return SHIELD_E_INVAL;
        if (!index)
                index = SHIELD_TPM_EPOCH_NV;
        if ((r = tpm_open_handle(t, index, &nv, diag)) < 0)
                return r;
        if ((r = counter_public(t, nv, index, &pub, NULL, diag)) < 0)
                goto out;
        bool written = pub->nvPublic.attributes & TPMA_NV_WRITTEN;
        if (written && (r = tpm_nv_counter_read(t, nv, &now, diag)) < 0)
                goto out;
        if (written && now >= value) {
                r = 0;
                goto out;
        }
        /* An unwritten counter takes its first value on the first increment (at least every value it ever had). */
        if (written && value - now > EPOCH_ADVANCE_MAX) {
                r = shield_diag_fail(diag, SHIELD_E_LIMIT, 0, -1,
                                     "the counter 0x%08x holds %llu: %llu increments to %llu are over %d",
                                     (unsigned)index, (unsigned long long)now, (unsigned long long)(value - now),
                                     (unsigned long long)value, EPOCH_ADVANCE_MAX);
                goto out;
        }
        for (unsigned i = 0; i < EPOCH_ADVANCE_MAX && (!written || now < value); i++) {
                if ((r = increment(t, nv, diag)) < 0 || (r = tpm_nv_counter_read(t, nv, &now, diag)) < 0)
                        goto out;
                written = true;
        }
        r = now >= value ? 0
                         : shield_diag_fail(diag, SHIELD_E_LIMIT, 0, -1,
                                            "the counter 0x%08x holds %llu after %d increments, short of %llu",
                                            (unsigned)index, (unsigned long long)now, EPOCH_ADVANCE_MAX,
                                            (unsigned long long)value);
out:
        Esys_Free(pub);
        Esys_TR_Close(t->esys, &nv);
        return r;
}

int shield_tpm_epoch_public_check(const uint8_t *nv_public, size_t len, uint32_t *ret_index,
                                  uint8_t ret_name[SHIELD_TPM_NAME_MAX], size_t *ret_name_len,
                                  struct shield_diag *diag) {
        struct rd r = rd_init_sticky(nv_public, len);
        uint16_t size = 0, name_alg = 0, policy_len = 0, data_size = 0;
        uint32_t index = 0, attrs = 0;
        int e;

        if (!nv_public || !ret_index || !ret_name || !ret_name_len)
                return SHIELD_E_INVAL;
        /* Part 2, 13.9 TPM2B_NV_PUBLIC = size || TPMS_NV_PUBLIC (13.5): nvIndex, nameAlg, attributes, authPolicy, dataSize. */
        (void)rd_be16(&r, &size);
        if (rd_ok(&r))
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "a TPM2B_NV_PUBLIC needs at least 2 bytes");
        if (size != rd_left(&r))
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "TPM2B_NV_PUBLIC.size is %u but %zu bytes follow",
                                        size, rd_left(&r));
        (void)rd_be32(&r, &index);
        (void)rd_be16(&r, &name_alg);
        (void)rd_be32(&r, &attrs);
        (void)rd_be16(&r, &policy_len);
        if (rd_ok(&r))
                return shield_diag_fail(diag, SHIELD_E_FORMAT, r.off, -1, "TPMS_NV_PUBLIC is cut off");
        if (policy_len > SHIELD_HASH_MAX_SIZE)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, r.off - 2, -1, "authPolicy of %u bytes (at most %d)",
                                        policy_len, SHIELD_HASH_MAX_SIZE);
        (void)rd_skip(&r, policy_len);
        (void)rd_be16(&r, &data_size);
        if (rd_ok(&r))
                return shield_diag_fail(diag, SHIELD_E_FORMAT, r.off, -1, "TPMS_NV_PUBLIC is cut off");
        if (rd_left(&r))
                return shield_diag_fail(diag, SHIELD_E_FORMAT, r.off, -1, "%zu bytes after TPMS_NV_PUBLIC", rd_left(&r));
        if (index >> 24 != TPM2_HT_NV_INDEX)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 2, -1, "nvIndex 0x%08x is not an NV index",
                                        (unsigned)index);
        if (name_alg != TPM2_ALG_SHA256)
                return shield_diag_fail(diag, SHIELD_E_VERIFY, 6, -1, "the counter's nameAlg is 0x%04x, not SHA-256",
                                        name_alg);
        if (nv_type(attrs) != TPM2_NT_COUNTER)
                return shield_diag_fail(diag, SHIELD_E_VERIFY, 8, -1,
                                        "NV index 0x%08x is not a counter (TPM_NT %u, attributes 0x%08x)",
                                        (unsigned)index, nv_type(attrs), (unsigned)attrs);
        if (!(attrs & TPMA_NV_WRITTEN))
                return shield_diag_fail(diag, SHIELD_E_VERIFY, 8, -1,
                                        "the counter 0x%08x is not written: its Name changes on the first increment",
                                        (unsigned)index);
        if (data_size != 8)
                return shield_diag_fail(diag, SHIELD_E_VERIFY, len - 2, -1, "a counter holds 8 bytes, not %u", data_size);
        /* Part 1, 16: Name = nameAlg || H_nameAlg(TPMS_NV_PUBLIC as marshalled). */
        uint8_t name[2 + 32];
        name[0] = (uint8_t)(TPM2_ALG_SHA256 >> 8);
        name[1] = (uint8_t)TPM2_ALG_SHA256;
        if ((e = shield_hash(SHIELD_ALG_SHA256, nv_public + 2, len - 2, name + 2)) < 0)
                return e;
        *ret_index = index;
        memcpy(ret_name, name, sizeof name);
        *ret_name_len = sizeof name;
        return 0;
}
