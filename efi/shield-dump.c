/* SPDX-License-Identifier: Apache-2.0 */
/*
 * shield-dump, installed as shield-agent: the measurement agent, a tiny EFI
 * application booted as \EFI\BOOT\BOOTX64.EFI. It reads what the firmware
 * measured (the TCG2 event log) and what the TPM holds (every PCR of every
 * active bank, through raw TPM2_PCR_Read commands); given a nonce by the host
 * (fw_cfg file opt/shieldkit/nonce, else \shield\nonce on its boot volume)
 * it asks the TPM for a TPM2_Quote over PCRs 0-23 of every active bank with
 * the attestation key 0x81010002, and it sends the AK's public area and the
 * AK and EK certificates from NV. Everything goes to the console in
 * checksummed frames (docs/REAL-BOOTS.md), then the machine powers off.
 * Measurements cannot leave a VM any other way: the vTPM's PCRs are gone
 * once QEMU exits.
 *
 * A separate freestanding build (gnu-efi); it shares no code with lib/.
 * The firmware and the TPM are what we are observing, so their answers are
 * bounds-checked before use but not otherwise second-guessed: a malformed
 * answer becomes a SHIELD-ERROR line and a missing frame, never a crash.
 */
#include <efi.h>
#include <efilib.h>

/* Version of the frame set this program sends (docs/REAL-BOOTS.md); the info frame carries it. */
#define SHIELD_DUMP_FORMAT "2"

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

/*
 * The measurement agent: nonce in, quote and keys out.
 *
 * Every TPM answer below goes through one bounded reader (struct rd):
 * checks are written "n > len - off", so a length field from the TPM can
 * never walk past the bytes that actually arrived.
 */
struct rd {
        const UINT8 *p;
        UINTN len, off;
};

static BOOLEAN rd_skip(struct rd *r, UINTN n) {
        if (n > r->len - r->off)
                return FALSE;
        r->off += n;
        return TRUE;
}

static BOOLEAN rd_be16(struct rd *r, UINT16 *ret) {
        if (2 > r->len - r->off)
                return FALSE;
        *ret = be16(r->p + r->off);
        r->off += 2;
        return TRUE;
}

static BOOLEAN rd_be32(struct rd *r, UINT32 *ret) {
        if (4 > r->len - r->off)
                return FALSE;
        *ret = be32(r->p + r->off);
        r->off += 4;
        return TRUE;
}

/* A TPM2B: a big-endian u16 size, then that many bytes; *ret points into the reader's buffer. */
static BOOLEAN rd_tpm2b(struct rd *r, const UINT8 **ret, UINT16 *ret_size) {
        UINTN start = r->off;
        UINT16 n;
        if (!rd_be16(r, &n) || !rd_skip(r, n)) {
                r->off = start;
                return FALSE;
        }
        *ret = r->p + start + 2;
        *ret_size = n;
        return TRUE;
}

/* A bounded command writer: appends stop at the cap and set overflow, checked once before sending. */
struct wr {
        UINT8 *p;
        UINT32 len, cap;
        BOOLEAN overflow;
};

static void wr_bytes(struct wr *w, const void *data, UINTN n) {
        if (w->overflow || n > w->cap - w->len) {
                w->overflow = TRUE;
                return;
        }
        CopyMem(w->p + w->len, (void *)data, n);
        w->len += (UINT32)n;
}

static void wr_u8(struct wr *w, UINT8 v) {
        wr_bytes(w, &v, 1);
}

static void wr_be16(struct wr *w, UINT16 v) {
        UINT8 b[2] = { (UINT8)(v >> 8), (UINT8)v };
        wr_bytes(w, b, 2);
}

static void wr_be32(struct wr *w, UINT32 v) {
        UINT8 b[4] = { (UINT8)(v >> 24), (UINT8)(v >> 16), (UINT8)(v >> 8), (UINT8)v };
        wr_bytes(w, b, 4);
}

