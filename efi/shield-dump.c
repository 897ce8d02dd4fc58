/* SPDX-License-Identifier: Apache-2.0 */
/*
 * shield-dump: a tiny EFI application the tests boot as \EFI\BOOT\BOOTX64.EFI.
 * It reads what the firmware measured (the TCG2 event log) and what the TPM
 * holds (every PCR of every active bank, through raw TPM2_PCR_Read commands),
 * writes both to the console in checksummed frames (docs/REAL-BOOTS.md),
 * and powers the machine off. Measurements cannot leave a VM any other way:
 * the vTPM's PCRs are gone once QEMU exits.
 *
 * A separate freestanding build (gnu-efi); it shares no code with lib/.
 * The firmware and the TPM are what we are observing, so their answers are
 * bounds-checked before use but not otherwise second-guessed: a malformed
 * answer becomes a SHIELD-ERROR line and a missing frame, never a crash.
 */
#include <efi.h>
#include <efilib.h>

/* Version of the frame set this program sends (docs/REAL-BOOTS.md); the info frame carries it. */
#define SHIELD_DUMP_FORMAT "1"

/* TCG EFI Protocol Specification (Family 2.0), section 6: EFI_TCG2_PROTOCOL. */
#define TCG2_PROTOCOL_GUID \
        { 0x607f766c, 0x7455, 0x42be, { 0x93, 0x0b, 0xe4, 0xd7, 0x6d, 0xb2, 0x72, 0x0f } }
/* Same spec, section 6.4.1: EFI_TCG2_EVENT_LOG_FORMAT_TCG_2 (the crypto-agile log). */
#define TCG2_EVENT_LOG_FORMAT_TCG_2 0x00000002

/*
 * Same spec, section 6.4.4: EFI_TCG2_BOOT_SERVICE_CAPABILITY. edk2 lays it out
 * with natural alignment (36 bytes), not packed; so does this plain struct.
 */
struct tcg2_capability {
        UINT8 size;
        UINT8 structure_version[2];
        UINT8 protocol_version[2];
        UINT32 hash_algorithm_bitmap;
        UINT32 supported_event_logs;
        BOOLEAN tpm_present;
        UINT16 max_command_size;
        UINT16 max_response_size;
        UINT32 manufacturer_id;
        UINT32 number_of_pcr_banks;
        UINT32 active_pcr_banks;
};

struct tcg2_protocol;
typedef EFI_STATUS(EFIAPI *tcg2_get_capability)(struct tcg2_protocol *, struct tcg2_capability *);
typedef EFI_STATUS(EFIAPI *tcg2_get_event_log)(struct tcg2_protocol *, UINT32, EFI_PHYSICAL_ADDRESS *,
                                               EFI_PHYSICAL_ADDRESS *, BOOLEAN *);
typedef EFI_STATUS(EFIAPI *tcg2_hash_log_extend)(struct tcg2_protocol *, UINT64, EFI_PHYSICAL_ADDRESS, UINT64, void *);
typedef EFI_STATUS(EFIAPI *tcg2_submit_command)(struct tcg2_protocol *, UINT32, UINT8 *, UINT32, UINT8 *);
typedef EFI_STATUS(EFIAPI *tcg2_get_active_banks)(struct tcg2_protocol *, UINT32 *);

struct tcg2_protocol {
        tcg2_get_capability get_capability;
        tcg2_get_event_log get_event_log;
        tcg2_hash_log_extend hash_log_extend_event;
        tcg2_submit_command submit_command;
        tcg2_get_active_banks get_active_pcr_banks;
        void *set_active_pcr_banks;
        void *get_result_of_set_active_pcr_banks;
};

/*
 * EFI_TCG2_BOOT_HASH_ALG_* bits (TCG EFI Protocol spec, section 6.4.2) and the
 * TPM_ALG_IDs they stand for (TCG Algorithm Registry), with digest sizes.
 */
static const struct {
        UINT32 bit;
        UINT16 alg;
        UINT16 size;
        const char *name;
} banks[] = {
        { 0x01, 0x0004, 20, "sha1" },   { 0x02, 0x000B, 32, "sha256" }, { 0x04, 0x000C, 48, "sha384" },
        { 0x08, 0x000D, 64, "sha512" }, { 0x10, 0x0012, 32, "sm3_256" },
};
#define N_BANKS (sizeof banks / sizeof banks[0])
#define N_PCRS 24

