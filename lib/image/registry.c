/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The local image registry: STATE/images/NAME/ holds image.json (metadata
 * and the initial_state_config) and disk.raw (a copy of the source disk, so
 * later changes to the source do not change the image). Written into a
 * scratch directory and renamed into place, so an image is whole or absent.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shield/crypto.h"
#include "shield/image.h"
#include "shield/util.h"

#define IMAGE_JSON_MAX (64u << 20)

static const struct {
        unsigned bit;
        const char *name;
} features[] = {
        { SHIELD_FEATURE_UEFI_COMPATIBLE, "UEFI_COMPATIBLE" },
        { SHIELD_FEATURE_WINDOWS, "WINDOWS" },
};

int shield_features_parse(const char *list, unsigned *ret, struct shield_diag *diag) {
        unsigned bits = 0;
        const char *p = list;
        while (p && *p) {
                size_t n = strcspn(p, ",");
                bool known = false;
                for (size_t i = 0; i < sizeof features / sizeof features[0]; i++)
                        if (strlen(features[i].name) == n && strncmp(p, features[i].name, n) == 0) {
                                bits |= features[i].bit;
                                known = true;
                        }
                if (!known)
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, (size_t)(p - list), -1,
                                                "unknown guest OS feature \"%.*s\" (known: UEFI_COMPATIBLE, WINDOWS)",
                                                (int)n, p);
                p += n + (p[n] == ',');
        }
        *ret = bits;
        return 0;
}

void shield_features_text(unsigned bits, char *buf, size_t size) {
        size_t used = 0;
        buf[0] = '\0';
        for (size_t i = 0; i < sizeof features / sizeof features[0]; i++)
                if (bits & features[i].bit) {
                        int n = snprintf(buf + used, size - used, "%s%s", used ? "," : "", features[i].name);
                        if (n < 0 || (size_t)n >= size - used)
                                return;
                        used += (size_t)n;
                }
}

bool shield_resource_name_valid(const char *name) {
        if (!shield_name_valid(name))
                return false;
        size_t n = strlen(name);
        if (n > 63 || name[0] < 'a' || name[0] > 'z' || name[n - 1] == '-')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '-'))
                        return false;
        return true;
}

/* Copy a file and hash it on the way (the image's identity is its disk's SHA-256). */
static int copy_and_hash(const char *src, const char *dst, uint64_t *ret_size, char hex[65],
                         struct shield_diag *diag) {
        int in = open(src, O_RDONLY | O_CLOEXEC);
        int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        struct shield_digest *d = NULL;
        uint8_t *buf = malloc(1u << 20), digest[32];
        uint64_t total = 0;
        int r = 0;

        if (in < 0 || out < 0) {
                r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "%s: %s", in < 0 ? src : dst, strerror(errno));
                goto out;
        }
        if (!buf || shield_digest_begin(SHIELD_ALG_SHA256, &d) < 0) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        for (;;) {
                ssize_t n = read(in, buf, 1u << 20);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = shield_diag_fail(diag, SHIELD_E_SYSTEM, total, -1, "%s: %s", src, strerror(errno));
                        goto out;
                }
                if (n == 0)
                        break;
                if (shield_digest_update(d, buf, (size_t)n) < 0) {
                        r = SHIELD_E_CRYPTO;
                        goto out;
                }
                /* Keep the copy sparse: skip writing blocks of zeros. */
                bool zero = buf[0] == 0 && memcmp(buf, buf + 1, (size_t)n - 1) == 0;
                if (zero ? lseek(out, n, SEEK_CUR) < 0 : write(out, buf, (size_t)n) != n) {
                        r = shield_diag_fail(diag, SHIELD_E_SYSTEM, total, -1, "%s: %s", dst, strerror(errno));
                        goto out;
                }
                total += (uint64_t)n;
        }
        if (ftruncate(out, (off_t)total) < 0 || fsync(out) < 0) {
                r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "%s: %s", dst, strerror(errno));
                goto out;
        }
        r = shield_digest_finish(d, digest);
        d = NULL;
        shield_hex_encode(digest, 32, hex);
        *ret_size = total;
