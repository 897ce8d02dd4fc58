/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Load client for shieldd: full attestations per second over HTTP.
 *
 * A real swtpm quotes ~70 times a second, so this client plays many machines
 * whose AKs are software keys. It builds the TPM structures a TPM would
 * return, byte for byte (TPM 2.0 Part 2): the AK's TPM2B_PUBLIC (ECC P-256
 * ECDSA-SHA256 or RSA-2048 RSASSA-SHA256, restricted signing, the FORMATS.md
 * AK attributes), a TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE over sha256 PCRs
 * 0-7 whose qualifiedSigner is the AK's qualified name as an endorsement
 * primary and whose extraData is the service's nonce, the TPMT_SIGNATURE
 * over SHA-256(attest), and a crypto-agile event log (sha256 bank) that
 * replays to the quoted PCR values. Each AK is certified by a CA the bench
 * made (--ca-key/--ca-cert), so shieldd --ak-ca trusts it at registration.
 *
 * Usage:
 *   load-client --ca-key KEY --ca-cert CERT --url URL[,URL…] [--instances N]
 *               [--threads T] [--seconds D] [--alg ecc|rsa] [--prefix NAME]
 *   load-client --offline [--threads T] [--seconds D] [--alg ecc|rsa]
 *
 * Online: registers N instances (each attests once, so its golden exists
 * before the clock starts), then T threads each loop challenge → build and
 * sign evidence → attest for D seconds on a keep-alive connection (thread t
 * talks to URL t mod the number of URLs; the store is shared, so any server
 * honours any nonce). Every answer must be 200 with "verified": true,
 * "colour": "green" and a token; anything else counts as a failure.
 * Prints one line: "attestations=N failures=F seconds=S rate=R p50_ms=…
 * p99_ms=… max_ms=…".
 *
 * Offline (the baseline): no server. T threads build evidence as above and
 * check it in process as shieldd does (shield_evidence_parse_json +
 * shield_evidence_check with the AK pinned, the golden and the "gce"
 * integrity policy), with no HTTP, no store and no token. Prints
 * "attestations=N seconds=S rate=R build_us=… check_us=…".
 *
 * Exit status: 0 when everything was verified, 1 when something was not
 * (the first failure is described on stderr), 2 on bad usage or setup.
 * Tests may include OpenSSL and libcurl (scripts/check-source applies the
 * layer rules to lib/, tools/, daemon/ only).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "shield/attest.h"
#include "shield/crypto.h"
#include "shield/evidence.h"
#include "shield/integrity.h"
#include "shield/keys.h"
#include "shield/util.h"

/* TPM 2.0 Part 2 constants (6.3 TPM_ALG_ID, 6.9 TPM_ST, 6.2 TPM_GENERATED, 7.4 TPM_RH, 6.4 TPM_ECC_CURVE). */
#define ALG_RSA 0x0001
#define ALG_SHA256 0x000B
#define ALG_NULL 0x0010
#define ALG_RSASSA 0x0014
#define ALG_ECDSA 0x0018
#define ALG_ECC 0x0023
#define ECC_NIST_P256 0x0003
#define ST_ATTEST_QUOTE 0x8018
#define GENERATED_VALUE 0xff544347u
#define RH_ENDORSEMENT 0x4000000Bu
#define AK_ATTRIBUTES 0x00050072u /* fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|restricted|sign */

#define NONCE_BYTES 32
#define INSTANCES_MAX 4096
#define THREADS_MAX 256
#define URLS_MAX 8
#define BUF_MAX 16384

struct buf {
        uint8_t b[BUF_MAX];
        size_t n;
};

static void put_u8(struct buf *w, unsigned v) {
        if (w->n < BUF_MAX)
                w->b[w->n++] = (uint8_t)v;
}
static void put_be16(struct buf *w, unsigned v) {
        put_u8(w, v >> 8);
        put_u8(w, v);
}
static void put_be32(struct buf *w, uint32_t v) {
        put_be16(w, v >> 16);
        put_be16(w, v & 0xffff);
}
static void put_be64(struct buf *w, uint64_t v) {
        put_be32(w, (uint32_t)(v >> 32));
        put_be32(w, (uint32_t)v);
}
static void put_bytes(struct buf *w, const void *p, size_t n) {
        if (n <= BUF_MAX - w->n) {
                memcpy(w->b + w->n, p, n);
                w->n += n;
        } else
                w->n = BUF_MAX; /* overflow: caught by the size checks of the callers */
}
static void put_le16(struct buf *w, unsigned v) {
        put_u8(w, v);
        put_u8(w, v >> 8);
}
static void put_le32(struct buf *w, uint32_t v) {
        put_le16(w, v & 0xffff);
        put_le16(w, v >> 16);
}

