/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vshape_host tracepoints: one event per shaping request and one per
 * standard inflate/deflate buffer.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vshape_host

#if !defined(_VSHAPE_HOST_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _VSHAPE_HOST_TRACE_H

#include <linux/tracepoint.h>
#include <uapi/linux/vshape.h>

#define vsh_show_op(op)						\
	__print_symbolic(op,					\
			 { 0,			"bad" },		\
			 { VSHAPE_OP_INFLATE,	"inflate" },	\
			 { VSHAPE_OP_DEFLATE,	"deflate" },	\
			 { VSHAPE_OP_RESERVE,	"reserve" },	\
			 { VSHAPE_OP_COMMIT,	"commit" },	\
			 { VSHAPE_OP_RELEASE,	"release" },	\
			 { VSHAPE_OP_REPORT,	"report" })

#define vsh_show_status(st)					\
	__print_symbolic(st,					\
			 { VSHAPE_S_DONE,		"done" },	\
			 { VSHAPE_S_PARTIAL,		"partial" },	\
			 { VSHAPE_S_REFUSED_CAPACITY,	"refused" },	\
			 { VSHAPE_S_INVALID,		"invalid" })

TRACE_EVENT(vshape_host_request,
	    TP_PROTO(const char *dev, u32 id, unsigned int op, unsigned int nr,
		     u64 bytes, unsigned int status, u64 granted),
	    TP_ARGS(dev, id, op, nr, bytes, status, granted),
	    TP_STRUCT__entry(__string(dev, dev)
			     __field(u32, id)
			     __field(unsigned int, op)
			     __field(unsigned int, nr)
			     __field(u64, bytes)
			     __field(unsigned int, status)
			     __field(u64, granted)),
	    TP_fast_assign(__assign_str(dev);
			   __entry->id = id;
			   __entry->op = op;
			   __entry->nr = nr;
			   __entry->bytes = bytes;
			   __entry->status = status;
			   __entry->granted = granted;),
	    TP_printk("dev=%s id=%u op=%s nr=%u bytes=%llu status=%s granted=%llu",
		      __get_str(dev), __entry->id, vsh_show_op(__entry->op),
		      __entry->nr, __entry->bytes,
		      vsh_show_status(__entry->status), __entry->granted)
);

TRACE_EVENT(vshape_host_balloon,
	    TP_PROTO(const char *dev, bool inflate, u64 pfns, u64 good),
	    TP_ARGS(dev, inflate, pfns, good),
	    TP_STRUCT__entry(__string(dev, dev)
			     __field(bool, inflate)
			     __field(u64, pfns)
			     __field(u64, good)),
	    TP_fast_assign(__assign_str(dev);
			   __entry->inflate = inflate;
			   __entry->pfns = pfns;
			   __entry->good = good;),
	    TP_printk("dev=%s %s pfns=%llu accepted=%llu", __get_str(dev),
		      __entry->inflate ? "inflate" : "deflate", __entry->pfns,
		      __entry->good)
);

#endif /* _VSHAPE_HOST_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE vshape_host_trace
#include <trace/define_trace.h>
