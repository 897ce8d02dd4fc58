/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host-side checks of quotes and AK certificates. The byte strings come from
 * an agent and are untrusted: each field is unmarshalled on its own with
 * tss2-mu (bounds-checked against the buffer) so a failure names the field
 * and its offset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_mu.h>

#include "shield/crypto.h"
#include "shield/tpm.h"
#include "tpm-internal.h"

/* TPM 2.0 Part 2, 10.12.8 TPMS_ATTEST, tag for the parsed input in diag->index. */
enum { IN_ATTEST = 0, IN_SIGNATURE = 1, IN_PUBLIC = 2 };

struct attest {
        TPM2_GENERATED magic;
        TPMI_ST_ATTEST type;
        TPM2B_NAME signer;
        TPM2B_DATA extra;
        TPMS_CLOCK_INFO clock;
        UINT64 firmware;
        TPML_PCR_SELECTION sel;
        TPM2B_DIGEST pcr_digest;
};

static int mu_fail(struct shield_diag *diag, size_t off, long index, const char *what, TSS2_RC rc) {
        (void)rc;
        return shield_diag_fail(diag, SHIELD_E_TRUNCATED, off, index, "%s does not parse (truncated or out of range)",
                                what);
}

static int parse_attest(const uint8_t *buf, size_t len, struct attest *a, struct shield_diag *diag) {
        size_t off = 0;
        TSS2_RC rc;

        if (!buf || len == 0)
                return shield_diag_fail(diag, SHIELD_E_TRUNCATED, 0, IN_ATTEST, "the attestation is empty");
        if (len > SHIELD_TPM_ATTEST_MAX)
                return shield_diag_fail(diag, SHIELD_E_LIMIT, 0, IN_ATTEST, "the attestation has %zu bytes, over %u",
                                        len, SHIELD_TPM_ATTEST_MAX);
        if ((rc = Tss2_MU_UINT32_Unmarshal(buf, len, &off, &a->magic)))
                return mu_fail(diag, off, IN_ATTEST, "TPMS_ATTEST.magic", rc);
        if (a->magic != TPM2_GENERATED_VALUE)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, IN_ATTEST,
                                        "TPMS_ATTEST.magic is 0x%08x, expected TPM_GENERATED_VALUE 0xff544347",
                                        (unsigned)a->magic);
        if ((rc = Tss2_MU_UINT16_Unmarshal(buf, len, &off, &a->type)))
                return mu_fail(diag, off, IN_ATTEST, "TPMS_ATTEST.type", rc);
        if (a->type != TPM2_ST_ATTEST_QUOTE)
                return shield_diag_fail(diag, SHIELD_E_UNSUPPORTED, 4, IN_ATTEST,
                                        "TPMS_ATTEST.type is 0x%04x, expected TPM_ST_ATTEST_QUOTE 0x8018",
                                        (unsigned)a->type);
        size_t at = off;
        if ((rc = Tss2_MU_TPM2B_NAME_Unmarshal(buf, len, &off, &a->signer)))
                return mu_fail(diag, at, IN_ATTEST, "TPMS_ATTEST.qualifiedSigner (TPM2B_NAME)", rc);
        at = off;
        if ((rc = Tss2_MU_TPM2B_DATA_Unmarshal(buf, len, &off, &a->extra)))
                return mu_fail(diag, at, IN_ATTEST, "TPMS_ATTEST.extraData (TPM2B_DATA)", rc);
        at = off;
        if ((rc = Tss2_MU_TPMS_CLOCK_INFO_Unmarshal(buf, len, &off, &a->clock)))
                return mu_fail(diag, at, IN_ATTEST, "TPMS_ATTEST.clockInfo", rc);
        at = off;
        if ((rc = Tss2_MU_UINT64_Unmarshal(buf, len, &off, &a->firmware)))
                return mu_fail(diag, at, IN_ATTEST, "TPMS_ATTEST.firmwareVersion", rc);
        at = off;
        if ((rc = Tss2_MU_TPML_PCR_SELECTION_Unmarshal(buf, len, &off, &a->sel)))
                return mu_fail(diag, at, IN_ATTEST, "TPMS_QUOTE_INFO.pcrSelect (TPML_PCR_SELECTION)", rc);
        if (a->sel.count > SHIELD_BANKS_MAX)
                return shield_diag_fail(diag, SHIELD_E_LIMIT, at, IN_ATTEST, "the quote selects %u banks, over %d",
                                        (unsigned)a->sel.count, SHIELD_BANKS_MAX);
        at = off;
        if ((rc = Tss2_MU_TPM2B_DIGEST_Unmarshal(buf, len, &off, &a->pcr_digest)))
                return mu_fail(diag, at, IN_ATTEST, "TPMS_QUOTE_INFO.pcrDigest (TPM2B_DIGEST)", rc);
        if (off != len)
                return shield_diag_fail(diag, SHIELD_E_TRAILING, off, IN_ATTEST,
                                        "%zu bytes after the end of TPMS_ATTEST", len - off);
        return 0;
}

