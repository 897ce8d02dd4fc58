/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Serial-console frames: decode a console capture, look frames up, and turn
 * them into evidence the way `shield vm run` does. A frame the decoder
 * accepts must have the length its header promised (else it aborts).
 */
#include <stdlib.h>

#include "shield/evidence.h"
#include "shield/vm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct shield_frames f;
        struct shield_evidence e;

        if (shield_frames_parse(data, size, &f, NULL) < 0)
                return 0;
        for (size_t i = 0; i < f.n; i++)
                if (shield_frames_find(&f, f.items[i].name) != &f.items[i] || (f.items[i].len && !f.items[i].data))
                        abort();
        if (shield_evidence_from_frames(&f, "fuzz", &e, NULL) == 0)
                shield_evidence_free(&e);
        shield_frames_clear(&f);
        return 0;
}
