/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

#include "shield/eventlog.h"
#include "shield/uefi.h"

/* A UEFI_VARIABLE_DATA (PFP 1.05, 10.4.1) as the event declares it. */
struct decoded_variable {
        shield_guid guid;
        char *name;             /* UTF-8, malloc'd */
        const uint8_t *data;    /* points into the event */
        size_t data_size;
        size_t trailing;        /* event bytes after the declared data */
        struct shield_diag diag; /* why it did not parse */
};

/* Returns 0 (free ret->name) or an error with ret->diag filled. */
int decode_variable(const struct shield_event *ev, struct decoded_variable *ret);

/* Whether a variable of this name holds EFI_SIGNATURE_LISTs (PK, KEK, db, dbx, MokList, …). */
bool decode_is_siglist_variable(const char *name);

/*
 * The value a separator carries (PFP 1.05, 10.4.1): 0 with *ret from its
 * 4 bytes of data, 1 when the data is error information and the digest is
 * that of the error value (*ret = 1), SHIELD_E_FORMAT otherwise.
 */
int decode_separator_value(const struct shield_event *ev, uint32_t *ret);