/* TPM 2.0 Part 2: TPM_RC_SUCCESS, TPM_RC_RETRY (section 6.6.3), TPM_CC_PCR_Read (6.5.2). */
#define TPM_RC_SUCCESS 0x000
#define TPM_RC_RETRY 0x922
#define TPM_CC_PCR_READ 0x0000017e
#define TPM_ST_NO_SESSIONS 0x8001

static UINT32 be32(const UINT8 *p) {
        return (UINT32)p[0] << 24 | (UINT32)p[1] << 16 | (UINT32)p[2] << 8 | p[3];
}

static UINT16 be16(const UINT8 *p) {
        return (UINT16)(p[0] << 8 | p[1]);
}

static UINT32 le32(const UINT8 *p) {
        return (UINT32)p[0] | (UINT32)p[1] << 8 | (UINT32)p[2] << 16 | (UINT32)p[3] << 24;
}

static UINT16 le16(const UINT8 *p) {
        return (UINT16)(p[0] | p[1] << 8);
}

/* A bounded text buffer: appends stop at the cap and set overflow, which the caller checks once. */
struct text {
        char *buf;
        UINTN used, cap;
        BOOLEAN overflow;
};

static void put(struct text *t, const char *s) {
        while (*s) {
                if (t->used + 1 >= t->cap) {
                        t->overflow = TRUE;
                        break;
                }
                t->buf[t->used++] = *s++;
        }
        t->buf[t->used] = 0;
}

static void put_hex(struct text *t, const UINT8 *p, UINTN n) {
        static const char hex[] = "0123456789abcdef";
        for (UINTN i = 0; i < n; i++) {
                char two[3] = { hex[p[i] >> 4], hex[p[i] & 15], 0 };
                put(t, two);
        }
}

static void put_u32(struct text *t, UINT32 v) {
        char digits[11];
        UINTN n = sizeof digits - 1;
        digits[n] = 0;
        do {
                digits[--n] = (char)('0' + v % 10);
                v /= 10;
        } while (v);
        put(t, digits + n);
}

static void put_hex32(struct text *t, UINT32 v) {
        UINT8 b[4] = { (UINT8)(v >> 24), (UINT8)(v >> 16), (UINT8)(v >> 8), (UINT8)v };
        put(t, "0x");
        put_hex(t, b, 4);
}

/* Print one frame: header with length and CRC32, base64 lines of 76 characters, trailer. */
static void emit_frame(const char *name, const UINT8 *data, UINTN len) {
        static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        UINT32 crc = 0;
        char line[80];
        UINTN used = 0;

        if (len > 0)
                uefi_call_wrapper(BS->CalculateCrc32, 3, (void *)data, len, &crc);
        Print(L"\nSHIELD-BEGIN %a %lu %08x\n", name, (UINT64)len, crc);
        for (UINTN i = 0; i < len; i += 3) {
                UINT32 v = (UINT32)data[i] << 16;
                if (i + 1 < len)
                        v |= (UINT32)data[i + 1] << 8;
                if (i + 2 < len)
                        v |= data[i + 2];
                line[used++] = b64[(v >> 18) & 63];
                line[used++] = b64[(v >> 12) & 63];
                line[used++] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
                line[used++] = i + 2 < len ? b64[v & 63] : '=';
                if (used >= 76) {
                        line[used] = 0;
                        Print(L"%a\n", line);
                        used = 0;
                }
        }
        if (used) {
                line[used] = 0;
                Print(L"%a\n", line);
        }
        Print(L"SHIELD-END %a\n", name);
}

/*
 * The log's length: the firmware gives its start and the address of the last
 * entry; the last entry's size follows from the digest sizes the Spec ID
 * event declares (TCG PC Client PFP, section 10.4.5.1, TCG_EfiSpecIDEvent).
 * Returns 0 when the log does not look like a crypto-agile log.
 */
