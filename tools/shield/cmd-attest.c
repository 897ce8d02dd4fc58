/* SPDX-License-Identifier: Apache-2.0 */
/* shield attest: collect evidence in a guest (docs/FORMATS.md). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "shield/evidence.h"
#include "shield/tpm.h"
#include "shield/util.h"

static const char usage_attest[] =
        "Usage: shield attest [--tcti T] --nonce HEX [--pcrs LIST] [--eventlog FILE] [--ima FILE]\n"
        "                     [--ak-handle H] [-o FILE|-] [--frames]\n"
        "\n"
        "Collect attestation evidence on this machine: a quote of PCRs 0-23 (or\n"
        "--pcrs) of every active bank by the AK (0x81010002) over the verifier's\n"
        "nonce, the PCR values, the AK public area, the EK public area, the AK\n"
        "and EK certificates from NV\n"
        "0x01c10000 and 0x01c00002, the firmware event log, the IMA measurement\n"
        "list and the Secure Boot state from efivarfs. Writes shieldkit-evidence/1\n"
        "JSON (docs/FORMATS.md). What cannot be read (no log, no certificate) is\n"
        "listed under \"notes\" and on stderr, and is not an error; the quote is.\n"
        "\n"
        "Options:\n"
        "  --tcti T         the TPM (default $SHIELD_TCTI, $TPM2TOOLS_TCTI, else\n"
        "                   device:/dev/tpmrm0)\n"
        "  --nonce HEX      1 to 64 bytes from the verifier\n"
        "  --eventlog FILE  default /sys/kernel/security/tpm0/binary_bios_measurements\n"
        "  --ima FILE       default /sys/kernel/security/ima/binary_runtime_measurements\n"
        "                   (--ima-log FILE is the same)\n"
        "  --pcrs LIST      quote and report only these PCRs, e.g. 0-15 (default 0-23)\n"
        "  --ak-handle H    the AK's persistent handle (default 0x81010002)\n"
        "  -o, --out FILE   where to write the JSON (default \"-\", stdout)\n"
        "  --frames         write it to stdout as one serial frame named \"evidence\"\n"
        "                   (docs/REAL-BOOTS.md) followed by SHIELD-DONE; failures\n"
        "                   become a SHIELD-ERROR line; nothing else goes to stdout\n"
        "  -h, --help       this text\n"
        "\n"
        "Exit status: 0 written, 2 bad usage, no TPM, no AK, or a write failed.\n"
        "\n"
        "Example (in an initramfs, on the serial console):\n"
        "  shield attest --nonce \"$(cat /nonce)\" --frames > /dev/ttyS0\n";


static bool frames;

/* Errors go to stderr and, in frame mode, also as a SHIELD-ERROR line the harness repeats. */
static int attest_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int attest_error(const char *fmt, ...) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        cli_error("attest: %s", msg);
        if (frames) {
                for (char *p = msg; *p; p++)
                        if (*p == '\n' || *p == '\r')
                                *p = ' ';
                printf("\nSHIELD-ERROR attest: %s\nSHIELD-DONE\n", msg);
                fflush(stdout);
        }
        return EXIT_BAD_INPUT;
}

static int write_frame(const char *name, const uint8_t *data, size_t len) {
        char *b64 = shield_base64_encode(data, len);
        if (!b64)
                return attest_error("out of memory");
        /* A marker must start a line: the console may hold a partial line before us. */
        printf("\nSHIELD-BEGIN %s %zu %08x\n", name, len, shield_crc32(0, data, len));
        size_t n = strlen(b64);
        for (size_t off = 0; off < n; off += 76)
                printf("%.*s\n", (int)(n - off < 76 ? n - off : 76), b64 + off);
        printf("SHIELD-END %s\nSHIELD-DONE\n", name);
        free(b64);
        if (fflush(stdout) != 0 || ferror(stdout)) {
                cli_error("stdout: %s", strerror(errno));
                return EXIT_BAD_INPUT;
        }
        return 0;
}

