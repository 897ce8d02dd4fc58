/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <sys/socket.h>

struct shieldd_http;

/*
 * Listen on addr with a pool of threads (each with its own event loop,
 * epoll where available); TLS when cert_pem/key_pem are given, asking
 * clients for a certificate issued by client_ca_pem (may be NULL). *ret_port
 * is the port bound (useful with port 0). Negative errno on failure.
 */
int shieldd_http_start(const struct sockaddr *addr, unsigned threads, const char *cert_pem, const char *key_pem,
                       const char *client_ca_pem, struct shieldd_http **ret, unsigned *ret_port);
/* Stop accepting, finish the requests in flight, join the threads. NULL allowed. */
void shieldd_http_stop(struct shieldd_http *h);