/* TPM 2.0 Part 2 constants (section numbers of Part 2, revision 1.59). */
#define TPM_ST_SESSIONS 0x8002      /* 6.9 */
#define TPM_ST_ATTEST_QUOTE 0x8018  /* 6.9 */
#define TPM_GENERATED_VALUE 0xff544347u /* 6.2 */
#define TPM_CC_NV_READ 0x0000014e   /* 6.5.2 */
#define TPM_CC_QUOTE 0x00000158
#define TPM_CC_NV_READ_PUBLIC 0x00000169
#define TPM_CC_READ_PUBLIC 0x00000173
#define TPM_RS_PW 0x40000009        /* 7.4: the password authorization session */
#define TPM_RC_HANDLE_1 0x0000018b  /* 6.6.3: TPM_RC_HANDLE + TPM_RC_1: the handle does not exist */
#define TPM_RC_NV_UNINITIALIZED 0x0000014a
#define TPM_ALG_HMAC 0x0005         /* TCG Algorithm Registry */
#define TPM_ALG_NULL 0x0010
#define TPM_ALG_RSASSA 0x0014
#define TPM_ALG_RSAPSS 0x0016
#define TPM_ALG_ECDSA 0x0018
#define TPM_ALG_ECDAA 0x001a
#define TPM_ALG_SM2 0x001b
#define TPM_ALG_ECSCHNORR 0x001c
#define TPMA_NV_AUTHREAD 0x00040000u /* 13.4 */
#define TPMA_NV_WRITTEN 0x20000000u

/* The persistent attestation key and the NV indices of the certificates. */
#define SHIELD_AK_HANDLE 0x81010002u
#define SHIELD_NV_AK_CERT 0x01c10000u /* the AK certificate, where Google's vTPM puts it */
#define SHIELD_NV_EK_CERT 0x01c00002u /* TCG EK Credential Profile 2.3, section 2.2.1.4: RSA 2048 EK certificate */
#define SHIELD_NV_CERT_MAX 16384      /* cap on a certificate read from NV */
#define SHIELD_NV_CHUNK 512           /* bytes per TPM2_NV_Read */
#define SHIELD_NONCE_MAX 64
#define SHIELD_TPM_BUF 4096

/* Send a command built in w; on success *body reads the response after its 10-byte header. */
static BOOLEAN tpm_call(struct tcg2_protocol *tcg2, const char *what, struct wr *w, UINT8 *rsp, UINT32 rsp_cap,
                        UINT32 *ret_rc, struct rd *body) {
        UINT32 rc = 0;
        if (w->overflow || w->len < 10) {
                Print(L"SHIELD-ERROR %a: the command does not fit its buffer\n", what);
                return FALSE;
        }
        w->p[2] = (UINT8)(w->len >> 24);
        w->p[3] = (UINT8)(w->len >> 16);
        w->p[4] = (UINT8)(w->len >> 8);
        w->p[5] = (UINT8)w->len;
        EFI_STATUS st = submit(tcg2, w->p, w->len, rsp, rsp_cap, &rc);
        if (EFI_ERROR(st)) {
                Print(L"SHIELD-ERROR %a: SubmitCommand status %r\n", what, st);
                return FALSE;
        }
        *ret_rc = rc;
        body->p = rsp;
        body->len = be32(rsp + 2);
        body->off = 10;
        return TRUE;
}

/*
 * The parameter area of a response to a command with sessions (TPM 2.0
 * Part 1, section 18.8: parameterSize, parameters, then the session
 * responses): narrows params to exactly the parameters.
 */
static BOOLEAN rd_params(struct rd *body, struct rd *params) {
        UINT32 n;
        if (!rd_be32(body, &n) || n > body->len - body->off)
                return FALSE;
        params->p = body->p + body->off;
        params->len = n;
        params->off = 0;
        body->off += n;
        return TRUE;
}