static UINTN event_log_length(const UINT8 *start, const UINT8 *last) {
        /* The first entry is a TCG_PCClientPCREvent (PFP 10.4.1): 32 bytes, then its data. */
        static const char spec_sig[16] = "Spec ID Event03";
        if (!start || !last || last < start)
                return 0;
        UINT32 spec_size = le32(start + 28);
        const UINT8 *spec = start + 32;
        if (spec_size < 28 || CompareMem((void *)spec, (void *)spec_sig, sizeof spec_sig) != 0)
                return 0;
        if (last == start)
                return 32 + spec_size;

        UINT32 n_algs = le32(spec + 24);
        UINT16 alg_ids[16], alg_sizes[16];
        if (n_algs == 0 || n_algs > 16 || 28 + 4 * n_algs > spec_size)
                return 0;
        for (UINT32 i = 0; i < n_algs; i++) {
                alg_ids[i] = le16(spec + 28 + 4 * i);
                alg_sizes[i] = le16(spec + 30 + 4 * i);
        }
        /* TCG_PCR_EVENT2 (PFP 10.4.2): PCRIndex, EventType, TPML_DIGEST_VALUES, EventSize, Event. */
        const UINT8 *p = last + 8;
        UINT32 count = le32(p);
        p += 4;
        if (count == 0 || count > n_algs)
                return 0;
        for (UINT32 i = 0; i < count; i++) {
                UINT16 alg = le16(p);
                UINT16 size = 0;
                for (UINT32 k = 0; k < n_algs; k++)
                        if (alg_ids[k] == alg)
                                size = alg_sizes[k];
                if (!size)
                        return 0;
                p += 2 + size;
        }
        UINT32 event_size = le32(p);
        if (event_size > 16 * 1024 * 1024)
                return 0;
        return (UINTN)(p + 4 + event_size - start);
}

/* One TPM command; libtpms answers some commands right after boot with TPM_RC_RETRY: retry those. */
static EFI_STATUS submit(struct tcg2_protocol *tcg2, UINT8 *cmd, UINT32 cmd_len, UINT8 *rsp, UINT32 rsp_len,
                         UINT32 *rc) {
        for (int attempt = 0; attempt < 50; attempt++) {
                SetMem(rsp, rsp_len, 0);
                EFI_STATUS st = uefi_call_wrapper(tcg2->submit_command, 5, tcg2, cmd_len, cmd, rsp_len, rsp);
                if (EFI_ERROR(st))
                        return st;
                /* TPM 2.0 Part 1, section 18.7: response header = tag(2) size(4) responseCode(4). */
                UINT32 size = be32(rsp + 2);
                if (size < 10 || size > rsp_len)
                        return EFI_PROTOCOL_ERROR;
                *rc = be32(rsp + 6);
                if (*rc != TPM_RC_RETRY)
                        return EFI_SUCCESS;
                uefi_call_wrapper(BS->Stall, 1, 10000);
        }
        return EFI_TIMEOUT;
}

/*
 * Read PCRs 0-23 of one bank into digests[pcr]. TPM2_PCR_Read (TPM 2.0 Part 3,
 * section 22.4) returns at most 8 digests per call, and says in
 * pcrSelectionOut which PCRs it returned (lowest first): ask for everything
 * still missing until nothing is. The update counter must not move between
 * calls, or the values would come from different moments: start over then.
 */
