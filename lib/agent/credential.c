/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The machine's side of sealed credentials (docs/CREDENTIALS.md): a sealing
 * key for the service's offer, the credential kept in the state directory,
 * and `shield credential unseal`, which opens it only in the intended boot.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent-credential.h"
#include "shield/credential.h"
#include "shield/crypto.h"
#include "shield/machine-ca.h"
#include "shield/util.h"

#define META_FILE "credential.json"
#define SEALED_FILE "sealed.bin"
#define KEY_PUBLIC_FILE "key.pub"
#define KEY_PRIVATE_FILE "key.priv"

void agent_sealing_clear(struct agent_sealing *s) {
        if (!s)
                return;
        shield_tpm_sealing_key_clear(&s->key);
        memset(s, 0, sizeof *s);
}

int agent_sealing_prepare(struct shield_tpm *t, uint32_t ak_handle, const json_t *offer, const uint8_t *nonce,
                          size_t nonce_len, struct agent_sealing *ret, struct shield_diag *diag) {
        struct shield_credential_offer o;
        struct shield_tpm_epoch ep;
        uint8_t policy[32];
        int r;

        memset(ret, 0, sizeof *ret);
        if (!offer)
                return 0;
        if ((r = shield_credential_offer_parse(offer, &o, diag)) < 0)
                return r;
        if ((r = shield_tpm_epoch_read(t, 0, &ep, diag)) < 0)
                return r;
        /* The credential opens at the counter's next value; the agent moves it there once the credential is kept. */
        struct shield_seal_policy *p = &ret->policy;
        p->bank = o.bank;
        p->mask = o.mask;
        p->pcrs = o.pcrs;
        p->epoch_nv = ep.index;
        memcpy(p->epoch_nv_name, ep.name, ep.name_len);
        p->epoch_nv_name_len = ep.name_len;
        p->epoch = ep.value + 1;
        memcpy(ret->epoch_nv_public, ep.nv_public, ep.nv_public_len);
        ret->epoch_nv_public_len = ep.nv_public_len;
        if ((r = shield_seal_policy_digest(p, policy, diag)) < 0 ||
            (r = shield_tpm_sealing_key_create(t, policy, sizeof policy, ak_handle, nonce, nonce_len, &ret->key, diag)) < 0) {
                agent_sealing_clear(ret);
                return r;
        }
        ret->intent = o.intent;
        ret->has = true;
        return 0;
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n) {
        uint8_t *d = malloc(n ? n : 1);
        if (d && n)
                memcpy(d, p, n);
        return d;
}

int agent_sealing_attach(const struct agent_sealing *s, struct shield_evidence *e) {
        if (!s->has)
                return 0;
        struct shield_evidence_sealing *k = &e->sealing;
        k->intent = s->intent;
        k->key_public_len = s->key.public_len;
        k->certify_attest_len = s->key.certify_attest_len;
        k->certify_signature_len = s->key.certify_signature_len;
        k->epoch_nv_public_len = s->epoch_nv_public_len;
        k->epoch = s->policy.epoch;
        if (!(k->key_public = dup_bytes(s->key.public, s->key.public_len)) ||
            !(k->certify_attest = dup_bytes(s->key.certify_attest, s->key.certify_attest_len)) ||
            !(k->certify_signature = dup_bytes(s->key.certify_signature, s->key.certify_signature_len)) ||
            !(k->epoch_nv_public = dup_bytes(s->epoch_nv_public, s->epoch_nv_public_len)))
                return SHIELD_E_NOMEM;
        return 0;
}

static char *join(const char *a, const char *b) {
        char *p = NULL;
        return asprintf(&p, "%s/%s", a, b) < 0 ? NULL : p;
}

static int write_in(const char *dir, const char *name, const void *buf, size_t len, unsigned mode) {
        char *p = join(dir, name);
        if (!p)
                return SHIELD_E_NOMEM;
        int r = shield_write_file_atomic(p, buf, len, mode);
        free(p);
        return r;
}

static int read_in(const char *dir, const char *name, size_t max, uint8_t **buf, size_t *len) {
        char *p = join(dir, name);
        if (!p)
                return SHIELD_E_NOMEM;
        int r = shield_read_file(p, max, buf, len);
        free(p);
        return r;
}