/* A password session with an empty password (Part 1, 19.8.4): handle, nonce, attributes, hmac. */
static void wr_pw_session(struct wr *w) {
        wr_be32(w, 9);
        wr_be32(w, TPM_RS_PW);
        wr_be16(w, 0);
        wr_u8(w, 0);
        wr_be16(w, 0);
}

/*
 * A TPMT_SIGNATURE (Part 2, 11.3.4) must fill the rest of the parameters
 * exactly: its length is not given anywhere else.
 */
static BOOLEAN signature_ok(struct rd r) {
        UINT16 alg, hash;
        const UINT8 *p;
        UINT16 n;
        if (!rd_be16(&r, &alg))
                return FALSE;
        switch (alg) {
        case TPM_ALG_NULL:
                break;
        case TPM_ALG_RSASSA:
        case TPM_ALG_RSAPSS:
                if (!rd_be16(&r, &hash) || !rd_tpm2b(&r, &p, &n) || n == 0)
                        return FALSE;
                break;
        case TPM_ALG_ECDSA:
        case TPM_ALG_ECDAA:
        case TPM_ALG_SM2:
        case TPM_ALG_ECSCHNORR:
                if (!rd_be16(&r, &hash) || !rd_tpm2b(&r, &p, &n) || !rd_tpm2b(&r, &p, &n))
                        return FALSE;
                break;
        case TPM_ALG_HMAC: {
                UINT16 size = 0;
                if (!rd_be16(&r, &hash))
                        return FALSE;
                for (UINTN b = 0; b < N_BANKS; b++)
                        if (banks[b].alg == hash)
                                size = banks[b].size;
                if (!size || !rd_skip(&r, size))
                        return FALSE;
                break;
        }
        default:
                return FALSE;
        }
        return r.off == r.len;
}

/*
 * TPM2_Quote (Part 3, 18.4) over PCRs 0-23 of every active bank, signed by
 * the AK with its own scheme (inScheme TPM_ALG_NULL), qualifyingData = the
 * nonce. Sends quote-attest (the TPMS_ATTEST) and quote-signature (the
 * TPMT_SIGNATURE), both exactly as the TPM marshalled them.
 */
static void send_quote(struct tcg2_protocol *tcg2, UINT32 active, const UINT8 *nonce, UINTN nonce_len) {
        static UINT8 cmd[256], rsp[SHIELD_TPM_BUF];
        struct wr w = { cmd, 0, sizeof cmd, FALSE };
        struct rd body, params;
        UINT32 rc, count = 0, magic;
        UINT16 type;
        const UINT8 *attest;
        UINT16 attest_len;

        wr_be16(&w, TPM_ST_SESSIONS);
        wr_be32(&w, 0);
        wr_be32(&w, TPM_CC_QUOTE);
        wr_be32(&w, SHIELD_AK_HANDLE);
        wr_pw_session(&w);
        wr_be16(&w, (UINT16)nonce_len);
        wr_bytes(&w, nonce, nonce_len);
        wr_be16(&w, TPM_ALG_NULL);
        for (UINTN b = 0; b < N_BANKS; b++)
                if (active & banks[b].bit)
                        count++;
        wr_be32(&w, count);
        for (UINTN b = 0; b < N_BANKS; b++)
                if (active & banks[b].bit) {
                        static const UINT8 all24[4] = { 3, 0xff, 0xff, 0xff };
                        wr_be16(&w, banks[b].alg);
                        wr_bytes(&w, all24, sizeof all24);
                }
        if (!tpm_call(tcg2, "TPM2_Quote", &w, rsp, sizeof rsp, &rc, &body))
                return;
        if (rc != TPM_RC_SUCCESS) {
                Print(L"SHIELD-ERROR TPM2_Quote: TPM rc 0x%x%a\n", rc,
                      rc == TPM_RC_HANDLE_1 ? " (no attestation key at 0x81010002)" : "");
                return;
        }
        /* Parameters: TPM2B_ATTEST quoted, TPMT_SIGNATURE signature (nothing else). */
        if (!rd_params(&body, &params) || !rd_tpm2b(&params, &attest, &attest_len) || attest_len < 6 ||
            !signature_ok((struct rd){ params.p + params.off, params.len - params.off, 0 })) {
                Print(L"SHIELD-ERROR TPM2_Quote: malformed response\n");
                return;
        }
        /* TPMS_ATTEST (Part 2, 10.12.12) starts with magic and type. */
        magic = be32(attest);
        type = be16(attest + 4);
        if (magic != TPM_GENERATED_VALUE || type != TPM_ST_ATTEST_QUOTE) {
                Print(L"SHIELD-ERROR TPM2_Quote: the attestation is not a quote (magic 0x%x type 0x%x)\n", magic, type);
                return;
        }
        emit_frame("quote-attest", attest, attest_len);
        emit_frame("quote-signature", params.p + params.off, params.len - params.off);
}

