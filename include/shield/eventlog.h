/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * TCG PC Client firmware event logs (TCG PC Client Platform Firmware
 * Profile 1.05, section 10): legacy SHA-1 logs (TCG_PCClientPCREvent) and
 * crypto-agile logs (Spec ID Event03 + TCG_PCR_EVENT2), their replay into
 * PCR values, event-integrity checks, decoding and Secure Boot findings.
 *
 * Real firmware breaks the spec in many ways; the parser accepts any log a
 * real machine produced and records what is odd as a quirk (a reason of
 * severity info/warning). It refuses only bytes that cannot be a log.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shield/crypto.h"
#include "shield/error.h"
#include "shield/pcrs.h"
#include "shield/reason.h"

/* Named caps on untrusted sizes. */
#define SHIELD_EVENTLOG_MAX (256u << 20)          /* whole log */
#define SHIELD_EVENT_DATA_MAX (16u << 20)         /* one event's data */
#define SHIELD_EVENTLOG_ALGS_MAX 8                /* banks in a Spec ID event / digests per event */
#define SHIELD_EVENTLOG_EVENTS_MAX (16u << 20)    /* events in one log */

/* Event types (PFP 1.05, 10.4.1). */
#define EV_PREBOOT_CERT 0x00000000u
#define EV_POST_CODE 0x00000001u
#define EV_UNUSED 0x00000002u
#define EV_NO_ACTION 0x00000003u
#define EV_SEPARATOR 0x00000004u
#define EV_ACTION 0x00000005u
#define EV_EVENT_TAG 0x00000006u
#define EV_S_CRTM_CONTENTS 0x00000007u
#define EV_S_CRTM_VERSION 0x00000008u
#define EV_CPU_MICROCODE 0x00000009u
#define EV_PLATFORM_CONFIG_FLAGS 0x0000000Au
#define EV_TABLE_OF_DEVICES 0x0000000Bu
#define EV_COMPACT_HASH 0x0000000Cu
#define EV_IPL 0x0000000Du
#define EV_IPL_PARTITION_DATA 0x0000000Eu
#define EV_NONHOST_CODE 0x0000000Fu
#define EV_NONHOST_CONFIG 0x00000010u
#define EV_NONHOST_INFO 0x00000011u
#define EV_OMIT_BOOT_DEVICE_EVENTS 0x00000012u
#define EV_POST_CODE2 0x00000013u
#define EV_EFI_EVENT_BASE 0x80000000u
#define EV_EFI_VARIABLE_DRIVER_CONFIG 0x80000001u
#define EV_EFI_VARIABLE_BOOT 0x80000002u
#define EV_EFI_BOOT_SERVICES_APPLICATION 0x80000003u
#define EV_EFI_BOOT_SERVICES_DRIVER 0x80000004u
#define EV_EFI_RUNTIME_SERVICES_DRIVER 0x80000005u
#define EV_EFI_GPT_EVENT 0x80000006u
#define EV_EFI_ACTION 0x80000007u
#define EV_EFI_PLATFORM_FIRMWARE_BLOB 0x80000008u
#define EV_EFI_HANDOFF_TABLES 0x80000009u
#define EV_EFI_PLATFORM_FIRMWARE_BLOB2 0x8000000Au
#define EV_EFI_HANDOFF_TABLES2 0x8000000Bu
#define EV_EFI_VARIABLE_BOOT2 0x8000000Cu
#define EV_EFI_GPT_EVENT2 0x8000000Du
#define EV_EFI_HCRTM_EVENT 0x80000010u
#define EV_EFI_VARIABLE_AUTHORITY 0x800000E0u
#define EV_EFI_SPDM_FIRMWARE_BLOB 0x800000E1u
#define EV_EFI_SPDM_FIRMWARE_CONFIG 0x800000E2u
#define EV_EFI_SPDM_DEVICE_POLICY 0x800000E3u
#define EV_EFI_SPDM_DEVICE_AUTHORITY 0x800000E4u

/* Windows WBCL records use this PCR index; they are never extended. */
#define SHIELD_PCR_INDEX_WBCL 0xFFFFFFFFu

/* "EV_SEPARATOR", …; NULL for an unknown type. */
const char *shield_event_type_name(uint32_t type);

