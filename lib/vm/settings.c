/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An instance's shielded-VM settings (Secure Boot, vTPM, integrity
 * monitoring, a NIC and its option ROM) and its boot entries, as the gcloud
 * user knows them (shield/vm.h). The settings live in instance.json; the
 * boot entries in the instance's own variable store, where the firmware
 * keeps them.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shield/uefi.h"
#include "shield/util.h"
#include "shield/varstore.h"
#include "settings.h"
#include "shield/vm.h"

void shield_instance_settings_default(struct shield_instance_settings *s) {
        *s = (struct shield_instance_settings){ .secure_boot = true, .vtpm = true, .integrity_monitoring = true };
}

void shield_instance_settings_clear(struct shield_instance_settings *s) {
        if (!s)
                return;
        free(s->nic_rom);
        shield_instance_settings_default(s);
}

int vm_settings_from_json(json_t *j, struct shield_instance_settings *ret, struct shield_diag *diag) {
        struct shield_instance_settings s;
        shield_instance_settings_default(&s);
        json_t *o = json_object_get(j, "shielded");
        if (o) {
                json_t *sb = json_object_get(o, "secure_boot"), *tpm = json_object_get(o, "vtpm"),
                       *im = json_object_get(o, "integrity_monitoring");
                if (!json_is_object(o) || (sb && !json_is_boolean(sb)) || (tpm && !json_is_boolean(tpm)) ||
                    (im && !json_is_boolean(im)))
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1,
                                                "instance.json: \"shielded\" must hold booleans secure_boot, vtpm, "
                                                "integrity_monitoring");
                s.secure_boot = !sb || json_is_true(sb);
                s.vtpm = !tpm || json_is_true(tpm);
                s.integrity_monitoring = !im || json_is_true(im);
        }
        json_t *nic = json_object_get(j, "nic");
        if (nic) {
                json_t *on = json_object_get(nic, "enabled"), *rom = json_object_get(nic, "rom");
                if (!json_is_object(nic) || !json_is_boolean(on) || (rom && !json_is_null(rom) && !json_is_string(rom)))
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1,
                                                "instance.json: \"nic\" must be {\"enabled\": bool, \"rom\": path|null}");
                s.nic = json_is_true(on);
                if (json_is_string(rom) && !(s.nic_rom = strdup(json_string_value(rom))))
                        return SHIELD_E_NOMEM;
        }
        *ret = s;
        return 0;
}

json_t *vm_settings_to_json(const struct shield_instance_settings *s) {
        return json_pack("{s:{s:b, s:b, s:b}, s:{s:b, s:s?}}", "shielded", "secure_boot", s->secure_boot, "vtpm", s->vtpm,
                         "integrity_monitoring", s->integrity_monitoring, "nic", "enabled", s->nic, "rom", s->nic_rom);
}

static int load_vars(const struct shield_instance *inst, struct shield_varstore **ret, struct shield_diag *diag) {
        uint8_t *buf = NULL;
        size_t len = 0;
        int r = shield_read_file(inst->vars, 64u << 20, &buf, &len);
        if (r < 0)
                return shield_diag_fail(diag, r, 0, -1, "%s: %s", inst->vars, strerror(errno));
        r = shield_varstore_parse(buf, len, ret, diag);
        free(buf);
        return r;
}

void shield_boot_entries_clear(struct shield_boot_entries *e) {
        if (!e)
                return;
        for (size_t i = 0; i < e->n; i++) {
                free(e->items[i].description);
                free(e->items[i].device_path);
        }
        free(e->items);
        *e = (struct shield_boot_entries){ 0 };
}

