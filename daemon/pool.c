/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One store handle per thread: opened the first time a request on that
 * thread needs it, closed when the thread ends (SQLite connections are not
 * shared between threads; PostgreSQL connections are not thread-safe
 * either). The HTTP pool has a fixed number of threads, so this is a pool.
 */
#include <pthread.h>
#include <stdlib.h>

#include "shieldd.h"

static pthread_key_t key;

static void close_handle(void *p) {
        shield_store_close(p);
        shieldd_ak_cache_clear(); /* the thread's other per-thread state goes with it */
}

int shieldd_store_init(void) {
        return pthread_key_create(&key, close_handle) == 0 ? 0 : -1;
}

struct shield_store *shieldd_store(void) {
        struct shield_store *s = pthread_getspecific(key);
        if (s)
                return s;
        struct shield_diag diag = { 0 };
        if (shield_store_open(shieldd_cfg.store_url, &s, &diag) < 0) {
                shieldd_metrics_store_error();
                shieldd_log("cannot open the store: %s", diag.msg);
                return NULL;
        }
        if (pthread_setspecific(key, s) != 0) {
                shield_store_close(s);
                return NULL;
        }
        return s;
}

void shieldd_store_release(void) {
        struct shield_store *s = pthread_getspecific(key);
        if (s) {
                pthread_setspecific(key, NULL);
                shield_store_close(s);
        }
        shieldd_ak_cache_clear();
}
