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

struct shield_ak_key {
        struct tpmc_pkey *pkey;     /* NULL: the key could not be made (key_err) */
        int key_err;
        const char *format;
        bool has_tpm;               /* pub and tpmt are the TPM's public area */
        TPMT_PUBLIC pub;
        uint8_t tpmt[SHIELD_TPM_PUBLIC_MAX];
        size_t tpmt_len;
        char type[16];
};

static void key_describe(struct shield_ak_key *k) {
        if (!k->pkey) {
                snprintf(k->type, sizeof k->type, "unknown");
                return;
        }
        if (tpmc_pkey_kind(k->pkey) == TPMC_RSA)
                snprintf(k->type, sizeof k->type, "rsa%zu", 8 * tpmc_pkey_rsa_bytes(k->pkey));
        else
                snprintf(k->type, sizeof k->type, "ecc-p%s",
                         tpmc_pkey_curve(k->pkey) == 0x0003   ? "256"
                         : tpmc_pkey_curve(k->pkey) == 0x0004 ? "384"
                                                             : "521");
}

/* A key from a parsed TPM public area; an unusable key is kept with key_err for the reasons. */
static int key_from_tpm(const TPMT_PUBLIC *pub, const char *format, struct shield_ak_key **ret) {
        struct shield_ak_key *k = calloc(1, sizeof *k);
        struct tpmc_key key;
        size_t off = 0;
        if (!k)
                return SHIELD_E_NOMEM;
        k->format = format;
        k->has_tpm = true;
        k->pub = *pub;
        if (Tss2_MU_TPMT_PUBLIC_Marshal(pub, k->tpmt, sizeof k->tpmt, &off) != TSS2_RC_SUCCESS) {
                free(k);
                return SHIELD_E_FORMAT;
        }
        k->tpmt_len = off;
        k->key_err = tpm_public_key(pub, &key);
        if (k->key_err == 0)
                k->key_err = tpmc_pkey_new(&key, &k->pkey);
        key_describe(k);
        *ret = k;
        return 0;
}

int shield_ak_key_new(const uint8_t *buf, size_t len, struct shield_ak_key **ret, struct shield_diag *diag) {
        struct shield_ak_key *k = NULL;
        int r;

        if (!ret)
                return SHIELD_E_INVAL;
        if (!buf || len < 2)
                return shield_diag_fail(diag, SHIELD_E_TRUNCATED, 0, IN_PUBLIC, "the AK public key is empty");
        if (len > 16384)
                return shield_diag_fail(diag, SHIELD_E_LIMIT, 0, IN_PUBLIC, "the AK public key has %zu bytes", len);
        bool pem = len > 10 && memcmp(buf, "-----BEGIN", 10) == 0;
        if (pem || buf[0] == 0x30) {
                /* A DER SEQUENCE: a TPM2B_PUBLIC of 0x30xx bytes would be over SHIELD_TPM_PUBLIC_MAX. */
                struct tpmc_pkey *p = NULL;
                r = tpmc_pkey_from_spki(buf, len, &p);
                if (r < 0)
                        return shield_diag_fail(diag, r, 0, IN_PUBLIC, "%s does not parse as an RSA or EC key",
                                                pem ? "the PEM public key" : "the DER SubjectPublicKeyInfo");
                if (!(k = calloc(1, sizeof *k))) {
                        tpmc_pkey_free(p);
                        return SHIELD_E_NOMEM;
                }
                k->pkey = p;
                k->format = pem ? "SPKI-PEM" : "SPKI-DER";
                key_describe(k);
                *ret = k;
                return 0;
        }
        size_t declared = (size_t)buf[0] << 8 | buf[1];
        if (declared == len - 2) {
                TPM2B_PUBLIC pub;
                if ((r = tpm_parse_public(buf, len, &pub, IN_PUBLIC, diag)) < 0)
                        return r;
                r = key_from_tpm(&pub.publicArea, "TPM2B_PUBLIC", &k);
        } else {
                TPMT_PUBLIC pub = { 0 };
                size_t off = 0;
                uint16_t type = (uint16_t)(buf[0] << 8 | buf[1]);
                if (type != TPM2_ALG_RSA && type != TPM2_ALG_ECC)
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, IN_PUBLIC,
                                                "the AK public key is neither a TPM2B_PUBLIC, a TPMT_PUBLIC of an RSA "
                                                "or ECC key, nor a SubjectPublicKeyInfo");
                if (len > SHIELD_TPM_PUBLIC_MAX || Tss2_MU_TPMT_PUBLIC_Unmarshal(buf, len, &off, &pub))
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, IN_PUBLIC,
                                                "TPMT_PUBLIC does not parse (a scheme or length past its end)");
                if (off != len)
                        return shield_diag_fail(diag, SHIELD_E_TRAILING, off, IN_PUBLIC, "%zu bytes after TPMT_PUBLIC",
                                                len - off);
                r = key_from_tpm(&pub, "TPMT_PUBLIC", &k);
        }
        if (r < 0)
                return shield_diag_fail(diag, r, 0, IN_PUBLIC, "the AK public area cannot be re-marshalled");
        if (!k->pkey) {
                r = k->key_err;
                shield_ak_key_free(k);
                return shield_diag_fail(diag, r == SHIELD_E_UNSUPPORTED ? r : SHIELD_E_FORMAT, 2, IN_PUBLIC,
                                        "the AK public area is not a usable RSA or ECC key");
        }
        *ret = k;
        return 0;
}

