/* SPDX-License-Identifier: Apache-2.0 */
/* shieldd: the attestation and integrity service (docs/API.md). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "shield/crypto.h"
#include "shield/keys.h"
#include "shield/credential.h"
#include "shield/tls.h"
#include "shield/util.h"
#include "shieldd.h"

#define EXIT_USAGE 2

struct shieldd_config shieldd_cfg;
uint8_t shieldd_admin_hash[32];

static const char usage[] =
        "Usage: shieldd [OPTIONS]\n"
        "\n"
        "The Shieldkit attestation and integrity service. Machines register their\n"
        "TPM attestation key (AK), ask for a nonce, and send evidence (a quote over\n"
        "that nonce, PCR values and the firmware event log; `shield attest` makes it).\n"
        "shieldd checks the evidence step by step, compares it with the machine's\n"
        "golden measurement (green, yellow, red), keeps every verdict in the store,\n"
        "and answers a verified attestation with a signed JWT that any OpenID\n"
        "Connect library can check against GET /jwks. docs/API.md is the contract.\n"
        "\n"
        "Options:\n"
        "  --listen ADDR:PORT     where to listen (default 127.0.0.1:8443; port 0\n"
        "                         picks a free one; [::1]:PORT for IPv6)\n"
        "  --store URL            sqlite:PATH or postgresql://… (default\n"
        "                         sqlite:STATE/shieldd.db). Several shieldd on one\n"
        "                         PostgreSQL database share instances, nonces and keys.\n"
        "  --tls-cert FILE        the server certificate (PEM; a chain may follow)\n"
        "  --tls-key FILE         its private key (PEM)\n"
        "                         Without both, shieldd makes a self-signed ECDSA P-256\n"
        "                         certificate on first start: STATE/tls.crt, STATE/tls.key\n"
        "                         (clients pin it: curl --cacert STATE/tls.crt).\n"
        "  --no-tls               plain HTTP (tests, or behind a TLS-terminating proxy)\n"
        "  --state DIR            the service's state directory (default\n"
        "                         $STATE_DIRECTORY, else $XDG_STATE_HOME/shieldkit/shieldd,\n"
        "                         else ~/.local/state/shieldkit/shieldd); created 0700\n"
        "  --admin-token-file F   where the admin bearer token is written on first start\n"
        "                         (0600; default STATE/admin-token). The store keeps only\n"
        "                         its SHA-256; delete the file once it is copied.\n"
        "  --issuer URL           the tokens' \"iss\" (default https://ADDR:PORT, or\n"
        "                         http:// with --no-tls)\n"
        "  --token-alg ALG        ES256 (default, P-256) or RS256 (RSA-2048)\n"
        "  --key-lifetime TIME    how long a signing key signs before a new one takes\n"
        "                         over: N, Ns, Nm, Nh or Nd (default 30d). Old keys stay in\n"
        "                         the JWKS until their last token has expired.\n"
        "  --ak-ca CERT           trust at once an AK whose certificate (given at\n"
        "                         registration) chains to this CA (DER or PEM) and\n"
        "                         names the instance (subject CN or subjectAltName)\n"
        "  --ek-ca DIR            TPM manufacturers' CA certificates (DER or PEM, any\n"
        "                         names): an EK whose certificate chains to one of them\n"
        "                         may register; its AK is trusted after credential\n"
        "                         activation. Any other EK registers only when the\n"
        "                         operator enrols it (the admin token on the request).\n"
        "  --require-enrolment    EK registrations need the admin token too: the\n"
        "                         operator hands out names, a genuine TPM cannot claim one\n"
        "  --webhook URL          POST {\"instance\",\"from\",\"to\",\"time\"} on every colour change\n"
        "  --threads N            HTTP worker threads (default: the number of CPUs)\n"
        "  --credential-validity TIME\n"
        "                         how long a sealed machine credential is valid: N, Ns,\n"
        "                         Nm, Nh or Nd (default 7d; 60s to 398d). The machine CA\n"
        "                         that signs them is made on first start and kept in the\n"
        "                         store (docs/CREDENTIALS.md).\n"
        "  -h, --help             this text\n"
        "\n"
        "Routes: POST /v1/instances, POST /v1/instances/NAME/activate, POST /v1/challenge,\n"
        "POST /v1/attest, GET /v1/instances[/NAME], POST /v1/instances/NAME/golden/reset\n"
        "and DELETE /v1/instances/NAME (admin token), GET /.well-known/openid-configuration,\n"
        "GET /jwks, GET /metrics (Prometheus), GET / (the dashboard); sealed credentials:\n"
        "POST /v1/intents (admin token), GET /v1/ca/cert, GET /v1/ca/crl,\n"
        "GET /v1/credentials/SERIAL, POST /v1/cluster/join (a TLS client certificate).\n"
        "\n"
        "Request bodies are at most 8 MiB. Every refusal is logged on stderr as one\n"
        "line: time, client address, route, status and reason code (never a secret).\n"
        "SIGINT or SIGTERM stop it gracefully: requests in flight are finished.\n"
        "\n"
        "Exit status: 0 stopped by a signal, 2 bad usage or the service could not start.\n"
        "\n"
        "Example:\n"
        "  shieldd --state /var/lib/shieldd --ak-ca /etc/shieldkit/platform-ca.crt \\\n"
        "          --ek-ca /etc/shieldkit/tpm-vendor-cas\n"
        "  curl --cacert /var/lib/shieldd/tls.crt https://127.0.0.1:8443/v1/instances\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        fputs("shieldd: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputs("\nTry 'shieldd --help'.\n", stderr);
        va_end(ap);
        return EXIT_USAGE;
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        fputs("shieldd: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        return EXIT_USAGE;
}

/* "127.0.0.1:8443", "[::1]:8443" → a socket address. */
static int parse_listen(const char *s, struct sockaddr_storage *ret, char *host, size_t host_len, unsigned *port) {
        const char *colon;
        size_t hl;
        memset(ret, 0, sizeof *ret);
        if (s[0] == '[') {
                const char *end = strchr(s, ']');
                if (!end || end[1] != ':')
                        return -1;
                hl = (size_t)(end - s - 1);
                if (hl >= host_len)
                        return -1;
                memcpy(host, s + 1, hl);
                colon = end + 1;
        } else {
                colon = strrchr(s, ':');
                if (!colon)
                        return -1;
                hl = (size_t)(colon - s);
                if (hl >= host_len)
                        return -1;
                memcpy(host, s, hl);
        }
        host[hl] = '\0';
        uint64_t p;
        if (shield_parse_u64(colon + 1, 10, 65535, &p) < 0)
                return -1;
        *port = (unsigned)p;
        struct sockaddr_in *in4 = (struct sockaddr_in *)ret;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ret;
        if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
                in4->sin_family = AF_INET;
                in4->sin_port = htons((uint16_t)p);
        } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons((uint16_t)p);
        } else
                return -1;
        return 0;
}

