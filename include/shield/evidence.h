/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Attestation evidence, "shieldkit-evidence/1" JSON (docs/FORMATS.md):
 * what an agent collects and a verifier checks. Byte strings are kept in
 * the TPM's and the kernel's own formats.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shield/error.h"
#include "shield/pcrs.h"
#include "shield/tpm.h"

#define SHIELD_EVIDENCE_FORMAT "shieldkit-evidence/1"
/* Where Linux exposes the firmware event log and the IMA list. */
#define SHIELD_EVIDENCE_DEFAULT_EVENTLOG "/sys/kernel/security/tpm0/binary_bios_measurements"
#define SHIELD_EVIDENCE_DEFAULT_IMA_LOG "/sys/kernel/security/ima/binary_runtime_measurements"
#define SHIELD_EVIDENCE_JSON_MAX (1024u << 20)  /* whole document (base64 logs included) */
#define SHIELD_EVIDENCE_PRODUCER_MAX 256        /* bytes in "producer" */
#define SHIELD_EVIDENCE_LOG_MAX (256u << 20)    /* decoded eventlog / ima_log */
#define SHIELD_EVIDENCE_NOTES_MAX 32            /* entries in "notes" */

struct shield_evidence {
        char *producer;                  /* who made it ("shield attest 0.1.0"), malloc'd */
        uint8_t *nonce;                  /* the nonce the quote answers; NULL when absent */
        size_t nonce_len;
        int secure_boot;                 /* 1, 0, or -1 unknown */
        int setup_mode;                  /* 1, 0, or -1 unknown */
        bool has_pcrs;
        struct shield_pcrs pcrs;         /* PCR values as read from the TPM */
        uint8_t *eventlog;               /* TCG firmware event log, raw; NULL when absent */
        size_t eventlog_len;
        uint8_t *ima_log;                /* IMA binary_runtime_measurements; NULL when absent */
        size_t ima_log_len;
        struct shield_quote quote;       /* TPMS_ATTEST + TPMT_SIGNATURE; both NULL when absent */
        uint8_t *ak_public;              /* TPM2B_PUBLIC with size; NULL when absent */
        size_t ak_public_len;
        uint8_t *ak_cert;                /* DER; NULL when absent */
        size_t ak_cert_len;
        uint8_t *ek_cert;                /* DER; NULL when absent */
        size_t ek_cert_len;
        uint8_t *ek_public;              /* the EK's TPM2B_PUBLIC (with size); NULL when absent */
        size_t ek_public_len;
        char *notes[SHIELD_EVIDENCE_NOTES_MAX]; /* what the producer could not collect, malloc'd */
        size_t n_notes;
        /*
         * A sealing key made for the service's credential offer
         * (docs/CREDENTIALS.md), certified by the AK over this nonce:
         * "sealing_key": {"intent", "public", "certify": {"attest",
         * "signature"}, "epoch"?: {"nv_public", "value"}}. All NULL when absent.
         */
        struct shield_evidence_sealing {
                int64_t intent;                 /* > 0 when present */
                uint8_t *key_public;            /* TPM2B_PUBLIC */
                size_t key_public_len;
                uint8_t *certify_attest, *certify_signature;
                size_t certify_attest_len, certify_signature_len;
                uint8_t *epoch_nv_public;       /* TPM2B_NV_PUBLIC; NULL: no epoch */
                size_t epoch_nv_public_len;
                uint64_t epoch;                 /* the value the key's policy requires */
        } sealing;
};

/* Free everything and zero e. NULL allowed. */
void shield_evidence_free(struct shield_evidence *e);

/* Append a note (copied). SHIELD_E_LIMIT past SHIELD_EVIDENCE_NOTES_MAX. */
__attribute__((warn_unused_result))
int shield_evidence_add_note(struct shield_evidence *e, const char *note);

/*
 * The JSON text of e (indented, NUL-terminated, malloc'd). Absent parts
 * (NULL) are left out: evidence from a guest that could not quote still
 * carries its logs and notes. SHIELD_E_INVAL when half a quote is there
 * (attest without signature or the reverse) or a nonce over
 * SHIELD_TPM_NONCE_MAX bytes.
 */
__attribute__((warn_unused_result))
int shield_evidence_to_json(const struct shield_evidence *e, char **ret);

/*
 * Parse evidence JSON (len bytes, at most SHIELD_EVIDENCE_JSON_MAX).
 * Strict: "format" must be SHIELD_EVIDENCE_FORMAT; "nonce", "quote" and
 * "ak" may be absent, a "quote" present has both parts; unknown keys, wrong
 * types, bad hex/base64 and sizes over the caps are errors named in diag
 * (offset = JSON position where known). *ret is written only on success.
 */
__attribute__((warn_unused_result))
int shield_evidence_parse_json(const char *text, size_t len, struct shield_evidence *ret, struct shield_diag *diag);

/*
 * Collect from a TPM what `shield tpm quote` and `shield attest` report:
 * a quote by ak_handle over every active bank, the PCR values it covers
 * (read after the quote and checked against its digest; retried when a PCR
 * moved in between), the AK public area, the AK and EK certificates from
 * their NV indexes (a missing index becomes a note). Logs are not touched.
 */
__attribute__((warn_unused_result))
int shield_evidence_collect(struct shield_tpm *t, uint32_t ak_handle, const uint8_t *nonce, size_t nonce_len,
                            struct shield_evidence *ret, struct shield_diag *diag);
/*
 * The same over the PCRs in pcr_mask only (bit i: PCR i; every active
 * bank); the evidence then reports exactly the quoted PCRs. Also records
 * the EK public area (persistent, else derived from the default template).
 */
__attribute__((warn_unused_result))
int shield_evidence_collect_pcrs(struct shield_tpm *t, uint32_t ak_handle, uint32_t pcr_mask, const uint8_t *nonce,
                                 size_t nonce_len, struct shield_evidence *ret, struct shield_diag *diag);

/*
 * Add what the host itself knows to e: the firmware event log and the IMA
 * list read from their files (NULL: the Linux defaults above; a file that
 * cannot be read becomes a note, not an error), and SecureBoot/SetupMode
 * from efivarfs (-1 when unknown). SHIELD_E_NOMEM or SHIELD_E_LIMIT (too
 * many notes) only.
 */
__attribute__((warn_unused_result))
int shield_evidence_add_host_state(struct shield_evidence *e, const char *eventlog, const char *ima_log);