/* TPM2_ReadPublic (Part 3, 12.4) of the AK: sends ak-public, the TPM2B_PUBLIC with its size. */
static void send_ak_public(struct tcg2_protocol *tcg2) {
        static UINT8 cmd[16], rsp[SHIELD_TPM_BUF];
        struct wr w = { cmd, 0, sizeof cmd, FALSE };
        struct rd body;
        UINT32 rc;
        const UINT8 *pub, *name;
        UINT16 pub_len, name_len;

        wr_be16(&w, TPM_ST_NO_SESSIONS);
        wr_be32(&w, 0);
        wr_be32(&w, TPM_CC_READ_PUBLIC);
        wr_be32(&w, SHIELD_AK_HANDLE);
        if (!tpm_call(tcg2, "TPM2_ReadPublic", &w, rsp, sizeof rsp, &rc, &body))
                return;
        if (rc == TPM_RC_HANDLE_1) {
                Print(L"SHIELD-WARNING no attestation key at 0x81010002\n");
                return;
        }
        if (rc != TPM_RC_SUCCESS) {
                Print(L"SHIELD-ERROR TPM2_ReadPublic 0x81010002: TPM rc 0x%x\n", rc);
                return;
        }
        /* outPublic, name, qualifiedName, and nothing after them. */
        if (!rd_tpm2b(&body, &pub, &pub_len) || pub_len == 0 || !rd_tpm2b(&body, &name, &name_len) ||
            !rd_tpm2b(&body, &name, &name_len) || body.off != body.len) {
                Print(L"SHIELD-ERROR TPM2_ReadPublic 0x81010002: malformed response\n");
                return;
        }
        emit_frame("ak-public", pub - 2, (UINTN)pub_len + 2);
}

/*
 * One certificate from NV: TPM2_NV_ReadPublic (Part 3, 31.6) for its size
 * and attributes, then TPM2_NV_Read (31.13) in chunks, authorized by the
 * index itself with an empty password. A missing index sends nothing.
 */
