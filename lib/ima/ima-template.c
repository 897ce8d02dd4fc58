/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IMA template descriptors and file-hash algorithm names: what a list's
 * template name says about the fields of its template data.
 */
#include <string.h>

#include "ima-internal.h"

static const struct {
        const char *id;
        enum ima_field field;
        bool ascii_ok;
} field_ids[] = {
        /* Documentation/security/IMA-templates.rst, "supported template fields". */
        { "d", IMA_F_D, true },
        { "n", IMA_F_N, true },
        { "d-ng", IMA_F_D_NG, true },
        { "d-ngv2", IMA_F_D_NGV2, true },
        { "n-ng", IMA_F_N_NG, true },
        { "sig", IMA_F_SIG, true },
        { "buf", IMA_F_BUF, true },
        { "d-modsig", IMA_F_D_MODSIG, true },
        { "modsig", IMA_F_MODSIG, true },
        /* EVM fields: their ASCII forms (decimal, text lists) are not turned back into bytes here. */
        { "evmsig", IMA_F_OTHER, false },
        { "xattrnames", IMA_F_OTHER, false },
        { "xattrlengths", IMA_F_OTHER, false },
        { "xattrvalues", IMA_F_OTHER, false },
        { "iuid", IMA_F_OTHER, false },
        { "igid", IMA_F_OTHER, false },
        { "imode", IMA_F_OTHER, false },
};

/* The built-in descriptors (security/integrity/ima/ima_template.c builtin_templates). */
static const struct {
        const char *name, *fmt;
} builtin[] = {
        { "ima", "d|n" },
        { "ima-ng", "d-ng|n-ng" },
        { "ima-sig", "d-ng|n-ng|sig" },
        { "ima-ngv2", "d-ngv2|n-ng" },
        { "ima-sigv2", "d-ngv2|n-ng|sig" },
        { "ima-buf", "d-ng|n-ng|buf" },
        { "ima-modsig", "d-ng|n-ng|sig|d-modsig|modsig" },
        { "evm-sig", "d-ng|n-ng|evmsig|xattrnames|xattrlengths|xattrvalues|iuid|igid|imode" },
};

static bool parse_fmt(const char *fmt, size_t len, struct ima_template *t) {
        const char *p = fmt, *end = fmt + len;

        t->n = 0;
        t->ascii_ok = true;
        while (p <= end) {
                const char *bar = memchr(p, '|', (size_t)(end - p));
                const char *id_end = bar ? bar : end;
                size_t id_len = (size_t)(id_end - p), k;

                for (k = 0; k < sizeof field_ids / sizeof field_ids[0]; k++)
                        if (strlen(field_ids[k].id) == id_len && memcmp(field_ids[k].id, p, id_len) == 0)
                                break;
                if (k == sizeof field_ids / sizeof field_ids[0] || t->n == IMA_FIELDS_MAX)
                        return false;
                t->fields[t->n++] = (uint8_t)field_ids[k].field;
                t->ascii_ok &= field_ids[k].ascii_ok;
                if (!bar)
                        break;
                p = bar + 1;
        }
        return true;
}

void ima_template_lookup(const char *name, size_t len, struct ima_template *ret) {
        struct ima_template t = { 0 };

        for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
                if (strlen(builtin[i].name) == len && memcmp(builtin[i].name, name, len) == 0) {
                        t.name = builtin[i].name;
                        t.legacy = i == 0;
                        t.known = parse_fmt(builtin[i].fmt, strlen(builtin[i].fmt), &t);
                        *ret = t;
                        return;
                }
        /* A custom template (ima_template_fmt=) is listed under its format string. */
        t.known = len > 0 && parse_fmt(name, len, &t);
        if (!t.known) {
                t.n = 0;
                t.ascii_ok = false;
        }
        *ret = t;
}

/*
 * The kernel's hash algorithm names and digest sizes (crypto/hash_info.c),
 * which d-ng fields carry, and "sm3_256", the TPM's name for SM3, which
 * some tools write.
 */
static const struct ima_algo algos[] = {
        { "sha1", 20, SHIELD_ALG_SHA1 },
        { "sha256", 32, SHIELD_ALG_SHA256 },
        { "sha384", 48, SHIELD_ALG_SHA384 },
        { "sha512", 64, SHIELD_ALG_SHA512 },
        { "sm3", 32, SHIELD_ALG_SM3_256 },
        { "sm3_256", 32, SHIELD_ALG_SM3_256 },
        { "md4", 16, 0 },
        { "md5", 16, 0 },
        { "rmd160", 20, 0 },
        { "sha224", 28, 0 },
        { "rmd128", 16, 0 },
        { "rmd256", 32, 0 },
        { "rmd320", 40, 0 },
        { "wp256", 32, 0 },
        { "wp384", 48, 0 },
        { "wp512", 64, 0 },
        { "tgr128", 16, 0 },
        { "tgr160", 20, 0 },
        { "tgr192", 24, 0 },
        { "streebog256", 32, 0 },
        { "streebog512", 64, 0 },
        { "sha3-256", 32, 0 },
        { "sha3-384", 48, 0 },
        { "sha3-512", 64, 0 },
};

const struct ima_algo *ima_algo_lookup(const char *name, size_t len) {
        for (size_t i = 0; i < sizeof algos / sizeof algos[0]; i++)
                if (strlen(algos[i].name) == len && memcmp(algos[i].name, name, len) == 0)
                        return &algos[i];
        return NULL;
}

void ima_legacy_template_fill(uint8_t *d, const uint8_t *digest, const char *name, size_t name_len) {
        size_t keep = name_len < IMA_LEGACY_NAME_SIZE - 1 ? name_len : IMA_LEGACY_NAME_SIZE - 1;

        memcpy(d, digest, IMA_LEGACY_DIGEST_SIZE);
        memset(d + IMA_LEGACY_DIGEST_SIZE, 0, IMA_LEGACY_NAME_SIZE + 1);
        memcpy(d + IMA_LEGACY_DIGEST_SIZE, name, keep);
}