/* "30d", "12h", "90m", "45s", "3600" → seconds. */
static int parse_duration(const char *s, int64_t *ret) {
        size_t n = strlen(s);
        int64_t unit = 1;
        char buf[32];
        if (n == 0 || n >= sizeof buf)
                return -1;
        memcpy(buf, s, n + 1);
        switch (buf[n - 1]) {
        case 's': unit = 1; buf[n - 1] = '\0'; break;
        case 'm': unit = 60; buf[n - 1] = '\0'; break;
        case 'h': unit = 3600; buf[n - 1] = '\0'; break;
        case 'd': unit = 86400; buf[n - 1] = '\0'; break;
        default: break;
        }
        int64_t v;
        if (shield_parse_i64(buf, 10, 1, INT64_MAX / 86400 / 1000, &v) < 0)
                return -1;
        *ret = v * unit;
        return 0;
}

static char *join(const char *a, const char *b) {
        char *p = NULL;
        return asprintf(&p, "%s/%s", a, b) < 0 ? NULL : p;
}


static char *default_state_dir(void) {
        const char *e = getenv("STATE_DIRECTORY");
        if (e && *e) {
                /* systemd may list several, separated by ':'; the first is ours. */
                return strndup(e, strcspn(e, ":"));
        }
        e = getenv("XDG_STATE_HOME");
        if (e && *e)
                return join(e, "shieldkit/shieldd");
        e = getenv("HOME");
        if (e && *e)
                return join(e, ".local/state/shieldkit/shieldd");
        return NULL;
}