void shield_ak_key_free(struct shield_ak_key *k) {
        if (!k)
                return;
        tpmc_pkey_free(k->pkey);
        free(k);
}

const char *shield_ak_key_format(const struct shield_ak_key *k) {
        return k ? k->format : NULL;
}

const char *shield_ak_key_type(const struct shield_ak_key *k) {
        return k ? k->type : NULL;
}

int shield_ak_key_pem(const struct shield_ak_key *k, char **ret) {
        size_t len;
        if (!k || !k->pkey || !ret)
                return SHIELD_E_INVAL;
        return tpmc_pkey_pem(k->pkey, ret, &len);
}

int shield_tpm_cert_pem(const uint8_t *der, size_t len, char **ret) {
        size_t n;
        if (!der || !ret)
                return SHIELD_E_INVAL;
        return tpmc_cert_pem(der, len, ret, &n);
}

/* The checks once everything parsed; k->pkey may be NULL (then k->key_err says why). */
static int check_parsed(const struct shield_ak_key *k, const struct attest *a, const struct tpmc_sig *s,
                        const struct shield_quote_input *in, struct shield_reasons *out) {
        bool failed = false;
        struct shield_quote_status st = { .parsed = true };
        int r;

        /* Authenticity first: a quote whose signature fails says nothing else worth trusting. */
        r = k->pkey ? tpmc_pkey_verify(k->pkey, s, in->attest, in->attest_len)
                    : k->key_err == SHIELD_E_FORMAT ? SHIELD_E_VERIFY : k->key_err;
        if (r == SHIELD_E_UNSUPPORTED) {
                if (shield_reasons_add(out, "quote-key-unsupported", SHIELD_SEV_ERROR, 0, -1, -1, SIZE_MAX,
                                       "the AK (type 0x%04x) cannot check a signature of scheme 0x%04x",
                                       k->has_tpm ? k->pub.type : 0, s->scheme) < 0)
                        return SHIELD_E_NOMEM;
                failed = true;
        } else if (r == SHIELD_E_VERIFY) {
                if (shield_reasons_add(out, "quote-signature-invalid", SHIELD_SEV_ERROR, 0, -1, -1, SIZE_MAX,
                                       "the signature over the attestation does not verify with the AK public key") < 0)
                        return SHIELD_E_NOMEM;
                failed = true;
        } else if (r < 0)
                return r;
        else
                st.signature_ok = true;

        /*
         * qualifiedSigner is the AK's Qualified Name (Part 1, 16.6):
         * nameAlg || H(QN(parent) || Name). For a primary the parent's QN is
         * the hierarchy handle; a child key's chain is not in the evidence,
         * so an unrecognised signer is a warning, not a failure: the
         * signature already binds the quote to the AK. A bare public key has
         * no name: nothing to compare.
         */
        if (k->has_tpm) {
                uint16_t name_alg = k->pub.nameAlg;
                size_t nsize = shield_hash_size(name_alg);
                bool known_signer = false;
                if (nsize && a->signer.size == 2 + nsize) {
                        static const uint32_t hierarchies[] = { TPM2_RH_ENDORSEMENT, TPM2_RH_OWNER, TPM2_RH_PLATFORM };
                        uint8_t buf[4 + 2 + SHIELD_HASH_MAX_SIZE], qn[2 + SHIELD_HASH_MAX_SIZE];
                        buf[4] = qn[0] = (uint8_t)(name_alg >> 8);
                        buf[5] = qn[1] = (uint8_t)name_alg;
                        if ((r = shield_hash(name_alg, k->tpmt, k->tpmt_len, buf + 6)) < 0)
                                return r;
                        for (size_t i = 0; i < sizeof hierarchies / sizeof hierarchies[0] && !known_signer; i++) {
                                for (int b = 0; b < 4; b++)
                                        buf[b] = (uint8_t)(hierarchies[i] >> (24 - 8 * b));
                                if ((r = shield_hash(name_alg, buf, 6 + nsize, qn + 2)) < 0)
                                        return r;
                                known_signer = memcmp(a->signer.name, qn, 2 + nsize) == 0;
                        }
                }
                if (!known_signer &&
                    shield_reasons_add(out, "quote-signer-unrecognised", SHIELD_SEV_WARNING, 0, -1, -1, SIZE_MAX,
                                       "qualifiedSigner is not the qualified name of the AK as a primary key "
                                       "(a child key, or another key)") < 0)
                        return SHIELD_E_NOMEM;
        }

        if (a->extra.size != in->nonce_len ||
            (in->nonce_len && memcmp(a->extra.buffer, in->nonce, in->nonce_len) != 0)) {
                if (shield_reasons_add(out, "quote-nonce-mismatch", SHIELD_SEV_ERROR, 0, -1, -1, SIZE_MAX,
                                       "extraData (%u bytes) is not the nonce issued (%zu bytes)",
                                       (unsigned)a->extra.size, in->nonce_len) < 0)
                        return SHIELD_E_NOMEM;
                failed = true;
        } else
                st.nonce_ok = true;

        if (in->pcrs) {
                uint8_t digest[SHIELD_HASH_MAX_SIZE];
                bool missing = false;
                if ((r = pcr_digest(&a->sel, in->pcrs, s->hash, digest, out, &missing)) < 0)
                        return r;
                if (missing)
                        failed = true;
                else if (a->pcr_digest.size != shield_hash_size(s->hash) ||
                         memcmp(a->pcr_digest.buffer, digest, a->pcr_digest.size) != 0) {
                        if (shield_reasons_add(out, "quote-pcr-digest-mismatch", SHIELD_SEV_ERROR, s->hash, -1, -1,
                                               SIZE_MAX,
                                               "pcrDigest in the quote is not the %s of the PCR values reported",
                                               shield_hash_name(s->hash)) < 0)
                                return SHIELD_E_NOMEM;
                        failed = true;
                } else
                        st.pcrs_ok = true;
        }
        if (in->status)
                *in->status = st;
        return failed ? SHIELD_E_VERIFY : 0;
}