/* The serial the state holds now, "" none. */
static void held_serial(const char *cdir, char out[SHIELD_CA_SERIAL_HEX + 1]) {
        uint8_t *buf = NULL;
        size_t len = 0;
        out[0] = '\0';
        if (read_in(cdir, META_FILE, 1u << 20, &buf, &len) < 0)
                return;
        json_t *j = json_loadb((const char *)buf, len, 0, NULL);
        const char *s = json_string_value(json_object_get(j, "serial"));
        if (s && strlen(s) <= SHIELD_CA_SERIAL_HEX)
                snprintf(out, SHIELD_CA_SERIAL_HEX + 1, "%s", s);
        json_decref(j);
        free(buf);
}

int agent_credential_keep(struct shield_tpm *t, const char *state_dir, const json_t *credential,
                          const struct agent_sealing *s, char *ret_serial, bool *ret_new, struct shield_diag *diag) {
        char *cdir = NULL, *ndir = NULL, *odir = NULL, *meta_text = NULL;
        uint8_t *sealed = NULL;
        size_t sealed_len = 0;
        json_t *meta = NULL;
        int r = 0;

        *ret_new = false;
        ret_serial[0] = '\0';
        if (!state_dir)
                return 0;
        if (!(cdir = join(state_dir, SHIELD_AGENT_CREDENTIAL_DIR)) || !(ndir = join(state_dir, "credential.new")) ||
            !(odir = join(state_dir, "credential.old"))) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        held_serial(cdir, ret_serial);
        if (!credential)
                goto out;
        const char *serial = json_string_value(json_object_get(credential, "serial")),
                   *method = json_string_value(json_object_get(credential, "method")),
                   *b64 = json_string_value(json_object_get(credential, "sealed"));
        json_t *intent = json_object_get(credential, "intent"), *bound = json_object_get(credential, "bound"),
               *epoch = json_object_get(credential, "epoch");
        if (!serial || strlen(serial) > SHIELD_CA_SERIAL_HEX || !method || !b64 || !json_is_integer(intent)) {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "the answer's \"credential\" lacks serial, method, "
                                     "intent or sealed");
                goto out;
        }
        if (strcmp(serial, ret_serial) == 0)
                goto out; /* kept before */
        bool import = strcmp(method, "import") == 0;
        /* A sealing-key credential opens only with the key made for its intent in this round. */
        if (!import && (!s || !s->has || s->intent != json_integer_value(intent)))
                goto out;
        if (shield_base64_decode(b64, strlen(b64), &sealed, &sealed_len) < 0) {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "the credential's \"sealed\" is not base64");
                goto out;
        }
        if (!(meta = json_deep_copy(credential))) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        json_object_del(meta, "sealed");
        if (!import) { /* the policy as the key was made: the PCRs to compare with when unsealing fails */
                json_t *pcrs = json_object(), *sel = json_array();
                const struct shield_pcr_bank *b = shield_pcrs_bank_const(&s->policy.pcrs, s->policy.bank);
                for (unsigned i = 0; b && i < SHIELD_PCR_COUNT; i++)
                        if (s->policy.mask & (1u << i)) {
                                char key[4], hex[2 * SHIELD_HASH_MAX_SIZE + 1];
                                snprintf(key, sizeof key, "%u", i);
                                shield_hex_encode(b->value[i], b->size, hex);
                                json_object_set_new(pcrs, key, json_string(hex));
                                json_array_append_new(sel, json_integer(i));
                        }
                json_object_set_new(meta, "bound", json_pack("{s:s, s:o, s:o}", "bank", shield_hash_name(s->policy.bank),
                                                             "selection", sel, "pcrs", pcrs));
        } else if (!json_is_object(bound)) {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "an imported credential comes with its \"bound\" state");
                goto out;
        }
        if (!(meta_text = json_dumps(meta, JSON_INDENT(2) | JSON_SORT_KEYS))) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        /* A whole new directory, then a rename: the state never holds half a credential. */
        if ((r = shield_remove_tree(ndir)) < 0 && r != SHIELD_E_NOT_FOUND)
                goto io;
        if ((r = shield_mkdir_p(ndir, 0700)) < 0)
                goto io;
        if ((r = write_in(ndir, SEALED_FILE, sealed, sealed_len, 0600)) < 0 ||
            (r = write_in(ndir, META_FILE, meta_text, strlen(meta_text), 0600)) < 0 ||
            (!import && ((r = write_in(ndir, KEY_PUBLIC_FILE, s->key.public, s->key.public_len, 0600)) < 0 ||
                         (r = write_in(ndir, KEY_PRIVATE_FILE, s->key.private, s->key.private_len, 0600)) < 0)))
                goto io;
        (void)shield_remove_tree(odir);
        if (rename(cdir, odir) < 0 && errno != ENOENT) {
                r = SHIELD_E_SYSTEM;
                goto io;
        }
        if (rename(ndir, cdir) < 0) {
                r = SHIELD_E_SYSTEM;
                goto io;
        }
        (void)shield_remove_tree(odir);
        snprintf(ret_serial, SHIELD_CA_SERIAL_HEX + 1, "%s", serial);
        *ret_new = true;
        /* Only now: every credential sealed to an earlier epoch is dead, also offline. */
        if (json_is_object(epoch)) {
                json_t *value = json_object_get(epoch, "value"), *index = json_object_get(epoch, "index");
                if (json_is_integer(value) && json_is_integer(index))
                        r = shield_tpm_epoch_advance(t, (uint32_t)json_integer_value(index),
                                                     (uint64_t)json_integer_value(value), diag);
        }
        goto out;
