/* SPDX-License-Identifier: Apache-2.0 */
/* The operators' routes: list, show, golden reset, delete, migrate, policy (docs/API.md, "Operators"). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "shield/attest.h"
#include "shield/integrity.h"
#include "shield/util.h"

/* ---- operators ---- */
void h_list(const struct shieldd_request *rq, struct shieldd_response *rs, const char *name_unused) {
        (void)rq;
        (void)name_unused;
        struct shield_diag diag = { 0 };
        struct shield_instance_summary *v = NULL;
        size_t n = 0;
        struct shield_store *s = api_need_store(rs);
        if (!s)
                return;
        if (shield_store_instance_summaries(s, &v, &n, &diag) < 0) {
                api_reply_store_error(rs, &diag);
                return;
        }
        shieldd_reply_json(rs, 200, shield_instances_json(v, n));
        free(v);
}


void h_get(const struct shieldd_request *rq, struct shieldd_response *rs, const char *name) {
        (void)rq;
        struct shield_instance_record rec = { 0 };
        struct shield_diag diag = { 0 };
        struct shield_golden *golden = NULL;
        char *history = NULL, *golden_text = NULL, when[32];
        struct shield_store *s = api_need_store(rs);
        if (!s)
                return;
        if (api_get_instance(rs, s, name, &rec) < 0)
                return;
        int r = shield_store_golden_get(s, name, &golden, &diag);
        if (r == 0 && shield_golden_to_json(golden, &golden_text) < 0)
                golden_text = NULL;
        if ((r < 0 && r != SHIELD_E_NOT_FOUND) || shield_history_text(s, name, SHIELDD_HISTORY, &history, &diag) < 0) {
                api_reply_store_error(rs, &diag);
                goto out;
        }
        if (rec.last_attestation > 0)
                api_iso_time(rec.last_attestation, when);
        json_t *o = json_pack("{s:s, s:b, s:s?, s:s?, s:s?, s:s?, s:b, s:o, s:o, s:o, s:o, s:s, s:s, s:b}", "name",
                              rec.name, "trusted", rec.trusted, "colour", api_colour_or_null(rec.colour), "early_boot",
                              api_colour_or_null(rec.early), "late_boot", api_colour_or_null(rec.late),
                              "last_attestation", rec.last_attestation > 0 ? when : NULL, "verified", rec.last_verified,
                              "pcrs", api_load_or_null(rec.last_pcrs_json), "golden", api_load_or_null(golden_text),
                              "differences", api_load_or_null(rec.last_reasons_json), "history",
                              api_load_or_null(history), "integrity_policy", rec.integrity[0] ? rec.integrity : "gce",
                              "ak_trust", shield_ak_trust_name(rec.ak_trust), "migration_pending", rec.migrate_pending);
        shieldd_reply_json(rs, 200, o);
out:
        free(history);
        free(golden_text);
        shield_golden_free(golden);
        shield_store_instance_record_clear(&rec);
}

/* Admin calls are checked by the route table (api.c): here the admin token is known to be right. */
void h_golden_reset(const struct shieldd_request *rq, struct shieldd_response *rs, const char *name) {
        struct shield_instance_record rec = { 0 };
        struct shield_diag diag = { 0 };
        struct shield_store *s = api_need_store(rs);
        if (!s)
                return;
        if (api_get_instance(rs, s, name, &rec) < 0)
                return;
        shield_store_instance_record_clear(&rec);
        int r = shield_store_golden_reset(s, name, &diag);
        if (r < 0 && r != SHIELD_E_NOT_FOUND) {
                api_reply_store_error(rs, &diag);
                return;
        }
        shieldd_log("%s: golden measurement reset by the operator (from %s)", name, rq->remote);
        shieldd_reply_json(rs, 200, json_pack("{s:s, s:b}", "name", name, "golden_reset", r == 0));
}

void h_delete(const struct shieldd_request *rq, struct shieldd_response *rs, const char *name) {
        struct shield_diag diag = { 0 };
        struct shield_store *s = api_need_store(rs);
        if (!s)
                return;
        int r = shield_store_instance_delete(s, name, &diag);
        if (r == SHIELD_E_NOT_FOUND) {
                shieldd_reply_error(rs, 404, "instance-unknown", "no instance of that name is registered");
                return;
        }
        if (r < 0) {
                api_reply_store_error(rs, &diag);
                return;
        }
        shieldd_log("%s: deleted by the operator (from %s)", name, rq->remote);
        rs->status = 204;
        rs->body = NULL;
        rs->len = 0;
}

/* ---- POST /v1/instances/{name}/migrate ---- */
/*
 * The operator moves the instance to new hardware (shield vm migrate):
 * its next registration may bring a new EK and AK — that one only — and
 * starts a new golden measurement with the reason "migrated".
 */
void h_migrate(const struct shieldd_request *rq, struct shieldd_response *rs, const char *name) {
        struct shield_instance_record rec = { 0 };
        struct shield_diag diag = { 0 };
        struct shield_store *s = api_need_store(rs);
        if (!s || api_get_instance(rs, s, name, &rec) < 0)
                return;
        shield_store_instance_record_clear(&rec);
        if (shield_store_instance_allow_migration(s, name, &diag) < 0) {
                api_reply_store_error(rs, &diag);
                return;
        }
        shieldd_log("%s: migration allowed by the operator (from %s): the next registration may bring a new TPM", name,
                    rq->remote);
        shieldd_reply_json(rs, 200, json_pack("{s:s, s:s}", "name", name, "migration", "pending"));
}

/* ---- POST /v1/instances/{name}/policy ---- */
void h_policy(const struct shieldd_request *rq, struct shieldd_response *rs, const char *name) {
        static const char *const allowed[] = { "integrity_policy", NULL };
        struct shield_instance_record rec = { 0 };
        struct shield_integrity_policy ip;
        struct shield_diag diag = { 0 };
        bool bad = false;
        json_t *j = api_body(rq, rs, allowed);
        if (!j)
                return;
        const char *spec = api_str_member(j, "integrity_policy", &bad);
        if (bad || !spec || strlen(spec) >= sizeof rec.integrity || shield_integrity_policy_parse(spec, &ip, &diag) < 0) {
                shieldd_reply_error(rs, 400, "malformed-request", "\"integrity_policy\": %s",
                                    diag.msg[0] ? diag.msg : "gce, oci, strict or a PCR list such as 0,2,4-7");
                goto out;
        }
        struct shield_store *s = api_need_store(rs);
        if (!s || api_get_instance(rs, s, name, &rec) < 0)
                goto out;
        shield_store_instance_record_clear(&rec);
        if (shield_store_instance_set_policy(s, name, spec, &diag) < 0) {
                api_reply_store_error(rs, &diag);
                goto out;
        }
        shieldd_log("%s: integrity policy set to %s by the operator (from %s)", name, ip.name, rq->remote);
        shieldd_reply_json(rs, 200, json_pack("{s:s, s:s}", "name", name, "integrity_policy", ip.name));
out:
        json_decref(j);
}