int cmd_attest(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },           { "tcti", required_argument, NULL, 't' },
                { "nonce", required_argument, NULL, 'n' },    { "eventlog", required_argument, NULL, 'e' },
                { "ima-log", required_argument, NULL, 'i' },  { "ak-handle", required_argument, NULL, 'a' },
                { "out", required_argument, NULL, 'o' },      { "frames", no_argument, NULL, 'f' },
                { "ima", required_argument, NULL, 'i' },      { "pcrs", required_argument, NULL, 'p' },
                {},
        };
        const char *tcti = NULL, *nonce_hex = NULL, *out = NULL;
        const char *eventlog = SHIELD_EVIDENCE_DEFAULT_EVENTLOG, *ima_log = SHIELD_EVIDENCE_DEFAULT_IMA_LOG;
        uint64_t ak = SHIELD_TPM_AK_HANDLE, pcr_mask = 0xffffff;
        int c;

        frames = false;
        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "ho:", options)) >= 0)
                switch (c) {
                case 'h': fputs(usage_attest, stdout); return EXIT_OK;
                case 't': tcti = optarg; break;
                case 'n': nonce_hex = optarg; break;
                case 'e': eventlog = optarg; break;
                case 'i': ima_log = optarg; break;
                case 'o': out = optarg; break;
                case 'f': frames = true; break;
                case 'p':
                        if (shield_parse_index_list(optarg, 23, &pcr_mask) < 0 || pcr_mask == 0)
                                return cli_usage_error(usage_attest, "attest: --pcrs %s: a list such as 0-15 or 0,2,4-7 "
                                                       "(PCRs 0 to 23)", optarg);
                        break;
                case 'a':
                        if (shield_parse_u64(optarg, 0, UINT32_MAX, &ak) < 0)
                                return cli_usage_error(usage_attest, "attest: --ak-handle must be a TPM handle");
                        break;
                default: return EXIT_BAD_INPUT; /* said by cli_getopt */
                }
        if (!nonce_hex || optind != argc)
                return cli_usage_error(usage_attest, "attest: --nonce HEX is required, and nothing else");
        if (frames && out)
                return cli_usage_error(usage_attest, "attest: --frames writes to stdout; -o is not allowed with it");
        if (!out)
                out = "-";

        uint8_t *nonce = NULL;
        size_t nonce_len = 0;
        if (shield_hex_decode(nonce_hex, &nonce, &nonce_len) < 0 || nonce_len == 0 ||
            nonce_len > SHIELD_TPM_NONCE_MAX) {
                free(nonce);
                if (frames)
                        return attest_error("--nonce must be 1 to %d bytes of hex", SHIELD_TPM_NONCE_MAX);
                return cli_usage_error(usage_attest, "attest: --nonce must be 1 to %d bytes of hex",
                                       SHIELD_TPM_NONCE_MAX);
        }

        struct shield_tpm *t = NULL;
        struct shield_evidence e = { 0 };
        struct shield_diag diag = { 0 };
        char *text = NULL;
        int r;

        /* tss2 would log to stderr, which may be the same console; our errors say it with context. */
        setenv("TSS2_LOG", "all+NONE", 0);
        if ((r = shield_tpm_open(tcti, &t, &diag)) < 0) {
                r = attest_error("%s", diag.msg[0] ? diag.msg : shield_strerror(r));
                goto out;
        }
        if ((r = shield_evidence_collect_pcrs(t, (uint32_t)ak, (uint32_t)pcr_mask, nonce, nonce_len, &e, &diag)) < 0) {
                r = attest_error("%s%s", diag.msg[0] ? diag.msg : shield_strerror(r),
                                 r == SHIELD_E_NOT_FOUND ? " (run 'shield tpm provision' first)" : "");
                goto out;
        }
        if (shield_evidence_add_host_state(&e, eventlog, ima_log) < 0) {
                r = attest_error("out of memory");
                goto out;
        }
        for (size_t i = 0; i < e.n_notes; i++)
                cli_warn("%s", e.notes[i]);
        e.producer = strdup("shield attest " SHIELD_VERSION);
        if (!e.producer || shield_evidence_to_json(&e, &text) < 0) {
                r = attest_error("out of memory");
                goto out;
        }
        if (frames) {
                r = write_frame("evidence", (const uint8_t *)text, strlen(text));
        } else if (strcmp(out, "-") == 0) {
                puts(text);
                r = fflush(stdout) == 0 ? EXIT_OK : EXIT_BAD_INPUT;
        } else {
                size_t len = strlen(text);
                r = shield_write_file_atomic(out, text, len, 0644);
                if (r < 0) {
                        cli_error("%s: %s", out, strerror(errno));
                        r = EXIT_BAD_INPUT;
                } else
                        fprintf(stderr, "attest: evidence written to %s\n", out);
        }
out:
        free(text);
        shield_evidence_free(&e);
        shield_tpm_close(t);
        free(nonce);
        return r;
}