struct instance {
        char name[64];
        EVP_PKEY *key;
        uint8_t ak_public[1024]; /* TPM2B_PUBLIC with size */
        size_t ak_public_len;
        char *ak_public_b64, *ak_cert_b64;
        uint8_t qn[2 + 32];      /* qualified name as an endorsement primary */
        uint32_t reset_count;
        uint64_t clock;
};

static struct {
        bool rsa;
        unsigned n_instances, n_threads, seconds;
        const char *urls[URLS_MAX];
        size_t n_urls;
        const char *prefix;
        struct instance *inst;
        /* Shared by every instance: the event log, the PCRs it replays to and their digest. */
        char *eventlog_b64, *pcrs_json;
        uint8_t *eventlog;
        size_t eventlog_len;
        uint8_t pcr[16][32];     /* PCRs 0-15: what the default policy (gce) counts, so every one is quoted */
        uint8_t pcr_digest[32];
        atomic_int stop;
        atomic_flag first_failure, reasons_shown;
} g = { .n_instances = 64, .seconds = 10, .prefix = "load" };

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sha256(const void *p, size_t n, uint8_t out[32]) {
        if (shield_hash(SHIELD_ALG_SHA256, p, n, out) < 0)
                abort();
}

/* The crypto-agile log of tests/cli/cli-verify.sh, sha256 only, with a separator in each of PCRs 0-7. */
static int make_eventlog(void) {
        static struct buf w;
        struct { unsigned pcr; uint32_t type; const char *data; size_t len; } ev[] = {
                { 0, 0x80000008, "firmware blob", 13 },      /* EV_EFI_PLATFORM_FIRMWARE_BLOB */
                { 7, 0x80000007, "Secure Boot state", 17 },  /* EV_EFI_ACTION */
                { 4, 0x0000000D, "\\EFI\\BOOT\\BOOTX64.EFI v1", 23 }, /* EV_IPL */
                { 0, 4, "\0\0\0\0", 4 }, { 1, 4, "\0\0\0\0", 4 }, { 2, 4, "\0\0\0\0", 4 }, /* EV_SEPARATOR */
                { 3, 4, "\0\0\0\0", 4 }, { 4, 4, "\0\0\0\0", 4 }, { 5, 4, "\0\0\0\0", 4 },
                { 6, 4, "\0\0\0\0", 4 }, { 7, 4, "\0\0\0\0", 4 },
        };
        /* TCG PC Client PFP 10.4.5.1: the Spec ID event in the legacy TCG_PCR_EVENT form. */
        struct buf spec = { .n = 0 };
        put_bytes(&spec, "Spec ID Event03", 16);
        put_le32(&spec, 0);          /* platformClass */
        put_u8(&spec, 0);            /* specVersionMinor */
        put_u8(&spec, 2);            /* specVersionMajor */
        put_u8(&spec, 0);            /* specErrata */
        put_u8(&spec, 2);            /* uintnSize */
        put_le32(&spec, 1);          /* numberOfAlgorithms */
        put_le16(&spec, ALG_SHA256);
        put_le16(&spec, 32);
        put_u8(&spec, 0);            /* vendorInfoSize */
        put_le32(&w, 0);
        put_le32(&w, 3);             /* EV_NO_ACTION */
        put_bytes(&w, (uint8_t[20]){ 0 }, 20);
        put_le32(&w, (uint32_t)spec.n);
        put_bytes(&w, spec.b, spec.n);
        memset(g.pcr, 0, sizeof g.pcr);
        for (size_t i = 0; i < sizeof ev / sizeof ev[0]; i++) {
                uint8_t d[32], cat[64];
                sha256(ev[i].data, ev[i].len, d);
                put_le32(&w, ev[i].pcr);
                put_le32(&w, ev[i].type);
                put_le32(&w, 1);
                put_le16(&w, ALG_SHA256);
                put_bytes(&w, d, 32);
                put_le32(&w, (uint32_t)ev[i].len);
                put_bytes(&w, ev[i].data, ev[i].len);
                memcpy(cat, g.pcr[ev[i].pcr], 32);
                memcpy(cat + 32, d, 32);
                sha256(cat, 64, g.pcr[ev[i].pcr]);
        }
        if (w.n == BUF_MAX)
                return -1;
        sha256(g.pcr, sizeof g.pcr, g.pcr_digest); /* PCRs 0-15 in increasing order (Part 1, 18.5.2) */
        g.eventlog = w.b;
        g.eventlog_len = w.n;
        g.eventlog_b64 = shield_base64_encode(w.b, w.n);
        char *p = malloc(2048);
        if (!g.eventlog_b64 || !p)
                return -1;
        size_t o = (size_t)snprintf(p, 2048, "{\"sha256\":{");
        for (int i = 0; i < 16; i++) {
                char hex[65];
                shield_hex_encode(g.pcr[i], 32, hex);
                o += (size_t)snprintf(p + o, 2048 - o, "%s\"%d\":\"%s\"", i ? "," : "", i, hex);
        }
        snprintf(p + o, 2048 - o, "}}");
        g.pcrs_json = p;
        return 0;
}