int shield_quote_parse(const uint8_t *attest, size_t len, struct shield_quote_info *ret, struct shield_diag *diag) {
        struct attest a;
        int r = parse_attest(attest, len, &a, diag);
        if (r < 0)
                return r;
        struct shield_quote_info info = { 0 };
        memcpy(info.extra_data, a.extra.buffer, a.extra.size);
        info.extra_data_len = a.extra.size;
        info.clock = a.clock.clock;
        info.reset_count = a.clock.resetCount;
        info.restart_count = a.clock.restartCount;
        info.safe = a.clock.safe == TPM2_YES;
        info.firmware_version = a.firmware;
        info.n_banks = a.sel.count;
        for (size_t i = 0; i < a.sel.count; i++) {
                const TPMS_PCR_SELECTION *s = &a.sel.pcrSelections[i];
                info.banks[i] = s->hash;
                for (unsigned b = 0; b < s->sizeofSelect && b < 4; b++)
                        info.masks[i] |= (uint32_t)s->pcrSelect[b] << (8 * b);
        }
        memcpy(info.pcr_digest, a.pcr_digest.buffer, a.pcr_digest.size < SHIELD_HASH_MAX_SIZE ? a.pcr_digest.size : SHIELD_HASH_MAX_SIZE);
        info.pcr_digest_len = a.pcr_digest.size < SHIELD_HASH_MAX_SIZE ? a.pcr_digest.size : SHIELD_HASH_MAX_SIZE;
        *ret = info;
        return 0;
}

int tpm_parse_public(const uint8_t *buf, size_t len, TPM2B_PUBLIC *ret, long index, struct shield_diag *diag) {
        size_t off = 0;
        TPM2B_PUBLIC pub = { 0 };

        if (!buf || len < 2)
                return shield_diag_fail(diag, SHIELD_E_TRUNCATED, 0, index, "a TPM2B_PUBLIC needs at least 2 bytes");
        if (len > SHIELD_TPM_PUBLIC_MAX)
                return shield_diag_fail(diag, SHIELD_E_LIMIT, 0, index, "the public area has %zu bytes, over %u", len,
                                        SHIELD_TPM_PUBLIC_MAX);
        size_t declared = (size_t)buf[0] << 8 | buf[1];
        if (declared != len - 2)
                return shield_diag_fail(diag, declared > len - 2 ? SHIELD_E_TRUNCATED : SHIELD_E_TRAILING, 0, index,
                                        "TPM2B_PUBLIC.size is %zu but %zu bytes follow", declared, len - 2);
        uint16_t type = len >= 4 ? (uint16_t)(buf[2] << 8 | buf[3]) : 0;
        if (type != TPM2_ALG_RSA && type != TPM2_ALG_ECC && type != TPM2_ALG_KEYEDHASH && type != TPM2_ALG_SYMCIPHER)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 2, index,
                                        "TPMT_PUBLIC.type is 0x%04x, expected RSA, ECC, KEYEDHASH or SYMCIPHER", type);
        if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(buf, len, &off, &pub))
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 2, index,
                                        "TPMT_PUBLIC does not parse (unknown type, scheme or a length past its end)");
        if (off != len)
                return shield_diag_fail(diag, SHIELD_E_TRAILING, off, index, "%zu bytes after TPMT_PUBLIC", len - off);
        *ret = pub;
        return 0;
}