/* The self-signed certificate of the first start, or the one made then. */
static int ensure_tls(const char *host, char **ret_cert_pem, char **ret_key_pem) {
        uint8_t *cert = NULL, *key = NULL;
        size_t cert_len, key_len;
        char *cert_path = shieldd_cfg.tls_cert, *key_path = shieldd_cfg.tls_key;
        bool generated = false;
        if (access(key_path, F_OK) != 0 && access(cert_path, F_OK) != 0 && errno == ENOENT) {
                const char *names[3] = { "localhost", "127.0.0.1", "::1" };
                size_t n = 3;
                const char *all[4];
                memcpy(all, names, sizeof names);
                if (strcmp(host, "localhost") && strcmp(host, "127.0.0.1") && strcmp(host, "::1") &&
                    strcmp(host, "0.0.0.0") && strcmp(host, "::"))
                        all[n++] = host;
                struct shield_keypair kp;
                int r = shield_tls_self_signed("shieldd", all, n, 3650, &kp);
                if (r < 0)
                        return fail("cannot make a TLS certificate: %s", shield_strerror(r));
                r = shield_write_file_atomic(key_path, kp.key_pem, kp.key_pem_len, 0600);
                if (r == 0)
                        r = shield_write_file_atomic(cert_path, kp.cert_pem, kp.cert_pem_len, 0644);
                shield_keypair_clear(&kp);
                if (r < 0)
                        return fail("cannot write %s / %s: %s", key_path, cert_path, strerror(errno));
                generated = true;
        }
        if (shield_read_file(cert_path, 1u << 20, &cert, &cert_len) < 0)
                return fail("cannot read the TLS certificate %s: %s", cert_path, strerror(errno));
        if (shield_read_file(key_path, 1u << 20, &key, &key_len) < 0) {
                free(cert);
                return fail("cannot read the TLS key %s: %s", key_path, strerror(errno));
        }
        if (generated)
                shieldd_log("made a self-signed TLS certificate: %s (clients pin it)", cert_path);
        *ret_cert_pem = (char *)cert;
        *ret_key_pem = (char *)key;
        (void)key_len;
        return 0;
}

/* The admin token: made on first start, its SHA-256 kept in the store. */
static int ensure_admin(struct shield_store *s) {
        struct shield_diag diag = { 0 };
        int r = shield_store_admin_hash_get(s, shieldd_admin_hash, &diag);
        if (r == 0)
                return 0;
        if (r != SHIELD_E_NOT_FOUND)
                return fail("store: %s", diag.msg);
        uint8_t raw[32];
        char token[65];
        if (shield_random_bytes(raw, sizeof raw) < 0)
                return fail("no random bytes");
        shield_hex_encode(raw, sizeof raw, token);
        explicit_bzero(raw, sizeof raw);
        r = shield_write_file_atomic(shieldd_cfg.admin_token_file, token, 64, 0600);
        if (r < 0) {
                explicit_bzero(token, sizeof token);
                return fail("cannot write the admin token to %s: %s", shieldd_cfg.admin_token_file, strerror(errno));
        }
        r = shield_hash(SHIELD_ALG_SHA256, token, 64, shieldd_admin_hash);
        explicit_bzero(token, sizeof token);
        if (r < 0 || shield_store_admin_hash_set(s, shieldd_admin_hash, &diag) < 0)
                return fail("store: %s", diag.msg);
        shieldd_log("made the admin token: %s (0600)", shieldd_cfg.admin_token_file);
        return 0;
}