io:
        shield_diag_fail(diag, r, 0, -1, "keeping the credential in %s: %s", state_dir, strerror(errno));
out:
        json_decref(meta);
        free(meta_text);
        free(sealed);
        free(cdir);
        free(ndir);
        free(odir);
        return r;
}

/* ---- shield credential unseal ---- */

static int load_policy(json_t *meta, struct shield_seal_policy *p, struct shield_pcrs *bound, struct shield_diag *diag) {
        json_t *b = json_object_get(meta, "bound"), *sel = json_object_get(b, "selection"), *pcrs = json_object_get(b, "pcrs"),
               *epoch = json_object_get(meta, "epoch");
        const char *bank = json_string_value(json_object_get(b, "bank"));
        size_t i;
        json_t *v;
        memset(p, 0, sizeof *p);
        if (!bank || shield_hash_from_name(bank, &p->bank) < 0 || !json_is_array(sel) || !json_is_object(pcrs))
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, META_FILE ": no \"bound\" state");
        json_array_foreach(sel, i, v) {
                if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 23)
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, META_FILE ": a bad PCR selection");
                p->mask |= 1u << json_integer_value(v);
        }
        struct shield_pcr_bank *bk = NULL;
        size_t hs = shield_hash_size(p->bank);
        memset(bound, 0, sizeof *bound);
        if (!p->mask || shield_pcrs_add_bank(bound, p->bank, (uint16_t)hs, &bk) < 0)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, META_FILE ": a bad PCR selection");
        for (unsigned pcr = 0; pcr < SHIELD_PCR_COUNT; pcr++) {
                char key[4];
                snprintf(key, sizeof key, "%u", pcr);
                const char *hex = json_string_value(json_object_get(pcrs, key));
                uint8_t *d = NULL;
                size_t n = 0;
                if (!(p->mask & (1u << pcr)))
                        continue;
                if (!hex || shield_hex_decode(hex, &d, &n) < 0 || n != hs) {
                        free(d);
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, META_FILE ": PCR %u's bound value", pcr);
                }
                memcpy(bk->value[pcr], d, hs);
                bk->present |= 1u << pcr;
                free(d);
        }
        if (json_is_object(epoch)) {
                p->epoch_nv = (uint32_t)json_integer_value(json_object_get(epoch, "index"));
                p->epoch = (uint64_t)json_integer_value(json_object_get(epoch, "value"));
        }
        return 0;
}

/* Why the TPM refused: the PCRs that are not the bound ones, and the epoch counter. */
static void explain(struct shield_tpm *t, const struct shield_seal_policy *p, const struct shield_pcrs *bound,
                    struct shield_agent_unseal_result *ret) {
        struct shield_pcrs now;
        struct shield_diag d = { 0 };
        if (shield_tpm_read_pcrs(t, &now, &d) == 0) {
                const struct shield_pcr_bank *a = shield_pcrs_bank_const(bound, p->bank), *b = shield_pcrs_bank_const(&now, p->bank);
                for (unsigned i = 0; a && b && i < SHIELD_PCR_COUNT; i++)
                        if ((p->mask & (1u << i)) && memcmp(a->value[i], b->value[i], a->size) != 0)
                                ret->differ |= 1u << i;
                ret->now = now;
        }
        struct shield_tpm_epoch ep;
        if (p->epoch_nv && shield_tpm_epoch_read(t, p->epoch_nv, &ep, &d) == 0) {
                ret->epoch_now = ep.value;
                ret->epoch_passed = ep.value != p->epoch;
        }
}

