/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP layer: libmicrohttpd, bodies, limits, the request log, and the
 * TLS client certificate a machine presents (its sealed credential). The
 * only file that includes microhttpd.h and gnutls.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "http.h"
#include "shield/util.h"
#include "shieldd.h"

struct conn_state {
        char *body;
        size_t len, cap;
        bool too_large;
        bool answered;          /* a response was queued on the first call (413 before the body) */
};

static void remote_of(struct MHD_Connection *c, char *out, size_t len) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        snprintf(out, len, "-");
        if (!ci || !ci->client_addr)
                return;
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, (socklen_t)len);
        else if (sa->sa_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out, (socklen_t)len);
}

static enum MHD_Result send_response(struct MHD_Connection *c, const char *method, const char *url,
                                     const char *remote, struct shieldd_response *rs) {
        struct MHD_Response *resp;
        if (rs->body_static)
                resp = MHD_create_response_from_buffer(rs->len, rs->body, MHD_RESPMEM_PERSISTENT);
        else {
                resp = MHD_create_response_from_buffer(rs->len, rs->body, MHD_RESPMEM_MUST_FREE);
                if (resp)
                        rs->body = NULL; /* transferred */
        }
        if (!resp) {
                if (!rs->body_static)
                        free(rs->body);
                return MHD_NO;
        }
        if (rs->content_type)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rs->content_type);
        MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
        MHD_add_response_header(resp, "X-Frame-Options", "DENY");
        MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, rs->cacheable ? "max-age=300" : "no-store");
        if (rs->allow)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, rs->allow);
        if (rs->status == 401)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"shieldd\"");
        enum MHD_Result ret = MHD_queue_response(c, (unsigned)rs->status, resp);
        MHD_destroy_response(resp);
        shieldd_metrics_request(rs->status);
        if (rs->status >= 400)
                shieldd_log_refusal(remote, method, url, rs->status, rs->reason ? rs->reason : "-");
        return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
        (void)cls;
        (void)version;
        struct conn_state *st = *con_cls;
        char remote[INET6_ADDRSTRLEN + 1];

        if (!st) {
                if (!(st = calloc(1, sizeof *st)))
                        return MHD_NO;
                *con_cls = st;
                /* Refuse an announced oversized body before reading it (and before 100-continue). */
                const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
                uint64_t n;
                if (cl && (shield_parse_u64(cl, 10, UINT64_MAX, &n) < 0 || n > SHIELDD_BODY_MAX)) {
                        struct shieldd_response rs = { 0 };
                        remote_of(c, remote, sizeof remote);
                        shieldd_reply_error(&rs, 413, "body-too-large", "request bodies are at most %u bytes",
                                            SHIELDD_BODY_MAX);
                        st->answered = true;
                        return send_response(c, method, url, remote, &rs);
                }
                return MHD_YES;
        }
        if (*upload_data_size) {
                size_t n = *upload_data_size;
                *upload_data_size = 0;
                if (st->answered || st->too_large)
                        return MHD_YES;
                if (n > SHIELDD_BODY_MAX - st->len) {
                        st->too_large = true;
                        free(st->body);
                        st->body = NULL;
                        st->len = st->cap = 0;
                        return MHD_YES;
                }
                if (st->len + n + 1 > st->cap) {
                        size_t cap = st->cap ? st->cap : 4096;
                        while (cap < st->len + n + 1)
                                cap *= 2;
                        char *b = realloc(st->body, cap);
                        if (!b)
                                return MHD_NO;
                        st->body = b;
                        st->cap = cap;
                }
                memcpy(st->body + st->len, upload_data, n);
                st->len += n;
                st->body[st->len] = '\0';
                return MHD_YES;
        }
        if (st->answered)
                return MHD_YES;
        st->answered = true;
        remote_of(c, remote, sizeof remote);
        struct shieldd_response rs = { 0 };
        if (st->too_large) {
                shieldd_reply_error(&rs, 413, "body-too-large", "request bodies are at most %u bytes", SHIELDD_BODY_MAX);
                return send_response(c, method, url, remote, &rs);
        }
        struct shieldd_request rq = {
                .method = method, .path = url, .body = st->body ? st->body : "", .len = st->len, .remote = remote,
                .authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
        };
        /* The client's certificate, as sent: whether it is a current credential is the API's to judge. */
        const union MHD_ConnectionInfo *tls = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
        if (tls && tls->tls_session) {
                unsigned n = 0;
                const gnutls_datum_t *peers = gnutls_certificate_get_peers((gnutls_session_t)tls->tls_session, &n);
                if (peers && n > 0 && peers[0].size > 0) {
                        rq.client_cert = peers[0].data;
                        rq.client_cert_len = peers[0].size;
                }
        }
        shieldd_api_handle(&rq, &rs);
        return send_response(c, method, url, remote, &rs);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
        (void)cls;
        (void)c;
        (void)toe;
        struct conn_state *st = *con_cls;
        if (st) {
                free(st->body);
                free(st);
                *con_cls = NULL;
        }
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
        (void)cls;
        char buf[512];
        vsnprintf(buf, sizeof buf, fmt, ap);
        buf[strcspn(buf, "\n")] = '\0';
        shieldd_log("libmicrohttpd: %s", buf);
}

struct shieldd_http {
        struct MHD_Daemon *d;
};

int shieldd_http_start(const struct sockaddr *addr, unsigned threads, const char *cert_pem, const char *key_pem,
                       const char *client_ca_pem, struct shieldd_http **ret, unsigned *ret_port) {
        struct shieldd_http *h = calloc(1, sizeof *h);
        if (!h)
                return -ENOMEM;
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
        if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES)
                flags |= MHD_USE_EPOLL;
        if (addr->sa_family == AF_INET6)
                flags |= MHD_USE_IPv6;
        if (cert_pem) {
                if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
                        free(h);
                        return -ENOTSUP;
                }
                flags |= MHD_USE_TLS;
        }
        struct MHD_OptionItem tls_opts[] = {
                { cert_pem ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, (void *)cert_pem },
                { MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)key_pem },
                /* Ask (not require) every client for a certificate from this CA: machines present their credential. */
                { cert_pem && client_ca_pem ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0, (void *)client_ca_pem },
                { MHD_OPTION_END, 0, NULL },
        };
        h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL,
                                MHD_OPTION_SOCK_ADDR, addr,
                                MHD_OPTION_THREAD_POOL_SIZE, threads,
                                MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                                MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
                                MHD_OPTION_CONNECTION_TIMEOUT, 60u,
                                MHD_OPTION_CONNECTION_LIMIT, 1024u,
                                MHD_OPTION_ARRAY, tls_opts,
                                MHD_OPTION_END);
        if (!h->d) {
                free(h);
                return -EADDRNOTAVAIL;
        }
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
        *ret_port = di ? di->port : 0;
        *ret = h;
        return 0;
}

void shieldd_http_stop(struct shieldd_http *h) {
        if (!h)
                return;
        MHD_stop_daemon(h->d);
        free(h);
}