static int bn_pad(const BIGNUM *bn, uint8_t *out, int len) {
        return BN_bn2binpad(bn, out, len) == len ? 0 : -1;
}

/* The AK's TPMT_PUBLIC (Part 2, 12.2.4) for key k, the FORMATS.md AK template. */
static int ak_tpmt_public(EVP_PKEY *k, bool rsa, struct buf *w) {
        BIGNUM *a = NULL, *b = NULL;
        int r = -1;
        put_be16(w, rsa ? ALG_RSA : ALG_ECC);
        put_be16(w, ALG_SHA256);
        put_be32(w, AK_ATTRIBUTES);
        put_be16(w, 0);                 /* authPolicy: empty */
        put_be16(w, ALG_NULL);          /* symmetric */
        if (rsa) {
                uint8_t n[256];
                put_be16(w, ALG_RSASSA);
                put_be16(w, ALG_SHA256);
                put_be16(w, 2048);
                put_be32(w, 0);         /* exponent: 0 means 65537 */
                if (!EVP_PKEY_get_bn_param(k, "n", &a) || bn_pad(a, n, 256) < 0)
                        goto out;
                put_be16(w, 256);
                put_bytes(w, n, 256);
        } else {
                uint8_t x[32], y[32];
                put_be16(w, ALG_ECDSA);
                put_be16(w, ALG_SHA256);
                put_be16(w, ECC_NIST_P256);
                put_be16(w, ALG_NULL);  /* kdf */
                if (!EVP_PKEY_get_bn_param(k, "qx", &a) || !EVP_PKEY_get_bn_param(k, "qy", &b) ||
                    bn_pad(a, x, 32) < 0 || bn_pad(b, y, 32) < 0)
                        goto out;
                put_be16(w, 32);
                put_bytes(w, x, 32);
                put_be16(w, 32);
                put_bytes(w, y, 32);
        }
        r = 0;
out:
        BN_free(a);
        BN_free(b);
        return r;
}

/* An AK certificate as shield tpm provision issues it: CN=<name> AK, CA:FALSE, digitalSignature. */
static char *issue_cert(EVP_PKEY *ak, const char *name, EVP_PKEY *ca_key, X509 *ca) {
        X509 *x = X509_new();
        X509V3_CTX ctx;
        X509_EXTENSION *ext;
        uint8_t serial[16];
        unsigned char *der = NULL;
        char *b64 = NULL, cn[96];
        BIGNUM *sn = NULL;
        if (!x || shield_random_bytes(serial, sizeof serial) < 0)
                goto out;
        serial[0] &= 0x7f;
        snprintf(cn, sizeof cn, "%s AK", name);
        X509_NAME *subj = X509_get_subject_name(x);
        if (!X509_set_version(x, 2) || !(sn = BN_bin2bn(serial, sizeof serial, NULL)) ||
            !BN_to_ASN1_INTEGER(sn, X509_get_serialNumber(x)) ||
            !X509_set_issuer_name(x, X509_get_subject_name(ca)) ||
            !X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) ||
            !X509_gmtime_adj(X509_getm_notBefore(x), -3600) || !X509_gmtime_adj(X509_getm_notAfter(x), 86400) ||
            !X509_set_pubkey(x, ak))
                goto out;
        X509V3_set_ctx(&ctx, ca, x, NULL, NULL, 0);
        const char *exts[][2] = { { "basicConstraints", "critical,CA:FALSE" },
                                  { "keyUsage", "critical,digitalSignature" },
                                  { "subjectKeyIdentifier", "hash" },
                                  { "authorityKeyIdentifier", "keyid" } };
        for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
                if (!(ext = X509V3_EXT_conf(NULL, &ctx, exts[i][0], exts[i][1])))
                        goto out;
                int ok = X509_add_ext(x, ext, -1);
                X509_EXTENSION_free(ext);
                if (!ok)
                        goto out;
        }
        if (!X509_sign(x, ca_key, EVP_sha256()))
                goto out;
        int len = i2d_X509(x, &der);
        if (len > 0)
                b64 = shield_base64_encode(der, (size_t)len);
out:
        OPENSSL_free(der);
        BN_free(sn);
        X509_free(x);
        return b64;
}