int shield_instance_boot_entries(const struct shield_instance *inst, struct shield_boot_entries *ret,
                                 struct shield_diag *diag) {
        struct shield_varstore *vs = NULL;
        struct shield_boot_entries e = { 0 };
        int r = load_vars(inst, &vs, diag);
        if (r < 0)
                return r;
        const uint8_t *order = NULL;
        size_t order_len = 0;
        if (shield_varstore_get(vs, "BootOrder", &SHIELD_GUID_GLOBAL_VARIABLE, &order, &order_len, NULL) == 0) {
                for (size_t i = 0; i + 1 < order_len && e.n_order < SHIELD_BOOT_ENTRIES_MAX; i += 2)
                        e.order[e.n_order++] = (uint16_t)(order[i] | order[i + 1] << 8);
        }
        /* Boot#### in number order: at most 0x10000 names, checked in the store's record list (bounded). */
        for (size_t i = 0; i < shield_varstore_count(vs) && e.n < SHIELD_BOOT_ENTRIES_MAX; i++) {
                const struct shield_variable *v = shield_varstore_variable(vs, i);
                uint64_t num;
                if (v->state != SHIELD_VAR_LIVE || memcmp(&v->vendor, &SHIELD_GUID_GLOBAL_VARIABLE, sizeof v->vendor) ||
                    strlen(v->name) != 8 || strncmp(v->name, "Boot", 4) != 0 ||
                    shield_parse_u64(v->name + 4, 16, 0xffff, &num) < 0)
                        continue;
                struct shield_load_option opt = { 0 };
                if (shield_load_option_parse(v->data, v->data_size, &opt, NULL) < 0)
                        continue;
                struct shield_boot_entry *grown = realloc(e.items, (e.n + 1) * sizeof *grown);
                if (!grown) {
                        shield_load_option_clear(&opt);
                        r = SHIELD_E_NOMEM;
                        goto out;
                }
                e.items = grown;
                e.items[e.n++] = (struct shield_boot_entry){ .number = (uint16_t)num, .attributes = opt.attributes,
                                                             .description = opt.description,
                                                             .device_path = opt.device_path };
        }
        *ret = e;
        e = (struct shield_boot_entries){ 0 };
        r = 0;
out:
        shield_boot_entries_clear(&e);
        shield_varstore_free(vs);
        return r;
}

int shield_instance_set_boot_order(const struct shield_instance *inst, const uint16_t *order, size_t n,
                                   struct shield_diag *diag) {
        struct shield_boot_entries e = { 0 };
        struct shield_varstore *vs = NULL;
        uint8_t data[2 * SHIELD_BOOT_ENTRIES_MAX];
        int r;

        if (!inst || !order || n == 0 || n > SHIELD_BOOT_ENTRIES_MAX)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "a boot order names 1 to %d entries",
                                        SHIELD_BOOT_ENTRIES_MAX);
        if ((r = shield_instance_boot_entries(inst, &e, diag)) < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                bool known = false;
                for (size_t k = 0; k < e.n && !known; k++)
                        known = e.items[k].number == order[i];
                for (size_t k = 0; k < i; k++)
                        if (order[k] == order[i]) {
                                r = shield_diag_fail(diag, SHIELD_E_INVAL, 0, (long)i, "Boot%04X is named twice", order[i]);
                                goto out;
                        }
                if (!known) {
                        r = shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, (long)i,
                                             "Boot%04X is not a boot entry of %s (shield vm show %s lists them)", order[i],
                                             inst->name, inst->name);
                        goto out;
                }
                data[2 * i] = (uint8_t)order[i];
                data[2 * i + 1] = (uint8_t)(order[i] >> 8);
        }
        if ((r = load_vars(inst, &vs, diag)) < 0)
                goto out;
        /* UEFI 2.10, 3.3: BootOrder is NV+BS+RT, not authenticated. */
        if ((r = shield_varstore_set(vs, "BootOrder", &SHIELD_GUID_GLOBAL_VARIABLE,
                                     SHIELD_VAR_NON_VOLATILE | SHIELD_VAR_BOOTSERVICE_ACCESS | SHIELD_VAR_RUNTIME_ACCESS,
                                     NULL, data, 2 * n)) < 0) {
                r = shield_diag_fail(diag, r, 0, -1, "%s: cannot record BootOrder", inst->vars);
                goto out;
        }
        size_t len;
        const uint8_t *bytes = shield_varstore_bytes(vs, &len);
        if ((r = shield_write_file_atomic(inst->vars, bytes, len, 0600)) < 0)
                r = shield_diag_fail(diag, r, 0, -1, "%s: cannot write", inst->vars);
out:
        shield_varstore_free(vs);
        shield_boot_entries_clear(&e);
        return r;
}
