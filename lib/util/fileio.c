/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "shield/error.h"
#include "shield/util.h"

#define HUGE_PAGE (2u << 20)

void *shield_alloc_large(size_t n) {
        if (n < 2 * HUGE_PAGE)
                return malloc(n);
        size_t rounded = (n + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
        if (rounded < n)
                return NULL;
        void *p = aligned_alloc(HUGE_PAGE, rounded);
        if (p)
                (void)madvise(p, rounded, MADV_HUGEPAGE); /* a hint: failure only costs speed */
        return p;
}

static int read_fd(int fd, size_t max, uint8_t **ret_buf, size_t *ret_len) {
        size_t cap = 64 * 1024, len = 0;
        struct stat st;

        /* A regular file's size is known: one allocation, no copies while growing. */
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
                if ((uint64_t)st.st_size > max)
                        return SHIELD_E_LIMIT;
                cap = (size_t)st.st_size + 1; /* +1: reaching cap means the file grew; read on */
        }
        uint8_t *buf = shield_alloc_large(cap + 1);

        if (!buf)
                return SHIELD_E_NOMEM;
        for (;;) {
                if (len == cap) {
                        if (cap > max) {
                                free(buf);
                                return SHIELD_E_LIMIT;
                        }
                        size_t ncap = cap * 2;
                        uint8_t *nbuf = realloc(buf, ncap + 1);
                        if (!nbuf) {
                                free(buf);
                                return SHIELD_E_NOMEM;
                        }
                        buf = nbuf;
                        cap = ncap;
                }
                ssize_t n = read(fd, buf + len, cap - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        int saved = errno;
                        free(buf);
                        errno = saved;
                        return SHIELD_E_SYSTEM;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len > max) {
                        free(buf);
                        return SHIELD_E_LIMIT;
                }
        }
        buf[len] = 0;
        *ret_buf = buf;
        *ret_len = len;
        return 0;
}

int shield_read_file(const char *path, size_t max, uint8_t **ret_buf, size_t *ret_len) {
        if (!path || !ret_buf || !ret_len)
                return SHIELD_E_INVAL;
        if (strcmp(path, "-") == 0)
                return read_fd(STDIN_FILENO, max, ret_buf, ret_len);

        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return SHIELD_E_SYSTEM;
        int r = read_fd(fd, max, ret_buf, ret_len);
        int saved = errno;
        close(fd);
        errno = saved;
        return r;
}

int shield_write_file_atomic(const char *path, const void *buf, size_t len, unsigned mode) {
        if (!path || (!buf && len))
                return SHIELD_E_INVAL;
        _cleanup_free_ char *dircopy = strdup(path);
        _cleanup_free_ char *tmp = NULL;
        if (!dircopy)
                return SHIELD_E_NOMEM;
        if (asprintf(&tmp, "%s/.%s.XXXXXX", dirname(dircopy), strrchr(path, '/') ? strrchr(path, '/') + 1 : path) < 0)
                return SHIELD_E_NOMEM;

        int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return SHIELD_E_SYSTEM;
        const uint8_t *p = buf;
        size_t left = len;
        while (left) {
                ssize_t n = write(fd, p, left);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        goto fail;
                p += n;
                left -= (size_t)n;
        }
        if (fchmod(fd, mode) < 0 || fsync(fd) < 0)
                goto fail;
        if (close(fd) < 0) {
                fd = -1;
                goto fail;
        }
        fd = -1;
        if (rename(tmp, path) < 0)
                goto fail;
        return 0;
fail:;
        int saved = errno;
        if (fd >= 0)
                close(fd);
        unlink(tmp);
        errno = saved;
        return SHIELD_E_SYSTEM;
}

int shield_mkdir_parents(const char *path, unsigned parent_mode, unsigned mode) {
        if (!path || !*path)
                return SHIELD_E_INVAL;
        char *p = strdup(path);
        if (!p)
                return SHIELD_E_NOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, (mode_t)parent_mode) < 0 && errno != EEXIST) {
                        int saved = errno;
                        free(p);
                        errno = saved;
                        return SHIELD_E_SYSTEM;
                }
                *s = '/';
        }
        int r = mkdir(p, (mode_t)mode) < 0 && errno != EEXIST ? SHIELD_E_SYSTEM : 0;
        int saved = errno;
        free(p);
        errno = saved;
        return r;
}

int shield_mkdir_p(const char *path, unsigned mode) {
        return shield_mkdir_parents(path, 0755, mode);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void)st;
        (void)ftw;
        return flag == FTW_DP ? rmdir(path) : unlink(path);
}

int shield_remove_tree(const char *path) {
        return nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT ? SHIELD_E_SYSTEM : 0;
}