static BOOLEAN read_bank(struct tcg2_protocol *tcg2, UINTN b, UINT8 digests[N_PCRS][64]) {
        for (int round = 0; round < 3; round++) {
                UINT32 missing = (1u << N_PCRS) - 1, counter = 0;
                BOOLEAN have_counter = FALSE, restart = FALSE;
                while (missing && !restart) {
                        UINT8 cmd[20] = { 0x80, 0x01, 0, 0, 0, 20, 0x00, 0x00, 0x01, 0x7e, 0, 0, 0, 1 };
                        UINT8 rsp[1024];
                        UINT32 rc = 0;
                        cmd[14] = (UINT8)(banks[b].alg >> 8);
                        cmd[15] = (UINT8)banks[b].alg;
                        cmd[16] = 3;
                        cmd[17] = (UINT8)missing;
                        cmd[18] = (UINT8)(missing >> 8);
                        cmd[19] = (UINT8)(missing >> 16);
                        EFI_STATUS st = submit(tcg2, cmd, sizeof cmd, rsp, sizeof rsp, &rc);
                        if (EFI_ERROR(st) || rc != TPM_RC_SUCCESS) {
                                Print(L"SHIELD-ERROR TPM2_PCR_Read %a: status %r, TPM rc 0x%x\n", banks[b].name, st, rc);
                                return FALSE;
                        }
                        /* Response: header(10) pcrUpdateCounter(4) TPML_PCR_SELECTION TPML_DIGEST. */
                        const UINT8 *p = rsp + 10, *end = rsp + be32(rsp + 2);
                        if (end - p < 8)
                                goto malformed;
                        UINT32 now = be32(p);
                        if (have_counter && now != counter) {
                                restart = TRUE;
                                break;
                        }
                        counter = now;
                        have_counter = TRUE;
                        UINT32 nsel = be32(p + 4), got = 0;
                        p += 8;
                        for (UINT32 s = 0; s < nsel; s++) {
                                if (end - p < 3 || end - p < 3 + p[2])
                                        goto malformed;
                                UINT8 select_size = p[2];
                                if (be16(p) == banks[b].alg)
                                        for (UINT8 k = 0; k < select_size && k < 3; k++)
                                                got |= (UINT32)p[3 + k] << (8 * k);
                                p += 3 + select_size;
                        }
                        got &= missing;
                        if (!got || end - p < 4)
                                goto malformed;
                        UINT32 ndig = be32(p);
                        p += 4;
                        for (UINT32 pcr = 0; pcr < N_PCRS; pcr++) {
                                if (!(got & (1u << pcr)))
                                        continue;
                                if (ndig-- == 0 || end - p < 2 || be16(p) != banks[b].size ||
                                    end - p < 2 + banks[b].size)
                                        goto malformed;
                                CopyMem(digests[pcr], (void *)(p + 2), banks[b].size);
                                p += 2 + banks[b].size;
                        }
                        missing &= ~got;
                }
                if (!restart)
                        return TRUE;
        }
        Print(L"SHIELD-ERROR TPM2_PCR_Read %a: the PCRs kept changing\n", banks[b].name);
        return FALSE;
malformed:
        Print(L"SHIELD-ERROR TPM2_PCR_Read %a: malformed response\n", banks[b].name);
        return FALSE;
}

/* Every PCR of every active bank as PCRS.json text: {"sha256": {"0": "hex", …}, …}. */
static BOOLEAN read_pcrs(struct tcg2_protocol *tcg2, UINT32 active, struct text *t) {
        static UINT8 digests[N_PCRS][64];
        BOOLEAN first_bank = TRUE;

        put(t, "{");
        for (UINTN b = 0; b < N_BANKS; b++) {
                if (!(active & banks[b].bit))
                        continue;
                if (!read_bank(tcg2, b, digests))
                        return FALSE;
                put(t, first_bank ? "\"" : ", \"");
                put(t, banks[b].name);
                put(t, "\": {");
                first_bank = FALSE;
                for (UINT32 pcr = 0; pcr < N_PCRS; pcr++) {
                        put(t, pcr ? ", \"" : "\"");
                        put_u32(t, pcr);
                        put(t, "\": \"");
                        put_hex(t, digests[pcr], banks[b].size);
                        put(t, "\"");
                }
                put(t, "}");
        }
        put(t, "}\n");
        if (t->overflow)
                Print(L"SHIELD-ERROR PCR text does not fit its buffer\n");
        return !t->overflow;
}

static void put_banks(struct text *t, UINT32 mask) {
        BOOLEAN first = TRUE;
        for (UINTN b = 0; b < N_BANKS; b++)
                if (mask & banks[b].bit) {
                        put(t, first ? "" : ",");
                        put(t, banks[b].name);
                        first = FALSE;
                }
        if (first)
                put(t, "none");
}

/* A one-byte global variable (SecureBoot, SetupMode); -1 when absent or unreadable. */
static int read_u8_variable(CHAR16 *name) {
        EFI_GUID global = EFI_GLOBAL_VARIABLE;
        UINT8 value[8];
        UINTN size = sizeof value;
        if (EFI_ERROR(uefi_call_wrapper(RT->GetVariable, 5, name, &global, NULL, &size, value)) || size != 1)
                return -1;
        return value[0];
}