enum shield_eventlog_format {
        SHIELD_EVENTLOG_LEGACY_SHA1 = 1,  /* TCG 1.2 records only */
        SHIELD_EVENTLOG_CRYPTO_AGILE = 2, /* Spec ID Event03 then TCG_PCR_EVENT2 */
};

struct shield_event_digest {
        uint16_t alg;          /* TPM_ALG_ID, possibly one we cannot compute */
        uint16_t size;
        const uint8_t *bytes;  /* points into the log's own copy */
};

struct shield_event {
        uint32_t index;        /* 0-based position in the log */
        uint32_t pcr;          /* PCRIndex as logged (may be 0xFFFFFFFF) */
        uint32_t type;         /* EventType */
        size_t offset;         /* byte offset of the record in the log */
        size_t size;           /* bytes the whole record takes */
        uint8_t n_digests;
        struct shield_event_digest digests[SHIELD_EVENTLOG_ALGS_MAX];
        const uint8_t *data;   /* event data, points into the log's own copy */
        uint32_t data_size;
};

/* The Spec ID Event03 header of a crypto-agile log (PFP 1.05, 10.4.5.1). */
struct shield_specid {
        uint32_t platform_class;
        uint8_t version_minor, version_major, errata;
        uint8_t uintn_size;
        uint32_t n_algs;
        struct {
                uint16_t alg;
                uint16_t size;
        } algs[SHIELD_EVENTLOG_ALGS_MAX];
        uint8_t vendor_info_size;
        const uint8_t *vendor_info;
};

struct shield_eventlog;

/*
 * Parse a whole log. The log keeps its own copy of buf. Fails only when
 * the bytes cannot be walked as a log (diag says where and why: offset,
 * event index, what was expected); oddities of real firmware become quirks.
 * Trailing zero or 0xFF padding (as firmware leaves in its log area) is
 * accepted and noted; other trailing bytes that do not form an event are an
 * error.
 */
__attribute__((warn_unused_result))
int shield_eventlog_parse(const uint8_t *buf, size_t len, struct shield_eventlog **ret,
                          struct shield_diag *diag);

/*
 * The same, taking ownership of *buf (malloc'd, len bytes) instead of
 * copying it: for large logs read from a file. *buf is set to NULL whether
 * or not the parse succeeds.
 */
__attribute__((warn_unused_result))
int shield_eventlog_parse_take(uint8_t **buf, size_t len, struct shield_eventlog **ret, struct shield_diag *diag);

void shield_eventlog_free(struct shield_eventlog *log);

enum shield_eventlog_format shield_eventlog_format(const struct shield_eventlog *log);

/* The Spec ID header, or NULL for a legacy log. */
const struct shield_specid *shield_eventlog_specid(const struct shield_eventlog *log);

/* The StartupLocality value (0..4), or -1 when the log has no such event. */
int shield_eventlog_startup_locality(const struct shield_eventlog *log);

size_t shield_eventlog_count(const struct shield_eventlog *log);
const struct shield_event *shield_eventlog_event(const struct shield_eventlog *log, size_t i);

/* Bytes of the log as parsed (the log's own copy) and its length. */
const uint8_t *shield_eventlog_bytes(const struct shield_eventlog *log, size_t *ret_len);

/* Quirks the parser noticed (never NULL; owned by the log). */
const struct shield_reasons *shield_eventlog_quirks(const struct shield_eventlog *log);

/*
 * Replay every bank the log carries (legacy: sha1) into *ret: EV_NO_ACTION
 * and PCR index > 23 are not extended; PCR 0 starts at the StartupLocality
 * value; PCRs 17–22 start at all-ones; others at zero. Every PCR 0–23 is
 * present (a PCR no event touched keeps its reset value); extended marks
 * the PCRs some event extended (plus PCR 0 when a locality set it). A bank
 * whose algorithm we cannot compute is left out and reported in
 * *ret_skipped (may be NULL), as is an event that lacks a bank's digest.
 * hasher may be NULL (one is made for the call).
 */
__attribute__((warn_unused_result))
int shield_eventlog_replay(const struct shield_eventlog *log, struct shield_hasher *hasher,
                           struct shield_pcrs *ret, struct shield_reasons *ret_skipped);

