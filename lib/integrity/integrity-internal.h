/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "shield/integrity.h"

struct shield_golden {
        struct shield_pcrs pcrs;
        bool has_eventlog;                      /* events below are the log's (possibly none) */
        size_t n_events;
        struct shield_golden_event *events;     /* in log order */
};
