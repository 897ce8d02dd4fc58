/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Secure Boot as the firmware measured it (PFP 1.05, 3.3.4.8 and 10.4.4:
 * PCR 7 holds SecureBoot, PK, KEK, db, dbx, the separator, then one
 * EV_EFI_VARIABLE_AUTHORITY per certificate that authorised a boot
 * component), and the structural findings that make a log suspicious.
 */
#include <stdlib.h>
#include <string.h>

#include "decode-internal.h"
#include "eventlog-internal.h"
#include "shield/util.h"

#define PCR_SECURE_BOOT 7
#define BOOT_PCRS 8 /* PCRs 0-7 each get one separator before the OS loader runs */

/* Variables shim measures into PCR 7 after the separator, by design. */
static bool is_shim_variable(const char *name) {
        static const char *names[] = { "SbatLevel", "MokListTrusted", "MokList", "MokListX", "MokSBState",
                                       "MokListRT", "MokListXRT" };
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
                if (strcmp(name, names[i]) == 0)
                        return true;
        return false;
}

static bool is_pcr7_type(uint32_t type) {
        switch (type) {
        case EV_EFI_VARIABLE_DRIVER_CONFIG:
        case EV_EFI_VARIABLE_AUTHORITY:
        case EV_SEPARATOR:
        case EV_EFI_ACTION:
        case EV_NO_ACTION:
        case EV_EFI_SPDM_DEVICE_POLICY:
        case EV_EFI_SPDM_DEVICE_AUTHORITY:
                return true;
        }
        return false;
}

static int finding(struct shield_secureboot *sb, const char *code, enum shield_severity sev,
                   const struct shield_event *ev, const char *detail) {
        return shield_reasons_add(&sb->findings, code, sev, 0, ev ? (int)ev->pcr : -1, ev ? (long)ev->index : -1,
                                  ev ? ev->offset : SIZE_MAX, "%s", detail);
}

static void count_db(struct shield_sb_db *db, const struct shield_event *ev, const struct decoded_variable *v) {
        struct shield_siglist list;

        db->event_index = ev->index;
        if (shield_hash(SHIELD_ALG_SHA256, v->data, v->data_size, db->sha256) < 0)
                memset(db->sha256, 0, sizeof db->sha256);
        if (shield_siglist_parse(v->data, v->data_size, &list, NULL) == 0) {
                shield_siglist_counts(&list, &db->n_x509, &db->n_hashes, &db->n_other);
                shield_siglist_clear(&list);
        }
}

static int add_authority(struct shield_secureboot *sb, const struct shield_event *ev,
                         const struct decoded_variable *v) {
        struct shield_sb_authority *a = reallocarray(sb->authorities, sb->n_authorities + 1, sizeof *a);
        struct shield_x509_info info;

        if (!a)
                return SHIELD_E_NOMEM;
        sb->authorities = a;
        a = &sb->authorities[sb->n_authorities++];
        memset(a, 0, sizeof *a);
        a->event_index = ev->index;
        a->applies_to = -1;
        snprintf(a->variable, sizeof a->variable, "%s", v->name);
        /* Usually one EFI_SIGNATURE_DATA: a 16-byte owner, then the certificate. */
        if ((v->data_size > 16 && shield_x509_info(v->data + 16, v->data_size - 16, &info) == 0) ||
            shield_x509_info(v->data, v->data_size, &info) == 0) {
                a->has_cert = true;
                snprintf(a->subject, sizeof a->subject, "%s", info.subject);
                snprintf(a->issuer, sizeof a->issuer, "%s", info.issuer);
                memcpy(a->sha1, info.sha1, 20);
        }
        return 0;
}

static bool path_related(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);
        if (!la || !lb)
                return false;
        if (la > lb)
                return path_related(b, a);
        /* a is the shorter: a prefix (device only) or a suffix (short-form HD(...)/file path). */
        return strncmp(a, b, la) == 0 || strcmp(b + lb - la, a) == 0;
}

struct boot_state {
        char first_option[16]; /* "Boot0001" */
        char *first_path;      /* its device path, malloc'd */
        bool saw_application;
};

static void note_boot_variable(struct boot_state *bs, const struct decoded_variable *v) {
        if (strcmp(v->name, "BootOrder") == 0 && v->data_size >= 2 && !bs->first_option[0])
                snprintf(bs->first_option, sizeof bs->first_option, "Boot%04X", v->data[0] | v->data[1] << 8);
        else if (bs->first_option[0] && strcasecmp(v->name, bs->first_option) == 0 && !bs->first_path) {
                struct shield_load_option opt;
                if (shield_load_option_parse(v->data, v->data_size, &opt, NULL) == 0) {
                        bs->first_path = strdup(opt.device_path);
                        shield_load_option_clear(&opt);
                }
        }
}

