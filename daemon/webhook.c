/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --webhook URL: every colour change is POSTed as JSON by one background
 * thread (a small queue, so a slow receiver never holds up an attestation;
 * when the queue is full the oldest event is dropped and logged).
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "shieldd.h"

#define QUEUE_MAX 256

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static char *queue[QUEUE_MAX];
static size_t head, count;
static bool stopping, started;
static pthread_t worker;

static size_t discard(char *p, size_t size, size_t n, void *u) {
        (void)p;
        (void)u;
        return size * n;
}

static void post(CURL *curl, const char *body) {
        struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
        curl_easy_reset(curl);
        curl_easy_setopt(curl, CURLOPT_URL, shieldd_cfg.webhook);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
        CURLcode rc = curl_easy_perform(curl);
        long status = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        if (rc != CURLE_OK)
                shieldd_log("webhook: %s", curl_easy_strerror(rc));
        else if (status < 200 || status > 299)
                shieldd_log("webhook: the receiver answered %ld", status);
        curl_slist_free_all(h);
}

static void *run(void *arg) {
        (void)arg;
        CURL *curl = curl_easy_init();
        pthread_mutex_lock(&lock);
        for (;;) {
                while (!count && !stopping)
                        pthread_cond_wait(&cond, &lock);
                if (!count)
                        break;
                char *body = queue[head];
                head = (head + 1) % QUEUE_MAX;
                count--;
                pthread_mutex_unlock(&lock);
                if (curl)
                        post(curl, body);
                free(body);
                pthread_mutex_lock(&lock);
        }
        pthread_mutex_unlock(&lock);
        curl_easy_cleanup(curl);
        return NULL;
}

int shieldd_webhook_init(void) {
        if (!shieldd_cfg.webhook)
                return 0;
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return -1;
        if (pthread_create(&worker, NULL, run, NULL) != 0)
                return -1;
        started = true;
        return 0;
}

void shieldd_webhook_colour_change(const char *instance, const char *from, const char *to, int64_t when) {
        if (!started)
                return;
        json_t *j = json_pack("{s:s, s:s?, s:s, s:I}", "instance", instance, "from", from, "to", to, "time",
                              (json_int_t)when);
        char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        if (!body)
                return;
        pthread_mutex_lock(&lock);
        if (count == QUEUE_MAX) {
                free(queue[head]);
                head = (head + 1) % QUEUE_MAX;
                count--;
                shieldd_log("webhook: queue full, the oldest colour change was dropped");
        }
        queue[(head + count) % QUEUE_MAX] = body;
        count++;
        pthread_cond_signal(&cond);
        pthread_mutex_unlock(&lock);
}

void shieldd_webhook_shutdown(void) {
        if (!started)
                return;
        pthread_mutex_lock(&lock);
        stopping = true;
        pthread_cond_signal(&cond);
        pthread_mutex_unlock(&lock);
        pthread_join(worker, NULL);
        started = false;
        curl_global_cleanup();
}
