/* SPDX-License-Identifier: Apache-2.0 */
/* UEFI_IMAGE_LOAD_EVENT, typed (PFP 1.05, 10.2.4). */
#include <stdlib.h>
#include <string.h>

#include "shield/eventlog.h"
#include "shield/uefi.h"
#include "util/rd.h"

#define IMAGE_LOAD_HEADER 32 /* ImageLocationInMemory, ImageLengthInMemory, ImageLinkTimeAddress, LengthOfDevicePath */

int shield_event_image_load(const struct shield_event *ev, struct shield_image_load_event *ret, struct shield_diag *diag) {
        if (!ev || !ret || (ev->type != EV_EFI_BOOT_SERVICES_APPLICATION && ev->type != EV_EFI_BOOT_SERVICES_DRIVER &&
                            ev->type != EV_EFI_RUNTIME_SERVICES_DRIVER))
                return SHIELD_E_INVAL;
        struct rd r = rd_init_sticky(ev->data, ev->data_size); /* the header's four reads, checked once */
        struct shield_image_load_event e = { 0 };
        uint64_t path_len = 0;

        rd_le64(&r, &e.location);
        rd_le64(&r, &e.length);
        rd_le64(&r, &e.link_time_address);
        rd_le64(&r, &path_len);
        if (rd_ok(&r) < 0)
                return shield_diag_fail(diag, SHIELD_E_TRUNCATED, 0, (long)ev->index,
                                        "UEFI_IMAGE_LOAD_EVENT: %u bytes, too few for its header (%d)", ev->data_size,
                                        IMAGE_LOAD_HEADER);
        if (path_len > rd_left(&r))
                return shield_diag_fail(diag, SHIELD_E_TRUNCATED, 24, (long)ev->index,
                                        "UEFI_IMAGE_LOAD_EVENT: device path length %llu exceeds the %zu bytes left",
                                        (unsigned long long)path_len, rd_left(&r));
        struct shield_diag d = { 0 };
        int k = shield_devpath_to_text(rd_cur(&r), (size_t)path_len, &e.device_path, &d);
        if (k < 0)
                return shield_diag_fail(diag, k, IMAGE_LOAD_HEADER + d.offset, (long)ev->index, "device path: %s", d.msg);
        *ret = e;
        return 0;
}

void shield_image_load_event_clear(struct shield_image_load_event *e) {
        if (!e)
                return;
        free(e->device_path);
        memset(e, 0, sizeof *e);
}
