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
 */
#include <efi.h>
#include <efilib.h>

/* TCG EFI Protocol Specification (Family 2.0), section 6. */
#define TCG2_PROTOCOL_GUID \
        { 0x607f766c, 0x7455, 0x42be, { 0x93, 0x0b, 0xe4, 0xd7, 0x6d, 0xb2, 0x72, 0x0f } }
#define TCG2_EVENT_LOG_FORMAT_TCG_2 0x00000002

struct tcg2_protocol;
typedef EFI_STATUS(EFIAPI *tcg2_get_capability)(struct tcg2_protocol *, void *);
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

/* EFI_TCG2_BOOT_HASH_ALG_* bits and the TPM_ALG_IDs they stand for. */
static const struct {
        UINT32 bit;
        UINT16 alg;
        UINT16 size;
        const char *name;
} banks[] = {
        { 0x01, 0x0004, 20, "sha1" },   { 0x02, 0x000B, 32, "sha256" }, { 0x04, 0x000C, 48, "sha384" },
        { 0x08, 0x000D, 64, "sha512" }, { 0x10, 0x0012, 32, "sm3_256" },
};

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

/* Print one frame: header with length and CRC32, base64 lines, trailer. */
static void emit_frame(const char *name, const UINT8 *data, UINTN len) {
        static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        UINT32 crc = 0;
        char line[80];
        UINTN used = 0;

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

/* The log's length: walk to the last entry the firmware reported and add its size. */
static UINTN event_log_length(const UINT8 *start, const UINT8 *last) {
        if (!last || last < start)
                return 0;
        if (last == start)
                return 32 + le32(start + 28); /* only the Spec ID event: legacy header + EventSize */

        /* Digest sizes come from the Spec ID event (TCG PFP 10.4.5.1). */
        const UINT8 *spec = start + 32;
        UINT32 n_algs = le32(spec + 24);
        UINT16 alg_ids[8], alg_sizes[8];
        if (n_algs == 0 || n_algs > 8)
                return 0;
        for (UINT32 i = 0; i < n_algs; i++) {
                alg_ids[i] = le16(spec + 28 + 4 * i);
                alg_sizes[i] = le16(spec + 30 + 4 * i);
        }
        const UINT8 *p = last + 8;
        UINT32 count = le32(p);
        p += 4;
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
        return (UINTN)(p + 4 + event_size - start);
}

static EFI_STATUS submit(struct tcg2_protocol *tcg2, UINT8 *cmd, UINT32 cmd_len, UINT8 *rsp, UINT32 rsp_len) {
        /* libtpms answers the first commands after boot with TPM_RC_RETRY (0x922): retry. */
        for (int attempt = 0; attempt < 20; attempt++) {
                EFI_STATUS st = uefi_call_wrapper(tcg2->submit_command, 5, tcg2, cmd_len, cmd, rsp_len, rsp);
                if (EFI_ERROR(st))
                        return st;
                if (be32(rsp + 6) != 0x922)
                        return EFI_SUCCESS;
                uefi_call_wrapper(BS->Stall, 1, 10000);
        }
        return EFI_TIMEOUT;
}

static UINTN append(char *buf, UINTN used, UINTN cap, const char *s) {
        while (*s && used + 1 < cap)
                buf[used++] = *s++;
        buf[used] = 0;
        return used;
}

static UINTN append_hex(char *buf, UINTN used, UINTN cap, const UINT8 *p, UINTN n) {
        static const char hex[] = "0123456789abcdef";
        for (UINTN i = 0; i < n && used + 3 < cap; i++) {
                buf[used++] = hex[p[i] >> 4];
                buf[used++] = hex[p[i] & 15];
        }
        buf[used] = 0;
        return used;
}

/* Read PCRs 0-23 of every active bank as PCRS.json text. */
static UINTN read_pcrs(struct tcg2_protocol *tcg2, UINT32 active, char *out, UINTN cap) {
        UINTN used = append(out, 0, cap, "{");
        BOOLEAN first_bank = TRUE;

        for (UINTN b = 0; b < sizeof banks / sizeof banks[0]; b++) {
                if (!(active & banks[b].bit))
                        continue;
                used = append(out, used, cap, first_bank ? "\"" : ", \"");
                used = append(out, used, cap, banks[b].name);
                used = append(out, used, cap, "\": {");
                first_bank = FALSE;
                /* TPM2_PCR_Read returns at most 8 digests: ask for one select byte at a time. */
                for (UINTN group = 0; group < 3; group++) {
                        UINT8 cmd[20] = { 0x80, 0x01, 0, 0, 0, 20, 0x00, 0x00, 0x01, 0x7e, 0, 0, 0, 1 };
                        UINT8 rsp[1024];
                        cmd[14] = (UINT8)(banks[b].alg >> 8);
                        cmd[15] = (UINT8)banks[b].alg;
                        cmd[16] = 3;
                        cmd[17 + group] = 0xff;
                        if (EFI_ERROR(submit(tcg2, cmd, sizeof cmd, rsp, sizeof rsp)) || be32(rsp + 6) != 0) {
                                Print(L"SHIELD-ERROR TPM2_PCR_Read %a failed\n", banks[b].name);
                                return 0;
                        }
                        /* tag(2) size(4) rc(4) updateCounter(4) TPML_PCR_SELECTION(4+6) TPML_DIGEST */
                        const UINT8 *p = rsp + 14;
                        UINT32 nsel = be32(p);
                        p += 4 + nsel * 6;
                        UINT32 ndig = be32(p);
                        p += 4;
                        for (UINT32 k = 0; k < ndig && k < 8; k++) {
                                UINT16 size = be16(p);
                                char key[8];
                                UINTN pcr = group * 8 + k;
                                key[0] = '"';
                                key[1] = pcr >= 10 ? (char)('0' + pcr / 10) : (char)('0' + pcr);
                                key[2] = pcr >= 10 ? (char)('0' + pcr % 10) : '"';
                                key[3] = pcr >= 10 ? '"' : 0;
                                key[4] = 0;
                                used = append(out, used, cap, pcr ? ", " : "");
                                used = append(out, used, cap, key);
                                used = append(out, used, cap, ": \"");
                                used = append_hex(out, used, cap, p + 2, size);
                                used = append(out, used, cap, "\"");
                                p += 2 + size;
                        }
                }
                used = append(out, used, cap, "}");
        }
        return append(out, used, cap, "}\n");
}

static UINT8 read_u8_variable(CHAR16 *name) {
        EFI_GUID global = EFI_GLOBAL_VARIABLE;
        UINT8 value = 0xff;
        UINTN size = 1;
        if (EFI_ERROR(uefi_call_wrapper(RT->GetVariable, 5, name, &global, NULL, &size, &value)))
                return 0xff;
        return value;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab) {
        EFI_GUID tcg2_guid = TCG2_PROTOCOL_GUID;
        struct tcg2_protocol *tcg2 = NULL;
        EFI_PHYSICAL_ADDRESS start = 0, last = 0;
        BOOLEAN truncated = FALSE;
        UINT32 active = 0;
        static char pcrs[16384];
        char info[64];

        InitializeLib(image, systab);
        Print(L"\nshield-dump: running\n");
        UINT8 sb = read_u8_variable(L"SecureBoot"), sm = read_u8_variable(L"SetupMode");
        UINTN n = append(info, 0, sizeof info, "secureboot=");
        info[n++] = sb == 0xff ? '?' : (char)('0' + sb);
        n = append(info, n, sizeof info, " setupmode=");
        info[n++] = sm == 0xff ? '?' : (char)('0' + sm);
        info[n++] = '\n';
        info[n] = 0;
        emit_frame("info", (const UINT8 *)info, n);

        if (EFI_ERROR(LibLocateProtocol(&tcg2_guid, (void **)&tcg2)) || !tcg2) {
                Print(L"SHIELD-ERROR no EFI_TCG2_PROTOCOL (is a TPM attached?)\n");
        } else if (EFI_ERROR(uefi_call_wrapper(tcg2->get_active_pcr_banks, 2, tcg2, &active))) {
                Print(L"SHIELD-ERROR GetActivePcrBanks failed\n");
        } else if (EFI_ERROR(uefi_call_wrapper(tcg2->get_event_log, 5, tcg2, TCG2_EVENT_LOG_FORMAT_TCG_2, &start,
                                               &last, &truncated))) {
                Print(L"SHIELD-ERROR GetEventLog failed\n");
        } else {
                UINTN len = event_log_length((const UINT8 *)(UINTN)start, (const UINT8 *)(UINTN)last);
                if (truncated)
                        Print(L"SHIELD-WARNING the firmware truncated its event log\n");
                emit_frame("eventlog", (const UINT8 *)(UINTN)start, len);
                UINTN plen = read_pcrs(tcg2, active, pcrs, sizeof pcrs);
                if (plen)
                        emit_frame("pcrs", (const UINT8 *)pcrs, plen);
        }
        Print(L"SHIELD-DONE\n");
        uefi_call_wrapper(RT->ResetSystem, 4, EfiResetShutdown, EFI_SUCCESS, 0, NULL);
        return EFI_SUCCESS;
}
