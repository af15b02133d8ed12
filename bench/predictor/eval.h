/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vs-eval (bench/predictor): what its parts share.
 *
 *   eval.c            the driver: options, models, the Alibaba and the VM
 *                     trace runs and their goals and summary
 *   eval_run.c        stepping every predictor over a trace's test span,
 *                     scoring it; the step cost
 *   eval_baselines.c  last value, EWMA and Holt, tuned on [0, 0.7)
 *   eval_calib.c      confidence calibration statistics
 *   eval_report.c     the per-machine and calibration JSON and Markdown
 */
#ifndef VS_BENCH_EVAL_H
#define VS_BENCH_EVAL_H

#include <stdio.h>
#include "lstm.h"
#include "lstm_float.h"
#include "../../tools/trace.h"

#define WARM 30		/* test steps not scored after the reset */
#define NPRED 7

enum { P_FIXED, P_FLOAT, P_ADAPT, P_LAST, P_EWMA, P_HOLT, P_ADAPT_ONLY };

/* the two reported horizons (grid steps), the larger, the grid (eval.c) */
extern int ev_horizons[2], ev_max_h, ev_grid_ms;
/* the baselines' parameters, set by tune() (eval_baselines.c) */
extern double ev_ewma_alpha, ev_holt_alpha, ev_holt_beta;

/* MAE and p95 under-prediction per predictor and reported horizon */
struct result {
	double mae[NPRED][2], p95u[NPRED][2];
	long n;
};

/*
 * Confidence calibration of lstm_fixed.  vs-train fits the CONFIDENCE
 * output as a Gaussian log-variance of the squared error averaged over
 * the model's DEMAND horizons, in units of (1% of RAM)^2:
 * c = sigmoid(-logvar) = 1 / (1 + mse / (1%)^2).  Inverted, the implied
 * band is the predicted RMS error e = 1% RAM x sqrt(1/c - 1) (c = 0 ->
 * unbounded).  Collected per scored step: c and |actual - predicted| at
 * each reported horizon, and at every model horizon pooled (CAL_ALL).
 */
#define CAL_ALL 2
struct cal {
	double *c, *err;	/* confidence [0, 1], |error| in points */
	long n, cap;
};

/* calibration statistics of points [a, b) of cl (sorted by confidence) */
struct cstat {
	long n, unbounded;
	double cmin, cmax, cmean, band, cov1, cov2, mae, rmse, ratio;
};

/* baseline forecasts of horizon h at the current state */
struct base {
	double last, ewma, lvl, trend;
	int init;
};

/* eval_baselines.c */
void base_update(struct base *b, double y, double ea, double ha,
		 double hb);
void tune(struct vs_trace *tr, int ntr);

/* eval_run.c */
void run_all(const struct vs_model *q, const struct vs_fmodel *fm,
	     struct vs_trace *tr, int ntr, struct result *res,
	     struct result *mean, struct cal *cal);
double time_step(const struct vs_model *q, long iters);
double time_fstep(const struct vs_fmodel *m, long iters);

/* eval_calib.c */
extern const double cal_edge[5];
void cal_add(struct cal *cl, double c, double err);
void cal_free(struct cal *cl);
void cstat(const struct cal *cl, long a, long b, struct cstat *s);
double spearman(const struct cal *cl);
void cal_sort(struct cal *cl);
void cal_bucket(const struct cal *cl, int q, int b, long *lo, long *hi);

/* eval_report.c */
extern const char *cal_def;
void print_results(FILE *f, const char *key, struct vs_trace *tr,
		   int ntr, struct result *res, struct result *mean,
		   int last);
void md_table(FILE *f, const char *title, struct vs_trace *tr,
	      int ntr, struct result *res, struct result *mean,
	      int grid_s);
void cal_json(FILE *f, const char *key, struct cal *cal, double step_s,
	      int last);
void cal_md(FILE *f, const char *title, struct cal *cal, double step_s);

#endif
