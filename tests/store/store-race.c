/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Several processes on one store, as several shieldd would be: each child
 * opens its own handle, all wait at one barrier, then race.
 *  - concurrent opens of an empty database migrate it once (every open
 *    succeeds and the schema version is this build's);
 *  - two processes taking the same challenges: each is taken exactly once;
 *  - two processes spending the same nonces: each is spent exactly once;
 *  - two processes registering one name with different AKs: one wins.
 * Usage: store-race STORE (a SQLite path, removed first, or a PostgreSQL URL
 * to an empty database). Exit 0 when every race had one winner.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shield/store.h"

#define OPENERS 8
#define RACERS 2
#define CHALLENGES 64
#define EXPECTED_SCHEMA_VERSION 6

static const char *target;
static int failures;

#define CHECK(cond, ...)                                                                                               \
        do {                                                                                                           \
                if (!(cond)) {                                                                                         \
                        fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                           \
                        fprintf(stderr, __VA_ARGS__);                                                                  \
                        fputc('\n', stderr);                                                                           \
                        failures++;                                                                                    \
                }                                                                                                      \
        } while (0)

static struct shield_store *open_or_die(void) {
        struct shield_store *s = NULL;
        struct shield_diag diag = { 0 };
        int r = shield_store_open(target, &s, &diag);
        if (r < 0) {
                fprintf(stderr, "open: %s: %s\n", shield_strerror(r), diag.msg);
                _exit(100);
        }
        return s;
}

/* Fork n children running fn(i); they start together when the barrier pipe closes. Returns their exit codes. */
static void race(int n, int (*fn)(int i), int *codes) {
        int barrier[2];
        pid_t pids[OPENERS];
        if (pipe2(barrier, O_CLOEXEC) < 0) {
                perror("pipe2");
                exit(1);
        }
        for (int i = 0; i < n; i++) {
                pids[i] = fork();
                if (pids[i] < 0) {
                        perror("fork");
                        exit(1);
                }
                if (pids[i] == 0) {
                        char c;
                        close(barrier[1]);
                        while (read(barrier[0], &c, 1) < 0 && errno == EINTR)
                                ;
                        _exit(fn(i));
                }
        }
        close(barrier[0]);
        close(barrier[1]);
        for (int i = 0; i < n; i++) {
                int st = 0;
                while (waitpid(pids[i], &st, 0) < 0 && errno == EINTR)
                        ;
                codes[i] = WIFEXITED(st) ? WEXITSTATUS(st) : 200;
        }
}

static int do_open(int i) {
        (void)i;
        struct shield_store *s = open_or_die();
        int v = -1, r = shield_store_schema_version(s, &v, NULL);
        shield_store_close(s);
        return r == 0 && v == EXPECTED_SCHEMA_VERSION ? 0 : 1;
}

static void nonce_of(int k, uint8_t n[32]) {
        memset(n, 0, 32);
        n[0] = 0x7a;
        n[1] = (uint8_t)k;
}

/* Exit code: how many challenges this child won (0..CHALLENGES), or > CHALLENGES on an error. */
static int do_take(int i) {
        (void)i;
        struct shield_store *s = open_or_die();
        int won = 0;
        for (int k = 0; k < CHALLENGES; k++) {
                uint8_t n[32];
                nonce_of(k, n);
                struct shield_diag diag = { 0 };
                int r = shield_store_challenge_take(s, "racer", n, sizeof n, 1000, &diag);
                if (r == 0)
                        won++;
                else if (r != SHIELD_E_VERIFY) {
                        fprintf(stderr, "take: %s: %s\n", shield_strerror(r), diag.msg);
                        won = 250;
                        break;
                }
        }
        shield_store_close(s);
        return won;
}

static int do_nonce(int i) {
        (void)i;
        struct shield_store *s = open_or_die();
        int won = 0;
        for (int k = 0; k < CHALLENGES; k++) {
                uint8_t n[32];
                nonce_of(k, n);
                struct shield_diag diag = { 0 };
                int r = shield_store_nonce_use(s, n, sizeof n, 1000, &diag);
                if (r == 0)
                        won++;
                else if (r != SHIELD_E_VERIFY) {
                        fprintf(stderr, "nonce: %s: %s\n", shield_strerror(r), diag.msg);
                        won = 250;
                        break;
                }
        }
        shield_store_close(s);
        return won;
}

/* Exit 0 registered, 1 refused ("exists"), 2 anything else. */
static int do_register(int i) {
        uint8_t ak[8] = { 0, 6, 'a', 'k', '-', 'r', 'a', (uint8_t)('0' + i) };
        struct shield_instance_record rec = { .ak_public = ak, .ak_public_len = sizeof ak, .trusted = true };
        struct shield_diag diag = { 0 };
        memcpy(rec.name, "contested", 10);
        struct shield_store *s = open_or_die();
        int r = shield_store_instance_register(s, &rec, &diag);
        shield_store_close(s);
        if (r == 0)
                return 0;
        if (r == SHIELD_E_INVAL && strstr(diag.msg, "exists"))
                return 1;
        fprintf(stderr, "register: %s: %s\n", shield_strerror(r), diag.msg);
        return 2;
}

int main(int argc, char **argv) {
        int codes[OPENERS];

        if (argc != 2) {
                fprintf(stderr, "usage: store-race STORE\n");
                return 2;
        }
        target = argv[1];
        if (!shield_store_is_postgresql(target)) {
                /* A fresh SQLite file each run. */
                char side[4096];
                unlink(target);
                snprintf(side, sizeof side, "%s-wal", target);
                unlink(side);
                snprintf(side, sizeof side, "%s-shm", target);
                unlink(side);
        }

        race(OPENERS, do_open, codes);
        for (int i = 0; i < OPENERS; i++)
                CHECK(codes[i] == 0, "opener %d exited %d", i, codes[i]);

        struct shield_store *s = open_or_die();
        uint8_t ak[4] = { 0, 2, 'r', 'c' };
        struct shield_instance_record rec = { .ak_public = ak, .ak_public_len = sizeof ak, .trusted = true };
        memcpy(rec.name, "racer", 6);
        CHECK(shield_store_instance_register(s, &rec, NULL) == 0, "register racer");
        for (int k = 0; k < CHALLENGES; k++) {
                uint8_t n[32];
                nonce_of(k, n);
                CHECK(shield_store_challenge_add(s, "racer", n, sizeof n, 2000, NULL) == 0, "challenge %d", k);
        }
        shield_store_close(s);

        race(RACERS, do_take, codes);
        CHECK(codes[0] <= CHALLENGES && codes[1] <= CHALLENGES && codes[0] + codes[1] == CHALLENGES,
              "challenges won %d + %d, expected %d in all", codes[0], codes[1], CHALLENGES);
        race(RACERS, do_nonce, codes);
        CHECK(codes[0] <= CHALLENGES && codes[1] <= CHALLENGES && codes[0] + codes[1] == CHALLENGES,
              "nonces spent %d + %d, expected %d in all", codes[0], codes[1], CHALLENGES);
        race(RACERS, do_register, codes);
        CHECK((codes[0] == 0 && codes[1] == 1) || (codes[0] == 1 && codes[1] == 0), "registrations exited %d and %d",
              codes[0], codes[1]);

        if (failures)
                fprintf(stderr, "store-race: %d failure(s) on %s\n", failures, shield_store_is_postgresql(target) ? "PostgreSQL" : "SQLite");
        else
                printf("store-race: every race had exactly one winner\n");
        return failures ? 1 : 0;
}
