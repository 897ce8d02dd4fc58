/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * A server certificate for a service that has none (shieldd's first run
 * without --tls-cert): an ECDSA P-256 key and a self-signed X.509
 * certificate for it. Clients pin the certificate itself
 * (`curl --cacert tls.crt`), so it carries the names they connect to.
 */
#include <stddef.h>

#include "shield/error.h"
#include "shield/keys.h"

#define SHIELD_TLS_NAMES_MAX 16 /* subjectAltName entries */

/*
 * Make a P-256 key and a self-signed certificate (SHA-256, random serial,
 * valid from now for days; CA:FALSE, keyUsage digitalSignature,
 * extendedKeyUsage serverAuth) with subject "CN=<common_name>" and a
 * subjectAltName for every entry of names (n at most
 * SHIELD_TLS_NAMES_MAX): an IPv4/IPv6 literal becomes an iPAddress, any
 * other string a dNSName. *ret (PKCS#8 key PEM, certificate DER and PEM) is
 * written only on success; release it with shield_keypair_clear().
 * SHIELD_E_INVAL for a bad argument (an empty name, a name with a comma or
 * a control character), SHIELD_E_CRYPTO when OpenSSL fails.
 */
__attribute__((warn_unused_result))
int shield_tls_self_signed(const char *common_name, const char *const *names, size_t n, unsigned days,
                           struct shield_keypair *ret);