static int make_instance(struct instance *in, unsigned i, EVP_PKEY *ca_key, X509 *ca) {
        struct buf w = { .n = 0 };
        uint8_t buf[4 + 2 + 32];
        snprintf(in->name, sizeof in->name, "%s-%u", g.prefix, i);
        in->key = g.rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
        if (!in->key || ak_tpmt_public(in->key, g.rsa, &w) < 0 || w.n > sizeof in->ak_public - 2)
                return -1;
        in->ak_public[0] = (uint8_t)(w.n >> 8);
        in->ak_public[1] = (uint8_t)w.n;
        memcpy(in->ak_public + 2, w.b, w.n);
        in->ak_public_len = w.n + 2;
        /* Part 1, 16: Name = nameAlg || H(TPMT_PUBLIC); QN = nameAlg || H(QN(parent) || Name), QN(hierarchy) = handle. */
        buf[0] = RH_ENDORSEMENT >> 24;
        buf[1] = (RH_ENDORSEMENT >> 16) & 0xff;
        buf[2] = (RH_ENDORSEMENT >> 8) & 0xff;
        buf[3] = RH_ENDORSEMENT & 0xff;
        buf[4] = in->qn[0] = ALG_SHA256 >> 8;
        buf[5] = in->qn[1] = ALG_SHA256 & 0xff;
        sha256(w.b, w.n, buf + 6);
        sha256(buf, sizeof buf, in->qn + 2);
        in->reset_count = (uint32_t)i + 1;
        in->clock = (uint64_t)time(NULL) * 1000; /* ms; only grows, across runs too */
        if (!(in->ak_public_b64 = shield_base64_encode(in->ak_public, in->ak_public_len)))
                return -1;
        if (ca_key && !(in->ak_cert_b64 = issue_cert(in->key, in->name, ca_key, ca)))
                return -1;
        return 0;
}

/*
 * Evidence answering nonce, as compact JSON (malloc'd): the quote as the TPM
 * would sign it, the PCR values, the event log and the AK.
 */
static char *build_evidence(struct instance *in, const uint8_t *nonce, size_t nonce_len) {
        struct buf a = { .n = 0 }, s = { .n = 0 };
        EVP_PKEY_CTX *pctx = NULL;
        ECDSA_SIG *es = NULL;
        uint8_t digest[32], sig[512];
        size_t sig_len = sizeof sig;
        char *attest_b64 = NULL, *sig_b64 = NULL, *out = NULL, nonce_hex[2 * 64 + 1];

        /* TPMS_ATTEST (Part 2, 10.12.12) with TPMS_QUOTE_INFO (10.12.4). */
        put_be32(&a, GENERATED_VALUE);
        put_be16(&a, ST_ATTEST_QUOTE);
        put_be16(&a, sizeof in->qn);
        put_bytes(&a, in->qn, sizeof in->qn);
        put_be16(&a, (unsigned)nonce_len);
        put_bytes(&a, nonce, nonce_len);
        in->clock += 10;
        put_be64(&a, in->clock);        /* clockInfo.clock */
        put_be32(&a, in->reset_count);
        put_be32(&a, 0);                /* restartCount */
        put_u8(&a, 1);                  /* safe */
        put_be64(&a, 0x2000000000000ull); /* firmwareVersion */
        put_be32(&a, 1);                /* TPML_PCR_SELECTION.count */
        put_be16(&a, ALG_SHA256);
        put_u8(&a, 3);                  /* sizeofSelect */
        put_u8(&a, 0xff);               /* PCRs 0-7 */
        put_u8(&a, 0xff);               /* PCRs 8-15 */
        put_u8(&a, 0);
        put_be16(&a, 32);
        put_bytes(&a, g.pcr_digest, 32);

        sha256(a.b, a.n, digest);
        if (!(pctx = EVP_PKEY_CTX_new(in->key, NULL)) || EVP_PKEY_sign_init(pctx) <= 0 ||
            (g.rsa && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0 ||
                       EVP_PKEY_CTX_set_signature_md(pctx, EVP_sha256()) <= 0)) ||
            EVP_PKEY_sign(pctx, sig, &sig_len, digest, sizeof digest) <= 0)
                goto out;
        /* TPMT_SIGNATURE (Part 2, 11.3.4). */
        put_be16(&s, g.rsa ? ALG_RSASSA : ALG_ECDSA);
        put_be16(&s, ALG_SHA256);
        if (g.rsa) {
                put_be16(&s, (unsigned)sig_len);
                put_bytes(&s, sig, sig_len);
        } else {
                const unsigned char *p = sig;
                const BIGNUM *r, *ss;
                uint8_t rb[32], sb[32];
                if (!(es = d2i_ECDSA_SIG(NULL, &p, (long)sig_len)))
                        goto out;
                ECDSA_SIG_get0(es, &r, &ss);
                if (bn_pad(r, rb, 32) < 0 || bn_pad(ss, sb, 32) < 0)
                        goto out;
                put_be16(&s, 32);
                put_bytes(&s, rb, 32);
                put_be16(&s, 32);
                put_bytes(&s, sb, 32);
        }
        if (!(attest_b64 = shield_base64_encode(a.b, a.n)) || !(sig_b64 = shield_base64_encode(s.b, s.n)))
                goto out;
        shield_hex_encode(nonce, nonce_len, nonce_hex);
        size_t cap = strlen(g.eventlog_b64) + strlen(g.pcrs_json) + strlen(attest_b64) + strlen(sig_b64) +
                     strlen(in->ak_public_b64) + (in->ak_cert_b64 ? strlen(in->ak_cert_b64) : 0) + 512;
        if (!(out = malloc(cap)))
                goto out;
        snprintf(out, cap,
                 "{\"format\":\"shieldkit-evidence/1\",\"producer\":\"load-client\",\"nonce\":\"%s\","
                 "\"pcrs\":%s,\"eventlog\":\"%s\",\"quote\":{\"attest\":\"%s\",\"signature\":\"%s\"},"
                 "\"ak\":{\"public\":\"%s\"%s%s%s}}",
                 nonce_hex, g.pcrs_json, g.eventlog_b64, attest_b64, sig_b64, in->ak_public_b64,
                 in->ak_cert_b64 ? ",\"certificate\":\"" : "", in->ak_cert_b64 ? in->ak_cert_b64 : "",
                 in->ak_cert_b64 ? "\"" : "");