static void send_nv_cert(struct tcg2_protocol *tcg2, UINT32 index, const char *frame) {
        static UINT8 cmd[64], rsp[SHIELD_TPM_BUF], cert[SHIELD_NV_CERT_MAX];
        struct wr w = { cmd, 0, sizeof cmd, FALSE };
        struct rd body, pub, params;
        UINT32 rc, got_index, attrs;
        UINT16 name_alg, data_size, n;
        const UINT8 *p;

        wr_be16(&w, TPM_ST_NO_SESSIONS);
        wr_be32(&w, 0);
        wr_be32(&w, TPM_CC_NV_READ_PUBLIC);
        wr_be32(&w, index);
        if (!tpm_call(tcg2, "TPM2_NV_ReadPublic", &w, rsp, sizeof rsp, &rc, &body))
                return;
        if (rc == TPM_RC_HANDLE_1)
                return;
        if (rc != TPM_RC_SUCCESS) {
                Print(L"SHIELD-ERROR TPM2_NV_ReadPublic 0x%x: TPM rc 0x%x\n", index, rc);
                return;
        }
        /* TPM2B_NV_PUBLIC {nvIndex, nameAlg, attributes, TPM2B authPolicy, dataSize} (Part 2, 13.5), TPM2B_NAME. */
        if (!rd_tpm2b(&body, &pub.p, &n))
                goto malformed;
        pub.len = n;
        pub.off = 0;
        if (!rd_tpm2b(&body, &p, &n) || body.off != body.len)
                goto malformed;
        if (!rd_be32(&pub, &got_index) || !rd_be16(&pub, &name_alg) || !rd_be32(&pub, &attrs) ||
            !rd_tpm2b(&pub, &p, &n) || !rd_be16(&pub, &data_size) || pub.off != pub.len || got_index != index)
                goto malformed;
        if (!(attrs & TPMA_NV_AUTHREAD)) {
                Print(L"SHIELD-WARNING NV 0x%x (%a) cannot be read with its own authorization (no TPMA_NV_AUTHREAD)\n",
                      index, frame);
                return;
        }
        if (!(attrs & TPMA_NV_WRITTEN)) {
                Print(L"SHIELD-WARNING NV 0x%x (%a) is defined but was never written\n", index, frame);
                return;
        }
        if (data_size == 0 || data_size > sizeof cert) {
                Print(L"SHIELD-ERROR NV 0x%x (%a): %u bytes, 1..%u expected\n", index, frame, (UINT32)data_size,
                      (UINT32)sizeof cert);
                return;
        }
        for (UINT32 off = 0; off < data_size;) {
                UINT16 want = (UINT16)(data_size - off > SHIELD_NV_CHUNK ? SHIELD_NV_CHUNK : data_size - off);
                w.len = 0;
                wr_be16(&w, TPM_ST_SESSIONS);
                wr_be32(&w, 0);
                wr_be32(&w, TPM_CC_NV_READ);
                wr_be32(&w, index); /* authHandle: the index itself */
                wr_be32(&w, index);
                wr_pw_session(&w);
                wr_be16(&w, want);
                wr_be16(&w, (UINT16)off);
                if (!tpm_call(tcg2, "TPM2_NV_Read", &w, rsp, sizeof rsp, &rc, &body))
                        return;
                if (rc != TPM_RC_SUCCESS) {
                        Print(L"SHIELD-ERROR TPM2_NV_Read 0x%x (%a) at %u: TPM rc 0x%x\n", index, frame, off, rc);
                        return;
                }
                /* Parameters: TPM2B_MAX_NV_BUFFER data, exactly the bytes asked for. */
                if (!rd_params(&body, &params) || !rd_tpm2b(&params, &p, &n) || n != want || params.off != params.len)
                        goto malformed;
                CopyMem(cert + off, (void *)p, n);
                off += n;
        }
        emit_frame(frame, cert, data_size);
        return;
malformed:
        Print(L"SHIELD-ERROR NV 0x%x (%a): malformed TPM response\n", index, frame);
}

/*
 * QEMU's fw_cfg (docs/specs/fw_cfg.rst in QEMU): a 16-bit selector port and
 * a data port read a byte at a time, the offset advancing by itself.
 */
#define FW_CFG_PORT_SEL 0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_SIGNATURE 0x0000
#define FW_CFG_FILE_DIR 0x0019
#define FW_CFG_FILES_MAX 4096 /* cap on the directory's count; QEMU 7.2 has a few dozen */
#define SHIELD_FW_CFG_NONCE "opt/shieldkit/nonce"

static void fw_cfg_select(UINT16 key) {
        __asm__ volatile("outw %0, %1" : : "a"(key), "Nd"((UINT16)FW_CFG_PORT_SEL));
}

static void fw_cfg_read(UINT8 *buf, UINTN n) {
        for (UINTN i = 0; i < n; i++) {
                UINT8 v;
                __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"((UINT16)FW_CFG_PORT_DATA));
                buf[i] = v;
        }
}

