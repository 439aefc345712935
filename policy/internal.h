/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy: private declarations shared by the files of policy/. */
#ifndef QMIGRATE_POLICY_INTERNAL_H
#define QMIGRATE_POLICY_INTERNAL_H

#include <stdarg.h>

#include "policy/policy.h"

#define POLICY_GIB 1073741824.0
#define POLICY_MIB 1048576.0

/* action.c */
/*
 * Appends an action with a printf-formed one-line reason.  Refuses (NULL)
 * when out is full, and refuses pause and cancel while s says post-copy
 * runs (aborting post-copy loses the guest).  s may be NULL before migrate.
 */
struct policy_action *policy_internal_emit(struct policy_output *out,
                                           const struct policy_sample *s,
                                           enum policy_action_kind kind,
                                           uint64_t value, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Emits a cancel and marks st cancelled; false when it could not (full, or
 * post-copy). */
bool policy_internal_cancel(struct policy_state *st, struct policy_output *out,
                            const struct policy_sample *s, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Emits set-downtime ms ("WHY: downtime MS ms") and books it in st. */
void policy_internal_set_downtime(struct policy_state *st,
                                  struct policy_output *out,
                                  const struct policy_sample *s, uint64_t ms,
                                  const char *why);
/* Bytes as decimal megabytes, with one decimal below 10 MB. */
int policy_internal_mb_prec(double bytes);
double policy_internal_mb(double bytes);

/* size.c */
/* RAM total + disks being copied, GiB, true sizes. */
/* A count from a double: 0 for NaN or below, UINT64_MAX above. */
uint64_t policy_internal_u64(double v);
double policy_internal_data_gb(const struct policy_config *cfg,
                               const struct policy_sample *s);
/* Nova's _live_migration_data_gb: RAM and each disk at least 2 GiB. */
double policy_internal_nova_data_gb(const struct policy_config *cfg,
                                    uint64_t ram_total, uint64_t disk_total);
/* The disk is still in its bulk copy (docs/policy.md, "disk phase"). */
bool policy_internal_disk_busy(const struct policy_sample *s);
/* The status in which pre-copy iterates and policies act. */
bool policy_internal_running(enum migration_status status);
/* Dirty rate in bytes/s. */
double policy_internal_dirty_rate(const struct policy_sample *s);
/*
 * The highest downtime-limit a policy sets: --downtime less room (10 %,
 * at most 20 ms) for the device state QEMU sends with the guest stopped,
 * which the limit does not cover.
 */
uint64_t policy_internal_downtime_max(const struct policy_config *cfg);

/* track.c */
void policy_internal_track_init(struct policy_track *tr);
/* Bookkeeping for every sample, before any policy looks at it. */
void policy_internal_track(struct policy_track *tr,
                           const struct policy_sample *s);
double policy_internal_elapsed(const struct policy_track *tr,
                               const struct policy_sample *s);
/* Best bandwidth estimate for decisions: whole pass, else window, else mbps. */
/*
 * Bytes moved in the current pass so far (to the last sample) over the time
 * they moved, the sample intervals in which nothing moved left out; 0 when
 * none.  *moving_s gets that time.
 */
double policy_internal_pass_rate(const struct policy_track *tr, double t,
                                 double *moving_s);
double policy_internal_bandwidth(const struct policy_track *tr,
                                 const struct policy_sample *s);

/* report.c */
void policy_internal_report(const struct policy_config *cfg,
                            struct policy_state *st,
                            const struct policy_sample *s,
                            struct policy_report *r);

/* timeout.c */
/*
 * The timeout action (--timeout-action): cancel, or force-complete
 * (start-postcopy when permitted, else pause once).  why is the reason.
 */
void policy_internal_timeout_action(const struct policy_config *cfg,
                                    struct policy_state *st,
                                    const struct policy_sample *s,
                                    struct policy_output *out, const char *why);

/* nova.c */
/* Step i of Nova's linear schedule: time mark (s) and downtime (ms). */
void policy_internal_nova_step_value(const struct policy_config *cfg,
                                     double data_gb, unsigned i,
                                     int64_t *time_s, uint64_t *downtime_ms);
void policy_internal_nova(const struct policy_config *cfg,
                          struct policy_state *st,
                          const struct policy_sample *s,
                          struct policy_output *out);

/* vdsm.c */
/* Step i (0..steps-1) of VDSM's exponential_downtime, ms. */
uint64_t policy_internal_vdsm_exponential(uint64_t downtime_ms, unsigned steps,
                                          unsigned i);
/* Seconds between DowntimeThread steps: min(delay * ram GiB / steps, 60). */
double policy_internal_vdsm_wait(const struct policy_config *cfg,
                                 uint64_t ram_total);
/* Fills st->vdsm.schedule (computing LEGACY's entries). */
void policy_internal_vdsm_init(const struct policy_config *cfg,
                               struct policy_vdsm_state *vs);
uint64_t policy_internal_vdsm_init_downtime(const struct policy_config *cfg,
                                            const struct policy_vdsm_state *vs);
void policy_internal_vdsm(const struct policy_config *cfg,
                          struct policy_state *st,
                          const struct policy_sample *s,
                          struct policy_output *out);

/* adaptive.c */
void policy_internal_adaptive(const struct policy_config *cfg,
                              struct policy_state *st,
                              const struct policy_sample *s,
                              struct policy_output *out);

/* measure.c */
/* QEMU syncs the bitmap at the edge of its 100 ms rate-limit window. */
#define POLICY_QEMU_WINDOW_S 0.1
/* What one measurement bounds: W(t_s) in [lo, hi] bytes. */
struct policy_internal_w {
    bool valid;
    double t_s;        /* its period, seconds */
    double lo, hi;     /* distinct bytes dirtied in it */
    double hi_soft;    /* a ceiling with a smaller margin */
    double n;          /* page-sampling: pages sampled (0 otherwise) */
    double k_lo, k_hi; /* of which changed, as QEMU's integer allows */
    double ram;        /* bytes the pages were sampled from */
    double rate_floor; /* dirty-ring: bytes/s the guest writes, at least */
};
bool policy_internal_w_bounds(const struct policy_dirty_rate *m, uint64_t ram,
                              struct policy_internal_w *w);
/* The estimate from measurements m[0..n) at bandwidth bw (bytes/s). */
void policy_internal_estimate(const struct policy_dirty_rate *m, size_t n,
                              uint64_t ram, double bw,
                              struct policy_estimate *e);

/* preflight.c */
/* Every sample, every policy: results in, verdicts (adaptive acts). */
void policy_internal_preflight_step(const struct policy_config *cfg,
                                    struct policy_state *st,
                                    const struct policy_sample *s,
                                    struct policy_output *out);
/*
 * True when the measurements say the guest may still converge within
 * --downtime (or it changed too recently to tell): adaptive then does
 * not abort on what its passes show.
 */
bool policy_internal_preflight_vetoes_abort(const struct policy_config *cfg,
                                            const struct policy_state *st);
/* adaptive acts on measurements, and has one. */
bool policy_internal_preflight_measured(const struct policy_config *cfg,
                                        const struct policy_state *st);
/* The measurements say nothing permitted can work (adaptive, decide). */
bool policy_internal_preflight_hopeless(const struct policy_config *cfg,
                                        const struct policy_state *st);

/* kubevirt.c */
void policy_internal_kubevirt_init(const struct policy_config *cfg,
                                   struct policy_kubevirt_state *ks);
uint64_t policy_internal_kubevirt_initial_ms(const struct policy_config *cfg);
void policy_internal_kubevirt(const struct policy_config *cfg,
                              struct policy_state *st,
                              const struct policy_sample *s,
                              struct policy_output *out);
/* dirtylimit.c */
/* What a stalled pass boundary shows, for the dirty-limit rung. */
struct policy_internal_stall {
    uint64_t sync;   /* the pass that just began */
    double rem;      /* RAM left as it began, bytes */
    double bw;       /* bytes/s */
    double dirty;    /* bytes/s, QEMU's measure */
    const char *why; /* the stall in words, for the reason */
};
/* The downtime limit escalation raises to (below --downtime with a
 * dirty-limit, whose last pass fills the limit). */
uint64_t policy_internal_escalation_downtime(const struct policy_config *cfg);
/* The per-vCPU limit, MiB/s, that converges within allowed_s. */
uint64_t policy_internal_dirty_limit_mib(double rem, double bw,
                                         double allowed_s, double dirty,
                                         unsigned vcpus);
/*
 * adaptive's dirty-limit rung (when --dirty-limit permits it): true when
 * it set or lowered the limit, or gives the last one time to act; false
 * when there is none to pull or it is spent (the floor, still stalled).
 */
bool policy_internal_dirty_limit(const struct policy_config *cfg,
                                 struct policy_state *st,
                                 const struct policy_sample *s,
                                 struct policy_output *out,
                                 const struct policy_internal_stall *stall);

/* baseline.c */
#define POLICY_PROXMOX_INITIAL_MS 100
void policy_internal_proxmox(const struct policy_config *cfg,
                             struct policy_state *st,
                             const struct policy_sample *s,
                             struct policy_output *out);

#endif /* QMIGRATE_POLICY_INTERNAL_H */
