/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A test hook for failure injection (docs/API.md, "Store failures"): when
 * SHIELD_STORE_FAULT_FILE names a file, every store operation whose label
 * contains the file's first line ("recording the verdict", "spending the
 * challenge", … or "commit") fails as a database error would, for as long
 * as the file says so. Tests change the file while a service runs to fail
 * each step of an attestation in turn. Without the variable nothing is
 * interposed; with it, each operation reads the (small) file once.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-internal.h"

#define FAULT_LABEL_MAX 128

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct store_ops faulty[2];
static const struct store_ops *wrapped[2];

/* The label that should fail now, "" for none. */
static void fault_label(char out[FAULT_LABEL_MAX]) {
        out[0] = '\0';
        const char *path = getenv("SHIELD_STORE_FAULT_FILE");
        FILE *f = path ? fopen(path, "re") : NULL;
        if (!f)
                return;
        if (fgets(out, FAULT_LABEL_MAX, f))
                out[strcspn(out, "\r\n")] = '\0';
        else
                out[0] = '\0';
        fclose(f);
}

static bool failing(const char *what) {
        char label[FAULT_LABEL_MAX];
        fault_label(label);
        return label[0] && what && strstr(what, label);
}

static int fault_query(struct shield_store *s, const char *what, const char *sql, const struct store_param *p, size_t n,
                       struct store_rows **ret, struct shield_diag *diag) {
        if (failing(what))
                return shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "store: %s: injected failure (SHIELD_STORE_FAULT_FILE)",
                                        what);
        return s->real_ops->query(s, what, sql, p, n, ret, diag);
}

static int fault_commit(struct shield_store *s, struct shield_diag *diag) {
        if (failing("commit")) {
                s->real_ops->rollback(s);
                return shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "store: commit: injected failure (SHIELD_STORE_FAULT_FILE)");
        }
        return s->real_ops->commit(s, diag);
}

void store_fault_interpose(struct shield_store *s) {
        s->real_ops = s->ops;
        if (!getenv("SHIELD_STORE_FAULT_FILE"))
                return;
        pthread_mutex_lock(&lock);
        for (size_t i = 0; i < 2; i++) {
                if (wrapped[i] && wrapped[i] != s->ops)
                        continue;
                if (!wrapped[i]) {
                        wrapped[i] = s->ops;
                        faulty[i] = *s->ops;
                        faulty[i].query = fault_query;
                        faulty[i].commit = fault_commit;
                }
                s->ops = &faulty[i];
                break;
        }
        pthread_mutex_unlock(&lock);
}