/*
 * The nonce from fw_cfg. Returns 1 and fills buf/len when the file is
 * there, 0 when there is no fw_cfg or no such file (*why says which), -1
 * when it is there but unusable (the reason was printed).
 */
static int nonce_from_fw_cfg(UINT8 buf[SHIELD_NONCE_MAX], UINTN *ret_len, const char **why) {
        UINT8 sig[4], b4[4], entry[64];
        int result = 0;
        /* Nothing else may touch fw_cfg between selecting an item and reading it. */
        EFI_TPL old = uefi_call_wrapper(BS->RaiseTPL, 1, TPL_HIGH_LEVEL);

        *why = "no QEMU fw_cfg device";
        fw_cfg_select(FW_CFG_SIGNATURE);
        fw_cfg_read(sig, sizeof sig);
        if (CompareMem(sig, "QEMU", 4) != 0)
                goto out;
        *why = "no fw_cfg file " SHIELD_FW_CFG_NONCE;
        fw_cfg_select(FW_CFG_FILE_DIR);
        fw_cfg_read(b4, sizeof b4);
        UINT32 count = be32(b4);
        if (count > FW_CFG_FILES_MAX)
                count = FW_CFG_FILES_MAX;
        /* FWCfgFile: be32 size, be16 select, be16 reserved, char name[56]. */
        for (UINT32 i = 0; i < count; i++) {
                fw_cfg_read(entry, sizeof entry);
                entry[sizeof entry - 1] = 0;
                if (CompareMem(entry + 8, SHIELD_FW_CFG_NONCE, sizeof SHIELD_FW_CFG_NONCE) != 0)
                        continue;
                UINT32 size = be32(entry);
                if (size == 0 || size > SHIELD_NONCE_MAX) {
                        uefi_call_wrapper(BS->RestoreTPL, 1, old);
                        Print(L"SHIELD-ERROR fw_cfg %a is %u bytes, 1..%u expected: no quote\n", SHIELD_FW_CFG_NONCE,
                              size, (UINT32)SHIELD_NONCE_MAX);
                        return -1;
                }
                fw_cfg_select(be16(entry + 4));
                fw_cfg_read(buf, size);
                *ret_len = size;
                result = 1;
                break;
        }
out:
        uefi_call_wrapper(BS->RestoreTPL, 1, old);
        return result;
}

/* The nonce from \shield\nonce on the volume this program was loaded from; same results as above. */
static int nonce_from_esp(EFI_HANDLE image, UINT8 buf[SHIELD_NONCE_MAX], UINTN *ret_len, const char **why) {
        EFI_LOADED_IMAGE *li = NULL;
        EFI_FILE_HANDLE root, fh;
        UINT8 tmp[SHIELD_NONCE_MAX + 1];
        UINTN n = sizeof tmp;
        EFI_STATUS st;

        *why = "no boot volume";
        if (EFI_ERROR(uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol, (void **)&li)) || !li)
                return 0;
        root = LibOpenRoot(li->DeviceHandle);
        if (!root)
                return 0;
        *why = "no file \\shield\\nonce on the boot volume";
        st = uefi_call_wrapper(root->Open, 5, root, &fh, L"\\shield\\nonce", EFI_FILE_MODE_READ, 0);
        uefi_call_wrapper(root->Close, 1, root);
        if (st == EFI_NOT_FOUND)
                return 0;
        if (EFI_ERROR(st)) {
                Print(L"SHIELD-ERROR cannot open \\shield\\nonce: %r: no quote\n", st);
                return -1;
        }
        st = uefi_call_wrapper(fh->Read, 3, fh, &n, tmp);
        uefi_call_wrapper(fh->Close, 1, fh);
        if (EFI_ERROR(st)) {
                Print(L"SHIELD-ERROR cannot read \\shield\\nonce: %r: no quote\n", st);
                return -1;
        }
        if (n == 0 || n > SHIELD_NONCE_MAX) {
                Print(L"SHIELD-ERROR \\shield\\nonce is %a bytes, 1..%u expected: no quote\n", n ? "too many" : "0",
                      (UINT32)SHIELD_NONCE_MAX);
                return -1;
        }
        CopyMem(buf, tmp, n);
        *ret_len = n;
        return 1;
}