out:
        shield_digest_abort(d);
        free(buf);
        if (in >= 0)
                close(in);
        if (out >= 0)
                close(out);
        return r;
}

static char *image_dir(const char *state, const char *name) {
        char *dir = NULL;
        return asprintf(&dir, "%s/images/%s", state, name) < 0 ? NULL : dir;
}

static json_t *record_to_json(const struct shield_image_record *rec) {
        char feat[64];
        shield_features_text(rec->features, feat, sizeof feat);
        json_t *list = json_array();
        for (size_t i = 0; i < sizeof features / sizeof features[0]; i++)
                if (rec->features & features[i].bit)
                        json_array_append_new(list, json_string(features[i].name));
        json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:s, s:o}", "format", "shieldkit-image/1", "name", rec->name,
                              "disk", "disk.raw", "disk_size", (json_int_t)rec->disk_size, "disk_sha256",
                              rec->disk_sha256, "guest_os_features", list);
        if (j && rec->source_disk)
                json_object_set_new(j, "source_disk", json_string(rec->source_disk));
        if (j && rec->source_image)
                json_object_set_new(j, "source_image", json_string(rec->source_image));
        if (j && rec->created)
                json_object_set_new(j, "created", json_string(rec->created));
        if (j && rec->has_initial_state) {
                char *text = shield_initial_state_to_json(&rec->initial_state);
                json_t *st = text ? json_loads(text, 0, NULL) : NULL;
                free(text);
                if (!st) {
                        json_decref(j);
                        return NULL;
                }
                json_object_set_new(j, "initial_state_config", st);
        }
        return j;
}

int shield_image_load(const char *state, const char *name, struct shield_image_record *ret, struct shield_diag *diag) {
        struct shield_image_record rec = { 0 };
        char *path = NULL;
        uint8_t *text = NULL;
        size_t len;
        json_t *j = NULL;
        int r;

        if (!shield_resource_name_valid(name))
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "\"%s\" is not a valid image name", name);
        snprintf(rec.name, sizeof rec.name, "%s", name);
        if (!(rec.dir = image_dir(state, name)) || asprintf(&rec.disk, "%s/disk.raw", rec.dir) < 0 ||
            asprintf(&path, "%s/image.json", rec.dir) < 0) {
                r = SHIELD_E_NOMEM;
                goto fail;
        }
        if (shield_read_file(path, IMAGE_JSON_MAX, &text, &len) < 0) {
                r = shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "no image named %s", name);
                goto fail;
        }
        json_error_t err;
        j = json_loadb((const char *)text, len, 0, &err);
        const char *sha = NULL, *sd = NULL, *si = NULL, *created = NULL;
        json_int_t size = 0;
        json_t *feat = NULL, *st = NULL;
        if (!j || json_unpack_ex(j, &err, 0, "{s:I, s:s, s?s, s?s, s?s, s:o, s?o}", "disk_size", &size, "disk_sha256",
                                 &sha, "source_disk", &sd, "source_image", &si, "created", &created,
                                 "guest_os_features", &feat, "initial_state_config", &st) < 0 ||
            strlen(sha) != 64) {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, (size_t)err.position, -1, "%s: %s", path,
                                     j ? err.text : "not JSON");
                goto fail;
        }
        rec.disk_size = (uint64_t)size;
        memcpy(rec.disk_sha256, sha, 65);
        rec.source_disk = sd ? strdup(sd) : NULL;
        rec.source_image = si ? strdup(si) : NULL;
        rec.created = created ? strdup(created) : NULL;
        size_t i;
        json_t *v;
        json_array_foreach(feat, i, v) {
                unsigned bits;
                if (!json_is_string(v) || shield_features_parse(json_string_value(v), &bits, NULL) < 0) {
                        r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, (long)i, "%s: bad guest_os_features[%zu]", path, i);
                        goto fail;
                }
                rec.features |= bits;
        }
        if (st) {
                char *s = json_dumps(st, JSON_COMPACT);
                r = s ? shield_initial_state_parse(s, strlen(s), &rec.initial_state, diag) : SHIELD_E_NOMEM;
                free(s);
                if (r < 0)
                        goto fail;
                rec.has_initial_state = true;
        }
        json_decref(j);
        free(text);
        free(path);
        *ret = rec;
        return 0;