int tpm_public_key(const TPMT_PUBLIC *pub, struct tpmc_key *ret) {
        struct tpmc_key k = { 0 };
        if (pub->type == TPM2_ALG_RSA) {
                k.kind = TPMC_RSA;
                k.n = pub->unique.rsa.buffer;
                k.n_len = pub->unique.rsa.size;
                k.exponent = pub->parameters.rsaDetail.exponent;
        } else if (pub->type == TPM2_ALG_ECC) {
                k.kind = TPMC_EC;
                k.curve = pub->parameters.eccDetail.curveID;
                k.x = pub->unique.ecc.x.buffer;
                k.x_len = pub->unique.ecc.x.size;
                k.y = pub->unique.ecc.y.buffer;
                k.y_len = pub->unique.ecc.y.size;
        } else
                return SHIELD_E_UNSUPPORTED;
        *ret = k;
        return 0;
}

static int parse_signature(const uint8_t *buf, size_t len, TPMT_SIGNATURE *ret, struct shield_diag *diag) {
        size_t off = 0;
        TPMT_SIGNATURE sig = { 0 };

        if (!buf || len < 2)
                return shield_diag_fail(diag, SHIELD_E_TRUNCATED, 0, IN_SIGNATURE, "the signature is empty");
        if (len > SHIELD_TPM_SIGNATURE_MAX)
                return shield_diag_fail(diag, SHIELD_E_LIMIT, 0, IN_SIGNATURE, "the signature has %zu bytes, over %u",
                                        len, SHIELD_TPM_SIGNATURE_MAX);
        uint16_t alg = (uint16_t)(buf[0] << 8 | buf[1]);
        if (alg != TPM2_ALG_RSASSA && alg != TPM2_ALG_RSAPSS && alg != TPM2_ALG_ECDSA)
                return shield_diag_fail(diag, SHIELD_E_UNSUPPORTED, 0, IN_SIGNATURE,
                                        "TPMT_SIGNATURE.sigAlg is 0x%04x, expected RSASSA, RSAPSS or ECDSA", alg);
        if (Tss2_MU_TPMT_SIGNATURE_Unmarshal(buf, len, &off, &sig))
                return shield_diag_fail(diag, SHIELD_E_TRUNCATED, 2, IN_SIGNATURE,
                                        "TPMT_SIGNATURE (sigAlg 0x%04x) does not parse: hash or lengths past its end",
                                        alg);
        if (off != len)
                return shield_diag_fail(diag, SHIELD_E_TRAILING, off, IN_SIGNATURE, "%zu bytes after TPMT_SIGNATURE",
                                        len - off);
        *ret = sig;
        return 0;
}

static int malformed(struct shield_reasons *out, int r, const struct shield_diag *diag, const char *what) {
        char msg[SHIELD_DIAG_MSG_MAX + 32];
        shield_diag_format(diag, msg, sizeof msg);
        if (shield_reasons_add(out, "quote-malformed", SHIELD_SEV_ERROR, 0, -1, -1, diag->offset,
                               "%s: %s", what, msg) < 0)
                return SHIELD_E_NOMEM;
        return r;
}

/* The digest the TPM puts in pcrDigest: H(selected values in selection order). */
static int pcr_digest(const TPML_PCR_SELECTION *sel, const struct shield_pcrs *pcrs, uint16_t hash,
                      uint8_t *out, struct shield_reasons *reasons, bool *ret_missing) {
        struct shield_digest *d = NULL;
        int r = shield_digest_begin(hash, &d);
        if (r < 0)
                return r;
        bool missing = false;
        for (size_t i = 0; i < sel->count; i++) {
                const TPMS_PCR_SELECTION *s = &sel->pcrSelections[i];
                const struct shield_pcr_bank *b = shield_pcrs_bank_const(pcrs, s->hash);
                for (unsigned j = 0; j < 8u * s->sizeofSelect; j++) {
                        if (!(s->pcrSelect[j / 8] & (1u << (j % 8))))
                                continue;
                        if (!b || j >= SHIELD_PCR_COUNT || !(b->present & (1u << j))) {
                                const char *bn = shield_hash_name(s->hash);
                                r = shield_reasons_add(reasons, "quote-pcr-missing", SHIELD_SEV_ERROR, s->hash, (int)j,
                                                       -1, SIZE_MAX, "the quote covers %s PCR %u but no value was reported",
                                                       bn ? bn : "an unknown bank", j);
                                if (r < 0) {
                                        shield_digest_abort(d);
                                        return r;
                                }
                                missing = true;
                                continue;
                        }
                        r = shield_digest_update(d, b->value[j], b->size);
                        if (r < 0) {
                                shield_digest_abort(d);
                                return r;
                        }
                }
        }
        *ret_missing = missing;
        return shield_digest_finish(d, out);
}

