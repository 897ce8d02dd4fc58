/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Secure Boot as the firmware measured it (PFP 1.05, 3.3.4.8 and 10.4.4:
 * PCR 7 holds SecureBoot, PK, KEK, db, dbx, the separator, then one
 * EV_EFI_VARIABLE_AUTHORITY per certificate that authorised a boot
 * component), and the structural findings that make a log suspicious.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode-internal.h"
#include "eventlog-internal.h"
#include "shield/eventlog-json.h"
#include "shield/util.h"

#define PCR_BOOT_MANAGER_CODE 4 /* PFP 1.05, 3.3.4.5: boot applications */
#define PCR_BOOT_MANAGER_DATA 5 /* PFP 1.05, 3.3.4.6: GPT, ExitBootServices */
#define PCR_SECURE_BOOT 7       /* PFP 1.05, 3.3.4.8 */
#define BOOT_PCRS 8             /* PCRs 0-7 each get one separator before the OS loader runs (PFP 1.05, 3.3.2.4) */

/* PFP 1.05, 10.4.4: the EV_EFI_ACTION strings that matter here. */
#define ACTION_DEBUG_MODE "UEFI Debug Mode"
#define ACTION_DMA_DISABLED "DMA Protection Disabled"
#define ACTION_EXIT_BOOT_SERVICES "Exit Boot Services Invocation"

/* Variables shim measures into PCR 7 after the separator, by design. */
static bool is_shim_variable(const char *name) {
        static const char *const names[] = { "SbatLevel", "MokListTrusted", "MokList",    "MokListX",
                                             "MokSBState", "MokListRT",     "MokListXRT", "MokPolicy" };
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
                if (strcmp(name, names[i]) == 0)
                        return true;
        return false;
}

/* PFP 1.05, 3.3.4.8 and 1.06 (SPDM): what may be measured into PCR 7. */
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

static bool is_image(uint32_t type) {
        return type == EV_EFI_BOOT_SERVICES_APPLICATION || type == EV_EFI_BOOT_SERVICES_DRIVER ||
               type == EV_EFI_RUNTIME_SERVICES_DRIVER;
}

/* Whether the event's data is exactly the ASCII action string (without or with a NUL). */
static bool is_action(const struct shield_event *ev, const char *action) {
        size_t n = strlen(action);
        return (ev->data_size == n || (ev->data_size == n + 1 && ev->data[n] == 0)) && memcmp(ev->data, action, n) == 0;
}

