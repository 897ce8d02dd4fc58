/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "shield/eventlog.h"
#include "shield/uefi.h"

/* A UEFI_VARIABLE_DATA (PFP 1.05, 10.4.1) as the event declares it. */
struct decoded_variable {
        shield_guid guid;
        char *name;             /* UTF-8, malloc'd */
        const uint8_t *data;    /* points into the event */
        size_t data_size;
        struct shield_diag diag; /* why it did not parse */
};

/* Returns 0 (free ret->name) or an error with ret->diag filled. */
int decode_variable(const struct shield_event *ev, struct decoded_variable *ret);
