/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/tpm against swtpm (started here on a random TCP port, killed at the
 * end; the TPM tests skip when swtpm is not installed) and the host-side
 * parsers on hand-made bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "shield/evidence.h"
#include "shield/tpm.h"
#include "shield/util.h"

static char workdir[] = "/tmp/test-tpm.XXXXXX";
static char tcti[128];
static pid_t swtpm_pid = -1;
static bool have_tpm;
static char ca_key[300], ca_crt[300];

static const uint8_t nonce[] = { 0x6e, 0x6f, 0x6e, 0x63, 0x65, 0x2d, 0x31, 0x32, 0x33, 0x34 };

static bool in_path(const char *prog) {
        const char *path = getenv("PATH");
        char buf[512];
        if (!path)
                path = "/usr/bin:/bin";
        for (const char *p = path; *p;) {
                const char *end = strchr(p, ':');
                size_t n = end ? (size_t)(end - p) : strlen(p);
                snprintf(buf, sizeof buf, "%.*s/%s", (int)n, p, prog);
                if (access(buf, X_OK) == 0)
                        return true;
                p += n + (end ? 1 : 0);
        }
        return false;
}

/* fork + exec with stdout/stderr to DIR/name.log; the child dies with us. */
static pid_t spawn(char *const argv[], const char *log) {
        pid_t pid = fork();
        if (pid != 0)
                return pid;
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
        }
        execvp(argv[0], argv);
        _exit(127);
}

