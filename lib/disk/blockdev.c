/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Block devices: a raw image or device file read with pread(), or a memory
 * buffer. Every read goes through shield_blockdev_read(), which checks the
 * range once so the callbacks need not.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shield/disk.h"

static int file_read(void *ctx, uint64_t off, void *buf, size_t len) {
        int fd = *(int *)ctx;
        uint8_t *p = buf;

        while (len > 0) {
                if (off > (uint64_t)INT64_MAX)
                        return SHIELD_E_TRUNCATED;
                ssize_t n = pread(fd, p, len, (off_t)off);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return SHIELD_E_SYSTEM;
                }
                if (n == 0)
                        return SHIELD_E_TRUNCATED; /* the file shrank under us */
                p += n;
                len -= (size_t)n;
                off += (uint64_t)n;
        }
        return 0;
}

static int memory_read(void *ctx, uint64_t off, void *buf, size_t len) {
        /* shield_blockdev_read() has checked off + len against the size. */
        if (len)
                memcpy(buf, (const uint8_t *)ctx + off, len);
        return 0;
}

int shield_blockdev_open_file(const char *path, struct shield_blockdev *ret, struct shield_diag *diag) {
        struct stat st;
        int *fdp;

        if (!path || !ret)
                return SHIELD_E_INVAL;
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "cannot open %s: %s", path, strerror(errno));
        if (fstat(fd, &st) < 0) {
                int e = errno;
                close(fd);
                return shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "cannot stat %s: %s", path, strerror(e));
        }
        if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
                close(fd);
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "%s is not a regular file or block device",
                                        path);
        }
        off_t end = lseek(fd, 0, SEEK_END);
        if (end < 0) {
                int e = errno;
                close(fd);
                return shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "cannot find the size of %s: %s", path,
                                        strerror(e));
        }
        fdp = malloc(sizeof *fdp);
        if (!fdp) {
                close(fd);
                return SHIELD_E_NOMEM;
        }
        *fdp = fd;
        *ret = (struct shield_blockdev){ .size = (uint64_t)end, .ctx = fdp, .read = file_read };
        return 0;
}

void shield_blockdev_close(struct shield_blockdev *dev) {
        if (!dev)
                return;
        if (dev->read == file_read && dev->ctx) {
                close(*(int *)dev->ctx);
                free(dev->ctx);
        }
        *dev = (struct shield_blockdev){ 0 };
}

void shield_blockdev_from_memory(const uint8_t *buf, size_t len, struct shield_blockdev *ret) {
        *ret = (struct shield_blockdev){ .size = buf ? len : 0, .ctx = (void *)(uintptr_t)buf, .read = memory_read };
}

int shield_blockdev_read(const struct shield_blockdev *dev, uint64_t off, void *buf, size_t len) {
        if (!dev || !dev->read || (len && !buf))
                return SHIELD_E_INVAL;
        if (len > dev->size || off > dev->size - len)
                return SHIELD_E_TRUNCATED;
        return dev->read(dev->ctx, off, buf, len);
}