int main(int argc, char **argv) {
        enum { O_LISTEN = 256, O_STORE, O_CERT, O_KEY, O_NOTLS, O_STATE, O_ADMIN, O_ISSUER, O_ALG, O_LIFE, O_AKCA,
               O_EKCA, O_ENROL, O_HOOK, O_THREADS, O_CREDVAL };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "listen", required_argument, NULL, O_LISTEN },
                { "store", required_argument, NULL, O_STORE },
                { "tls-cert", required_argument, NULL, O_CERT },
                { "tls-key", required_argument, NULL, O_KEY },
                { "no-tls", no_argument, NULL, O_NOTLS },
                { "state", required_argument, NULL, O_STATE },
                { "admin-token-file", required_argument, NULL, O_ADMIN },
                { "issuer", required_argument, NULL, O_ISSUER },
                { "token-alg", required_argument, NULL, O_ALG },
                { "key-lifetime", required_argument, NULL, O_LIFE },
                { "ak-ca", required_argument, NULL, O_AKCA },
                { "ek-ca", required_argument, NULL, O_EKCA },
                { "require-enrolment", no_argument, NULL, O_ENROL },
                { "webhook", required_argument, NULL, O_HOOK },
                { "threads", required_argument, NULL, O_THREADS },
                { "credential-validity", required_argument, NULL, O_CREDVAL },
                {},
        };
        struct shieldd_config *cfg = &shieldd_cfg;
        const char *store = NULL, *cert = NULL, *key = NULL, *state = NULL, *admin = NULL, *issuer = NULL,
                   *ak_ca = NULL;
        uint64_t u;
        int c;

        cfg->listen = "127.0.0.1:8443";
        cfg->token_alg = "ES256";
        cfg->key_lifetime = 30 * 86400;
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        cfg->threads = ncpu > 0 && ncpu < 256 ? (unsigned)ncpu : 4;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h': fputs(usage, stdout); return 0;
                case O_LISTEN: cfg->listen = optarg; break;
                case O_STORE: store = optarg; break;
                case O_CERT: cert = optarg; break;
                case O_KEY: key = optarg; break;
                case O_NOTLS: cfg->no_tls = true; break;
                case O_STATE: state = optarg; break;
                case O_ADMIN: admin = optarg; break;
                case O_ISSUER: issuer = optarg; break;
                case O_ALG:
                        if (strcmp(optarg, "ES256") && strcmp(optarg, "RS256"))
                                return usage_error("--token-alg: ES256 or RS256");
                        cfg->token_alg = optarg;
                        break;
                case O_LIFE:
                        if (parse_duration(optarg, &cfg->key_lifetime) < 0)
                                return usage_error("--key-lifetime: a duration such as 30d, 12h, 90m or 3600");
                        break;
                case O_AKCA: ak_ca = optarg; break;
                case O_ENROL: cfg->require_enrolment = true; break;
                case O_EKCA: {
                        struct stat st;
                        if (stat(optarg, &st) < 0 || !S_ISDIR(st.st_mode))
                                return usage_error("--ek-ca %s: not a directory of CA certificates", optarg);
                        cfg->ek_ca_dir = optarg;
                        break;
                }
                case O_HOOK:
                        if (strncmp(optarg, "http://", 7) && strncmp(optarg, "https://", 8))
                                return usage_error("--webhook: an http:// or https:// URL");
                        cfg->webhook = optarg;
                        break;
                case O_THREADS:
                        if (shield_parse_u64(optarg, 10, 1024, &u) < 0 || u == 0)
                                return usage_error("--threads: 1 to 1024");
                        cfg->threads = (unsigned)u;
                        break;
                case O_CREDVAL: {
                        int64_t secs = 0;
                        if (parse_duration(optarg, &secs) < 0 || secs < 60 || secs > 398 * 86400)
                                return usage_error("--credential-validity: a duration from 60s to 398d");
                        cfg->credential_validity = (uint32_t)secs;
                        break;
                }
                default: return usage_error("unknown option '%s'", argv[optind - 1]);
                }
        if (optind != argc)
                return usage_error("unexpected argument '%s'", argv[optind]);
        if (!cert != !key)
                return usage_error("--tls-cert and --tls-key go together");
        if (cert && cfg->no_tls)
                return usage_error("--no-tls and --tls-cert contradict each other");

        struct sockaddr_storage addr;
        char host[64];
        unsigned port;
        if (parse_listen(cfg->listen, &addr, host, sizeof host, &port) < 0)
                return usage_error("--listen: ADDR:PORT with a numeric IPv4 or [IPv6] address, e.g. 127.0.0.1:8443");

        char *state_dir = state ? strdup(state) : default_state_dir();
        if (!state_dir)
                return fail("no state directory: give --state DIR");
        cfg->state_dir = state_dir;
        if (shield_mkdir_parents(state_dir, 0700, 0700) < 0)
                return fail("cannot create %s: %s", state_dir, strerror(errno));
        if (store)
                cfg->store_url = strdup(store);
        else if (asprintf(&cfg->store_url, "sqlite:%s/shieldd.db", state_dir) < 0)
                cfg->store_url = NULL;
        cfg->admin_token_file = admin ? strdup(admin) : join(state_dir, "admin-token");
        if (!cfg->no_tls) {
                cfg->tls_cert = cert ? strdup(cert) : join(state_dir, "tls.crt");
                cfg->tls_key = key ? strdup(key) : join(state_dir, "tls.key");
        }
        if (!cfg->store_url || !cfg->admin_token_file || (!cfg->no_tls && (!cfg->tls_cert || !cfg->tls_key)))
                return fail("out of memory");
        if (ak_ca) {
                int r = shield_read_file(ak_ca, 1u << 20, &cfg->ak_ca, &cfg->ak_ca_len);
                if (r < 0)
                        return fail("--ak-ca %s: %s", ak_ca, r == SHIELD_E_SYSTEM ? strerror(errno) : shield_strerror(r));
        }

        /* Signals are taken by sigwait in this thread; every thread started from here inherits the mask. */
        sigset_t sigs;
        sigemptyset(&sigs);
        sigaddset(&sigs, SIGINT);
        sigaddset(&sigs, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &sigs, NULL);
        signal(SIGPIPE, SIG_IGN);

        char *cert_pem = NULL, *key_pem = NULL;
        if (!cfg->no_tls && ensure_tls(host, &cert_pem, &key_pem) != 0)
                return EXIT_USAGE;

        struct shield_store *s = NULL;
        struct shield_diag diag = { 0 };
        if (shieldd_store_init() < 0)
                return fail("out of memory");
        if (!(s = shieldd_store()))
                return fail("cannot open the store (see above)");
        if (ensure_admin(s) != 0)
                return EXIT_USAGE;
        if (shieldd_keys_init(s, &diag) < 0)
                return fail("cannot make or load a token signing key: %s", diag.msg);
        if (shieldd_webhook_init() < 0)
                return fail("cannot start the webhook sender");
        if (shield_credential_ca(s, &cfg->machine_ca, &diag) < 0)
                return fail("cannot make or load the machine CA: %s", diag.msg);
        cfg->machine_ca_pem = strdup(shield_machine_ca_cert_pem(cfg->machine_ca));

        struct shieldd_http *http = NULL;
        unsigned bound = 0;
        int r = shieldd_http_start((const struct sockaddr *)&addr, cfg->threads, cert_pem, key_pem, cfg->machine_ca_pem, &http,
                                   &bound);
        if (key_pem) {
                explicit_bzero(key_pem, strlen(key_pem));
                free(key_pem);
        }
        free(cert_pem);
        if (r < 0)
                return fail("cannot listen on %s: %s", cfg->listen,
                            r == -ENOTSUP ? "this libmicrohttpd has no TLS" : "address in use or not available");
        const char *scheme = cfg->no_tls ? "http" : "https";
        char where[128];
        if (addr.ss_family == AF_INET6)
                snprintf(where, sizeof where, "[%s]:%u", host, bound);
        else
                snprintf(where, sizeof where, "%s:%u", host, bound);
        if (issuer) {
                size_t n = strlen(issuer);
                while (n > 1 && issuer[n - 1] == '/')
                        n--;
                cfg->issuer = strndup(issuer, n);
        } else if (asprintf(&cfg->issuer, "%s://%s", scheme, where) < 0)
                cfg->issuer = NULL;
        if (!cfg->issuer)
                return fail("out of memory");
        shieldd_log("listening on %s://%s (%u threads, store %s)", scheme, where, cfg->threads,
                    shield_store_is_postgresql(cfg->store_url) ? "PostgreSQL" : "SQLite");

        int sig = 0;
        while (sigwait(&sigs, &sig) != 0)
                ;
        shieldd_log("%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        shieldd_http_stop(http);
        shieldd_webhook_shutdown();
        shieldd_keys_free();
        shieldd_store_release();
        free(cfg->store_url);
        free(cfg->state_dir);
        free(cfg->admin_token_file);
        free(cfg->tls_cert);
        free(cfg->tls_key);
        free(cfg->issuer);
        free(cfg->ak_ca);
        free(cfg->machine_ca_pem);
        shield_machine_ca_free(cfg->machine_ca);
        return 0;
}