static void sig_view(const TPMT_SIGNATURE *sig, struct tpmc_sig *s) {
        memset(s, 0, sizeof *s);
        s->scheme = sig->sigAlg;
        switch (sig->sigAlg) {
        case TPM2_ALG_RSASSA:
        case TPM2_ALG_RSAPSS:
                s->hash = sig->signature.rsassa.hash;
                s->sig = sig->signature.rsassa.sig.buffer;
                s->sig_len = sig->signature.rsassa.sig.size;
                break;
        default: /* ECDSA, checked by parse_signature */
                s->hash = sig->signature.ecdsa.hash;
                s->r = sig->signature.ecdsa.signatureR.buffer;
                s->r_len = sig->signature.ecdsa.signatureR.size;
                s->s = sig->signature.ecdsa.signatureS.buffer;
                s->s_len = sig->signature.ecdsa.signatureS.size;
                break;
        }
}

static int unknown_hash(struct shield_reasons *out, struct shield_diag *diag, uint16_t hash) {
        shield_diag_fail(diag, SHIELD_E_UNSUPPORTED, 2, IN_SIGNATURE, "the signature's hash 0x%04x is not one we know",
                         hash);
        return malformed(out, SHIELD_E_UNSUPPORTED, diag, "signature");
}

int shield_quote_check_with_key(const struct shield_ak_key *k, const struct shield_quote_input *in,
                                struct shield_reasons *out, struct shield_diag *diag) {
        struct attest a;
        TPMT_SIGNATURE sig;
        struct tpmc_sig s;
        struct shield_diag local = { 0 };
        int r;

        if (!k || !in || !out || (!in->nonce && in->nonce_len))
                return SHIELD_E_INVAL;
        if (!diag)
                diag = &local;
        if (in->status)
                *in->status = (struct shield_quote_status){ 0 };
        if ((r = parse_attest(in->attest, in->attest_len, &a, diag)) < 0)
                return malformed(out, r, diag, "attestation");
        size_t rsa_bytes = k->pkey ? tpmc_pkey_rsa_bytes(k->pkey) : 0;
        if (rsa_bytes && in->signature && in->signature_len == rsa_bytes) {
                /* A bare RSASSA signature (Azure's vTPM evidence, tpm2_quote -f plain). */
                memset(&s, 0, sizeof s);
                s.scheme = TPM2_ALG_RSASSA;
                s.hash = in->raw_sig_hash;
                if (!s.hash && k->has_tpm && k->pub.parameters.rsaDetail.scheme.scheme != TPM2_ALG_NULL)
                        s.hash = k->pub.parameters.rsaDetail.scheme.details.anySig.hashAlg;
                if (!s.hash)
                        s.hash = TPM2_ALG_SHA256;
                s.sig = in->signature;
                s.sig_len = in->signature_len;
        } else {
                if ((r = parse_signature(in->signature, in->signature_len, &sig, diag)) < 0)
                        return malformed(out, r, diag, "signature");
                sig_view(&sig, &s);
        }
        if (shield_hash_size(s.hash) == 0)
                return unknown_hash(out, diag, s.hash);
        return check_parsed(k, &a, &s, in, out);
}

