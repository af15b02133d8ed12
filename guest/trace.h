/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of vshape_guest: one per inflate and deflate pass, with
 * what was asked, what was done and how long the pass took (including
 * the host's acknowledgment); one per prediction.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vshape

#if !defined(_VSHAPE_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _VSHAPE_TRACE_H

#include <linux/tracepoint.h>

DECLARE_EVENT_CLASS(vshape_balloon_pass,
		    TP_PROTO(unsigned long asked, unsigned long done,
			     unsigned long held, u64 latency_ns),
		    TP_ARGS(asked, done, held, latency_ns),
		    TP_STRUCT__entry(__field(unsigned long, asked)
				     __field(unsigned long, done)
				     __field(unsigned long, held)
				     __field(u64, latency_ns)),
		    TP_fast_assign(__entry->asked = asked;
				   __entry->done = done;
				   __entry->held = held;
				   __entry->latency_ns = latency_ns;),
		    TP_printk("asked=%lu done=%lu held=%lu pages latency=%llu ns",
			      __entry->asked, __entry->done, __entry->held,
			      __entry->latency_ns));

DEFINE_EVENT(vshape_balloon_pass, vshape_inflate,
	     TP_PROTO(unsigned long asked, unsigned long done,
		      unsigned long held, u64 latency_ns),
	     TP_ARGS(asked, done, held, latency_ns));

DEFINE_EVENT(vshape_balloon_pass, vshape_deflate,
	     TP_PROTO(unsigned long asked, unsigned long done,
		      unsigned long held, u64 latency_ns),
	     TP_ARGS(asked, done, held, latency_ns));

/*
 * The events below take the driver's own record of what they show
 * (predict.h's struct vsg_record, policy.h's struct vsg_decision), defined
 * where the events are created: main.c includes both headers.
 */
struct vsg_record;
struct vsg_decision;

/* One per prediction: used memory and demand now, the step's cost. */
TRACE_EVENT(vshape_predict,
	    TP_PROTO(const struct vsg_record *r),
	    TP_ARGS(r),
	    TP_STRUCT__entry(__field(u64, seq)
			     __field(s16, used)
			     __field(s16, demand)
			     __field(u16, confidence)
			     __field(u32, step_ns)),
	    TP_fast_assign(__entry->seq = r->seq;
			   __entry->used = r->raw[VSG_CH_USED];
			   __entry->demand = r->demand;
			   __entry->confidence = r->confidence;
			   __entry->step_ns = r->step_ns;),
	    TP_printk("seq=%llu used=%d demand=%d (Q3.12 of RAM) confidence=%u (Q0.15) step=%u ns",
		      __entry->seq, __entry->used, __entry->demand,
		      __entry->confidence, __entry->step_ns));

/*
 * One per prediction, after the calibration step: the model's upper
 * forecast of the peak, the band published (upper + margin), the margin
 * (all Q3.12 of RAM) and the outcomes known so far since the last reset.
 */
TRACE_EVENT(vshape_calib,
	    TP_PROTO(const struct vsg_record *r, u64 resolved, u64 shortfalls),
	    TP_ARGS(r, resolved, shortfalls),
	    TP_STRUCT__entry(__field(u64, seq)
			     __field(s16, upper)
			     __field(s16, band)
			     __field(s16, margin)
			     __field(u64, resolved)
			     __field(u64, shortfalls)),
	    TP_fast_assign(__entry->seq = r->seq;
			   __entry->upper = r->upper;
			   __entry->band = r->band;
			   __entry->margin = r->margin;
			   __entry->resolved = resolved;
			   __entry->shortfalls = shortfalls;),
	    TP_printk("seq=%llu upper=%d band=%d margin=%d (Q3.12 of RAM) shortfalls=%llu/%llu",
		      __entry->seq, __entry->upper, __entry->band,
		      __entry->margin, __entry->shortfalls,
		      __entry->resolved));

#define vsg_show_action(a)						\
	__print_symbolic(a, { 0, "hold" }, { 1, "shrink" }, { 2, "grow" }, \
			 { 3, "grow_commit" }, { 4, "reserve" },		\
			 { 5, "guard_psi" }, { 6, "guard_refault" },	\
			 { 7, "guard_oom" }, { 8, "guard_low" })

/* One per predict-mode decision; action as enum vsg_policy_action. */
TRACE_EVENT(vshape_policy,
	    TP_PROTO(const struct vsg_decision *d),
	    TP_ARGS(d),
	    TP_STRUCT__entry(__field(u64, seq)
			     __field(unsigned int, action)
			     __field(unsigned long, used_kb)
			     __field(unsigned long, need_kb)
			     __field(unsigned long, held_kb)
			     __field(unsigned long, target_kb)
			     __field(unsigned int, conf_pct)
			     __field(unsigned int, psi_some_pct)
			     __field(unsigned long, refault_per_s)
			     __field(unsigned long, commit_kb)),
	    TP_fast_assign(__entry->seq = d->seq;
			   __entry->action = d->action;
			   __entry->used_kb = d->used_kb;
			   __entry->need_kb = d->need_kb;
			   __entry->held_kb = d->held_kb;
			   __entry->target_kb = d->target_kb;
			   __entry->conf_pct = d->conf_pct;
			   __entry->psi_some_pct = d->psi_some_pct;
			   __entry->refault_per_s = d->refault_per_s;
			   __entry->commit_kb = d->commit_kb;),
	    TP_printk("seq=%llu action=%s used=%lu need=%lu held=%lu target=%lu commit=%lu KiB confidence=%u%% psi_some=%u%% refault=%lu/s",
		      __entry->seq, vsg_show_action(__entry->action),
		      __entry->used_kb,
		      __entry->need_kb, __entry->held_kb, __entry->target_kb,
		      __entry->commit_kb, __entry->conf_pct, __entry->psi_some_pct,
		      __entry->refault_per_s));

#endif /* _VSHAPE_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