out:
        ECDSA_SIG_free(es);
        EVP_PKEY_CTX_free(pctx);
        free(attest_b64);
        free(sig_b64);
        return out;
}

/* ---- HTTP ---- */

struct conn {
        CURL *c;
        struct curl_slist *hdr;
        char *body;
        size_t len, cap;
};

static size_t on_data(char *p, size_t size, size_t n, void *u) {
        struct conn *k = u;
        size_t add = size * n;
        if (k->len + add + 1 > k->cap) {
                size_t cap = (k->len + add + 1) * 2;
                char *b = realloc(k->body, cap);
                if (!b)
                        return 0;
                k->body = b;
                k->cap = cap;
        }
        memcpy(k->body + k->len, p, add);
        k->len += add;
        k->body[k->len] = '\0';
        return add;
}

static int conn_init(struct conn *k) {
        memset(k, 0, sizeof *k);
        if (!(k->c = curl_easy_init()) || !(k->hdr = curl_slist_append(NULL, "Content-Type: application/json")))
                return -1;
        curl_easy_setopt(k->c, CURLOPT_HTTPHEADER, k->hdr);
        curl_easy_setopt(k->c, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(k->c, CURLOPT_WRITEDATA, k);
        curl_easy_setopt(k->c, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(k->c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(k->c, CURLOPT_TIMEOUT, 30L);
        return 0;
}

static void conn_free(struct conn *k) {
        curl_slist_free_all(k->hdr);
        if (k->c)
                curl_easy_cleanup(k->c);
        free(k->body);
}

/* POST body to base+path; the answer's JSON in *ret (NULL when it is not JSON). Returns the HTTP status or -1. */
static long post(struct conn *k, const char *base, const char *path, const char *body, json_t **ret) {
        char url[512];
        long code = -1;
        snprintf(url, sizeof url, "%s%s", base, path);
        k->len = 0;
        if (k->body)
                k->body[0] = '\0';
        curl_easy_setopt(k->c, CURLOPT_URL, url);
        curl_easy_setopt(k->c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(k->c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        CURLcode cr = curl_easy_perform(k->c);
        if (cr != CURLE_OK) {
                snprintf(url, sizeof url, "curl: %s", curl_easy_strerror(cr));
                free(k->body);
                k->body = strdup(url);
                k->len = k->body ? strlen(k->body) : 0;
                *ret = NULL;
                return -1;
        }
        curl_easy_getinfo(k->c, CURLINFO_RESPONSE_CODE, &code);
        *ret = k->len ? json_loadb(k->body, k->len, 0, NULL) : NULL;
        return code;
}

static void report_failure(const char *what, const struct conn *k) {
        if (atomic_flag_test_and_set(&g.first_failure))
                return;
        fprintf(stderr, "load-client: first failure: %s\n", what);
        if (k && k->body)
                fprintf(stderr, "  | %.3000s\n", k->body);
}

/*
 * One full attestation of in on base: challenge, evidence, attest. 0 when
 * the answer is 200, verified, green, with a token.
 */
static int attest_once(struct conn *k, const char *base, struct instance *in) {
        char body[160], *ev = NULL, *req = NULL, what[160];
        json_t *j = NULL;
        uint8_t *nonce = NULL;
        size_t nonce_len = 0;
        int r = -1;

        snprintf(body, sizeof body, "{\"instance\":\"%s\"}", in->name);
        long code = post(k, base, "/v1/challenge", body, &j);
        const char *hex = json_string_value(json_object_get(j, "nonce"));
        if (code != 201 || !hex || shield_hex_decode(hex, &nonce, &nonce_len) < 0 || nonce_len != NONCE_BYTES) {
                snprintf(what, sizeof what, "POST /v1/challenge for %s: HTTP %ld", in->name, code);
                report_failure(what, k);
                goto out;
        }
        json_decref(j);
        j = NULL;
        if (!(ev = build_evidence(in, nonce, nonce_len))) {
                report_failure("building the evidence (OpenSSL)", NULL);
                goto out;
        }
        size_t cap = strlen(ev) + 128;
        if (!(req = malloc(cap)))
                goto out;
        snprintf(req, cap, "{\"instance\":\"%s\",\"audience\":\"load\",\"evidence\":%s}", in->name, ev);
        code = post(k, base, "/v1/attest", req, &j);
        const char *colour = json_string_value(json_object_get(j, "colour"));
        const char *token = json_string_value(json_object_get(j, "token"));
        if (code != 200 || !json_is_true(json_object_get(j, "verified")) || !colour || strcmp(colour, "green") != 0 ||
            !token || !token[0]) {
                snprintf(what, sizeof what, "POST /v1/attest for %s: HTTP %ld, verified %s, colour %s, %s", in->name,
                         code, json_is_true(json_object_get(j, "verified")) ? "true" : "false",
                         colour ? colour : "null", token && token[0] ? "a token" : "no token");
                report_failure(what, k);
                goto out;
        }
        /* The first answer's warnings, if any: synthetic evidence should look like a TPM's to the letter. */
        json_t *reasons = json_object_get(j, "reasons");
        if (json_array_size(reasons) && !atomic_flag_test_and_set(&g.reasons_shown)) {
                char *txt = json_dumps(reasons, JSON_COMPACT);
                fprintf(stderr, "load-client: note: shieldd's reasons for %s: %.2000s\n", in->name, txt ? txt : "?");
                free(txt);
        }
        r = 0;
out:
        json_decref(j);
        free(nonce);
        free(ev);
        free(req);
        return r;
}

struct worker {
        pthread_t tid;
        unsigned index;
        unsigned long ok, failed;
        double *lat;
        size_t n_lat, cap_lat;
        double build_s, check_s;
};

static void *run_online(void *u) {
        struct worker *w = u;
        struct conn k;
        const char *base = g.urls[w->index % g.n_urls];
        if (conn_init(&k) < 0) {
                report_failure("curl_easy_init", NULL);
                w->failed++;
                return NULL;
        }
        /* Thread t takes instances t, t+T, t+2T…: an instance's clock is one thread's. */
        unsigned next = w->index % g.n_instances;
        while (!atomic_load(&g.stop)) {
                double t0 = now();
                int r = attest_once(&k, base, &g.inst[next]);
                double dt = now() - t0;
                next = (next + g.n_threads) % g.n_instances;
                if (r < 0) {
                        w->failed++;
                        continue;
                }
                w->ok++;
                if (w->n_lat == w->cap_lat) {
                        size_t cap = w->cap_lat ? 2 * w->cap_lat : 4096;
                        double *p = realloc(w->lat, cap * sizeof *p);
                        if (!p)
                                break;
                        w->lat = p;
                        w->cap_lat = cap;
                }
                w->lat[w->n_lat++] = dt;
        }
        conn_free(&k);
        return NULL;
}

/* ---- Offline: build and check in process, as shieldd does minus HTTP, store and token ---- */

static struct shield_golden *offline_golden;
static struct shield_integrity_policy offline_integrity;

static int check_in_process(struct instance *in, const char *ev_text, const uint8_t *nonce, struct shield_golden **ret_golden) {
        struct shield_evidence ev = { 0 };
        struct shield_evidence_result res = { 0 };
        struct shield_diag d = { 0 };
        int r = shield_evidence_parse_json(ev_text, strlen(ev_text), &ev, &d);
        if (r < 0) {
                fprintf(stderr, "load-client: the evidence does not parse: %s\n", d.msg);
                return r;
        }
        struct shield_evidence_policy pol = {
                .nonce = nonce, .nonce_len = NONCE_BYTES, .ak_public = in->ak_public, .ak_public_len = in->ak_public_len,
                .golden = offline_golden, .integrity = &offline_integrity,
        };
        r = shield_evidence_check(&ev, &pol, &res);
        if (r == 0 && ret_golden)
                r = shield_golden_from_evidence(&ev, ret_golden, &d);
        if (r == 0 && !ret_golden && (!res.has_colour || res.colour != SHIELD_GREEN))
                r = SHIELD_E_VERIFY;
        if (r < 0 && !atomic_flag_test_and_set(&g.first_failure)) {
                fprintf(stderr, "load-client: in-process check failed (%s):\n", shield_strerror(r));
                for (size_t i = 0; i < res.n_steps; i++)
                        fprintf(stderr, "  %s: %s %s\n", res.steps[i].name, shield_step_status_name(res.steps[i].status),
                                res.steps[i].detail);
                for (size_t i = 0; i < res.reasons.n; i++)
                        fprintf(stderr, "  reason %s: %s\n", res.reasons.items[i].code, res.reasons.items[i].message);
        }
        shield_evidence_result_clear(&res);
        shield_evidence_free(&ev);
        return r;
}

static void *run_offline(void *u) {
        struct worker *w = u;
        unsigned next = w->index % g.n_instances;
        while (!atomic_load(&g.stop)) {
                uint8_t nonce[NONCE_BYTES];
                struct instance *in = &g.inst[next];
                next = (next + g.n_threads) % g.n_instances;
                double t0 = now();
                if (shield_random_bytes(nonce, sizeof nonce) < 0)
                        abort();
                char *ev = build_evidence(in, nonce, sizeof nonce);
                double t1 = now();
                int r = ev ? check_in_process(in, ev, nonce, NULL) : -1;
                double t2 = now();
                free(ev);
                w->build_s += t1 - t0;
                w->check_s += t2 - t1;
                if (r < 0)
                        w->failed++;
                else
                        w->ok++;
        }
        return NULL;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

static int usage(void) {
        fprintf(stderr, "usage: load-client --ca-key KEY --ca-cert CERT --url URL[,URL…] [--instances N] [--threads T]\n"
                        "                   [--seconds D] [--alg ecc|rsa] [--prefix NAME]\n"
                        "       load-client --offline [--threads T] [--seconds D] [--alg ecc|rsa]\n");
        return 2;
}

int main(int argc, char **argv) {
        const char *ca_key_path = NULL, *ca_cert_path = NULL;
        char *url_list = NULL;
        bool offline = false;
        uint64_t v;
        EVP_PKEY *ca_key = NULL;
        X509 *ca = NULL;

        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        g.n_threads = cpus > 0 ? 2 * (unsigned)cpus : 4;
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
                if (strcmp(a, "--offline") == 0) {
                        offline = true;
                        continue;
                }
                if (!val)
                        return usage();
                i++;
                if (strcmp(a, "--ca-key") == 0)
                        ca_key_path = val;
                else if (strcmp(a, "--ca-cert") == 0)
                        ca_cert_path = val;
                else if (strcmp(a, "--url") == 0)
                        url_list = strdup(val);
                else if (strcmp(a, "--prefix") == 0)
                        g.prefix = val;
                else if (strcmp(a, "--alg") == 0 && (strcmp(val, "ecc") == 0 || strcmp(val, "rsa") == 0))
                        g.rsa = strcmp(val, "rsa") == 0;
                else if (strcmp(a, "--instances") == 0 && shield_parse_u64(val, 10, INSTANCES_MAX, &v) == 0 && v >= 1)
                        g.n_instances = (unsigned)v;
                else if (strcmp(a, "--threads") == 0 && shield_parse_u64(val, 10, THREADS_MAX, &v) == 0 && v >= 1)
                        g.n_threads = (unsigned)v;
                else if (strcmp(a, "--seconds") == 0 && shield_parse_u64(val, 10, 3600, &v) == 0 && v >= 1)
                        g.seconds = (unsigned)v;
                else
                        return usage();
        }
        if (!offline) {
                if (!ca_key_path || !ca_cert_path || !url_list)
                        return usage();
                for (char *p = url_list; p && *p && g.n_urls < URLS_MAX;) {
                        char *comma = strchr(p, ',');
                        if (comma)
                                *comma = '\0';
                        g.urls[g.n_urls++] = p;
                        p = comma ? comma + 1 : NULL;
                }
                FILE *f = fopen(ca_key_path, "re");
                ca_key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
                if (f)
                        fclose(f);
                f = fopen(ca_cert_path, "re");
                ca = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
                if (f)
                        fclose(f);
                if (!ca_key || !ca) {
                        fprintf(stderr, "load-client: cannot read the CA (%s, %s: PEM expected)\n", ca_key_path, ca_cert_path);
                        return 2;
                }
        }
        if (make_eventlog() < 0 || !(g.inst = calloc(g.n_instances, sizeof *g.inst))) {
                fprintf(stderr, "load-client: out of memory\n");
                return 2;
        }
        for (unsigned i = 0; i < g.n_instances; i++)
                if (make_instance(&g.inst[i], i, ca_key, ca) < 0) {
                        fprintf(stderr, "load-client: cannot make instance %u's AK (OpenSSL)\n", i);
                        return 2;
                }

        struct worker *w = calloc(g.n_threads, sizeof *w);
        if (!w)
                return 2;
        if (offline) {
                struct shield_diag d = { 0 };
                uint8_t nonce[NONCE_BYTES] = { 1 };
                char *ev = build_evidence(&g.inst[0], nonce, sizeof nonce);
                if (shield_integrity_policy_parse("gce", &offline_integrity, &d) < 0 || !ev ||
                    check_in_process(&g.inst[0], ev, nonce, &offline_golden) < 0) {
                        fprintf(stderr, "load-client: the synthetic evidence does not verify in process\n");
                        return 1;
                }
                free(ev);
        } else {
                curl_global_init(CURL_GLOBAL_DEFAULT);
                struct conn k;
                if (conn_init(&k) < 0)
                        return 2;
                /* Register every instance (trusted by its AK certificate) and attest once: its golden. */
                for (unsigned i = 0; i < g.n_instances; i++) {
                        struct instance *in = &g.inst[i];
                        size_t cap = strlen(in->ak_public_b64) + strlen(in->ak_cert_b64) + 256;
                        char *body = malloc(cap);
                        json_t *j = NULL;
                        if (!body)
                                return 2;
                        snprintf(body, cap, "{\"name\":\"%s\",\"ak_public\":\"%s\",\"ak_certificate\":\"%s\"}", in->name,
                                 in->ak_public_b64, in->ak_cert_b64);
                        long code = post(&k, g.urls[i % g.n_urls], "/v1/instances", body, &j);
                        free(body);
                        bool trusted = json_is_true(json_object_get(j, "trusted"));
                        json_decref(j);
                        if ((code != 201 && code != 200) || !trusted) {
                                fprintf(stderr, "load-client: registering %s: HTTP %ld, %s\n  | %.2000s\n", in->name, code,
                                        trusted ? "trusted" : "not trusted (does --ak-ca name the bench CA?)",
                                        k.body ? k.body : "");
                                return 1;
                        }
                        if (attest_once(&k, g.urls[i % g.n_urls], in) < 0) {
                                fprintf(stderr, "load-client: shieldd does not accept the synthetic evidence of %s "
                                                "(see the first failure above)\n", in->name);
                                return 1;
                        }
                }
                conn_free(&k);
        }

        double t0 = now();
        for (unsigned i = 0; i < g.n_threads; i++) {
                w[i].index = i;
                if (pthread_create(&w[i].tid, NULL, offline ? run_offline : run_online, &w[i]) != 0) {
                        fprintf(stderr, "load-client: pthread_create: %s\n", strerror(errno));
                        return 2;
                }
        }
        struct timespec ts = { .tv_sec = g.seconds };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
        atomic_store(&g.stop, 1);
        unsigned long ok = 0, failed = 0;
        size_t n_lat = 0;
        double build_s = 0, check_s = 0;
        for (unsigned i = 0; i < g.n_threads; i++) {
                pthread_join(w[i].tid, NULL);
                ok += w[i].ok;
                failed += w[i].failed;
                n_lat += w[i].n_lat;
                build_s += w[i].build_s;
                check_s += w[i].check_s;
        }
        double elapsed = now() - t0;

        if (offline) {
                printf("attestations=%lu failures=%lu seconds=%.3f rate=%.1f build_us=%.1f check_us=%.1f\n", ok, failed,
                       elapsed, (double)ok / elapsed, ok + failed ? build_s / (double)(ok + failed) * 1e6 : 0.0,
                       ok + failed ? check_s / (double)(ok + failed) * 1e6 : 0.0);
        } else {
                double *all = malloc((n_lat ? n_lat : 1) * sizeof *all);
                if (!all)
                        return 2;
                size_t o = 0;
                for (unsigned i = 0; i < g.n_threads; i++) {
                        if (w[i].n_lat)
                                memcpy(all + o, w[i].lat, w[i].n_lat * sizeof *all);
                        o += w[i].n_lat;
                        free(w[i].lat);
                }
                qsort(all, n_lat, sizeof *all, cmp_double);
                double p50 = n_lat ? all[n_lat / 2] : 0, p99 = n_lat ? all[(n_lat * 99) / 100] : 0;
                double mx = n_lat ? all[n_lat - 1] : 0;
                printf("attestations=%lu failures=%lu seconds=%.3f rate=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n", ok,
                       failed, elapsed, (double)ok / elapsed, p50 * 1e3, p99 * 1e3, mx * 1e3);
                free(all);
                curl_global_cleanup();
        }
        for (unsigned i = 0; i < g.n_instances; i++) {
                EVP_PKEY_free(g.inst[i].key);
                free(g.inst[i].ak_public_b64);
                free(g.inst[i].ak_cert_b64);
        }
        shield_golden_free(offline_golden);
        free(g.inst);
        free(g.eventlog_b64);
        free(g.pcrs_json);
        free(w);
        free(url_list);
        EVP_PKEY_free(ca_key);
        X509_free(ca);
        return failed ? 1 : 0;
}