int shield_agent_credential_unseal(const char *state_dir, const char *tcti, const char *out_dir,
                                   struct shield_agent_unseal_result *ret, struct shield_diag *diag) {
        struct shield_credential_bundle bundle = { 0 };
        struct shield_tpm *t = NULL;
        uint8_t *meta_buf = NULL, *sealed = NULL, *pub = NULL, *priv = NULL, *plain = NULL;
        size_t meta_len = 0, sealed_len = 0, pub_len = 0, priv_len = 0, plain_len = 0;
        char *cdir = NULL;
        json_t *meta = NULL;
        int r;

        if (!state_dir || !out_dir || !ret)
                return SHIELD_E_INVAL;
        memset(ret, 0, sizeof *ret);
        if (!(cdir = join(state_dir, SHIELD_AGENT_CREDENTIAL_DIR)))
                return SHIELD_E_NOMEM;
        if ((r = read_in(cdir, META_FILE, 1u << 20, &meta_buf, &meta_len)) < 0) {
                r = shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "%s/%s: no credential is kept (%s)", cdir, META_FILE,
                                     r == SHIELD_E_SYSTEM ? strerror(errno) : shield_strerror(r));
                goto out;
        }
        json_error_t je;
        if (!(meta = json_loadb((const char *)meta_buf, meta_len, 0, &je))) {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, (size_t)je.position, -1, "%s/%s: %s", cdir, META_FILE, je.text);
                goto out;
        }
        const char *serial = json_string_value(json_object_get(meta, "serial")),
                   *method = json_string_value(json_object_get(meta, "method"));
        snprintf(ret->serial, sizeof ret->serial, "%s", serial && strlen(serial) <= SHIELD_CA_SERIAL_HEX ? serial : "");
        bool import = method && strcmp(method, "import") == 0;
        struct shield_seal_policy pol;
        if ((r = load_policy(meta, &pol, &ret->bound, diag)) < 0)
                goto out;
        ret->bank = pol.bank;
        ret->mask = pol.mask;
        ret->epoch = pol.epoch;
        if ((r = read_in(cdir, SEALED_FILE, SHIELD_STORE_SEALED_MAX, &sealed, &sealed_len)) < 0 ||
            (!import && ((r = read_in(cdir, KEY_PUBLIC_FILE, SHIELD_TPM_PUBLIC_MAX, &pub, &pub_len)) < 0 ||
                         (r = read_in(cdir, KEY_PRIVATE_FILE, 4096, &priv, &priv_len)) < 0))) {
                r = shield_diag_fail(diag, r, 0, -1, "%s: the credential's files: %s", cdir,
                                     r == SHIELD_E_SYSTEM ? strerror(errno) : shield_strerror(r));
                goto out;
        }
        if ((r = shield_tpm_open(tcti, &t, diag)) < 0)
                goto out;
        r = import ? shield_tpm_unseal_imported(t, &pol, sealed, sealed_len, &plain, &plain_len, diag)
                   : shield_tpm_unseal(t, pub, pub_len, priv, priv_len, &pol, sealed, sealed_len, &plain, &plain_len, diag);
        if (r == SHIELD_E_VERIFY) {
                explain(t, &pol, &ret->bound, ret);
                goto out;
        }
        if (r < 0)
                goto out;
        if ((r = shield_credential_bundle_parse((const char *)plain, plain_len, &bundle, diag)) < 0)
                goto out;
        char *ca_path = NULL;
        if ((r = shield_mkdir_p(out_dir, 0700)) < 0 || (r = write_in(out_dir, "key.pem", bundle.key_pem,
                                                                      strlen(bundle.key_pem), 0600)) < 0 ||
            (r = write_in(out_dir, "cert.pem", bundle.cert_pem, strlen(bundle.cert_pem), 0644)) < 0 ||
            (r = write_in(out_dir, "ca.pem", bundle.ca_pem, strlen(bundle.ca_pem), 0644)) < 0) {
                r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "%s: %s", out_dir, strerror(errno));
                goto out;
        }
        free(ca_path);
        snprintf(ret->serial, sizeof ret->serial, "%s", bundle.serial);
        snprintf(ret->instance, sizeof ret->instance, "%s", bundle.instance);
        ret->not_after = bundle.not_after;
out:
        if (plain) {
                explicit_bzero(plain, plain_len);
                free(plain);
        }
        shield_credential_bundle_clear(&bundle);
        shield_tpm_close(t);
        json_decref(meta);
        free(meta_buf);
        free(sealed);
        free(pub);
        free(priv);
        free(cdir);
        return r;
}
