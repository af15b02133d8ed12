// SPDX-License-Identifier: GPL-2.0
/*
 * vs-eval's result tables (see eval.h): per machine and the mean, and the
 * calibration, as JSON members and as Markdown.
 */
#include <math.h>
#include "eval.h"

static const char *pname[NPRED] = {
	"lstm_fixed", "lstm_float", "lstm_fixed_adaptive", "last_value",
	"ewma", "holt", "unused"
};

void print_results(FILE *f, const char *key, struct vs_trace *tr,
		   int ntr, struct result *res, struct result *mean,
		   int last)
{
	int mi, p, k;

	fprintf(f, "  \"%s\": {\n    \"units\": \"percentage points of RAM; h1/h5 = horizon in grid steps\",\n    \"per_machine\": {\n",
		key);
	for (mi = 0; mi <= ntr; mi++) {
		struct result *r = mi < ntr ? &res[mi] : mean;

		if (mi == ntr)
			fprintf(f, "    },\n    \"mean_over_machines\": {");
		else
			fprintf(f, "      \"%s\": {\"scored_steps\": %ld,",
				tr[mi].id, r->n);
		for (p = 0; p < P_ADAPT_ONLY; p++) {
			fprintf(f, "%s\n        \"%s\": {", p ? "," : "",
				pname[p]);
			for (k = 0; k < 2; k++)
				fprintf(f,
					"%s\"mae_h%d\": %.4f, \"p95_under_h%d\": %.4f",
					k ? ", " : "", ev_horizons[k],
					r->mae[p][k], ev_horizons[k],
					r->p95u[p][k]);
			fprintf(f, "}");
		}
		fprintf(f, "}%s\n", mi < ntr - 1 ? "," : "");
	}
	fprintf(f, "  }%s\n", last ? "" : ",");
}

void md_table(FILE *f, const char *title, struct vs_trace *tr,
	      int ntr, struct result *res, struct result *mean,
	      int grid_s)
{
	int mi, p;

	fprintf(f, "\n#### %s\n\n", title);
	fprintf(f, "MAE / p95 under-prediction, percentage points of RAM, ");
	fprintf(f, "held-out test span (last 30%% of each machine).\n\n");
	fprintf(f, "| machine | horizon |");
	for (p = 0; p < P_ADAPT_ONLY; p++)
		fprintf(f, " %s |", pname[p]);
	fprintf(f, "\n|---|---|");
	for (p = 0; p < P_ADAPT_ONLY; p++)
		fprintf(f, "---|");
	fprintf(f, "\n");
	for (mi = 0; mi <= ntr; mi++) {
		struct result *r = mi < ntr ? &res[mi] : mean;
		int k;

		for (k = 0; k < 2; k++) {
			fprintf(f, "| %s | %g s |",
				mi < ntr ? tr[mi].id : "**mean**",
				ev_horizons[k] * (grid_s ? grid_s * 1000.0 :
					       ev_grid_ms) / 1000.0);
			for (p = 0; p < P_ADAPT_ONLY; p++)
				fprintf(f, " %.3f / %.2f |", r->mae[p][k],
					r->p95u[p][k]);
			fprintf(f, "\n");
		}
	}
}

static void cstat_json(FILE *f, const struct cstat *s)
{
	fprintf(f, "\"n\": %ld, \"confidence_min\": %.4f, \"confidence_max\": %.4f, \"confidence_mean\": %.4f, \"band_e_mean_pp\": %.4f, \"unbounded_band_n\": %ld, \"coverage_1e_pct\": %.2f, \"coverage_2e_pct\": %.2f, \"mae_pp\": %.4f, \"rms_error_pp\": %.4f, \"mse_over_predicted_mse\": %.4f",
		s->n, s->n ? s->cmin : 0, s->n ? s->cmax : 0, s->cmean, s->band,
		s->unbounded, s->cov1, s->cov2, s->mae, s->rmse, s->ratio);
}

const char *cal_def =
	"c = CONFIDENCE output (Q0.15 / 32768) of lstm_fixed; implied band e = 1% RAM x sqrt(1/c - 1) = the predicted RMS error (vs-train fits c = 1 / (1 + mse / (1%)^2), mse = squared error averaged over the model's DEMAND horizons); coverage_1e/2e = % of scored test steps with |actual - predicted| <= e / 2e (Gaussian nominal 68.27 / 95.45); mse_over_predicted_mse = mean(err^2) / mean(e^2) (1 = calibrated variance, > 1 = overconfident); buckets: fixed confidence ranges [0,.25) [.25,.5) [.5,.75) [.75,1]; quartiles: equal-count groups by confidence rank; spearman: rank correlation of c with |error| (negative = higher confidence, smaller error); all_model_horizons: every DEMAND output of the model pooled (the quantity c was trained on)";