/*
 * Recompute the digest of every event whose digest the spec defines over
 * its data (separators, EFI variables, EFI/EV actions, GPT, boot
 * variables, grub's PCR 8 command strings) and add an "event-digest-mismatch" error
 * for each bank where the logged digest differs. Events whose digest covers
 * something outside the log (images, firmware blobs) are not judged.
 * Returns 0 (mismatches are reasons, not a failure) or an error code.
 */
__attribute__((warn_unused_result))
int shield_eventlog_check_integrity(const struct shield_eventlog *log, struct shield_hasher *hasher,
                                    struct shield_reasons *out);

/*
 * One-line summary of an event's content for people, e.g.
 * "SecureBoot = 1", "db: 2 X509 (…), 0 hashes",
 * "PciRoot(0x0)/…/\EFI\BOOT\BOOTX64.EFI (1.2 MB)". Never fails on odd data:
 * it says what is wrong instead. *ret is malloc'd.
 */
__attribute__((warn_unused_result))
int shield_event_summary(const struct shield_eventlog *log, const struct shield_event *ev, char **ret);

/* The event's decoded content as JSON: shield_event_decode_json() in shield/eventlog-json.h. */

/* A Secure Boot database as measured (EV_EFI_VARIABLE_DRIVER_CONFIG). */
struct shield_sb_db {
        long event_index;       /* -1 when not measured */
        size_t n_x509, n_hashes, n_other;
        uint8_t sha256[32];     /* of the variable data as measured */
};

/* One EV_EFI_VARIABLE_AUTHORITY: what authorised a boot application. */
struct shield_sb_authority {
        long event_index;
        char variable[64];      /* "db", "MokListRT", "Shim", "SbatLevel", … */
        bool has_cert;
        char subject[256];      /* certificate subject when has_cert */
        char issuer[256];
        uint8_t sha1[20];       /* certificate thumbprint when has_cert */
        long applies_to;        /* index of the next boot application event, -1 when none */
};

struct shield_secureboot {
        int secure_boot;        /* SecureBoot variable: 1, 0, or -1 when not measured */
        int setup_mode;         /* -1 when not measured; likewise below */
        int audit_mode;
        int deployed_mode;
        struct shield_sb_db pk, kek, db, dbx;
        size_t n_authorities;
        struct shield_sb_authority *authorities;    /* malloc'd */
        struct shield_reasons findings;             /* structure and policy findings */
};

/*
 * The Secure Boot state and structure findings: the SecureBoot variable,
 * PK/KEK/db/dbx as measured, which db entry authorised each boot
 * application, separators missing/duplicated/carrying an error value,
 * variables measured after the separator, a UEFI debugger event, boot-order
 * changes, unexpected event types in PCR 7. *ret is written on success;
 * release it with shield_secureboot_clear().
 */
__attribute__((warn_unused_result))
int shield_eventlog_secureboot(const struct shield_eventlog *log, struct shield_secureboot *ret);
void shield_secureboot_clear(struct shield_secureboot *sb);

/*
 * UEFI_IMAGE_LOAD_EVENT (PFP 1.05, 10.2.4), the data of
 * EV_EFI_BOOT_SERVICES_APPLICATION, _DRIVER and EV_EFI_RUNTIME_SERVICES_DRIVER:
 * where the image was in memory, its length, its link-time address, and
 * its device path as text (lib/uefi's rendering; "" when the path is
 * empty). SHIELD_E_INVAL when ev is not one of those types,
 * SHIELD_E_TRUNCATED when the data is shorter than its header or the
 * device path it declares, SHIELD_E_FORMAT for a broken device path (diag
 * says where, as an offset in the event data). *ret is written only on
 * success; release it with shield_image_load_event_clear().
 */
struct shield_image_load_event {
        uint64_t location;
        uint64_t length;
        uint64_t link_time_address;
        char *device_path;      /* malloc'd */
};

__attribute__((warn_unused_result))
int shield_event_image_load(const struct shield_event *ev, struct shield_image_load_event *ret,
                            struct shield_diag *diag);
void shield_image_load_event_clear(struct shield_image_load_event *e);
