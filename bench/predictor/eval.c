// SPDX-License-Identifier: GPL-2.0
/*
 * vs-eval - accuracy and cost of the vshape demand predictor against
 * simple baselines on the Alibaba 2018 machine-usage trace.
 *
 * Per machine, time-disjoint spans of the 60 s grid: [0, 0.6) trained the
 * LSTM, [0.6, 0.7) picked its epoch, [0, 0.7) tunes the baselines'
 * parameters here, [0.7, 1) is the held-out test span scored below.  Every
 * predictor starts from a reset state at the start of the test span; the
 * first 30 steps are warm-up and not scored.
 *
 * usage: vs-eval --csv FILE --vsf FLOAT_MODEL [--vsm MODEL] --json OUT
 *	  [--md OUT.md]
 *
 * VM traces (tools/vs-record output, one trace per file, grid = the
 * records' period): --records A.csv.xz,B.csv.xz --vsf F --vsm M
 *	  --horizon-list 10,50 --json OUT [--md OUT.md] [--kernel-json FILE]
 * Same split and scoring per trace; --kernel-json inserts FILE (a JSON
 * value: in-kernel step costs measured in the VM) as "in_kernel".
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "adapt.h"
#include "default_model.h"
#include "eval.h"

int ev_horizons[2] = { 1, 5 };
int ev_max_h = 5;
int ev_grid_ms = 60000;

/* VM traces: one trace per records file, grid = the records' period */
static int main_records(const char *recs, const struct vs_model *q,
			const struct vs_fmodel *fm, const char *json,
			const char *md, const char *kjson)
{
	static struct result res[64];
	static struct cal cal[CAL_ALL + 1];
	struct result mean;
	struct vs_trace *tr;
	double ns_fixed, ns_float, best_base[2], rel[2], ffl[2];
	const char *bname[3] = { "last_value", "ewma", "holt" };
	int ntr, k, mi, bi[2], rec_ms;
	FILE *f;

	ntr = vs_trace_load_records(recs, &ev_grid_ms, &tr);
	if (ntr <= 0 || ntr > 64) {
		fprintf(stderr, "vs-eval: cannot load %s\n", recs);
		return 1;
	}
	rec_ms = ev_grid_ms;
	if ((unsigned int)ev_grid_ms != q->step_ms)
		fprintf(stderr, "vs-eval: records median interval %d ms, model step %u ms%s\n",
			ev_grid_ms, q->step_ms,
			abs(ev_grid_ms - (int)q->step_ms) * 10 <= (int)q->step_ms ?
			" (labels use the model's step)" : "");
	if (abs(ev_grid_ms - (int)q->step_ms) * 10 <= (int)q->step_ms)
		ev_grid_ms = q->step_ms;
	for (k = 0; k < 2; k++)
		if (vs_model_find_output(q, ev_horizons[k]) < 0 ||
		    q->out[vs_model_find_output(q, ev_horizons[k])].horizon !=
		    ev_horizons[k]) {
			fprintf(stderr, "vs-eval: model has no output at %d steps\n",
				ev_horizons[k]);
			return 1;
		}
	tune(tr, ntr);
	run_all(q, fm, tr, ntr, res, &mean, cal);
	ns_fixed = time_step(q, 200000);
	ns_fixed = time_step(q, 1000000);
	ns_float = time_fstep(fm, 1000000);
	for (k = 0; k < 2; k++) {
		int p;

		bi[k] = P_LAST;
		for (p = P_EWMA; p <= P_HOLT; p++)
			if (mean.mae[p][k] < mean.mae[bi[k]][k])
				bi[k] = p;
		best_base[k] = mean.mae[bi[k]][k];
		rel[k] = 100.0 * (best_base[k] - mean.mae[P_FIXED][k]) /
			 best_base[k];
		ffl[k] = 100.0 * (mean.mae[P_FIXED][k] - mean.mae[P_FLOAT][k]) /
			 mean.mae[P_FLOAT][k];
	}
	f = fopen(json, "w");
	if (!f)
		return 1;
	fprintf(f, "{\n  \"generated_by\": \"make -C bench/predictor run-vm\",\n");
	fprintf(f, "  \"traces\": \"%s\",\n  \"trace_rows\": {", recs);
	for (mi = 0; mi < ntr; mi++)
		fprintf(f, "%s\"%s\": %d", mi ? ", " : "", tr[mi].id, tr[mi].n);
	fprintf(f, "},\n  \"grid_ms\": %d,\n  \"records_median_interval_ms\": %d,\n  \"horizons_steps\": [%d, %d],\n",
		ev_grid_ms, rec_ms, ev_horizons[0], ev_horizons[1]);
	fprintf(f, "  \"split\": {\"lstm_train\": [0, 0.6], \"lstm_epoch_pick\": [0.6, 0.7], \"baseline_tuning\": [0, 0.7], \"test\": [0.7, 1.0], \"test_warmup_steps_unscored\": %d},\n",
		WARM);
	fprintf(f, "  \"model\": {\"name\": \"%s\", \"layers\": %u, \"hidden\": %u, \"inputs\": %u, \"features\": %u, \"outputs\": %u, \"step_ms\": %u},\n",
		q->name, q->n_layers, q->hidden, q->n_raw, q->n_feat, q->n_out,
		q->step_ms);
	fprintf(f, "  \"baseline_params\": {\"ewma_alpha\": %.2f, \"holt_alpha\": %.2f, \"holt_beta\": %.2f},\n",
		ev_ewma_alpha, ev_holt_alpha, ev_holt_beta);
	fprintf(f, "  \"cost_userspace_native\": {\"ns_per_step_fixed\": %.1f, \"ns_per_step_float\": %.1f, \"model_file_bytes\": %u, \"note\": \"this host, userspace, fixed point built with -mgeneral-regs-only\"},\n",
		ns_fixed, ns_float, q->len);
	if (kjson) {
		FILE *kf = fopen(kjson, "r");
		char buf[4096];
		size_t n = kf ? fread(buf, 1, sizeof(buf) - 1, kf) : 0;

		if (kf)
			fclose(kf);
		buf[n] = '\0';
		while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
			buf[--n] = '\0';
		if (n)
			fprintf(f, "  \"in_kernel\": %s,\n", buf);
	}
	fprintf(f, "  \"goals\": {\n");
	for (k = 0; k < 2; k++)
		fprintf(f, "    \"h%d\": {\"seconds\": %g, \"fixed_vs_float_mae_pct\": %.2f, \"fixed_within_1pct_of_float\": %s, \"best_baseline\": \"%s\", \"mae_reduction_vs_best_baseline_pct\": %.2f, \"at_least_20pct_better\": %s},\n",
			ev_horizons[k], ev_horizons[k] * ev_grid_ms / 1000.0, ffl[k],
			fabs(ffl[k]) <= 1.0 ? "true" : "false",
			bname[bi[k] - P_LAST], rel[k],
			rel[k] >= 20.0 ? "true" : "false");
	fprintf(f, "    \"under_2us_per_step_userspace\": %s\n  },\n",
		ns_fixed < 2000 ? "true" : "false");
	print_results(f, "test_vm_grid", tr, ntr, res, &mean, 0);
	fprintf(f, "  \"calibration\": {\n    \"definition\": \"%s\",\n",
		cal_def);
	cal_json(f, "test_vm_grid", cal, ev_grid_ms / 1000.0, 1);
	fprintf(f, "  }\n}\n");
	fclose(f);

	f = md ? fopen(md, "w") : stdout;
	fprintf(f, "Model %s (%u x %u units, step %u ms), baselines: EWMA alpha %.2f, Holt alpha %.2f beta %.2f (tuned on [0, 0.7) of every trace).\n",
		q->name, q->n_layers, q->hidden, q->step_ms, ev_ewma_alpha,
		ev_holt_alpha, ev_holt_beta);
	fprintf(f, "Userspace cost (this host, native): %.0f ns/step fixed point, %.0f ns/step float; model file %u B.\n",
		ns_fixed, ns_float, q->len);
	for (k = 0; k < 2; k++)
		fprintf(f, "%g s: fixed vs float MAE %+.2f%%; fixed vs best baseline (%s) MAE %+.2f%% lower (goal >= 20%%).\n",
			ev_horizons[k] * ev_grid_ms / 1000.0, ffl[k],
			bname[bi[k] - P_LAST], rel[k]);
	md_table(f, "VM traces, held-out test span", tr, ntr, res, &mean, 0);
	cal_md(f, "VM traces", cal, ev_grid_ms / 1000.0);
	for (k = 0; k <= CAL_ALL; k++)
		cal_free(&cal[k]);
	if (md)
		fclose(f);
	vs_trace_free(tr, ntr);
	return 0;
}