/* "key": {per horizon...} for the 2 reported horizons + all model horizons */
void cal_json(FILE *f, const char *key, struct cal *cal, double step_s,
	      int last)
{
	int k, q, b;

	fprintf(f, "    \"%s\": {\n", key);
	for (k = 0; k <= CAL_ALL; k++) {
		struct cstat s;
		long lo, hi;

		cal_sort(&cal[k]);
		if (k < CAL_ALL)
			fprintf(f, "      \"h%d\": {\"seconds\": %g, ",
				ev_horizons[k], ev_horizons[k] * step_s);
		else
			fprintf(f, "      \"all_model_horizons\": {");
		cstat(&cal[k], 0, cal[k].n, &s);
		fprintf(f, "\"overall\": {");
		cstat_json(f, &s);
		fprintf(f, "}, \"spearman_confidence_vs_abs_error\": %.4f",
			spearman(&cal[k]));
		for (q = 0; q < 2; q++) {
			fprintf(f, ",\n        \"%s\": [", q ? "quartiles" :
				"buckets");
			for (b = 0; b < 4; b++) {
				cal_bucket(&cal[k], q, b, &lo, &hi);
				cstat(&cal[k], lo, hi, &s);
				fprintf(f, "%s\n          {", b ? "," : "");
				if (!q)
					fprintf(f, "\"range\": [%.2f, %.2f], ",
						cal_edge[b], fmin(1, cal_edge[b + 1]));
				cstat_json(f, &s);
				fprintf(f, "}");
			}
			fprintf(f, "]");
		}
		fprintf(f, "}%s\n", k < CAL_ALL ? "," : "");
	}
	fprintf(f, "    }%s\n", last ? "" : ",");
}

void cal_md(FILE *f, const char *title, struct cal *cal, double step_s)
{
	int k, q, b;

	fprintf(f, "\n#### Confidence calibration: %s\n\n", title);
	fprintf(f, "lstm_fixed, held-out test span; band e = 1%% RAM x sqrt(1/c - 1) (predicted RMS error); nominal Gaussian coverage 68.3%% (e) / 95.4%% (2e); errors and bands in points of RAM; ratio = mean(err^2) / mean(e^2).\n\n");
	fprintf(f, "| horizon | confidence | n | mean c | mean e | within e | within 2e | MAE | RMS err | ratio |\n");
	fprintf(f, "|---|---|---|---|---|---|---|---|---|---|\n");
	for (k = 0; k <= CAL_ALL; k++) {
		char hs[32];

		cal_sort(&cal[k]);
		if (k < CAL_ALL)
			snprintf(hs, sizeof(hs), "%g s", ev_horizons[k] * step_s);
		else
			snprintf(hs, sizeof(hs), "all model horizons");
		for (q = -1; q < 2; q++)
			for (b = 0; b < (q < 0 ? 1 : 4); b++) {
				struct cstat s;
				long lo = 0, hi = cal[k].n;
				char bs[48];

				if (q >= 0)
					cal_bucket(&cal[k], q, b, &lo, &hi);
				cstat(&cal[k], lo, hi, &s);
				if (q < 0)
					snprintf(bs, sizeof(bs), "**all** (Spearman %+.2f)",
						 spearman(&cal[k]));
				else if (!q)
					snprintf(bs, sizeof(bs), "[%.2f, %.2f%c",
						 cal_edge[b], fmin(1, cal_edge[b + 1]),
						 b == 3 ? ']' : ')');
				else if (s.n)
					snprintf(bs, sizeof(bs), "Q%d: %.3f-%.3f",
						 b + 1, s.cmin, s.cmax);
				else
					snprintf(bs, sizeof(bs), "Q%d", b + 1);
				if (!s.n) {
					fprintf(f, "| %s | %s | 0 | - | - | - | - | - | - | - |\n",
						hs, bs);
					continue;
				}
				fprintf(f, "| %s | %s | %ld | %.3f | %.3f | %.1f%% | %.1f%% | %.3f | %.3f | %.2f |\n",
					hs, bs, s.n, s.cmean, s.band, s.cov1,
					s.cov2, s.mae, s.rmse, s.ratio);
			}
	}
}

