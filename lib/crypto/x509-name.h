/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/* X.509 name helpers shared inside lib/crypto. */
#include <openssl/x509.h>
#include <stddef.h>

/* The name's first commonName as UTF-8 into out (len bytes, truncated); "" when it has none. */
void crypto_name_cn(const X509_NAME *name, char *out, size_t len);