fail:
        json_decref(j);
        free(text);
        free(path);
        shield_image_record_clear(&rec);
        return r;
}

void shield_image_record_clear(struct shield_image_record *rec) {
        if (!rec)
                return;
        free(rec->dir);
        free(rec->disk);
        free(rec->source_disk);
        free(rec->source_image);
        free(rec->created);
        shield_initial_state_clear(&rec->initial_state);
        memset(rec, 0, sizeof *rec);
}

char *shield_image_record_json(const struct shield_image_record *rec) {
        json_t *j = record_to_json(rec);
        if (!j)
                return NULL;
        json_object_set_new(j, "path", json_string(rec->dir));
        char *s = json_dumps(j, JSON_INDENT(2));
        json_decref(j);
        return s;
}

/* A deep copy of one value, so the new image owns its keys. */
static int copy_value(struct shield_is_value *dst, const struct shield_is_value *src) {
        for (size_t i = 0; i < src->n; i++) {
                struct shield_is_entry *e = realloc(dst->entries, (dst->n + 1) * sizeof *e);
                if (!e)
                        return SHIELD_E_NOMEM;
                dst->entries = e;
                e[dst->n].type = src->entries[i].type;
                e[dst->n].len = src->entries[i].len;
                if (!(e[dst->n].content = malloc(src->entries[i].len ? src->entries[i].len : 1)))
                        return SHIELD_E_NOMEM;
                memcpy(e[dst->n].content, src->entries[i].content, src->entries[i].len);
                dst->n++;
        }
        dst->set = src->set;
        return 0;
}