static int finding(struct shield_secureboot *sb, const char *code, enum shield_severity sev,
                   const struct shield_event *ev, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int finding(struct shield_secureboot *sb, const char *code, enum shield_severity sev,
                   const struct shield_event *ev, const char *fmt, ...) {
        char msg[SHIELD_REASON_MSG_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        return shield_reasons_add(&sb->findings, code, sev, 0, ev ? (int)ev->pcr : -1, ev ? (long)ev->index : -1,
                                  ev ? ev->offset : SIZE_MAX, "%s", msg);
}

static void count_db(struct shield_sb_db *db, const struct shield_event *ev, const struct decoded_variable *v) {
        struct shield_siglist list;

        db->event_index = ev->index;
        db->n_x509 = db->n_hashes = db->n_other = 0;
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
        /* Usually one EFI_SIGNATURE_DATA: a 16-byte owner, then the certificate; some firmware logs the bare DER. */
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

/* BootOrder entries followed, as far as the log lets us (PFP 1.05, 3.3.4.2: PCR 1 holds BootOrder and each Boot####). */
#define BOOT_ORDER_MAX 64

struct walk {
        uint16_t order[BOOT_ORDER_MAX]; /* the first BootOrder measured */
        size_t n_order;
        long first_pos;          /* BootOrder position of the best entry seen so far, -1 when none */
        char first_option[16];   /* "Boot0001" */
        char *first_path;        /* its device path, malloc'd */
        char *first_description;
        bool boot_next;          /* BootNext was measured: this boot deviates from BootOrder on purpose */
        bool first_app_checked;
        long boot_order_event;   /* first BootOrder event, -1 when none */
        long last_image;         /* last image load event, -1 when none */
        bool last_image_claimed; /* an authority already applies to it */
        long pending_from;       /* first authority waiting for the next image, -1 when none */
};

/* The option number of a "Boot####" name, or -1. */
static int boot_option_number(const char *name) {
        uint64_t v;
        char hex[5];

        if (strncmp(name, "Boot", 4) != 0 || strlen(name) != 8 || strspn(name + 4, "0123456789abcdefABCDEF") != 4)
                return -1;
        memcpy(hex, name + 4, 5);
        if (shield_parse_u64(hex, 16, 0xffff, &v) < 0)
                return -1;
        return (int)v;
}

/*
 * Remember BootOrder and the load option the boot manager would try
 * first: the earliest BootOrder entry that is active and of the boot
 * category (UEFI 2.10, 3.1.3: LOAD_OPTION_ACTIVE 0x1, LOAD_OPTION_CATEGORY
 * 0x1F00 with 0 = boot; application entries such as UiApp are skipped).
 */
static void note_boot_variable(struct walk *w, const struct decoded_variable *v) {
        if (strcmp(v->name, "BootOrder") == 0 && !w->n_order) {
                for (size_t k = 0; k + 1 < v->data_size && w->n_order < BOOT_ORDER_MAX; k += 2)
                        w->order[w->n_order++] = (uint16_t)(v->data[k] | v->data[k + 1] << 8);
                return;
        }
        int num = boot_option_number(v->name);
        if (num < 0)
                return;
        long pos = -1;
        for (size_t k = 0; k < w->n_order && pos < 0; k++)
                if (w->order[k] == num)
                        pos = (long)k;
        if (pos < 0 || (w->first_pos >= 0 && pos >= w->first_pos))
                return;
        struct shield_load_option opt;
        if (shield_load_option_parse(v->data, v->data_size, &opt, NULL) < 0)
                return;
        if ((opt.attributes & 0x1) && (opt.attributes & 0x1f00) == 0 && opt.device_path[0]) {
                free(w->first_path);
                free(w->first_description);
                w->first_path = strdup(opt.device_path);
                w->first_description = strdup(opt.description);
                w->first_pos = pos;
                snprintf(w->first_option, sizeof w->first_option, "Boot%04X", (unsigned)num);
        }
        shield_load_option_clear(&opt);
}

/*
 * The first boot application loaded after BootOrder's entries were
 * measured should be the first bootable entry (or, for a removable-media
 * entry, a file on that device). When it is not, the firmware fell back
 * to another entry or something overrode the order; with BootNext
 * measured that is expected and said so.
 */
static int check_first_application(struct shield_secureboot *sb, struct walk *w, const struct shield_eventlog *log,
                                   const struct shield_event *ev) {
        json_t *j = NULL;
        int r = 0;

        w->first_app_checked = true;
        if (shield_event_decode_json(log, ev, &j) < 0)
                return 0;
        const char *path = json_string_value(json_object_get(j, "device_path"));
        if (path && *path && !path_related(path, w->first_path))
                r = finding(sb, "boot-order-fallback", w->boot_next ? SHIELD_SEV_INFO : SHIELD_SEV_WARNING, ev,
                            "the first boot application %s is not %s \"%s\" (%s), the first bootable entry of "
                            "BootOrder%s",
                            path, w->first_option, w->first_description ? w->first_description : "",
                            w->first_path, w->boot_next ? "; BootNext was set for this boot" : "");
        json_decref(j);
        return r;
}

/*
 * Which image an authority let load. Firmware logs the authority before
 * the image (PFP 1.05, 3.3.4.8); shim logs its own after verifying, which
 * depending on its version is before or after it measures the image. So
 * a shim authority goes to the image just loaded when no authority has
 * claimed that one yet (shim loaded it), else to the next image.
 */
static void place_authority(struct shield_secureboot *sb, struct walk *w, const struct decoded_variable *v) {
        struct shield_sb_authority *a = &sb->authorities[sb->n_authorities - 1];

        if (!a->has_cert)
                return; /* a shim variable (SbatLevel, MokListTrusted), not an image's authority */
        if (shield_guid_eq(&v->guid, &SHIELD_GUID_SHIM_LOCK) && w->last_image >= 0 && !w->last_image_claimed) {
                a->applies_to = w->last_image;
                w->last_image_claimed = true;
                return;
        }
        if (w->pending_from < 0)
                w->pending_from = (long)(sb->n_authorities - 1);
}

static void image_loaded(struct shield_secureboot *sb, struct walk *w, const struct shield_event *ev) {
        w->last_image = (long)ev->index;
        w->last_image_claimed = false;
        if (w->pending_from < 0)
                return;
        for (size_t k = (size_t)w->pending_from; k < sb->n_authorities; k++)
                if (sb->authorities[k].has_cert && sb->authorities[k].applies_to < 0)
                        sb->authorities[k].applies_to = (long)ev->index;
        w->pending_from = -1;
        w->last_image_claimed = true;
}

static int check_separator(struct shield_secureboot *sb, const struct shield_event *ev, unsigned *count) {
        uint32_t value = 0;
        int k = decode_separator_value(ev, &value);
        int r = 0;

        if (++*count == 2)
                r = finding(sb, "separator-duplicated", SHIELD_SEV_WARNING, ev,
                            "PCR %u has a second separator (event %u): measurements after the first one are not "
                            "attributable to the firmware",
                            ev->pcr, ev->index);
        if (r == 0 && k < 0)
                r = finding(sb, "separator-malformed", SHIELD_SEV_WARNING, ev,
                            "PCR %u separator has %u bytes of data (4 expected) and is not an error separator",
                            ev->pcr, ev->data_size);
        /* PFP 1.05, 10.4.1: 0 normally, 1 on an error; all ones is what some TCG 1.2 firmware writes for an error. */
        if (r == 0 && k >= 0 && (value == 1 || value == 0xffffffffu))
                r = finding(sb, "separator-error", SHIELD_SEV_ERROR, ev,
                            "PCR %u separator carries the error value 0x%08x: the firmware reports a measurement "
                            "error",
                            ev->pcr, value);
        else if (r == 0 && k >= 0 && value != 0)
                r = finding(sb, "separator-unexpected-value", SHIELD_SEV_WARNING, ev,
                            "PCR %u separator carries 0x%08x (0 expected)", ev->pcr, value);
        return r;
}

static int pcr7_variable(struct shield_secureboot *sb, const struct shield_event *ev,
                         const struct decoded_variable *v, bool after_separator) {
        const char *n = v->name;
        int *mode = strcmp(n, "SecureBoot") == 0     ? &sb->secure_boot
                    : strcmp(n, "SetupMode") == 0    ? &sb->setup_mode
                    : strcmp(n, "AuditMode") == 0    ? &sb->audit_mode
                    : strcmp(n, "DeployedMode") == 0 ? &sb->deployed_mode
                                                     : NULL;
        struct shield_sb_db *db = strcmp(n, "PK") == 0    ? &sb->pk
                                  : strcmp(n, "KEK") == 0 ? &sb->kek
                                  : strcmp(n, "db") == 0  ? &sb->db
                                  : strcmp(n, "dbx") == 0 ? &sb->dbx
                                                          : NULL;
        bool global = shield_guid_eq(&v->guid, &SHIELD_GUID_GLOBAL_VARIABLE) ||
                      shield_guid_eq(&v->guid, &SHIELD_GUID_IMAGE_SECURITY_DATABASE);

        /*
         * Only the firmware's own variables count, not a same-named one under
         * another vendor GUID; the first measurement is the one the firmware
         * booted with (a later one is a finding below).
         */
        if (mode && global && *mode < 0 && v->data_size >= 1)
                *mode = v->data[0] ? 1 : 0;
        /* An absent SecureBoot variable (measured empty) means Secure Boot is off (UEFI 2.10, 3.3). */
        if (mode == &sb->secure_boot && global && *mode < 0 && v->data_size == 0)
                *mode = 0;
        if (db && global && db->event_index < 0)
                count_db(db, ev, v);
        if (!after_separator)
                return 0;
        if (is_shim_variable(n))
                return finding(sb, "shim-variable-after-separator", SHIELD_SEV_INFO, ev,
                               "%s measured into PCR 7 after its separator (by shim, as designed)", n);
        return finding(sb, "variable-after-separator", SHIELD_SEV_ERROR, ev,
                       "%s measured into PCR 7 after its separator: the Secure Boot configuration changed after "
                       "the firmware handed over",
                       n);
}

int shield_eventlog_secureboot(const struct shield_eventlog *log, struct shield_secureboot *ret) {
        if (!log || !ret)
                return SHIELD_E_INVAL;

        struct shield_secureboot sb = {
                .secure_boot = -1, .setup_mode = -1, .audit_mode = -1, .deployed_mode = -1,
                .pk.event_index = -1, .kek.event_index = -1, .db.event_index = -1, .dbx.event_index = -1,
        };
        struct walk w = { .first_pos = -1, .boot_order_event = -1, .last_image = -1, .pending_from = -1 };
        unsigned separators[BOOT_PCRS] = { 0 };
        bool exit_boot_services = false, any_pcr5 = false;
        int r = 0;

        for (size_t i = 0; i < log->n && r == 0; i++) {
                const struct shield_event *ev = &log->events[i];
                struct decoded_variable v = { 0 };
                bool is_variable = ev->type == EV_EFI_VARIABLE_DRIVER_CONFIG || ev->type == EV_EFI_VARIABLE_BOOT ||
                                   ev->type == EV_EFI_VARIABLE_BOOT2 || ev->type == EV_EFI_VARIABLE_AUTHORITY;

                if (is_variable && decode_variable(ev, &v) < 0) {
                        r = finding(&sb, "variable-malformed", SHIELD_SEV_WARNING, ev, "%s", v.diag.msg);
                        continue;
                }
                if (ev->pcr < BOOT_PCRS && ev->type == EV_SEPARATOR)
                        r = check_separator(&sb, ev, &separators[ev->pcr]);
                if (ev->pcr == PCR_BOOT_MANAGER_DATA && ev->type != EV_NO_ACTION) {
                        any_pcr5 = true;
                        exit_boot_services |= ev->type == EV_EFI_ACTION && is_action(ev, ACTION_EXIT_BOOT_SERVICES);
                }
                if (r == 0 && ev->pcr == PCR_SECURE_BOOT) {
                        if (!is_pcr7_type(ev->type)) {
                                const char *type = shield_event_type_name(ev->type);
                                r = finding(&sb, "pcr7-unexpected-event", SHIELD_SEV_WARNING, ev,
                                            "unexpected %s event in PCR 7", type ? type : "(unknown type)");
                        } else if (ev->type == EV_EFI_ACTION && is_action(ev, ACTION_DEBUG_MODE)) {
                                r = finding(&sb, "uefi-debugger", SHIELD_SEV_ERROR, ev,
                                            "the firmware ran with a UEFI debugger enabled (\"" ACTION_DEBUG_MODE
                                            "\"): PCR 7 does not attest a trustworthy boot");
                        } else if (ev->type == EV_EFI_ACTION && is_action(ev, ACTION_DMA_DISABLED)) {
                                r = finding(&sb, "dma-protection-disabled", SHIELD_SEV_WARNING, ev,
                                            "the firmware reports \"" ACTION_DMA_DISABLED
                                            "\": devices could read or write memory during boot");
                        } else if (ev->type == EV_EFI_VARIABLE_DRIVER_CONFIG) {
                                r = pcr7_variable(&sb, ev, &v, separators[PCR_SECURE_BOOT] > 0);
                        } else if (ev->type == EV_EFI_VARIABLE_AUTHORITY) {
                                r = add_authority(&sb, ev, &v);
                                if (r == 0)
                                        place_authority(&sb, &w, &v);
                        }
                }
                if (r == 0 && is_variable && ev->type != EV_EFI_VARIABLE_AUTHORITY) {
                        if (strcmp(v.name, "BootOrder") == 0) {
                                if (w.boot_order_event >= 0)
                                        r = finding(&sb, "boot-order-changed", SHIELD_SEV_WARNING, ev,
                                                    "BootOrder measured again (first at event %ld): the boot order "
                                                    "changed during this boot",
                                                    w.boot_order_event);
                                else
                                        w.boot_order_event = (long)ev->index;
                        } else if (strcmp(v.name, "BootNext") == 0) {
                                w.boot_next = true;
                                r = finding(&sb, "boot-next", SHIELD_SEV_INFO, ev,
                                            "BootNext = Boot%04X was measured: this boot was directed away from "
                                            "BootOrder once",
                                            v.data_size >= 2 ? (unsigned)(v.data[0] | v.data[1] << 8) : 0u);
                        }
                        note_boot_variable(&w, &v);
                }
                if (r == 0 && is_image(ev->type)) {
                        image_loaded(&sb, &w, ev);
                        if (ev->type == EV_EFI_BOOT_SERVICES_APPLICATION && ev->pcr == PCR_BOOT_MANAGER_CODE &&
                            w.first_path && !w.first_app_checked)
                                r = check_first_application(&sb, &w, log, ev);
                }
                free(v.name);
        }

        for (unsigned p = 0; p < BOOT_PCRS && r == 0; p++)
                if (!separators[p])
                        r = shield_reasons_add(&sb.findings, "separator-missing", SHIELD_SEV_WARNING, 0, (int)p, -1,
                                               SIZE_MAX,
                                               "PCR %u has no separator: the log does not show where the firmware "
                                               "handed over to the OS loader",
                                               p);
        if (r == 0 && sb.secure_boot == 0)
                r = finding(&sb, "secure-boot-disabled", SHIELD_SEV_WARNING, NULL,
                            "Secure Boot is disabled (SecureBoot = 0): boot components were not verified");
        else if (r == 0 && sb.secure_boot < 0)
                r = finding(&sb, "secure-boot-not-measured", SHIELD_SEV_WARNING, NULL,
                            "the SecureBoot variable is not in the log: the Secure Boot state is unknown");
        if (r == 0 && sb.setup_mode == 1)
                r = finding(&sb, "setup-mode", SHIELD_SEV_WARNING, NULL,
                            "SetupMode = 1: no platform key is enrolled, so anyone can change the Secure Boot "
                            "databases");
        if (r == 0 && any_pcr5 && !exit_boot_services)
                r = finding(&sb, "exit-boot-services-missing", SHIELD_SEV_INFO, NULL,
                            "no \"" ACTION_EXIT_BOOT_SERVICES "\" action in PCR 5 (some firmware omits it)");
        free(w.first_path);
        free(w.first_description);
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