static void put_var(struct text *t, const char *key, int v) {
        put(t, key);
        put(t, "=");
        if (v < 0)
                put(t, "?");
        else
                put_u32(t, (UINT32)v);
}

static void finish(void) {
        Print(L"SHIELD-DONE\n");
        uefi_call_wrapper(RT->ResetSystem, 4, EfiResetShutdown, EFI_SUCCESS, 0, NULL);
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab) {
        EFI_GUID tcg2_guid = TCG2_PROTOCOL_GUID;
        struct tcg2_protocol *tcg2 = NULL;
        struct tcg2_capability cap;
        EFI_PHYSICAL_ADDRESS start = 0, last = 0;
        BOOLEAN truncated = FALSE, have_cap = FALSE;
        UINT32 active = 0;
        static char info_buf[512], pcrs_buf[16384];
        struct text info = { info_buf, 0, sizeof info_buf, FALSE };
        struct text pcrs = { pcrs_buf, 0, sizeof pcrs_buf, FALSE };

        InitializeLib(image, systab);
        Print(L"\nshield-dump: running\n");

        /*
         * The info frame: one line of key=value words. The first two keep
         * their place ("secureboot=N setupmode=N"): tests match on them.
         */
        put_var(&info, "secureboot", read_u8_variable(L"SecureBoot"));
        put_var(&info, " setupmode", read_u8_variable(L"SetupMode"));
        put(&info, " format=" SHIELD_DUMP_FORMAT);

        if (EFI_ERROR(LibLocateProtocol(&tcg2_guid, (void **)&tcg2)) || !tcg2) {
                put(&info, " tcg2=absent\n");
                emit_frame("info", (const UINT8 *)info.buf, info.used);
                Print(L"SHIELD-ERROR no EFI_TCG2_PROTOCOL (is a TPM attached?)\n");
                finish();
                return EFI_NOT_FOUND;
        }

        SetMem(&cap, sizeof cap, 0);
        cap.size = (UINT8)sizeof cap;
        if (!EFI_ERROR(uefi_call_wrapper(tcg2->get_capability, 2, tcg2, &cap)) && cap.tpm_present) {
                have_cap = TRUE;
                active = cap.active_pcr_banks;
                put(&info, " tcg2=");
                put_u32(&info, cap.protocol_version[0]);
                put(&info, ".");
                put_u32(&info, cap.protocol_version[1]);
                put(&info, " manufacturer=");
                put_hex32(&info, cap.manufacturer_id);
                put(&info, " supported=");
                put_banks(&info, cap.hash_algorithm_bitmap);
                put(&info, " logs=");
                put_hex32(&info, cap.supported_event_logs);
        }
        /* Older firmware leaves ActivePcrBanks zero in the capability: ask directly then. */
        if (!active && EFI_ERROR(uefi_call_wrapper(tcg2->get_active_pcr_banks, 2, tcg2, &active)))
                active = 0;
        put(&info, " active=");
        put_banks(&info, active);

        EFI_STATUS st = uefi_call_wrapper(tcg2->get_event_log, 5, tcg2, TCG2_EVENT_LOG_FORMAT_TCG_2, &start, &last,
                                          &truncated);
        UINTN len = 0;
        if (!EFI_ERROR(st))
                len = event_log_length((const UINT8 *)(UINTN)start, (const UINT8 *)(UINTN)last);
        put(&info, truncated ? " truncated=1\n" : " truncated=0\n");
        emit_frame("info", (const UINT8 *)info.buf, info.used);

        if (!have_cap)
                Print(L"SHIELD-WARNING GetCapability failed or reports no TPM\n");
        if (EFI_ERROR(st))
                Print(L"SHIELD-ERROR GetEventLog(TCG_2): %r\n", st);
        else if (!len)
                Print(L"SHIELD-ERROR the event log is empty or not in the crypto-agile format\n");
        else {
                if (truncated)
                        Print(L"SHIELD-WARNING the firmware truncated its event log\n");
                emit_frame("eventlog", (const UINT8 *)(UINTN)start, len);
        }
        if (!active)
                Print(L"SHIELD-ERROR no active PCR bank\n");
        else if (read_pcrs(tcg2, active, &pcrs))
                emit_frame("pcrs", (const UINT8 *)pcrs.buf, pcrs.used);
        finish();
        return EFI_SUCCESS;
}