int shield_image_register(const char *state, const struct shield_image_register_opts *o, struct shield_diag *diag) {
        struct shield_image_record rec = { 0 }, source = { 0 };
        char *dir = NULL, *tmp = NULL, *images = NULL;
        int r;

        if (!shield_resource_name_valid(o->name))
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1,
                                        "\"%s\" is not a valid image name (a lowercase letter, then up to 62 of "
                                        "a-z 0-9 -)", o->name ? o->name : "");
        if (!!o->source_disk == !!o->source_image)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "give exactly one of a source disk or a source image");
        snprintf(rec.name, sizeof rec.name, "%s", o->name);
        if (!(dir = image_dir(state, o->name)) || asprintf(&images, "%s/images", state) < 0 ||
            asprintf(&tmp, "%s/.new-%s-%ld", images, o->name, (long)getpid()) < 0) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        struct stat st;
        if (stat(dir, &st) == 0) {
                r = shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "an image named %s already exists", o->name);
                goto out;
        }
        const char *disk = o->source_disk;
        if (o->source_image) {
                if ((r = shield_image_load(state, o->source_image, &source, diag)) < 0)
                        goto out;
                disk = source.disk;
                rec.source_image = strdup(o->source_image);
                rec.features = source.features;
        } else {
                char *abs = realpath(o->source_disk, NULL);
                rec.source_disk = abs ? abs : strdup(o->source_disk);
        }
        if (o->features)
                rec.features = o->features;
        if (!rec.features)
                rec.features = SHIELD_FEATURE_UEFI_COMPATIBLE;

        /* Keys: given values replace the defaults; none given from an image inherits its state whole. */
        if (o->keys_given) {
                const struct shield_is_value *src[4] = { &o->keys.pk, &o->keys.keks, &o->keys.dbs, &o->keys.dbxs };
                struct shield_is_value *dst[4] = { &rec.initial_state.pk, &rec.initial_state.keks,
                                                   &rec.initial_state.dbs, &rec.initial_state.dbxs };
                for (size_t k = 0; k < 4; k++)
                        if (src[k]->set && (r = copy_value(dst[k], src[k])) < 0)
                                goto out;
                rec.has_initial_state = true;
        } else if (o->source_image && source.has_initial_state) {
                const struct shield_is_value *src[4] = { &source.initial_state.pk, &source.initial_state.keks,
                                                         &source.initial_state.dbs, &source.initial_state.dbxs };
                struct shield_is_value *dst[4] = { &rec.initial_state.pk, &rec.initial_state.keks,
                                                   &rec.initial_state.dbs, &rec.initial_state.dbxs };
                for (size_t k = 0; k < 4; k++)
                        if (src[k]->set && (r = copy_value(dst[k], src[k])) < 0)
                                goto out;
                rec.has_initial_state = true;
        }

        char *disk_tmp = NULL, *json_path = NULL;
        if (shield_mkdir_p(tmp, 0755) < 0) {
                r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "%s: %s", tmp, strerror(errno));
                goto out;
        }
        if (asprintf(&disk_tmp, "%s/disk.raw", tmp) < 0 || asprintf(&json_path, "%s/image.json", tmp) < 0) {
                free(disk_tmp);
                r = SHIELD_E_NOMEM;
                goto out;
        }
        r = copy_and_hash(disk, disk_tmp, &rec.disk_size, rec.disk_sha256, diag);
        free(disk_tmp);
        if (r == 0) {
                char when[32];
                time_t now = time(NULL);
                struct tm tm;
                strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
                rec.created = strdup(when);
                json_t *j = record_to_json(&rec);
                char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
                json_decref(j);
                r = text ? shield_write_file_atomic(json_path, text, strlen(text), 0644) : SHIELD_E_NOMEM;
                free(text);
        }
        free(json_path);
        if (r == 0 && rename(tmp, dir) < 0)
                r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "%s: %s", dir, strerror(errno));
        if (r < 0)
                shield_remove_tree(tmp);
out:
        shield_image_record_clear(&source);
        shield_image_record_clear(&rec);
        free(dir);
        free(tmp);
        free(images);
        return r;
}

static int cmp_names(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int shield_resource_names(const char *dir, char ***ret, size_t *ret_n) {
        char **names = NULL;
        size_t n = 0;
        DIR *d = opendir(dir);
        struct dirent *de;
        while (d && (de = readdir(d))) {
                if (!shield_resource_name_valid(de->d_name))
                        continue;
                char **grown = realloc(names, (n + 1) * sizeof *names);
                if (!grown || !(grown[n] = strdup(de->d_name))) {
                        names = grown ? grown : names;
                        for (size_t i = 0; i < n; i++)
                                free(names[i]);
                        free(names);
                        closedir(d);
                        return SHIELD_E_NOMEM;
                }
                names = grown;
                n++;
        }
        if (d)
                closedir(d);
        if (n)
                qsort(names, n, sizeof *names, cmp_names);
        *ret = names;
        *ret_n = n;
        return 0;
}

int shield_image_names(const char *state, char ***ret, size_t *ret_n) {
        char *images = NULL;
        if (asprintf(&images, "%s/images", state) < 0)
                return SHIELD_E_NOMEM;
        int r = shield_resource_names(images, ret, ret_n);
        free(images);
        return r;
}

int shield_image_delete(const char *state, const char *name, struct shield_diag *diag) {
        if (!shield_resource_name_valid(name))
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "\"%s\" is not a valid image name", name);
        char *dir = image_dir(state, name);
        if (!dir)
                return SHIELD_E_NOMEM;
        struct stat st;
        int r = 0;
        if (stat(dir, &st) < 0)
                r = shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "no image named %s", name);
        else if (shield_remove_tree(dir) < 0)
                r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "%s: %s", dir, strerror(errno));
        free(dir);
        return r;
}