int main(int argc, char **argv)
{
	const char *csv = NULL, *vsf = NULL, *vsm = NULL, *json = NULL;
	const char *md = NULL, *recs = NULL, *kjson = NULL;
	static struct vs_fmodel fm, fq;
	static struct result res[64], res10[64];
	static struct cal cal[CAL_ALL + 1], cal10[CAL_ALL + 1];
	struct result mean, mean10;
	struct vs_trace *tr, *tr10;
	struct vs_model q;
	char err[128];
	int ntr, ntr10, i, k;
	u8 *buf = NULL;
	double ns_fixed, ns_float, best_base[2], rel[2], fixed_vs_float[2];
	FILE *f;

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--csv"))
			csv = argv[i + 1];
		else if (!strcmp(argv[i], "--vsf"))
			vsf = argv[i + 1];
		else if (!strcmp(argv[i], "--vsm"))
			vsm = argv[i + 1];
		else if (!strcmp(argv[i], "--json"))
			json = argv[i + 1];
		else if (!strcmp(argv[i], "--md"))
			md = argv[i + 1];
		else if (!strcmp(argv[i], "--records"))
			recs = argv[i + 1];
		else if (!strcmp(argv[i], "--kernel-json"))
			kjson = argv[i + 1];
		else if (!strcmp(argv[i], "--horizon-list") &&
			 sscanf(argv[i + 1], "%d,%d", &ev_horizons[0],
				&ev_horizons[1]) == 2)
			ev_max_h = ev_horizons[0] > ev_horizons[1] ? ev_horizons[0] :
							     ev_horizons[1];
	}
	if ((!csv && !recs) || !vsf || !json) {
		fprintf(stderr, "usage: see eval.c\n");
		return 2;
	}
	if (vsm) {
		long len;

		f = fopen(vsm, "rb");
		if (!f || fseek(f, 0, SEEK_END) || (len = ftell(f)) <= 0)
			return 1;
		rewind(f);
		buf = aligned_alloc(16, (len + 15) & ~15L);
		if (fread(buf, len, 1, f) != 1)
			return 1;
		fclose(f);
		k = vs_model_parse(buf, len, &q, err, sizeof(err));
	} else {
		k = vs_model_parse(vs_default_model, vs_default_model_len, &q,
				   err, sizeof(err));
	}
	if (k || vs_f_load(vsf, &fm)) {
		fprintf(stderr, "vs-eval: cannot load models: %s\n", err);
		return 1;
	}
	if (recs)
		return main_records(recs, &q, &fm, json, md, kjson);
	ntr = vs_trace_load(csv, 60, &tr);
	ntr10 = vs_trace_load(csv, 10, &tr10);
	if (ntr <= 0 || ntr10 != ntr)
		return 1;
	tune(tr, ntr);
	run_all(&q, &fm, tr, ntr, res, &mean, cal);
	run_all(&q, &fm, tr10, ntr10, res10, &mean10, cal10);
	vs_f_from_fixed(&q, &fq);
	ns_fixed = time_step(&q, 200000);
	ns_fixed = time_step(&q, 1000000);
	ns_float = time_fstep(&fm, 1000000);

	for (k = 0; k < 2; k++) {
		best_base[k] = fmin(mean.mae[P_LAST][k],
				    fmin(mean.mae[P_EWMA][k],
					 mean.mae[P_HOLT][k]));
		rel[k] = 100.0 * (best_base[k] - mean.mae[P_FIXED][k]) /
			 best_base[k];
		fixed_vs_float[k] = 100.0 * (mean.mae[P_FIXED][k] -
					     mean.mae[P_FLOAT][k]) /
				    mean.mae[P_FLOAT][k];
	}
	f = fopen(json, "w");
	if (!f)
		return 1;
	fprintf(f, "{\n  \"generated_by\": \"make -C bench/predictor run\",\n");
	fprintf(f, "  \"trace\": \"alibaba2018-machine-usage.csv\",\n");
	fprintf(f, "  \"grid_s\": 60,\n  \"split\": {\"lstm_train\": [0, 0.6], \"lstm_epoch_pick\": [0.6, 0.7], \"baseline_tuning\": [0, 0.7], \"test\": [0.7, 1.0]},\n");
	fprintf(f, "  \"model\": {\"name\": \"%s\", \"layers\": %u, \"hidden\": %u, \"inputs\": %u, \"features\": %u, \"outputs\": %u, \"step_ms\": %u},\n",
		q.name, q.n_layers, q.hidden, q.n_raw, q.n_feat, q.n_out,
		q.step_ms);
	fprintf(f, "  \"baseline_params\": {\"ewma_alpha\": %.2f, \"holt_alpha\": %.2f, \"holt_beta\": %.2f},\n",
		ev_ewma_alpha, ev_holt_alpha, ev_holt_beta);
	fprintf(f, "  \"cost\": {\"ns_per_step_fixed\": %.1f, \"ns_per_step_float\": %.1f, \"model_file_bytes\": %u, \"sizeof_vs_model\": %zu, \"sizeof_vs_lstm_state\": %zu, \"sizeof_vs_adapt\": %zu},\n",
		ns_fixed, ns_float, q.len, sizeof(struct vs_model),
		sizeof(struct vs_lstm_state), sizeof(struct vs_adapt));
	fprintf(f, "  \"goals\": {\n");
	for (k = 0; k < 2; k++)
		fprintf(f, "    \"h%dmin\": {\"fixed_vs_float_mae_pct\": %.2f, \"fixed_within_1pct_of_float\": %s, \"mae_reduction_vs_best_baseline_pct\": %.2f, \"at_least_20pct_better\": %s},\n",
			ev_horizons[k], fixed_vs_float[k],
			fabs(fixed_vs_float[k]) <= 1.0 ? "true" : "false",
			rel[k], rel[k] >= 20.0 ? "true" : "false");
	fprintf(f, "    \"under_2us_per_step\": %s\n  },\n",
		ns_fixed < 2000 ? "true" : "false");
	print_results(f, "test_60s_grid", tr, ntr, res, &mean, 0);
	print_results(f, "regime_shift_10s_grid", tr10, ntr10, res10,
		      &mean10, 0);
	fprintf(f, "  \"calibration\": {\n    \"definition\": \"%s\",\n",
		cal_def);
	cal_json(f, "test_60s_grid", cal, 60, 0);
	cal_json(f, "regime_shift_10s_grid", cal10, 10, 1);
	fprintf(f, "  }\n}\n");
	fclose(f);

	f = md ? fopen(md, "w") : stdout;
	fprintf(f, "Model %s (%u x %u units), baselines: EWMA alpha %.2f, Holt alpha %.2f beta %.2f (tuned on [0, 0.7)).\n",
		q.name, q.n_layers, q.hidden, ev_ewma_alpha, ev_holt_alpha,
		ev_holt_beta);
	fprintf(f, "Cost: %.0f ns/step fixed point, %.0f ns/step float (userspace, this machine); model file %u B, struct vs_model %zu B, struct vs_lstm_state %zu B, struct vs_adapt %zu B.\n",
		ns_fixed, ns_float, q.len, sizeof(struct vs_model),
		sizeof(struct vs_lstm_state), sizeof(struct vs_adapt));
	for (k = 0; k < 2; k++)
		fprintf(f, "%d min: fixed vs float MAE %+.2f%%; fixed vs best baseline MAE %+.2f%% lower (goal >= 20%%).\n",
			ev_horizons[k], fixed_vs_float[k], rel[k]);
	md_table(f, "Test span, 60 s grid (the model's trained step)", tr, ntr,
		 res, &mean, 60);
	md_table(f, "Regime shift: same test span resampled at 10 s (model stepped 6x faster than trained; horizons are 1 and 5 steps = 10 s and 50 s)",
		 tr10, ntr10, res10, &mean10, 10);
	cal_md(f, "test span, 60 s grid", cal, 60);
	cal_md(f, "regime shift, 10 s grid (model stepped 6x faster than trained)",
	       cal10, 10);
	for (k = 0; k <= CAL_ALL; k++) {
		cal_free(&cal[k]);
		cal_free(&cal10[k]);
	}
	if (md)
		fclose(f);
	return 0;
}
