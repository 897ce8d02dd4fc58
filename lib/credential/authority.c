/* SPDX-License-Identifier: Apache-2.0 */
/* The service's machine CA, its CRL, and relying on a credential (shield/credential.h, step 4). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credential-internal.h"

#define SETTING_MACHINE_CA "machine_ca_pem"

int shield_credential_ca(struct shield_store *store, struct shield_machine_ca **ret, struct shield_diag *diag) {
        char *key = NULL, *cert = NULL, *made = NULL;
        uint8_t *held = NULL;
        size_t held_len = 0;
        int r;

        if (!store || !ret)
                return SHIELD_E_INVAL;
        /* One value (key then certificate), so replicas racing to make it agree on both halves. */
        if ((r = shield_machine_ca_create("Shieldkit machine CA", 3650, &key, &cert, diag)) < 0)
                return r;
        if (asprintf(&made, "%s%s", key, cert) < 0) {
                made = NULL;
                r = SHIELD_E_NOMEM;
                goto out;
        }
        if ((r = shield_store_setting_init(store, SETTING_MACHINE_CA, (const uint8_t *)made, strlen(made), &held, &held_len,
                                           diag)) < 0)
                goto out;
        /* held: the key PEM, then the certificate PEM; split at the certificate. */
        char *at = strstr((char *)held, "-----BEGIN CERTIFICATE-----");
        if (!at) {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "the stored machine CA has no certificate");
                goto out;
        }
        char *cert_part = strdup(at);
        if (!cert_part) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        *at = '\0';
        r = shield_machine_ca_load((char *)held, cert_part, ret, diag);
        free(cert_part);
out:
        if (key) {
                explicit_bzero(key, strlen(key));
                free(key);
        }
        if (made) {
                explicit_bzero(made, strlen(made));
                free(made);
        }
        if (held) {
                explicit_bzero(held, held_len);
                free(held);
        }
        free(cert);
        return r;
}

int shield_credential_crl(struct shield_store *store, const struct shield_machine_ca *ca, int64_t now,
                          uint32_t next_update, uint8_t **ret, size_t *ret_len, struct shield_diag *diag) {
        struct shield_store_revocation *rv = NULL;
        struct shield_revoked_serial *list = NULL;
        size_t n = 0;
        int r;

        if (!store || !ca || !ret || !ret_len)
                return SHIELD_E_INVAL;
        if ((r = shield_store_revocations(store, &rv, &n, diag)) < 0)
                return r;
        if (n > SHIELD_CA_REVOKED_MAX) {
                r = shield_diag_fail(diag, SHIELD_E_LIMIT, 0, -1, "%zu revoked credentials (one CRL holds %u)", n,
                                     SHIELD_CA_REVOKED_MAX);
                goto out;
        }
        if (!(list = calloc(n ? n : 1, sizeof *list))) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        for (size_t i = 0; i < n; i++) {
                snprintf(list[i].serial, sizeof list[i].serial, "%s", rv[i].serial);
                list[i].revoked = rv[i].revoked;
        }
        /* The CRL number only grows: the time it was made (RFC 5280, 5.2.3, asks no more). */
        r = shield_machine_ca_crl(ca, list, n, now, next_update, (uint64_t)now, ret, ret_len, diag);
out:
        free(list);
        free(rv);
        return r;
}

int shield_credential_authenticate(struct shield_store *store, const struct shield_machine_ca *ca,
                                   const uint8_t *cert_der, size_t len, int64_t now, char *ret_instance,
                                   char *ret_serial, struct shield_reasons *out, struct shield_diag *diag) {
        struct shield_credential_record rec = { 0 };
        char instance[SHIELD_CA_NAME_MAX + 1], serial[SHIELD_CA_SERIAL_HEX + 1];
        int r;

        if (!store || !ca || !cert_der || !ret_instance || !ret_serial || !out)
                return SHIELD_E_INVAL;
        if ((r = shield_machine_credential_check(ca, cert_der, len, now, instance, serial, out, diag)) < 0)
                return r;
        if ((r = shield_store_credential_get(store, serial, &rec, diag)) == SHIELD_E_NOT_FOUND) {
                if (shield_reasons_add(out, "credential-unknown", SHIELD_SEV_ERROR, 0, -1, -1, SIZE_MAX,
                                       "no credential with serial %s was issued", serial) < 0)
                        return SHIELD_E_NOMEM;
                return SHIELD_E_VERIFY;
        }
        if (r < 0)
                return r;
        r = 0;
        if (strcmp(rec.instance, instance) != 0)
                r = shield_reasons_add(out, "credential-unknown", SHIELD_SEV_ERROR, 0, -1, -1, SIZE_MAX,
                                       "credential %s was issued to another instance", serial);
        else if (rec.revoked)
                r = shield_reasons_add(out, "credential-revoked", SHIELD_SEV_ERROR, 0, -1, -1, SIZE_MAX,
                                       "credential %s was revoked (a newer intent replaced it)", serial);
        else {
                snprintf(ret_instance, SHIELD_STORE_NAME_MAX + 1, "%s", instance);
                snprintf(ret_serial, SHIELD_CA_SERIAL_HEX + 1, "%s", serial);
        }
        bool refused = r == 0 && (strcmp(rec.instance, instance) != 0 || rec.revoked);
        shield_credential_record_clear(&rec);
        if (r < 0)
                return r;
        return refused ? SHIELD_E_VERIFY : 0;
}