static int check_first_application(struct shield_secureboot *sb, struct boot_state *bs,
                                   const struct shield_eventlog *log, const struct shield_event *ev) {
        char *summary = NULL;
        json_t *j = NULL;
        int r = 0;

        bs->saw_application = true;
        if (!bs->first_path)
                return 0;
        if (shield_event_decode_json(log, ev, &j) < 0)
                return 0;
        const char *path = json_string_value(json_object_get(j, "device_path"));
        if (path && !path_related(path, bs->first_path)) {
                if (asprintf(&summary, "the first boot application %s is not %s (%s), the first entry of BootOrder",
                             path, bs->first_option, bs->first_path) < 0)
                        summary = NULL;
                r = finding(sb, "boot-order-fallback", SHIELD_SEV_INFO, ev,
                            summary ? summary : "the first boot application is not BootOrder's first entry");
        }
        free(summary);
        json_decref(j);
        return r;
}

int shield_eventlog_secureboot(const struct shield_eventlog *log, struct shield_secureboot *ret) {
        if (!log || !ret)
                return SHIELD_E_INVAL;

        struct shield_secureboot sb = {
                .secure_boot = -1, .setup_mode = -1, .audit_mode = -1, .deployed_mode = -1,
                .pk.event_index = -1, .kek.event_index = -1, .db.event_index = -1, .dbx.event_index = -1,
        };
        struct boot_state bs = { 0 };
        unsigned separators[BOOT_PCRS] = { 0 };
        bool exit_boot_services = false, any_pcr5 = false;
        long pending_authority = -1, last_image = -1;
        int r = 0;
        char msg[SHIELD_REASON_MSG_MAX];

        for (size_t i = 0; i < log->n && r == 0; i++) {
                const struct shield_event *ev = &log->events[i];
                struct decoded_variable v = { 0 };
                bool is_variable = ev->type == EV_EFI_VARIABLE_DRIVER_CONFIG || ev->type == EV_EFI_VARIABLE_BOOT ||
                                   ev->type == EV_EFI_VARIABLE_BOOT2 || ev->type == EV_EFI_VARIABLE_AUTHORITY;

                if (is_variable && decode_variable(ev, &v) < 0) {
                        r = finding(&sb, "variable-malformed", SHIELD_SEV_WARNING, ev, v.diag.msg);
                        continue;
                }
                if (ev->pcr < BOOT_PCRS && ev->type == EV_SEPARATOR) {
                        uint32_t value = ev->data_size == 4 ? (uint32_t)ev->data[0] | (uint32_t)ev->data[1] << 8 |
                                                                      (uint32_t)ev->data[2] << 16 |
                                                                      (uint32_t)ev->data[3] << 24
                                                            : 0;
                        if (++separators[ev->pcr] == 2) {
                                snprintf(msg, sizeof msg, "PCR %u has more than one separator", ev->pcr);
                                r = finding(&sb, "separator-duplicated", SHIELD_SEV_WARNING, ev, msg);
                        }
                        if (value == 1 || value == 0xffffffffu) {
                                snprintf(msg, sizeof msg, "PCR %u separator carries the error value 0x%08x: the firmware reports a measurement error",
                                         ev->pcr, value);
                                r = finding(&sb, "separator-error", SHIELD_SEV_ERROR, ev, msg);
                        }
                }
                if (ev->pcr == 5 && ev->type == EV_EFI_ACTION) {
                        any_pcr5 = true;
                        exit_boot_services |= ev->data_size >= 26 && memcmp(ev->data, "Exit Boot Services Invocation", 26) == 0;
                }
                if (ev->pcr == PCR_SECURE_BOOT) {
                        if (!is_pcr7_type(ev->type)) {
                                const char *type = shield_event_type_name(ev->type);
                                snprintf(msg, sizeof msg, "unexpected %s event in PCR 7", type ? type : "(unknown type)");
                                r = finding(&sb, "pcr7-unexpected-event", SHIELD_SEV_WARNING, ev, msg);
                        }
                        if (ev->type == EV_EFI_ACTION && ev->data_size >= 15 &&
                            memcmp(ev->data, "UEFI Debug Mode", 15) == 0)
                                r = finding(&sb, "uefi-debugger", SHIELD_SEV_ERROR, ev,
                                            "the firmware ran with a UEFI debugger enabled: PCR 7 does not attest a trustworthy boot");
                        if (ev->type == EV_EFI_VARIABLE_DRIVER_CONFIG) {
                                const char *n = v.name;
                                int *mode = strcmp(n, "SecureBoot") == 0     ? &sb.secure_boot
                                            : strcmp(n, "SetupMode") == 0    ? &sb.setup_mode
                                            : strcmp(n, "AuditMode") == 0    ? &sb.audit_mode
                                            : strcmp(n, "DeployedMode") == 0 ? &sb.deployed_mode
                                                                             : NULL;
                                if (mode && v.data_size >= 1)
                                        *mode = v.data[0] ? 1 : 0;
                                struct shield_sb_db *db = strcmp(n, "PK") == 0    ? &sb.pk
                                                          : strcmp(n, "KEK") == 0 ? &sb.kek
                                                          : strcmp(n, "db") == 0  ? &sb.db
                                                          : strcmp(n, "dbx") == 0 ? &sb.dbx
                                                                                  : NULL;
                                if (db)
                                        count_db(db, ev, &v);
                                if (separators[PCR_SECURE_BOOT] && r == 0) {
                                        snprintf(msg, sizeof msg, "%s measured into PCR 7 after its separator%s", n,
                                                 is_shim_variable(n) ? " (by shim, as designed)" : "");
                                        r = finding(&sb, is_shim_variable(n) ? "shim-variable-after-separator"
                                                                             : "variable-after-separator",
                                                    is_shim_variable(n) ? SHIELD_SEV_INFO : SHIELD_SEV_ERROR, ev,
                                                    msg);
                                }
                        }
                        if (ev->type == EV_EFI_VARIABLE_AUTHORITY && r == 0) {
                                r = add_authority(&sb, ev, &v);
                                /*
                                 * Firmware logs the authority before the image it lets load; shim
                                 * verifies first and logs its own authority after the image.
                                 */
                                if (r == 0 && shield_guid_eq(&v.guid, &SHIELD_GUID_SHIM_LOCK))
                                        sb.authorities[sb.n_authorities - 1].applies_to = last_image;
                                else if (r == 0 && pending_authority < 0)
                                        pending_authority = (long)(sb.n_authorities - 1);
                        }
                }
                if (is_variable && ev->type != EV_EFI_VARIABLE_AUTHORITY)
                        note_boot_variable(&bs, &v);
                if (r == 0 && (ev->type == EV_EFI_BOOT_SERVICES_APPLICATION || ev->type == EV_EFI_BOOT_SERVICES_DRIVER ||
                               ev->type == EV_EFI_RUNTIME_SERVICES_DRIVER)) {
                        /* The authorities logged since the last image are the ones that let this one load. */
                        for (long k = pending_authority; k >= 0 && (size_t)k < sb.n_authorities; k++)
                                if (sb.authorities[k].applies_to < 0)
                                        sb.authorities[k].applies_to = (long)ev->index;
                        pending_authority = -1;
                        last_image = (long)ev->index;
                        if (ev->type == EV_EFI_BOOT_SERVICES_APPLICATION && !bs.saw_application)
                                r = check_first_application(&sb, &bs, log, ev);
                }
                free(v.name);
        }

        for (unsigned p = 0; p < BOOT_PCRS && r == 0; p++)
                if (!separators[p]) {
                        snprintf(msg, sizeof msg, "PCR %u has no separator: the log does not show where the firmware handed over to the OS loader",
                                 p);
                        r = shield_reasons_add(&sb.findings, "separator-missing", SHIELD_SEV_WARNING, 0, (int)p, -1,
                                               SIZE_MAX, "%s", msg);
                }
        if (r == 0 && sb.secure_boot == 0)
                r = finding(&sb, "secure-boot-disabled", SHIELD_SEV_WARNING, NULL,
                            "Secure Boot is disabled (SecureBoot = 0): boot components were not verified");
        else if (r == 0 && sb.secure_boot < 0)
                r = finding(&sb, "secure-boot-not-measured", SHIELD_SEV_WARNING, NULL,
                            "the SecureBoot variable is not in the log");
        if (r == 0 && any_pcr5 && !exit_boot_services)
                r = finding(&sb, "exit-boot-services-missing", SHIELD_SEV_INFO, NULL,
                            "no \"Exit Boot Services Invocation\" action in PCR 5 (some firmware omits it)");
        free(bs.first_path);
        if (r < 0) {
                shield_secureboot_clear(&sb);
                return r;
        }
        *ret = sb;
        return 0;
}

void shield_secureboot_clear(struct shield_secureboot *sb) {
        if (!sb)
                return;
        free(sb->authorities);
        shield_reasons_clear(&sb->findings);
        sb->authorities = NULL;
        sb->n_authorities = 0;
}