int shield_quote_check(const struct shield_quote_input *in, struct shield_reasons *out, struct shield_diag *diag) {
        struct attest a;
        TPMT_SIGNATURE sig;
        TPM2B_PUBLIC pub;
        struct tpmc_key key;
        int r;
        bool failed = false;
        struct shield_diag local = { 0 };

        if (!in || !out || (!in->nonce && in->nonce_len))
                return SHIELD_E_INVAL;
        if (!diag)
                diag = &local; /* malformed() quotes it in the reason */
        if ((r = parse_attest(in->attest, in->attest_len, &a, diag)) < 0)
                return malformed(out, r, diag, "attestation");
        if ((r = parse_signature(in->signature, in->signature_len, &sig, diag)) < 0)
                return malformed(out, r, diag, "signature");
        if ((r = tpm_parse_public(in->ak_public, in->ak_public_len, &pub, IN_PUBLIC, diag)) < 0)
                return malformed(out, r, diag, "AK public area");

        struct tpmc_sig s = { .scheme = sig.sigAlg };
        switch (sig.sigAlg) {
        case TPM2_ALG_RSASSA:
        case TPM2_ALG_RSAPSS:
                s.hash = sig.signature.rsassa.hash;
                s.sig = sig.signature.rsassa.sig.buffer;
                s.sig_len = sig.signature.rsassa.sig.size;
                break;
        default: /* ECDSA, checked by parse_signature */
                s.hash = sig.signature.ecdsa.hash;
                s.r = sig.signature.ecdsa.signatureR.buffer;
                s.r_len = sig.signature.ecdsa.signatureR.size;
                s.s = sig.signature.ecdsa.signatureS.buffer;
                s.s_len = sig.signature.ecdsa.signatureS.size;
                break;
        }
        if (shield_hash_size(s.hash) == 0) {
                shield_diag_fail(diag, SHIELD_E_UNSUPPORTED, 2, IN_SIGNATURE,
                                 "the signature's hash 0x%04x is not one we know", s.hash);
                return malformed(out, SHIELD_E_UNSUPPORTED, diag, "signature");
        }

        /* Authenticity first: a quote whose signature fails says nothing else worth trusting. */
        r = tpm_public_key(&pub.publicArea, &key);
        if (r == 0)
                r = tpmc_verify(&key, &s, in->attest, in->attest_len);
        if (r == SHIELD_E_UNSUPPORTED) {
                if (shield_reasons_add(out, "quote-key-unsupported", SHIELD_SEV_ERROR, 0, -1, -1, SIZE_MAX,
                                       "the AK (type 0x%04x) cannot check a signature of scheme 0x%04x",
                                       pub.publicArea.type, s.scheme) < 0)
                        return SHIELD_E_NOMEM;
                failed = true;
        } else if (r == SHIELD_E_VERIFY) {
                if (shield_reasons_add(out, "quote-signature-invalid", SHIELD_SEV_ERROR, 0, -1, -1, SIZE_MAX,
                                       "the signature over the attestation does not verify with the AK public key") < 0)
                        return SHIELD_E_NOMEM;
                failed = true;
        } else if (r < 0)
                return r;

        /*
         * qualifiedSigner is the AK's Qualified Name (Part 1, 16.6):
         * nameAlg || H(QN(parent) || Name). For a primary the parent's QN is
         * the hierarchy handle; a child key's chain is not in the evidence,
         * so an unrecognised signer is a warning, not a failure: the
         * signature already binds the quote to the AK.
         */
        uint16_t name_alg = pub.publicArea.nameAlg;
        size_t nsize = shield_hash_size(name_alg);
        bool known_signer = false;
        if (nsize && a.signer.size == 2 + nsize) {
                static const uint32_t hierarchies[] = { TPM2_RH_ENDORSEMENT, TPM2_RH_OWNER, TPM2_RH_PLATFORM };
                uint8_t buf[4 + 2 + SHIELD_HASH_MAX_SIZE], qn[2 + SHIELD_HASH_MAX_SIZE];
                buf[4] = qn[0] = (uint8_t)(name_alg >> 8);
                buf[5] = qn[1] = (uint8_t)name_alg;
                if ((r = shield_hash(name_alg, in->ak_public + 2, in->ak_public_len - 2, buf + 6)) < 0)
                        return r;
                for (size_t i = 0; i < sizeof hierarchies / sizeof hierarchies[0] && !known_signer; i++) {
                        for (int b = 0; b < 4; b++)
                                buf[b] = (uint8_t)(hierarchies[i] >> (24 - 8 * b));
                        if ((r = shield_hash(name_alg, buf, 6 + nsize, qn + 2)) < 0)
                                return r;
                        known_signer = memcmp(a.signer.name, qn, 2 + nsize) == 0;
                }
        }
        if (!known_signer && shield_reasons_add(out, "quote-signer-unrecognised", SHIELD_SEV_WARNING, 0, -1, -1, SIZE_MAX,
                                                "qualifiedSigner is not the qualified name of the AK as a primary key "
                                                "(a child key, or another key)") < 0)
                return SHIELD_E_NOMEM;

        if (a.extra.size != in->nonce_len || (in->nonce_len && memcmp(a.extra.buffer, in->nonce, in->nonce_len) != 0)) {
                if (shield_reasons_add(out, "quote-nonce-mismatch", SHIELD_SEV_ERROR, 0, -1, -1, SIZE_MAX,
                                       "extraData (%u bytes) is not the nonce issued (%zu bytes)",
                                       (unsigned)a.extra.size, in->nonce_len) < 0)
                        return SHIELD_E_NOMEM;
                failed = true;
        }

        if (in->pcrs) {
                uint8_t digest[SHIELD_HASH_MAX_SIZE];
                bool missing = false;
                if ((r = pcr_digest(&a.sel, in->pcrs, s.hash, digest, out, &missing)) < 0)
                        return r;
                if (missing)
                        failed = true;
                else if (a.pcr_digest.size != shield_hash_size(s.hash) ||
                         memcmp(a.pcr_digest.buffer, digest, a.pcr_digest.size) != 0) {
                        if (shield_reasons_add(out, "quote-pcr-digest-mismatch", SHIELD_SEV_ERROR, s.hash, -1, -1,
                                               SIZE_MAX,
                                               "pcrDigest in the quote is not the %s of the PCR values reported",
                                               shield_hash_name(s.hash)) < 0)
                                return SHIELD_E_NOMEM;
                        failed = true;
                }
        }
        return failed ? SHIELD_E_VERIFY : 0;
}

int shield_ak_cert_check(const uint8_t *ak_public, size_t ak_public_len, const uint8_t *cert_der, size_t cert_len,
                         const uint8_t *ca_cert, size_t ca_cert_len, struct shield_reasons *out,
                         struct shield_diag *diag) {
        TPM2B_PUBLIC pub;
        struct tpmc_key key;
        int r;

        if (!out || !cert_der || !ca_cert)
                return SHIELD_E_INVAL;
        if ((r = tpm_parse_public(ak_public, ak_public_len, &pub, IN_PUBLIC, diag)) < 0)
                return r;
        if ((r = tpm_public_key(&pub.publicArea, &key)) < 0)
                return shield_diag_fail(diag, r, 2, IN_PUBLIC, "the AK is neither an RSA nor an ECC key");
        return tpmc_cert_check(&key, cert_der, cert_len, ca_cert, ca_cert_len, out, diag);
}
