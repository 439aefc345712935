/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: a query-migrate reply turned into a sample, then a policy step.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "migrate/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum policy_kind kinds[] = {POLICY_ADAPTIVE, POLICY_NOVA,
                                             POLICY_VDSM, POLICY_PROXMOX,
                                             POLICY_KUBEVIRT};
    struct policy_sample s;
    struct migrate_summary sum;
    json_error_t jerr;
    char err[256];
    json_t *reply;
    size_t k;

    reply = json_loadb((const char *)data, size, 0, &jerr);
    if (reply == NULL) {
        return 0;
    }
    summary_from_query_migrate(reply, &sum);
    if (sample_from_query_migrate(reply, &s, err, sizeof(err)) == 0) {
        /* whatever QEMU claims, every policy takes the sample in stride */
        for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
            struct policy_config cfg;
            struct policy_state st;
            struct policy_output out;

            policy_config_init(&cfg);
            cfg.kind = kinds[k];
            if (policy_config_validate(&cfg, err, sizeof(err)) < 0) {
                __builtin_trap();
            }
            policy_state_init(&st, &cfg);
            memset(&out, 0, sizeof(out));
            s.t = 1.0;
            policy_step(&cfg, &st, &s, &out);
            s.t = 2.0;
            s.ram_dirty_sync_count++;
            policy_step(&cfg, &st, &s, &out);
            if (out.n_actions > POLICY_MAX_ACTIONS) {
                __builtin_trap();
            }
        }
    } else if (strlen(err) == 0) {
        __builtin_trap();
    }
    json_decref(reply);
    return 0;
}