int shield_quote_check(const struct shield_quote_input *in, struct shield_reasons *out, struct shield_diag *diag) {
        struct attest a;
        TPMT_SIGNATURE sig;
        TPM2B_PUBLIC pub;
        struct tpmc_sig s;
        struct shield_ak_key *k = NULL;
        struct shield_diag local = { 0 };
        int r;

        if (!in || !out || (!in->nonce && in->nonce_len))
                return SHIELD_E_INVAL;
        if (!diag)
                diag = &local; /* malformed() quotes it in the reason */
        if (in->status)
                *in->status = (struct shield_quote_status){ 0 };
        if ((r = parse_attest(in->attest, in->attest_len, &a, diag)) < 0)
                return malformed(out, r, diag, "attestation");
        if ((r = parse_signature(in->signature, in->signature_len, &sig, diag)) < 0)
                return malformed(out, r, diag, "signature");
        if ((r = tpm_parse_public(in->ak_public, in->ak_public_len, &pub, IN_PUBLIC, diag)) < 0)
                return malformed(out, r, diag, "AK public area");
        sig_view(&sig, &s);
        if (shield_hash_size(s.hash) == 0)
                return unknown_hash(out, diag, s.hash);
        if ((r = key_from_tpm(&pub.publicArea, "TPM2B_PUBLIC", &k)) < 0) {
                shield_diag_fail(diag, r, 2, IN_PUBLIC, "the AK public area cannot be re-marshalled");
                return malformed(out, r, diag, "AK public area");
        }
        r = check_parsed(k, &a, &s, in, out);
        shield_ak_key_free(k);
        return r;
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

int shield_tpm_ak_attributes_check(const uint8_t *pub, size_t len, struct shield_diag *diag) {
        TPM2B_PUBLIC p;
        int r = tpm_parse_public(pub, len, &p, IN_PUBLIC, diag);
        if (r < 0)
                return r;
        /*
         * Part 1, 25.2 / 27.2.1: only a restricted signing key signs nothing
         * but TPM-generated structures; fixedTPM and sensitiveDataOrigin say
         * its private part was made in and never leaves this TPM.
         */
        static const TPMA_OBJECT need = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                        TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_RESTRICTED |
                                        TPMA_OBJECT_SIGN_ENCRYPT;
        TPMA_OBJECT a = p.publicArea.objectAttributes;
        if ((a & need) != need || (a & TPMA_OBJECT_DECRYPT))
                return shield_diag_fail(diag, SHIELD_E_VERIFY, 2, IN_PUBLIC,
                                        "the AK is not a restricted signing key made in and bound to its TPM "
                                        "(objectAttributes 0x%08x; needs fixedTPM|fixedParent|sensitiveDataOrigin|"
                                        "restricted|sign, not decrypt)", (unsigned)a);
        return 0;
}

int shield_sealing_key_check(const uint8_t *ak_public, size_t ak_public_len, const uint8_t *attest, size_t attest_len,
                             const uint8_t *signature, size_t signature_len, const uint8_t *key_public,
                             size_t key_public_len, const uint8_t *nonce, size_t nonce_len, const uint8_t *policy,
                             size_t policy_len, struct shield_reasons *out, struct shield_diag *diag) {
        TPMS_ATTEST a;
        TPMT_SIGNATURE sig;
        TPM2B_PUBLIC key;
        struct tpmc_sig s;
        struct shield_ak_key *k = NULL;
        size_t off = 0;
        bool failed = false;
        int r;

        if (!ak_public || !attest || !signature || !key_public || !policy || !out || (!nonce && nonce_len))
                return SHIELD_E_INVAL;
        if (attest_len > sizeof(TPM2B_ATTEST) ||
            Tss2_MU_TPMS_ATTEST_Unmarshal(attest, attest_len, &off, &a) != TSS2_RC_SUCCESS || off != attest_len)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, off, IN_ATTEST, "the certification is not a TPMS_ATTEST");
        if (a.magic != TPM2_GENERATED_VALUE || a.type != TPM2_ST_ATTEST_CERTIFY)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, IN_ATTEST,
                                        "the certification is not a TPM-made TPM_ST_ATTEST_CERTIFY (magic 0x%08x, type "
                                        "0x%04x)", (unsigned)a.magic, (unsigned)a.type);
        if ((r = parse_signature(signature, signature_len, &sig, diag)) < 0)
                return r;
        if ((r = tpm_parse_public(key_public, key_public_len, &key, IN_PUBLIC, diag)) < 0)
                return r;
        if ((r = shield_ak_key_new(ak_public, ak_public_len, &k, diag)) < 0)
                return r;
        sig_view(&sig, &s);
        r = k->pkey ? tpmc_pkey_verify(k->pkey, &s, attest, attest_len) : SHIELD_E_VERIFY;
        shield_ak_key_free(k);
        if (r < 0 && r != SHIELD_E_VERIFY)
                return r;
        if (r == SHIELD_E_VERIFY) {
                failed = true;
                if (shield_reasons_add(out, "certify-signature-invalid", SHIELD_SEV_ERROR, 0, -1, -1, SIZE_MAX,
                                       "the certification does not verify with the AK") < 0)
                        return SHIELD_E_NOMEM;
        }
        if (a.extraData.size != nonce_len || (nonce_len && memcmp(a.extraData.buffer, nonce, nonce_len) != 0)) {
                failed = true;
                if (shield_reasons_add(out, "certify-nonce-mismatch", SHIELD_SEV_ERROR, 0, -1, -1, SIZE_MAX,
                                       "the certification answers another nonce (%u bytes)", (unsigned)a.extraData.size) < 0)
                        return SHIELD_E_NOMEM;
        }
        uint8_t name[SHIELD_TPM_NAME_MAX];
        size_t name_len = 0;
        if ((r = shield_tpm_public_name(key_public, key_public_len, name, &name_len, diag)) < 0)
                return r;
        if (a.attested.certify.name.size != name_len || memcmp(a.attested.certify.name.name, name, name_len) != 0) {
                failed = true;
                if (shield_reasons_add(out, "certify-name-mismatch", SHIELD_SEV_ERROR, 0, -1, -1, SIZE_MAX,
                                       "the certification is of another object than this sealing key") < 0)
                        return SHIELD_E_NOMEM;
        }
        const TPMT_PUBLIC *p = &key.publicArea;
        if (p->authPolicy.size != policy_len || memcmp(p->authPolicy.buffer, policy, policy_len) != 0) {
                failed = true;
                if (shield_reasons_add(out, "sealing-policy-mismatch", SHIELD_SEV_ERROR, 0, -1, -1, SIZE_MAX,
                                       "the key's authPolicy is not the policy of the intended boot state") < 0)
                        return SHIELD_E_NOMEM;
        }
        static const TPMA_OBJECT need = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN;
        if ((p->objectAttributes & need) != need || (p->objectAttributes & TPMA_OBJECT_USERWITHAUTH)) {
                failed = true;
                if (shield_reasons_add(out, "sealing-key-attributes", SHIELD_SEV_ERROR, 0, -1, -1, SIZE_MAX,
                                       "the key is not bound to its TPM and policy (objectAttributes 0x%08x: needs "
                                       "fixedTPM|fixedParent|sensitiveDataOrigin, not userWithAuth)",
                                       (unsigned)p->objectAttributes) < 0)
                        return SHIELD_E_NOMEM;
        }
        return failed ? SHIELD_E_VERIFY : 0;
}

int shield_seal_to_key(const uint8_t *key_public, size_t key_public_len, const uint8_t *data, size_t len, uint8_t **ret,
                       size_t *ret_len, struct shield_diag *diag) {
        struct shield_ak_key *k = NULL;
        int r = shield_ak_key_new(key_public, key_public_len, &k, diag);
        if (r < 0)
                return r;
        r = k->pkey ? tpmc_seal(k->pkey, data, len, ret, ret_len)
                    : shield_diag_fail(diag, SHIELD_E_UNSUPPORTED, 0, IN_PUBLIC, "the sealing key is not a usable RSA key");
        shield_ak_key_free(k);
        return r;
}