static int run(char *const argv[], const char *log) {
        int status;
        pid_t pid = spawn(argv, log);
        if (pid < 0 || waitpid(pid, &status, 0) < 0)
                return -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int group_setup(void **state) {
        (void)state;
        setenv("TSS2_LOG", "all+NONE", 0);
        if (!in_path("swtpm") || !in_path("swtpm_setup")) {
                fprintf(stderr, "test-tpm: swtpm or swtpm_setup not installed: TPM tests skipped\n");
                return 0;
        }
        if (!mkdtemp(workdir))
                return -1;
        char state_dir[300], log[300], tpmstate[320], server[64], ctrl[64];
        snprintf(state_dir, sizeof state_dir, "%s/state", workdir);
        snprintf(log, sizeof log, "%s/swtpm.log", workdir);
        mkdir(state_dir, 0700);
        char *setup[] = { "swtpm_setup", "--tpm2", "--tpmstate", state_dir, "--pcr-banks", "sha1,sha256", NULL };
        if (run(setup, log) != 0) {
                fprintf(stderr, "test-tpm: swtpm_setup failed (see %s)\n", log);
                return -1;
        }
        snprintf(tpmstate, sizeof tpmstate, "dir=%s", state_dir);
        srand((unsigned)(time(NULL) ^ getpid()));
        for (int attempt = 0; attempt < 8 && !have_tpm; attempt++) {
                int port = 10000 + rand() % 22000;
                snprintf(server, sizeof server, "type=tcp,port=%d", port);
                snprintf(ctrl, sizeof ctrl, "type=tcp,port=%d", port + 1);
                char *argv[] = { "swtpm", "socket", "--tpm2", "--tpmstate", tpmstate, "--server", server, "--ctrl", ctrl,
                                 "--flags", "not-need-init,startup-clear", NULL };
                swtpm_pid = spawn(argv, log);
                snprintf(tcti, sizeof tcti, "swtpm:host=127.0.0.1,port=%d", port);
                for (int i = 0; i < 50; i++) {
                        int status;
                        if (waitpid(swtpm_pid, &status, WNOHANG) == swtpm_pid) {
                                swtpm_pid = -1; /* the port was taken: another one */
                                break;
                        }
                        struct shield_tpm *t = NULL;
                        if (shield_tpm_open(tcti, &t, NULL) == 0) {
                                shield_tpm_close(t);
                                have_tpm = true;
                                break;
                        }
                        usleep(100 * 1000);
                }
                if (!have_tpm && swtpm_pid > 0) {
                        kill(swtpm_pid, SIGTERM);
                        waitpid(swtpm_pid, NULL, 0);
                        swtpm_pid = -1;
                }
        }
        if (!have_tpm) {
                fprintf(stderr, "test-tpm: swtpm did not start (see %s)\n", log);
                return -1;
        }
        snprintf(ca_key, sizeof ca_key, "%s/ca.key", workdir);
        snprintf(ca_crt, sizeof ca_crt, "%s/ca.crt", workdir);
        bool created = false;
        if (shield_ca_ensure(workdir, "Test CA", &created, NULL) < 0 || !created)
                return -1;
        return 0;
}

static int group_teardown(void **state) {
        (void)state;
        if (swtpm_pid > 0) {
                kill(swtpm_pid, SIGTERM);
                waitpid(swtpm_pid, NULL, 0);
        }
        if (workdir[sizeof workdir - 7] != 'X') {
                char *argv[] = { "rm", "-rf", workdir, NULL };
                run(argv, "/dev/null");
        }
        return 0;
}

static struct shield_tpm *open_tpm(void) {
        struct shield_tpm *t = NULL;
        struct shield_diag diag = { 0 };
        int r = shield_tpm_open(tcti, &t, &diag);
        if (r < 0)
                fail_msg("shield_tpm_open: %s", diag.msg);
        return t;
}

static void provision(struct shield_tpm *t) {
        struct shield_diag diag = { 0 };
        struct shield_tpm_provision_opts o = { .name = "unit", .ca_key_path = ca_key, .ca_cert_path = ca_crt };
        int r = shield_tpm_provision(t, &o, &diag);
        if (r < 0)
                fail_msg("provision: %s: %s", shield_strerror(r), diag.msg);
}

/* Everything a check needs, from the TPM. */
struct collected {
        struct shield_quote q;
        uint8_t *pub;
        size_t pub_len;
        struct shield_pcrs pcrs;
};

static void collect(struct shield_tpm *t, struct collected *c) {
        memset(c, 0, sizeof *c);
        assert_int_equal(shield_tpm_read_public(t, SHIELD_TPM_AK_HANDLE, &c->pub, &c->pub_len, NULL), 0);
        assert_int_equal(shield_tpm_quote(t, SHIELD_TPM_AK_HANDLE, nonce, sizeof nonce, &c->q, NULL), 0);
        assert_int_equal(shield_tpm_read_pcrs(t, &c->pcrs, NULL), 0);
}

static void collected_free(struct collected *c) {
        shield_quote_clear(&c->q);
        free(c->pub);
}

static struct shield_quote_input input_of(const struct collected *c) {
        return (struct shield_quote_input){
                .attest = c->q.attest, .attest_len = c->q.attest_len,
                .signature = c->q.signature, .signature_len = c->q.signature_len,
                .ak_public = c->pub, .ak_public_len = c->pub_len,
                .nonce = nonce, .nonce_len = sizeof nonce, .pcrs = &c->pcrs,
        };
}

static bool has_reason(const struct shield_reasons *r, const char *code) {
        for (size_t i = 0; i < r->n; i++)
                if (strcmp(r->items[i].code, code) == 0)
                        return true;
        return false;
}

static void test_open_errors(void **state) {
        (void)state;
        struct shield_tpm *t = (struct shield_tpm *)(uintptr_t)0xaaaa;
        struct shield_diag diag = { 0 };
        assert_int_equal(shield_tpm_open("nosuchtcti:foo", &t, &diag), SHIELD_E_TPM);
        assert_ptr_equal(t, (struct shield_tpm *)(uintptr_t)0xaaaa); /* untouched on failure */
        assert_non_null(strstr(diag.msg, "nosuchtcti"));
        assert_int_equal(shield_tpm_open(NULL, NULL, NULL), SHIELD_E_INVAL);
        shield_tpm_close(NULL);
}

static void test_provision_idempotent(void **state) {
        (void)state;
        if (!have_tpm)
                skip();
        struct shield_tpm *t = open_tpm();
        uint8_t *pub1 = NULL, *pub2 = NULL, *ek1 = NULL, *ek2 = NULL, *cert = NULL, *ca = NULL;
        size_t pub1_len, pub2_len, ek1_len, ek2_len, cert_len, ca_len;

        provision(t);
        assert_int_equal(shield_tpm_read_public(t, SHIELD_TPM_AK_HANDLE, &pub1, &pub1_len, NULL), 0);
        assert_int_equal(shield_tpm_read_public(t, SHIELD_TPM_EK_HANDLE, &ek1, &ek1_len, NULL), 0);
        provision(t);
        assert_int_equal(shield_tpm_read_public(t, SHIELD_TPM_AK_HANDLE, &pub2, &pub2_len, NULL), 0);
        assert_int_equal(shield_tpm_read_public(t, SHIELD_TPM_EK_HANDLE, &ek2, &ek2_len, NULL), 0);
        /* The same keys kept. */
        assert_int_equal(pub1_len, pub2_len);
        assert_memory_equal(pub1, pub2, pub1_len);
        assert_int_equal(ek1_len, ek2_len);
        assert_memory_equal(ek1, ek2, ek1_len);
        /* RSA-2048 keys: TPM2B_PUBLIC with a 256-byte modulus. */
        assert_true(pub1_len > 256 && ek1_len > 256);

        /* The AK certificate: for this AK, from this CA, valid now. */
        struct shield_reasons reasons = { 0 };
        struct shield_diag diag = { 0 };
        assert_int_equal(shield_tpm_nv_read(t, SHIELD_TPM_AK_CERT_NV, &cert, &cert_len, NULL), 0);
        assert_int_equal(shield_read_file(ca_crt, 1 << 20, &ca, &ca_len), 0);
        assert_int_equal(shield_ak_cert_check(pub1, pub1_len, cert, cert_len, ca, ca_len, &reasons, &diag), 0);
        assert_int_equal(reasons.n, 0);
        /* Against the EK's public key: not the AK's certificate. */
        assert_int_equal(shield_ak_cert_check(ek1, ek1_len, cert, cert_len, ca, ca_len, &reasons, &diag),
                         SHIELD_E_VERIFY);
        assert_true(has_reason(&reasons, "ak-cert-key-mismatch"));
        shield_reasons_clear(&reasons);
        /* The certificate checked against itself as "CA": not signed by it. */
        assert_int_equal(shield_ak_cert_check(pub1, pub1_len, cert, cert_len, cert, cert_len, &reasons, &diag),
                         SHIELD_E_VERIFY);
        assert_true(has_reason(&reasons, "ak-cert-signature-invalid"));
        shield_reasons_clear(&reasons);
        /* Garbage certificate. */
        assert_int_equal(shield_ak_cert_check(pub1, pub1_len, ca, 10, ca, ca_len, &reasons, &diag), SHIELD_E_FORMAT);

        /* Missing handles and indexes are NOT_FOUND. */
        uint8_t *none = (uint8_t *)(uintptr_t)0xaaaa;
        size_t none_len = 0xaaaa;
        assert_int_equal(shield_tpm_read_public(t, 0x81010077, &none, &none_len, &diag), SHIELD_E_NOT_FOUND);
        assert_int_equal(shield_tpm_nv_read(t, 0x01c10077, &none, &none_len, &diag), SHIELD_E_NOT_FOUND);
        assert_ptr_equal(none, (uint8_t *)(uintptr_t)0xaaaa);
        assert_int_equal(none_len, 0xaaaa);

        /* A CA key that does not match its certificate is refused. */
        struct shield_tpm_provision_opts bad = { .name = "unit", .ca_key_path = ca_key, .ca_cert_path = "/nonexistent" };
        assert_true(shield_tpm_provision(t, &bad, &diag) < 0);

        free(pub1);
        free(pub2);
        free(ek1);
        free(ek2);
        free(cert);
        free(ca);
        shield_tpm_close(t);
}

static void test_read_pcrs(void **state) {
        (void)state;
        if (!have_tpm)
                skip();
        struct shield_tpm *t = open_tpm();
        struct shield_pcrs p;
        memset(&p, 0xaa, sizeof p);
        assert_int_equal(shield_tpm_read_pcrs(t, &p, NULL), 0);
        assert_int_equal(p.n_banks, 2);
        const struct shield_pcr_bank *b1 = shield_pcrs_bank_const(&p, SHIELD_ALG_SHA1);
        const struct shield_pcr_bank *b256 = shield_pcrs_bank_const(&p, SHIELD_ALG_SHA256);
        assert_non_null(b1);
        assert_non_null(b256);
        assert_int_equal(b1->present, 0xffffff);
        assert_int_equal(b256->present, 0xffffff);
        assert_int_equal(b256->size, 32);
        /* PCR 17-22 reset to all ones on a TPM without a D-RTM launch (PC Client PTP, table "PCR attributes"). */
        uint8_t ones[32];
        memset(ones, 0xff, sizeof ones);
        assert_memory_equal(b256->value[17], ones, 32);

        /* An extend shows in the next read as H(old || digest). */
        uint8_t digest[32], expect[32], cat[64];
        memset(digest, 0x42, sizeof digest);
        memcpy(cat, b256->value[23], 32);
        memcpy(cat + 32, digest, 32);
        assert_int_equal(shield_hash(SHIELD_ALG_SHA256, cat, 64, expect), 0);
        assert_int_equal(shield_tpm_pcr_extend(t, 23, SHIELD_ALG_SHA256, digest, NULL), 0);
        assert_int_equal(shield_tpm_read_pcrs(t, &p, NULL), 0);
        assert_memory_equal(shield_pcrs_bank_const(&p, SHIELD_ALG_SHA256)->value[23], expect, 32);
        assert_int_equal(shield_tpm_pcr_extend(t, 24, SHIELD_ALG_SHA256, digest, NULL), SHIELD_E_INVAL);
        shield_tpm_close(t);
}

static void test_quote_ok(void **state) {
        (void)state;
        if (!have_tpm)
                skip();
        struct shield_tpm *t = open_tpm();
        struct collected c;
        struct shield_reasons reasons = { 0 };
        struct shield_diag diag = { 0 };
        provision(t);
        collect(t, &c);
        struct shield_quote_input in = input_of(&c);
        int r = shield_quote_check(&in, &reasons, &diag);
        for (size_t i = 0; i < reasons.n; i++)
                print_message("reason: %s %s\n", reasons.items[i].code, reasons.items[i].message);
        assert_int_equal(r, 0);
        assert_int_equal(reasons.n, 0);

        struct shield_quote_info info;
        assert_int_equal(shield_quote_parse(c.q.attest, c.q.attest_len, &info, NULL), 0);
        assert_int_equal(info.extra_data_len, sizeof nonce);
        assert_memory_equal(info.extra_data, nonce, sizeof nonce);
        assert_int_equal(info.n_banks, 2);
        assert_int_equal(info.masks[0], 0xffffff);
        assert_int_equal(info.pcr_digest_len, 32);

        /* Without PCR values: signature and nonce only. */
        in.pcrs = NULL;
        assert_int_equal(shield_quote_check(&in, &reasons, &diag), 0);

        /* Nonce too long or missing. */
        struct shield_quote q;
        uint8_t big[SHIELD_TPM_NONCE_MAX + 1] = { 0 };
        assert_int_equal(shield_tpm_quote(t, SHIELD_TPM_AK_HANDLE, big, sizeof big, &q, NULL), SHIELD_E_INVAL);
        assert_int_equal(shield_tpm_quote(t, SHIELD_TPM_AK_HANDLE, nonce, 0, &q, NULL), SHIELD_E_INVAL);
        assert_int_equal(shield_tpm_quote(t, 0x81010077, nonce, sizeof nonce, &q, &diag), SHIELD_E_NOT_FOUND);
        collected_free(&c);
        shield_tpm_close(t);
}

static void test_quote_failures(void **state) {
        (void)state;
        if (!have_tpm)
                skip();
        struct shield_tpm *t = open_tpm();
        struct collected c;
        struct shield_reasons reasons = { 0 };
        struct shield_diag diag = { 0 };
        provision(t);
        collect(t, &c);

        /* Wrong nonce. */
        static const uint8_t other[] = { 1, 2, 3 };
        struct shield_quote_input in = input_of(&c);
        in.nonce = other;
        in.nonce_len = sizeof other;
        assert_int_equal(shield_quote_check(&in, &reasons, &diag), SHIELD_E_VERIFY);
        assert_int_equal(reasons.n, 1);
        assert_string_equal(reasons.items[0].code, "quote-nonce-mismatch");
        shield_reasons_clear(&reasons);

        /* One flipped signature byte (the last: inside the RSA signature). */
        in = input_of(&c);
        c.q.signature[c.q.signature_len - 1] ^= 0x01;
        assert_int_equal(shield_quote_check(&in, &reasons, &diag), SHIELD_E_VERIFY);
        assert_true(has_reason(&reasons, "quote-signature-invalid"));
        c.q.signature[c.q.signature_len - 1] ^= 0x01;
        shield_reasons_clear(&reasons);

        /* One flipped attestation byte (in firmwareVersion): the signature fails too. */
        c.q.attest[c.q.attest_len - 51] ^= 0x80;
        assert_int_equal(shield_quote_check(&in, &reasons, &diag), SHIELD_E_VERIFY);
        assert_true(has_reason(&reasons, "quote-signature-invalid"));
        c.q.attest[c.q.attest_len - 51] ^= 0x80;
        shield_reasons_clear(&reasons);

        /* PCR 16 extended after the quote: the values read now disagree with pcrDigest. */
        uint8_t digest[32];
        memset(digest, 0x16, sizeof digest);
        assert_int_equal(shield_tpm_pcr_extend(t, 16, SHIELD_ALG_SHA256, digest, NULL), 0);
        assert_int_equal(shield_tpm_read_pcrs(t, &c.pcrs, NULL), 0);
        in = input_of(&c);
        assert_int_equal(shield_quote_check(&in, &reasons, &diag), SHIELD_E_VERIFY);
        assert_int_equal(reasons.n, 1);
        assert_string_equal(reasons.items[0].code, "quote-pcr-digest-mismatch");
        assert_int_equal(reasons.items[0].bank, SHIELD_ALG_SHA256);
        shield_reasons_clear(&reasons);

        /* A bank missing from the reported values. */
        c.pcrs.n_banks = 1;
        assert_int_equal(shield_quote_check(&in, &reasons, &diag), SHIELD_E_VERIFY);
        assert_true(has_reason(&reasons, "quote-pcr-missing"));
        shield_reasons_clear(&reasons);

        /* Another key's public area (the EK): signature invalid, signer unrecognised. */
        uint8_t *ek = NULL;
        size_t ek_len = 0;
        assert_int_equal(shield_tpm_read_public(t, SHIELD_TPM_EK_HANDLE, &ek, &ek_len, NULL), 0);
        in = input_of(&c);
        in.pcrs = NULL;
        in.ak_public = ek;
        in.ak_public_len = ek_len;
        assert_int_equal(shield_quote_check(&in, &reasons, &diag), SHIELD_E_VERIFY);
        assert_true(has_reason(&reasons, "quote-signature-invalid"));
        assert_true(has_reason(&reasons, "quote-signer-unrecognised"));
        shield_reasons_clear(&reasons);
        free(ek);

        /* Truncated attestation: malformed, with where. */
        in = input_of(&c);
        in.attest_len -= 1;
        assert_int_equal(shield_quote_check(&in, &reasons, &diag), SHIELD_E_TRUNCATED);
        assert_true(has_reason(&reasons, "quote-malformed"));
        assert_int_equal(diag.index, 0);
        assert_non_null(strstr(diag.msg, "pcrDigest"));
        shield_reasons_clear(&reasons);

        collected_free(&c);
        shield_tpm_close(t);
}

/*
 * An ECC P-256 AK that `tpm2_createak -C ek.ctx -G ecc -g sha256 -s ecdsa -u ak.pub -n ak.name` made
 * under swtpm 0.7; the name is ak.name, the TPM's own (TPM2_Load), and equals
 * (printf '\0\13'; tail -c +3 ak.pub | openssl dgst -sha256 -binary).
 */
static const char ak_ecc_pub_hex[] =
        "00580023000b00050072000000100018000b0003001000208fbaf91fe3eae1d5516da5563ca17e5e758b8ad95f9b99b5cfb64c917f"
        "92df8600200c411f0748c08bc606e9c691c99a0e0725a763f92338b134af65a84ec8edfb3a";
static const char ak_ecc_name_hex[] = "000b1afe182c572942a8fc12c0a39215164f5bfd49148f110db6ac6824de89f84f68";

static void test_public_name(void **state) {
        (void)state;
        uint8_t *pub = NULL, *want = NULL, name[SHIELD_TPM_NAME_MAX], big[SHIELD_TPM_PUBLIC_MAX + 1] = { 0 };
        size_t pub_len = 0, want_len = 0, name_len = 0xaa;
        struct shield_diag d = { 0 };

        assert_int_equal(shield_hex_decode(ak_ecc_pub_hex, &pub, &pub_len), 0);
        assert_int_equal(shield_hex_decode(ak_ecc_name_hex, &want, &want_len), 0);
        memset(name, 0xaa, sizeof name);
        assert_int_equal(shield_tpm_public_name(pub, pub_len, name, &name_len, &d), 0);
        assert_int_equal(name_len, 34);
        assert_memory_equal(name, want, want_len);
        assert_int_equal(name[34], 0xaa); /* nothing written past the name */

        /* Failures leave the outputs alone. */
        memset(name, 0xaa, sizeof name);
        name_len = 0xaa;
        assert_int_equal(shield_tpm_public_name(pub, pub_len - 1, name, &name_len, &d), SHIELD_E_TRUNCATED);
        assert_int_equal(shield_tpm_public_name(pub, 1, name, &name_len, &d), SHIELD_E_TRUNCATED);
        assert_int_equal(shield_tpm_public_name(NULL, 0, name, &name_len, &d), SHIELD_E_TRUNCATED);
        assert_int_equal(shield_tpm_public_name(big, sizeof big, name, &name_len, &d), SHIELD_E_LIMIT);
        uint8_t *longer = malloc(pub_len + 1);
        assert_non_null(longer);
        memcpy(longer, pub, pub_len);
        longer[pub_len] = 0;
        longer[1]++; /* the size covers a byte the TPMT_PUBLIC does not use */
        assert_int_equal(shield_tpm_public_name(longer, pub_len + 1, name, &name_len, &d), SHIELD_E_TRAILING);
        free(longer);
        pub[3] = 0x99; /* type */
        assert_int_equal(shield_tpm_public_name(pub, pub_len, name, &name_len, &d), SHIELD_E_FORMAT);
        pub[3] = 0x23;
        pub[5] = 0x10; /* nameAlg TPM_ALG_NULL: the name would be a handle */
        assert_int_not_equal(shield_tpm_public_name(pub, pub_len, name, &name_len, &d), 0);
        pub[5] = 0x0b;
        assert_int_equal(shield_tpm_public_name(pub, pub_len, NULL, &name_len, &d), SHIELD_E_INVAL);
        assert_int_equal(name_len, 0xaa);
        assert_int_equal(name[0], 0xaa);
        free(pub);
        free(want);
}

static void test_parsers_on_bad_bytes(void **state) {
        (void)state;
        struct shield_reasons reasons = { 0 };
        struct shield_diag diag = { 0 };
        struct shield_quote_info info;
        /* TPMS_ATTEST: magic, type QUOTE, empty name, 1-byte extraData, clock, firmware, 0 banks, empty digest. */
        uint8_t attest[] = { 0xff, 0x54, 0x43, 0x47, 0x80, 0x18, 0x00, 0x00, 0x00, 0x01, 0xab,
                             0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 1,
                             0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0 };
        memset(&info, 0xaa, sizeof info);
        assert_int_equal(shield_quote_parse(attest, sizeof attest, &info, &diag), 0);
        assert_int_equal(info.extra_data_len, 1);
        assert_int_equal(info.clock, 1);
        assert_int_equal(info.reset_count, 2);
        assert_int_equal(info.restart_count, 3);
        assert_true(info.safe);
        assert_int_equal(info.firmware_version, 9);
        assert_int_equal(info.n_banks, 0);

        struct shield_quote_info poison;
        memset(&poison, 0xaa, sizeof poison);
        memcpy(&info, &poison, sizeof info);
        attest[0] = 0xfe; /* magic */
        assert_int_equal(shield_quote_parse(attest, sizeof attest, &info, &diag), SHIELD_E_FORMAT);
        assert_memory_equal(&info, &poison, sizeof info);
        assert_int_equal(diag.offset, 0);
        assert_non_null(strstr(diag.msg, "magic"));
        attest[0] = 0xff;
        attest[5] = 0x17; /* TPM_ST_ATTEST_CERTIFY */
        assert_int_equal(shield_quote_parse(attest, sizeof attest, &info, &diag), SHIELD_E_UNSUPPORTED);
        assert_int_equal(diag.offset, 4);
        attest[5] = 0x18;
        attest[9] = 0x50; /* extraData size past the end */
        assert_int_equal(shield_quote_parse(attest, sizeof attest, &info, &diag), SHIELD_E_TRUNCATED);
        assert_int_equal(diag.offset, 8);
        assert_non_null(strstr(diag.msg, "extraData"));
        attest[9] = 0x01;
        uint8_t longer[sizeof attest + 1];
        memcpy(longer, attest, sizeof attest);
        longer[sizeof attest] = 0;
        assert_int_equal(shield_quote_parse(longer, sizeof longer, &info, &diag), SHIELD_E_TRAILING);
        assert_int_equal(diag.offset, sizeof attest);
        assert_int_equal(shield_quote_parse(attest, 0, &info, &diag), SHIELD_E_TRUNCATED);

        /* shield_quote_check stops at the first structure that does not parse. */
        uint8_t sig_bad_alg[] = { 0x00, 0x01, 0x00, 0x0b };
        uint8_t pub_bad_size[] = { 0x00, 0x10, 0x00, 0x01 };
        struct shield_quote_input in = {
                .attest = attest, .attest_len = sizeof attest,
                .signature = sig_bad_alg, .signature_len = sizeof sig_bad_alg,
                .ak_public = pub_bad_size, .ak_public_len = sizeof pub_bad_size,
                .nonce = nonce, .nonce_len = sizeof nonce,
        };
        assert_int_equal(shield_quote_check(&in, &reasons, &diag), SHIELD_E_UNSUPPORTED);
        assert_int_equal(diag.index, 1);
        assert_true(has_reason(&reasons, "quote-malformed"));
        shield_reasons_clear(&reasons);
        uint8_t sig_short[] = { 0x00, 0x14, 0x00, 0x0b, 0x01, 0x00, 0xaa };
        in.signature = sig_short;
        in.signature_len = sizeof sig_short;
        assert_int_equal(shield_quote_check(&in, &reasons, &diag), SHIELD_E_TRUNCATED);
        assert_int_equal(diag.index, 1);
        shield_reasons_clear(&reasons);
        uint8_t sig_ok[] = { 0x00, 0x14, 0x00, 0x0b, 0x00, 0x01, 0xaa };
        in.signature = sig_ok;
        in.signature_len = sizeof sig_ok;
        assert_int_equal(shield_quote_check(&in, &reasons, &diag), SHIELD_E_TRUNCATED);
        assert_int_equal(diag.index, 2);
        assert_non_null(strstr(diag.msg, "size is 16"));
        shield_reasons_clear(&reasons);
        uint8_t pub_junk[] = { 0x00, 0x02, 0x12, 0x34 };
        in.ak_public = pub_junk;
        in.ak_public_len = sizeof pub_junk;
        assert_int_equal(shield_quote_check(&in, &reasons, &diag), SHIELD_E_FORMAT);
        assert_int_equal(diag.index, 2);
        shield_reasons_clear(&reasons);
        assert_int_equal(shield_quote_check(NULL, &reasons, &diag), SHIELD_E_INVAL);
}

/*
 * The epoch policy and counter on hand-made bytes. Vectors: the NV public
 * area and Name are swtpm's for our counter (tpm2_nvreadpublic 0x0100534b:
 * attributes 0x22060014, name 000bcbfd…); the digests were computed by a
 * separate Python implementation of Part 3, 23.7 and 23.9 (hashlib), and the
 * CLI suite checks the same against tpm2_policypcr + tpm2_policynv.
 */
static void test_epoch_policy(void **state) {
        (void)state;
        uint8_t pub[] = { 0x00, 0x0e, 0x01, 0x00, 0x53, 0x4b, 0x00, 0x0b, 0x22, 0x06,
                          0x00, 0x14, 0x00, 0x00, 0x00, 0x08 };
        static const char want_name[] = "000bcbfd52073b72e9235a1515464346e2feb5b4796157595d03162107fff96f1b77";
        uint8_t name[SHIELD_TPM_NAME_MAX];
        size_t name_len = 0xaaaa;
        uint32_t index = 0xaaaaaaaa;
        char hex[2 * SHIELD_TPM_NAME_MAX + 1];
        struct shield_diag diag = { 0 };

        memset(name, 0xaa, sizeof name);
        assert_int_equal(shield_tpm_epoch_public_check(pub, sizeof pub, &index, name, &name_len, &diag), 0);
        assert_int_equal(index, SHIELD_TPM_EPOCH_NV);
        assert_int_equal(name_len, 34);
        shield_hex_encode(name, name_len, hex);
        assert_string_equal(hex, want_name);

        /* Every refusal leaves the outputs alone. */
        uint8_t bad[sizeof pub + 1];
        struct { size_t at; uint8_t v; int code; const char *msg; } cases[] = {
                { 8, 0x02, SHIELD_E_VERIFY, "not written" },          /* WRITTEN clear */
                { 11, 0x04, SHIELD_E_VERIFY, "not a counter" },       /* TPM_NT_ORDINARY */
                { 7, 0x04, SHIELD_E_VERIFY, "not SHA-256" },          /* nameAlg SHA-1 */
                { 15, 0x04, SHIELD_E_VERIFY, "8 bytes" },             /* dataSize 4 */
                { 2, 0x81, SHIELD_E_FORMAT, "not an NV index" },      /* a persistent handle */
                { 1, 0x0f, SHIELD_E_FORMAT, "size" },                 /* size past the end */
                { 13, 0x01, SHIELD_E_FORMAT, "cut off" },             /* authPolicy past the end */
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                memcpy(bad, pub, sizeof pub);
                bad[cases[i].at] = cases[i].v;
                memset(&diag, 0, sizeof diag);
                assert_int_equal(shield_tpm_epoch_public_check(bad, sizeof pub, &index, name, &name_len, &diag),
                                 cases[i].code);
                assert_non_null(strstr(diag.msg, cases[i].msg));
                assert_int_equal(index, SHIELD_TPM_EPOCH_NV);
                assert_int_equal(name_len, 34);
        }
        memcpy(bad, pub, sizeof pub);
        bad[sizeof pub] = 0;
        assert_int_equal(shield_tpm_epoch_public_check(bad, sizeof pub + 1, &index, name, &name_len, &diag), SHIELD_E_FORMAT);
        assert_int_equal(shield_tpm_epoch_public_check(pub, 1, &index, name, &name_len, &diag), SHIELD_E_FORMAT);
        assert_int_equal(shield_tpm_epoch_public_check(pub, sizeof pub - 1, &index, name, &name_len, &diag), SHIELD_E_FORMAT);
        assert_int_equal(shield_tpm_epoch_public_check(NULL, 0, &index, name, &name_len, &diag), SHIELD_E_INVAL);

        /* PCR 0 = zeros in sha256; then PolicyNV at epoch 1 on that counter. */
        struct shield_seal_policy p = { .bank = 0x000b, .mask = 1 };
        p.pcrs.n_banks = 1;
        p.pcrs.banks[0].alg = 0x000b;
        p.pcrs.banks[0].present = 1;
        uint8_t d[32], d2[32];
        char dh[65];
        assert_int_equal(shield_seal_policy_digest(&p, d, &diag), 0);
        shield_hex_encode(d, 32, dh);
        assert_string_equal(dh, "093ceb41181d47808862d7946268ee6a17a10e3d1b79b32351bc56e4beaceff0");
        p.epoch_nv = SHIELD_TPM_EPOCH_NV;
        p.epoch = 1;
        memset(&diag, 0, sizeof diag);
        assert_int_equal(shield_seal_policy_digest(&p, d, &diag), SHIELD_E_INVAL); /* no name */
        assert_non_null(strstr(diag.msg, "Name"));
        memcpy(p.epoch_nv_name, name, name_len);
        p.epoch_nv_name_len = name_len - 1;
        assert_int_equal(shield_seal_policy_digest(&p, d, &diag), SHIELD_E_INVAL);
        p.epoch_nv_name_len = name_len;
        assert_int_equal(shield_seal_policy_digest(&p, d, &diag), 0);
        shield_hex_encode(d, 32, dh);
        assert_string_equal(dh, "4cb829523f3b4ebab9fbc9307f81992d492aedaef34efd53b5e256dc178e0192");
        p.epoch = 2;
        assert_int_equal(shield_seal_policy_digest(&p, d2, &diag), 0);
        assert_memory_not_equal(d, d2, 32);
        p.epoch_nv = 0x81000001;
        assert_int_equal(shield_seal_policy_digest(&p, d2, &diag), SHIELD_E_INVAL);
        p.epoch_nv = 0;
        p.mask = 0;
        assert_int_equal(shield_seal_policy_digest(&p, d2, &diag), SHIELD_E_INVAL);
        p.mask = 2; /* PCR 1 is not in the values */
        assert_int_equal(shield_seal_policy_digest(&p, d2, &diag), SHIELD_E_NOT_FOUND);
        assert_int_equal(shield_seal_policy_digest(NULL, d2, &diag), SHIELD_E_INVAL);
}

static void test_evidence_json(void **state) {
        (void)state;
        if (!have_tpm)
                skip();
        struct shield_tpm *t = open_tpm();
        struct shield_evidence e, back;
        struct shield_diag diag = { 0 };
        char *text = NULL, *text2 = NULL;
        provision(t);
        assert_int_equal(shield_evidence_collect(t, SHIELD_TPM_AK_HANDLE, nonce, sizeof nonce, &e, &diag), 0);
        shield_tpm_close(t);
        assert_non_null(e.ak_cert);
        assert_non_null(e.ek_cert);
        assert_true(e.has_pcrs);
        e.producer = strdup("test-tpm");
        e.secure_boot = 1;
        e.setup_mode = 0;
        e.eventlog = malloc(3);
        memcpy(e.eventlog, "\x01\x02\x03", 3);
        e.eventlog_len = 3;
        assert_int_equal(shield_evidence_add_note(&e, "no IMA list"), 0);

        assert_int_equal(shield_evidence_to_json(&e, &text), 0);
        memset(&back, 0xaa, sizeof back);
        int r = shield_evidence_parse_json(text, strlen(text), &back, &diag);
        if (r < 0)
                fail_msg("parse: %s", diag.msg);
        assert_string_equal(back.producer, "test-tpm");
        assert_int_equal(back.nonce_len, sizeof nonce);
        assert_memory_equal(back.nonce, nonce, sizeof nonce);
        assert_int_equal(back.secure_boot, 1);
        assert_int_equal(back.setup_mode, 0);
        assert_int_equal(back.eventlog_len, 3);
        assert_null(back.ima_log);
        assert_int_equal(back.quote.attest_len, e.quote.attest_len);
        assert_memory_equal(back.quote.attest, e.quote.attest, e.quote.attest_len);
        assert_memory_equal(back.quote.signature, e.quote.signature, e.quote.signature_len);
        assert_memory_equal(back.ak_public, e.ak_public, e.ak_public_len);
        assert_memory_equal(back.ak_cert, e.ak_cert, e.ak_cert_len);
        assert_memory_equal(back.ek_cert, e.ek_cert, e.ek_cert_len);
        assert_int_equal(back.n_notes, 1);
        assert_true(back.has_pcrs);
        assert_int_equal(back.pcrs.n_banks, 2);
        assert_memory_equal(shield_pcrs_bank_const(&back.pcrs, SHIELD_ALG_SHA256)->value,
                            shield_pcrs_bank_const(&e.pcrs, SHIELD_ALG_SHA256)->value, sizeof(back.pcrs.banks[0].value));
        assert_int_equal(shield_evidence_to_json(&back, &text2), 0);
        assert_string_equal(text, text2);

        /* The parsed evidence checks. */
        struct shield_reasons reasons = { 0 };
        struct shield_quote_input in = {
                .attest = back.quote.attest, .attest_len = back.quote.attest_len,
                .signature = back.quote.signature, .signature_len = back.quote.signature_len,
                .ak_public = back.ak_public, .ak_public_len = back.ak_public_len,
                .nonce = back.nonce, .nonce_len = back.nonce_len, .pcrs = &back.pcrs,
        };
        assert_int_equal(shield_quote_check(&in, &reasons, &diag), 0);
        free(text);
        free(text2);
        shield_evidence_free(&e);
        shield_evidence_free(&back);
        shield_evidence_free(NULL);
}

static void expect_bad(const char *json, int code, const char *msg_part) {
        struct shield_evidence e, poison;
        struct shield_diag diag = { 0 };
        memset(&poison, 0xaa, sizeof poison);
        memcpy(&e, &poison, sizeof e);
        int r = shield_evidence_parse_json(json, strlen(json), &e, &diag);
        if (r != code || !strstr(diag.msg, msg_part))
                fail_msg("%s: got %d \"%s\", expected %d \"…%s…\"", json, r, diag.msg, code, msg_part);
        assert_memory_equal(&e, &poison, sizeof e);
}

static void test_evidence_errors(void **state) {
        (void)state;
#define Q "\"quote\":{\"attest\":\"AAEC\",\"signature\":\"AAEC\"},\"ak\":{\"public\":\"AAEC\"}"
        struct shield_evidence e;
        struct shield_diag diag = { 0 };
        const char *ok = "{\"format\":\"shieldkit-evidence/1\",\"nonce\":\"00ff\"," Q "}";
        assert_int_equal(shield_evidence_parse_json(ok, strlen(ok), &e, &diag), 0);
        assert_false(e.has_pcrs);
        assert_int_equal(e.secure_boot, -1);
        assert_null(e.eventlog);
        assert_null(e.ak_cert);
        shield_evidence_free(&e);

        expect_bad("{\"format\":", SHIELD_E_FORMAT, "not JSON");
        expect_bad("[]", SHIELD_E_FORMAT, "object");
        expect_bad("{\"nonce\":\"00\"," Q "}", SHIELD_E_FORMAT, "format");
        expect_bad("{\"format\":\"shieldkit-evidence/2\",\"nonce\":\"00\"," Q "}", SHIELD_E_UNSUPPORTED, "format");
        expect_bad("{\"format\":\"shieldkit-evidence/1\",\"nonce\":5," Q "}", SHIELD_E_FORMAT, "nonce");
        expect_bad("{\"format\":\"shieldkit-evidence/1\",\"nonce\":\"0g\"," Q "}", SHIELD_E_FORMAT, "nonce");
        expect_bad("{\"format\":\"shieldkit-evidence/1\",\"nonce\":\"\"," Q "}", SHIELD_E_FORMAT, "nonce");
        expect_bad("{\"format\":\"shieldkit-evidence/1\",\"nonce\":\"00\",\"extra\":1," Q "}", SHIELD_E_FORMAT,
                   "unknown key \"extra\"");
        expect_bad("{\"format\":\"shieldkit-evidence/1\",\"nonce\":\"00\",\"secure_boot\":1," Q "}", SHIELD_E_FORMAT,
                   "secure_boot");
        expect_bad("{\"format\":\"shieldkit-evidence/1\",\"nonce\":\"00\",\"eventlog\":\"@@@\"," Q "}",
                   SHIELD_E_FORMAT, "eventlog");
        expect_bad("{\"format\":\"shieldkit-evidence/1\",\"nonce\":\"00\",\"pcrs\":{\"sha256\":{\"0\":\"00\"}}," Q "}",
                   SHIELD_E_FORMAT, "pcrs");
        expect_bad("{\"format\":\"shieldkit-evidence/1\",\"nonce\":\"00\",\"quote\":[]}", SHIELD_E_FORMAT, "quote");
        expect_bad("{\"format\":\"shieldkit-evidence/1\",\"ak\":{\"public\":1}}", SHIELD_E_FORMAT, "public");
        expect_bad("{\"format\":\"shieldkit-evidence/1\",\"nonce\":\"00\",\"quote\":{\"attest\":\"AAEC\"},"
                   "\"ak\":{\"public\":\"AAEC\"}}",
                   SHIELD_E_FORMAT, "signature");
        expect_bad("{\"format\":\"shieldkit-evidence/1\",\"nonce\":\"00\",\"quote\":{\"attest\":\"\",\"signature\":"
                   "\"AA==\"},\"ak\":{\"public\":\"AAEC\"}}",
                   SHIELD_E_FORMAT, "\"attest\" is empty");
        expect_bad("{\"format\":\"shieldkit-evidence/1\",\"nonce\":\"00\",\"format\":\"x\"," Q "}", SHIELD_E_FORMAT,
                   "duplicate");

        /* Over a cap: an attestation of SHIELD_TPM_ATTEST_MAX + 3 bytes. */
        size_t n = (SHIELD_TPM_ATTEST_MAX + 3) / 3 * 4;
        char *big = malloc(n + 256);
        int len = snprintf(big, 256, "{\"format\":\"shieldkit-evidence/1\",\"nonce\":\"00\",\"quote\":{\"attest\":\"");
        memset(big + len, 'A', n);
        snprintf(big + len + n, 256, "\",\"signature\":\"AA==\"},\"ak\":{\"public\":\"AAEC\"}}");
        expect_bad(big, SHIELD_E_LIMIT, "attest");
        free(big);

        /* Evidence without a quote (a guest that could not quote): logs and notes only, both ways. */
        struct shield_evidence empty = { .secure_boot = -1, .setup_mode = -1 };
        char *text = NULL;
        assert_int_equal(shield_evidence_add_note(&empty, "no TPM"), 0);
        assert_int_equal(shield_evidence_to_json(&empty, &text), 0);
        assert_null(strstr(text, "quote"));
        assert_int_equal(shield_evidence_parse_json(text, strlen(text), &e, &diag), 0);
        assert_null(e.quote.attest);
        assert_null(e.nonce);
        assert_int_equal(e.n_notes, 1);
        shield_evidence_free(&e);
        free(text);
        /* Half a quote is refused. */
        uint8_t byte = 0;
        empty.quote.attest = &byte;
        empty.quote.attest_len = 1;
        text = (char *)(uintptr_t)0xaaaa;
        assert_int_equal(shield_evidence_to_json(&empty, &text), SHIELD_E_INVAL);
        assert_ptr_equal(text, (char *)(uintptr_t)0xaaaa);
        empty.quote.attest = NULL;
        shield_evidence_free(&empty);
#undef Q
}

static void test_default_tcti(void **state) {
        (void)state;
        char *saved_s = getenv("SHIELD_TCTI") ? strdup(getenv("SHIELD_TCTI")) : NULL;
        char *saved_t = getenv("TPM2TOOLS_TCTI") ? strdup(getenv("TPM2TOOLS_TCTI")) : NULL;
        setenv("SHIELD_TCTI", "mssim:port=1", 1);
        setenv("TPM2TOOLS_TCTI", "swtpm:port=2", 1);
        assert_string_equal(shield_tpm_default_tcti(NULL), "mssim:port=1");
        assert_string_equal(shield_tpm_default_tcti("device:/x"), "device:/x");
        setenv("SHIELD_TCTI", "", 1);
        assert_string_equal(shield_tpm_default_tcti(""), "swtpm:port=2");
        unsetenv("TPM2TOOLS_TCTI");
        assert_string_equal(shield_tpm_default_tcti(NULL), "device:/dev/tpmrm0");
        saved_s ? setenv("SHIELD_TCTI", saved_s, 1) : unsetenv("SHIELD_TCTI");
        if (saved_t)
                setenv("TPM2TOOLS_TCTI", saved_t, 1);
        free(saved_s);
        free(saved_t);
}

/* Transient objects loaded: none may be left behind by our paths. */
static unsigned transient_count(void) {
        char log[300];
        snprintf(log, sizeof log, "%s/getcap.log", workdir);
        unlink(log);
        char *argv[] = { "tpm2_getcap", "handles-transient", NULL };
        if (!in_path("tpm2_getcap"))
                return 0;
        setenv("TPM2TOOLS_TCTI", tcti, 1);
        int rc = run(argv, log);
        unsetenv("TPM2TOOLS_TCTI");
        if (rc != 0)
                return 0;
        uint8_t *buf = NULL;
        size_t len = 0;
        unsigned n = 0;
        if (shield_read_file(log, 1u << 16, &buf, &len) == 0)
                for (size_t i = 0; i + 1 < len; i++)
                        n += buf[i] == '0' && buf[i + 1] == 'x';
        free(buf);
        return n;
}

static void test_info_ek_ak_activate(void **state) {
        (void)state;
        if (!have_tpm)
                skip();
        struct shield_tpm *t = NULL;
        struct shield_tpm_info info;
        struct shield_tpm_ek ek;
        struct shield_tpm_ak ak, ak2;
        struct shield_diag d = { 0 };
        assert_int_equal(shield_tpm_open(tcti, &t, &d), 0);
        memset(&info, 0xaa, sizeof info);
        assert_int_equal(shield_tpm_get_info(t, &info, &d), 0);
        assert_string_equal(info.family, "2.0");
        assert_string_equal(info.manufacturer, "IBM");
        assert_true(info.n_banks >= 2 && info.max_command_size >= 1024 && info.pcr_count == 24);
        memset(&ek, 0xaa, sizeof ek);
        assert_int_equal(shield_tpm_read_ek(t, &ek, &d), 0);
        assert_non_null(ek.public);
        assert_int_equal(shield_tpm_ak_create(t, SHIELD_TPM_AK_RSA, 0, &ak, &d), 0);
        assert_int_equal(shield_tpm_ak_create(t, SHIELD_TPM_AK_ECC, 0, &ak2, &d), 0);
        assert_int_equal(ak.name_len, 34);
        /* Our name of each AK's public area is the one the TPM gave when it loaded the AK. */
        uint8_t name[SHIELD_TPM_NAME_MAX];
        size_t name_len = 0;
        assert_int_equal(shield_tpm_public_name(ak.public, ak.public_len, name, &name_len, &d), 0);
        assert_int_equal(name_len, ak.name_len);
        assert_memory_equal(name, ak.name, ak.name_len);
        assert_int_equal(shield_tpm_public_name(ak2.public, ak2.public_len, name, &name_len, &d), 0);
        assert_int_equal(name_len, ak2.name_len);
        assert_memory_equal(name, ak2.name, ak2.name_len);
        assert_int_equal(transient_count(), 0);
        /* Persisting at a non-persistent handle is refused before anything is made. */
        struct shield_tpm_ak bad = { 0 };
        assert_int_equal(shield_tpm_ak_create(t, SHIELD_TPM_AK_RSA, 0x80000001, &bad, &d), SHIELD_E_INVAL);

        static const uint8_t secret[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
        uint8_t *blob = NULL, got[SHIELD_HASH_MAX_SIZE];
        size_t blob_len = 0, got_len = 0;
        assert_int_equal(shield_credential_make(ek.public, ek.public_len, ak.name, ak.name_len, secret, sizeof secret,
                                                &blob, &blob_len, &d),
                         0);
        assert_int_equal(shield_tpm_activate_credential(t, 0, &ak, blob, blob_len, got, &got_len, &d), 0);
        assert_int_equal(got_len, sizeof secret);
        assert_memory_equal(got, secret, sizeof secret);
        /* The other AK: the TPM's integrity check refuses it. */
        assert_int_equal(shield_tpm_activate_credential(t, 0, &ak2, blob, blob_len, got, &got_len, &d),
                         SHIELD_E_VERIFY);
        blob[0] ^= 1;
        assert_int_equal(shield_tpm_activate_credential(t, 0, &ak, blob, blob_len, got, &got_len, &d), SHIELD_E_FORMAT);
        assert_int_equal(transient_count(), 0);
        free(blob);
        shield_tpm_ak_clear(&ak);
        shield_tpm_ak_clear(&ak2);
        shield_tpm_ek_clear(&ek);
        shield_tpm_close(t);
}

static void test_ak_key_forms(void **state) {
        (void)state;
        struct shield_ak_key *k = (struct shield_ak_key *)(uintptr_t)0xaaaa;
        struct shield_diag d = { 0 };
        static const uint8_t junk[] = { 0x00, 0x05, 0x00 };
        static const uint8_t der_junk[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };
        static const uint8_t tpmt_trunc[] = { 0x00, 0x01, 0x00, 0x0b, 0x00 };
        assert_int_equal(shield_ak_key_new(junk, 1, &k, &d), SHIELD_E_TRUNCATED);
        assert_int_equal(shield_ak_key_new(junk, sizeof junk, &k, &d), SHIELD_E_FORMAT);
        assert_int_equal(shield_ak_key_new(der_junk, sizeof der_junk, &k, &d), SHIELD_E_FORMAT);
        assert_int_equal(shield_ak_key_new(tpmt_trunc, sizeof tpmt_trunc, &k, &d), SHIELD_E_FORMAT);
        assert_ptr_equal(k, (struct shield_ak_key *)(uintptr_t)0xaaaa);
        shield_ak_key_free(NULL);
        /* tpm2-tools' PCR file: too short, a bad count, values that do not match the selection. */
        uint8_t buf[132 + 4 + 532] = { 0 };
        struct shield_pcrs p;
        assert_int_equal(shield_tpm_pcrs_parse_tools(buf, 10, &p, &d), SHIELD_E_TRUNCATED);
        assert_int_equal(shield_tpm_pcrs_parse_tools(buf, sizeof buf, &p, &d), SHIELD_E_FORMAT); /* count 0 */
        buf[0] = 1;                         /* one selection: sha256, PCR 0 */
        buf[4] = 0x0b;
        buf[6] = 3;
        buf[7] = 1;
        buf[132] = 1;                       /* one TPML_DIGEST with one 32-byte value */
        buf[136] = 1;
        buf[140] = 32;
        assert_int_equal(shield_tpm_pcrs_parse_tools(buf, sizeof buf, &p, &d), 0);
        assert_int_equal(p.n_banks, 1);
        assert_int_equal(p.banks[0].present, 1);
        buf[140] = 20;
        assert_int_equal(shield_tpm_pcrs_parse_tools(buf, sizeof buf, &p, &d), SHIELD_E_FORMAT);
        buf[140] = 32;
        buf[136] = 2;                       /* more values than selected */
        assert_int_equal(shield_tpm_pcrs_parse_tools(buf, sizeof buf, &p, &d), SHIELD_E_TRAILING);
        buf[136] = 9;
        assert_int_equal(shield_tpm_pcrs_parse_tools(buf, sizeof buf, &p, &d), SHIELD_E_FORMAT);
        buf[136] = 1;
        buf[4] = 0x99;                      /* an unknown bank */
        assert_int_equal(shield_tpm_pcrs_parse_tools(buf, sizeof buf, &p, &d), SHIELD_E_UNSUPPORTED);
        buf[4] = 0x0b;
        assert_int_equal(shield_tpm_pcrs_parse_tools(buf, sizeof buf - 1, &p, &d), SHIELD_E_FORMAT);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_open_errors),
                cmocka_unit_test(test_parsers_on_bad_bytes),
                cmocka_unit_test(test_public_name),
                cmocka_unit_test(test_epoch_policy),
                cmocka_unit_test(test_evidence_errors),
                cmocka_unit_test(test_provision_idempotent),
                cmocka_unit_test(test_read_pcrs),
                cmocka_unit_test(test_quote_ok),
                cmocka_unit_test(test_quote_failures),
                cmocka_unit_test(test_evidence_json),
                cmocka_unit_test(test_default_tcti),
                cmocka_unit_test(test_ak_key_forms),
                cmocka_unit_test(test_info_ek_ak_activate),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