/* Nonce, quote, AK public area, certificates: the frames of format 2 after pcrs. */
static void run_agent(EFI_HANDLE image, struct tcg2_protocol *tcg2, UINT32 active) {
        static UINT8 nonce[SHIELD_NONCE_MAX];
        UINTN nonce_len = 0;
        const char *why_fw_cfg = "", *why_esp = "";
        int r = nonce_from_fw_cfg(nonce, &nonce_len, &why_fw_cfg);
        if (r == 1)
                Print(L"shield-agent: nonce from fw_cfg (%u bytes)\n", (UINT32)nonce_len);
        if (r == 0) {
                r = nonce_from_esp(image, nonce, &nonce_len, &why_esp);
                if (r == 1)
                        Print(L"shield-agent: nonce from \\shield\\nonce (%u bytes)\n", (UINT32)nonce_len);
        }
        if (r == 0)
                Print(L"SHIELD-ERROR no nonce (%a; %a): no quote\n", why_fw_cfg, why_esp);
        if (r == 1) {
                emit_frame("nonce", nonce, nonce_len);
                if (!active)
                        Print(L"SHIELD-ERROR no active PCR bank: no quote\n");
                else
                        send_quote(tcg2, active, nonce, nonce_len);
        }
        send_ak_public(tcg2);
        send_nv_cert(tcg2, SHIELD_NV_AK_CERT, "ak-cert");
        send_nv_cert(tcg2, SHIELD_NV_EK_CERT, "ek-cert");
}

static void finish(void) {
        Print(L"SHIELD-DONE\n");
        uefi_call_wrapper(RT->ResetSystem, 4, EfiResetShutdown, EFI_SUCCESS, 0, NULL);
}

/*
 * Load (and only load) \EFI\Shieldkit\extra.efi when the boot volume has
 * it: the firmware checks it against db/dbx and measures it into PCR 4 as a
 * boot application, after everything the golden measurement holds — what a
 * new signed application on the ESP does to a shielded VM (yellow). It is
 * never started.
 */
static void load_extra(EFI_HANDLE image) {
        EFI_LOADED_IMAGE *li = NULL;
        EFI_HANDLE h = NULL;
        if (EFI_ERROR(uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol, (void **)&li)) || !li)
                return;
        EFI_FILE_HANDLE root = LibOpenRoot(li->DeviceHandle), fh;
        if (!root)
                return;
        EFI_STATUS st = uefi_call_wrapper(root->Open, 5, root, &fh, L"\\EFI\\Shieldkit\\extra.efi", EFI_FILE_MODE_READ, 0);
        uefi_call_wrapper(root->Close, 1, root);
        if (EFI_ERROR(st))
                return;
        uefi_call_wrapper(fh->Close, 1, fh);
        EFI_DEVICE_PATH *dp = FileDevicePath(li->DeviceHandle, L"\\EFI\\Shieldkit\\extra.efi");
        if (!dp)
                return;
        st = uefi_call_wrapper(BS->LoadImage, 6, FALSE, image, dp, NULL, 0, &h);
        FreePool(dp);
        if (EFI_ERROR(st)) {
                Print(L"SHIELD-WARNING \\EFI\\Shieldkit\\extra.efi was refused: %r\n", st);
                return;
        }
        Print(L"shield-agent: loaded \\EFI\\Shieldkit\\extra.efi (measured, not started)\n");
        uefi_call_wrapper(BS->UnloadImage, 1, h);
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
        load_extra(image);

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
        run_agent(image, tcg2, active);
        finish();
        return EFI_SUCCESS;
}
