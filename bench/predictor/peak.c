// SPDX-License-Identifier: GPL-2.0
/*
 * vs-peak - slack-shortfall benchmark of peak-demand forecasters.
 *
 * For each horizon h and target shortfall rate r (1%, 5%), every
 * forecaster's provision at step t is base_t + margin; it must cover the
 * peak of "used" over (t, t+h].  Forecasters: the LSTM (fixed point, the
 * kernel's code, and its float reference; the PEAK output at h whose
 * level is nearest 1 - r, or the DEMAND output at h for a model without
 * PEAK outputs) and the baselines of baselines.h.  Per trace, [0, train)
 * tunes (baseline parameters, margins), [train, 1) is scored; every
 * forecaster runs over the whole trace, as the driver would.
 *
 * Reported per forecaster: slack at exactly r on the test span (margin =
 * the test residuals' quantile: the curve), the test shortfall and slack
 * with the margin tuned on the training span, the slack-shortfall curve,
 * and MAE of the base on phase-change windows (used moves by >= 5% of RAM
 * within [t, t+h]).  Online calibration (predictor/calib.c, fixed point,
 * windowed conformal quantile, empty ring at the start of each trace):
 * realised shortfall and slack per test trace for the LSTM and for the
 * best baseline, with the window tuned on the training span and with the
 * driver's default window.
 *
 * usage: vs-peak (--records A,B,.. [--step-ms N] | --csv FILE --step S)
 *	  [--vsm M.vsm]
 *	  [--vsf M.vsf] --horizons 10,50 --windows 10,50,150 [--train 0.7]
 *	  [--calib-window N] [--test-only NAME,..] --json OUT.json [--label NAME]
 *
 * --test-only: traces (by file base name) the model never trained on;
 * the whole trace is scored and nothing is tuned on it.
 */
#include <math.h>
#include <stdlib.h>
#include <time.h>
#include "baselines.h"
#include "slack.h"
#include "calib.h"
#include "lstm.h"
#include "lstm_float.h"
#include "trace.h"

#define WARM	30
#define NRATE	2
#define MAXTR	64
#define MAXFC	24
#define PHASE	0.05	/* phase change: used moves by 5% of RAM */

static const double rates[NRATE] = { 0.01, 0.05 };
static const double curve_rates[] = { 0.002, 0.005, 0.01, 0.02, 0.05, 0.1,
				      0.2 };
#define NCURVE ((int)(sizeof(curve_rates) / sizeof(curve_rates[0])))

static struct vs_trace *tr;
static int ntr, nh, hs[8], nwin, wins[8];
static double train_frac = 0.7;
static char test_only[256];	/* ",name,name," traces scored whole */
static int calib_window = VS_CALIB_DEFAULT_WINDOW;
static int window_fixed;

/* LSTM outputs over every step of every trace */
static s16 *qout[MAXTR];
static float *fout[MAXTR];
static struct vs_model qm;
static struct vs_fmodel fm;
static int have_q, have_f;

static double *usedf[MAXTR];	/* used, fraction of RAM */

static int is_test_only(int mi)
{
	char key[40];

	snprintf(key, sizeof(key), ",%s,", tr[mi].id);
	return strstr(test_only, key) != NULL;
}

/* A trace named by --test-only has no training span: all of it is test. */
static int train_end(int mi, int h)
{
	return is_test_only(mi) ? 0 : (int)(tr[mi].n * train_frac) - h;
}

static int test_start(int mi)
{
	return is_test_only(mi) ? WARM : (int)(tr[mi].n * train_frac);
}

static double peak_of(int mi, int t, int h)
{
	double p = usedf[mi][t + 1];
	int j;

	for (j = 2; j <= h; j++)
		if (usedf[mi][t + j] > p)
			p = usedf[mi][t + j];
	return p;
}

static int phase_change(int mi, int t, int h)
{
	double lo = usedf[mi][t], hi = lo;
	int j;

	for (j = 1; j <= h; j++) {
		if (usedf[mi][t + j] < lo)
			lo = usedf[mi][t + j];
		if (usedf[mi][t + j] > hi)
			hi = usedf[mi][t + j];
	}
	return hi - lo >= PHASE;
}

/* output index of the model at horizon h, level nearest lv (PEAK) */
static int lstm_output(const struct vs_model *m, int h, double lv)
{
	int k, best = -1;
	double bd = 1e9;

	for (k = 0; k < m->n_out; k++) {
		const struct vs_out *o = &m->out[k];
		double d;

		if (o->horizon != h)
			continue;
		if (o->kind == VS_OUT_PEAK)
			d = fabs(o->quantile / 32768.0 - lv);
		else if (o->kind == VS_OUT_DEMAND)
			d = 10;		/* only without PEAK outputs */
		else
			continue;
		if (d < bd) {
			bd = d;
			best = k;
		}
	}
	return best;
}

static int run_lstm(void)
{
	static struct vs_lstm_state st;
	static struct vs_fstate fs;
	int mi, t, i;

	for (mi = 0; mi < ntr; mi++) {
		for (i = 0; have_q && i < qm.n_raw; i++)
			if (qm.chan[i] >= VS_TRACE_NCH || !tr[mi].ch[qm.chan[i]]) {
				fprintf(stderr, "vs-peak: %s lacks channel %u\n",
					tr[mi].id, qm.chan[i]);
				return -1;
			}
		if (have_q) {
			qout[mi] = malloc(sizeof(s16) * tr[mi].n * qm.n_out);
			vs_lstm_reset(&qm, &st);
		}
		if (have_f) {
			fout[mi] = malloc(sizeof(float) * tr[mi].n * fm.n_out);
			vs_f_reset(&fs);
		}
		for (t = 0; t < tr[mi].n; t++) {
			s16 in[VS_MAX_RAW];
			float fin[VS_MAX_RAW];

			if (have_q) {
				for (i = 0; i < qm.n_raw; i++)
					in[i] = tr[mi].ch[qm.chan[i]][t];
				vs_lstm_step(&qm, &st, in,
					     qout[mi] + t * qm.n_out);
			}
			if (have_f) {
				for (i = 0; i < fm.n_raw; i++)
					fin[i] = tr[mi].ch[fm.chan[i]][t] /
						 4096.0f;
				vs_f_step(&fm, &fs, fin,
					  fout[mi] + t * fm.n_out);
			}
		}
	}
	return 0;
}

/* A forecaster's base forecast on every step of every trace. */
struct fc {
	char name[40];
	char params[64];
	double *base[MAXTR];
};

static void fc_free(struct fc *f)
{
	int mi;

	for (mi = 0; mi < ntr; mi++)
		free(f->base[mi]);
	memset(f, 0, sizeof(*f));
}

static void fc_base(struct fc *f, const struct vs_base *b)
{
	int mi;

	vs_base_name(b, f->name, sizeof(f->name));
	for (mi = 0; mi < ntr; mi++) {
		f->base[mi] = malloc(sizeof(double) * tr[mi].n);
		vs_base_run(b, usedf[mi], tr[mi].n, f->base[mi]);
	}
}

static void fc_lstm(struct fc *f, int fixed, int k)
{
	int mi, t, no = fixed ? qm.n_out : fm.n_out;

	snprintf(f->name, sizeof(f->name), "lstm_%s", fixed ? "fixed" : "float");
	snprintf(f->params, sizeof(f->params), "output %d", k);
	for (mi = 0; mi < ntr; mi++) {
		f->base[mi] = malloc(sizeof(double) * tr[mi].n);
		for (t = 0; t < tr[mi].n; t++)
			f->base[mi][t] = fixed ? qout[mi][t * no + k] / 4096.0 :
					 fout[mi][t * no + k];
	}
}

/* pairs of the training (test = 0) or test span (1); mi < 0: all */
static void pairs(const struct fc *f, int h, int test, int mi_only,
		  int phase_only, struct vs_pairs *p)
{
	int mi, t;

	memset(p, 0, sizeof(*p));
	for (mi = 0; mi < ntr; mi++) {
		int a = test ? test_start(mi) : WARM;
		int b = test ? tr[mi].n - h : train_end(mi, h);

		if (mi_only >= 0 && mi != mi_only)
			continue;
		for (t = a; t < b; t++) {
			if (phase_only && !phase_change(mi, t, h))
				continue;
			vs_pairs_add(p, f->base[mi][t], peak_of(mi, t, h));
		}
	}
}

static double train_slack(const struct fc *f, int h, double r)
{
	struct vs_pairs p;
	double m, s, sf;

	pairs(f, h, 0, -1, 0, &p);
	m = vs_margin_for(&p, r);
	vs_score(&p, m, &s, &sf);
	vs_pairs_free(&p);
	return s;
}

/* Build a baseline, its parameters tuned on the training span for r. */
static void fc_tuned(struct fc *f, enum vs_base_kind kind, int win, int h,
		     double r)
{
	static const double al[] = { 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1 };
	static const double be[] = { 0, 0.02, 0.1, 0.3 };
	static const double pc[] = { 50, 75, 90, 95, 99 };
	struct vs_base b = { .kind = kind, .win = win, .h = h }, bb = b;
	double best = 1e30, s;
	struct fc tmp;
	unsigned int i, j, ni = 1, nj = 1;

	if (kind == B_EWMA || kind == B_HOLT)
		ni = sizeof(al) / sizeof(al[0]);
	if (kind == B_HOLT)
		nj = sizeof(be) / sizeof(be[0]);
	if (kind == B_PCT)
		ni = sizeof(pc) / sizeof(pc[0]);
	for (i = 0; i < ni; i++)
		for (j = 0; j < nj; j++) {
			b.alpha = al[i];
			b.beta = be[j];
			b.pct = pc[i];
			memset(&tmp, 0, sizeof(tmp));
			fc_base(&tmp, &b);
			s = train_slack(&tmp, h, r);
			fc_free(&tmp);
			if (s < best) {
				best = s;
				bb = b;
			}
		}
	memset(f, 0, sizeof(*f));
	fc_base(f, &bb);
	if (kind == B_EWMA)
		snprintf(f->params, sizeof(f->params), "alpha %.2f", bb.alpha);
	else if (kind == B_HOLT)
		snprintf(f->params, sizeof(f->params), "alpha %.2f beta %.2f",
			 bb.alpha, bb.beta);
	else if (kind == B_PCT)
		snprintf(f->params, sizeof(f->params), "p%.0f", bb.pct);
}

/* The calibrated band of f over trace mi, from its first step. */
static s16 *calib_run(const struct fc *f, int mi, int h, double r, int w)
{
	s16 *band = malloc(sizeof(s16) * tr[mi].n);
	struct vs_calib c = { 0 };
	int t;

	vs_calib_set_target(&c, (u32)lrint(r * 1e6));
	vs_calib_set_window(&c, w);
	vs_calib_reset(&c, h);
	for (t = 0; t < tr[mi].n; t++) {
		double b = f->base[mi][t] * 4096.0;

		b = b > 32767 ? 32767 : b < -32768 ? -32768 : b;
		band[t] = vs_calib_step(&c, tr[mi].mem[t], (s16)lrint(b));
	}
	return band;
}

/*
 * The window for f: the one of a grid whose pooled training-span
 * shortfall is within 0.5 points of r with the least slack (else the
 * nearest rate); --calib-window N fixes it.
 */
static int tune_window(const struct fc *f, int h, double r)
{
	static const int ws[] = { 50, 100, 200, 400, 600, 800, 1024 };
	double best = 1e30;
	int bw = calib_window;
	unsigned int k;
	int mi, t;

	if (window_fixed)
		return calib_window;
	for (k = 0; k < sizeof(ws) / sizeof(ws[0]); k++) {
		int w = ws[k];
		double s = 0, n = 0, sf = 0, rate, cost;

		for (mi = 0; mi < ntr; mi++) {
			s16 *band;

			if (train_end(mi, h) <= WARM)
				continue;
			band = calib_run(f, mi, h, r, w);
			for (t = WARM; t < train_end(mi, h); t++) {
				double pk = peak_of(mi, t, h);

				s += band[t] / 4096.0 - pk;
				sf += pk * 4096.0 > band[t];
				n++;
			}
			free(band);
		}
		rate = n ? sf / n : 0;
		cost = fabs(rate - r) <= 0.005 ? s / (n ? n : 1) :
		       1e6 + fabs(rate - r);
		if (cost < best) {
			best = cost;
			bw = w;
		}
	}
	return bw;
}

/* Online calibration of f over each trace; test-span outcome per trace. */
static void calibrated(FILE *o, const struct fc *f, int h, double r,
		       int default_window)
{
	int mi, t;
	double all_sf = 0, all_n = 0, all_s = 0;
	int w = default_window ? VS_CALIB_DEFAULT_WINDOW : tune_window(f, h, r);

	fprintf(o, "{\"forecaster\": \"%s\", \"window\": %d, \"traces\": {",
		f->name, w);
	for (mi = 0; mi < ntr; mi++) {
		s16 *band = calib_run(f, mi, h, r, w);
		long n = 0, sf = 0;
		double s = 0;

		for (t = test_start(mi); t < tr[mi].n - h; t++) {
			double pk = peak_of(mi, t, h);

			s += band[t] / 4096.0 - pk;
			sf += pk * 4096.0 > band[t];
			n++;
		}
		fprintf(o, "%s\"%s\": {\"shortfall\": %.5f, \"slack\": %.3f, \"n\": %ld}",
			mi ? ", " : "", tr[mi].id, n ? (double)sf / n : 0,
			n ? 100 * s / n : 0, n);
		all_sf += sf;
		all_s += s;
		all_n += n;
		free(band);
	}
	fprintf(o, "}, \"pooled\": {\"shortfall\": %.5f, \"slack\": %.3f}}",
		all_n ? all_sf / all_n : 0, all_n ? 100 * all_s / all_n : 0);
}

/* One forecaster's results at horizon h, target r. */
static double report_fc(FILE *o, const struct fc *f, int h, double r,
			double last_phase_mae, const struct fc *median,
			int first)
{
	struct vs_pairs tr_p, te_p, ph_p;
	double m, s, sf, s_or, m_or, mae;
	int c;

	pairs(f, h, 0, -1, 0, &tr_p);
	pairs(f, h, 1, -1, 0, &te_p);
	pairs(median ? median : f, h, 1, -1, 1, &ph_p);
	m = vs_margin_for(&tr_p, r);
	vs_score(&te_p, m, &s, &sf);
	m_or = vs_margin_for(&te_p, r);
	vs_score(&te_p, m_or, &s_or, &sf);
	vs_score(&te_p, m, &s, &sf);
	mae = vs_mae(&ph_p);
	fprintf(o, "%s\n        \"%s\": {\"params\": \"%s\", \"slack_at_rate\": %.3f, \"tuned_margin\": %.4f, \"tuned_shortfall\": %.5f, \"tuned_slack\": %.3f, \"phase_mae\": %.3f, \"phase_skill\": %.4f, \"phase_n\": %ld, \"curve\": [",
		first ? "" : ",", f->name, f->params, s_or, m, sf, s, mae,
		last_phase_mae > 0 ? 1 - mae / last_phase_mae : 0, ph_p.n);
	for (c = 0; c < NCURVE; c++) {
		double cs, csf;

		vs_score(&te_p, vs_margin_for(&te_p, curve_rates[c]), &cs, &csf);
		fprintf(o, "%s[%.4f, %.3f]", c ? ", " : "", csf, cs);
	}
	fprintf(o, "]}");
	vs_pairs_free(&tr_p);
	vs_pairs_free(&te_p);
	vs_pairs_free(&ph_p);
	return s_or;
}

static double ns_per_step(void)
{
	static struct vs_lstm_state st;
	s16 in[VS_MAX_RAW] = { 0 }, out[VS_MAX_OUT];
	struct timespec a, b;
	long i, n = 300000;

	vs_lstm_reset(&qm, &st);
	for (i = 0; i < 20000; i++)
		vs_lstm_step(&qm, &st, in, out);
	/* CPU time of this thread: the machine's other load does not count */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	for (i = 0; i < n; i++) {
		in[0] = (s16)(1000 + (i & 1023));
		vs_lstm_step(&qm, &st, in, out);
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	return ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n;
}

static void parse_list(const char *s, int *v, int *n)
{
	char *q = (char *)s;

	for (*n = 0; *q && *n < 8; (*n)++) {
		v[*n] = (int)strtol(q, &q, 10);
		if (*q == ',')
			q++;
	}
}

int main(int argc, char **argv)
{
	const char *recs = NULL, *csv = NULL, *vsm = NULL, *vsf = NULL;
	const char *json = NULL, *label = "";
	static struct fc fcs[MAXFC];
	int step = 60, step_ms = 0, step_opt = 0, i, mi, t, hi, ri, nf;
	FILE *o;

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--records"))
			recs = argv[i + 1];
		else if (!strcmp(argv[i], "--csv"))
			csv = argv[i + 1];
		else if (!strcmp(argv[i], "--step"))
			step = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--step-ms"))
			step_opt = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--vsm"))
			vsm = argv[i + 1];
		else if (!strcmp(argv[i], "--vsf"))
			vsf = argv[i + 1];
		else if (!strcmp(argv[i], "--horizons"))
			parse_list(argv[i + 1], hs, &nh);
		else if (!strcmp(argv[i], "--windows"))
			parse_list(argv[i + 1], wins, &nwin);
		else if (!strcmp(argv[i], "--train"))
			train_frac = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--calib-window")) {
			calib_window = atoi(argv[i + 1]);
			window_fixed = 1;
			if (calib_window < 1 || calib_window > VS_CALIB_WMAX) {
				fprintf(stderr, "vs-peak: --calib-window 1..%d\n",
					VS_CALIB_WMAX);
				return 1;
			}
		}
		else if (!strcmp(argv[i], "--json"))
			json = argv[i + 1];
		else if (!strcmp(argv[i], "--test-only"))
			snprintf(test_only, sizeof(test_only), ",%s,",
				 argv[i + 1]);
		else if (!strcmp(argv[i], "--label"))
			label = argv[i + 1];
		else
			break;
	}
	if ((!recs && !csv) || !json || !nh || i < argc) {
		fprintf(stderr, "usage: see the comment at the top of peak.c\n");
		return 2;
	}
	if (recs) {
		ntr = vs_trace_load_records(recs, &step_ms, &tr);
	} else {
		ntr = vs_trace_load(csv, step, &tr);
		step_ms = step * 1000;
	}
	if (ntr <= 0 || ntr > MAXTR) {
		fprintf(stderr, "vs-peak: cannot load traces\n");
		return 1;
	}
	if (step_opt)
		step_ms = step_opt;
	for (mi = 0; mi < ntr; mi++) {
		usedf[mi] = malloc(sizeof(double) * tr[mi].n);
		for (t = 0; t < tr[mi].n; t++)
			usedf[mi][t] = tr[mi].mem[t] / 4096.0;
	}
	if (vsm) {
		static u8 buf[VS_MAX_MODEL_BYTES] __aligned(8);
		char err[128];
		FILE *f = fopen(vsm, "rb");
		size_t len = f ? fread(buf, 1, sizeof(buf), f) : 0;

		if (f)
			fclose(f);
		if (vs_model_parse(buf, len, &qm, err, sizeof(err))) {
			fprintf(stderr, "vs-peak: %s: %s\n", vsm, err);
			return 1;
		}
		have_q = 1;
	}
	if (vsf) {
		if (vs_f_load(vsf, &fm)) {
			fprintf(stderr, "vs-peak: cannot load %s\n", vsf);
			return 1;
		}
		have_f = 1;
	}
	if (run_lstm())
		return 1;

	o = fopen(json, "w");
	if (!o)
		return 1;
	fprintf(o, "{\n  \"label\": \"%s\",\n  \"step_ms\": %d,\n  \"train_frac\": %.2f,\n  \"calib_window\": %d,\n  \"test_only\": \"%s\",\n  \"traces\": {",
		label, step_ms, train_frac, calib_window, test_only);
	for (mi = 0; mi < ntr; mi++)
		fprintf(o, "%s\"%s\": %d", mi ? ", " : "", tr[mi].id, tr[mi].n);
	fprintf(o, "},\n");
	if (have_q) {
		fprintf(o, "  \"model\": {\"name\": \"%s\", \"version\": \"%u.%u\", \"hidden\": %u, \"inputs\": %u, \"channels\": [",
			qm.name, qm.ver_major, qm.ver_minor, qm.hidden, qm.n_raw);
		for (i = 0; i < qm.n_raw; i++)
			fprintf(o, "%s\"%s\"", i ? ", " : "",
				qm.chan[i] < VS_TRACE_NCH ?
				vs_trace_ch_names[qm.chan[i]] : "?");
		fprintf(o, "], \"bytes\": %u, \"ns_per_step\": %.1f},\n",
			qm.len, ns_per_step());
	}
	fprintf(o, "  \"horizons\": [");
	for (hi = 0; hi < nh; hi++) {
		int h = hs[hi];

		fprintf(o, "%s\n    {\"h_steps\": %d, \"h_s\": %.3f, \"rates\": [",
			hi ? "," : "", h, h * step_ms / 1000.0);
		for (ri = 0; ri < NRATE; ri++) {
			double r = rates[ri], last_mae, best = 1e30, s;
			struct fc *med = NULL, *fmed = NULL;
			struct vs_pairs p;
			int bi = -1, lq = -1, lf = -1, k;

			nf = 0;
			{
				struct vs_base b = { .kind = B_LAST, .h = h };

				fc_base(&fcs[nf++], &b);
			}
			fc_tuned(&fcs[nf++], B_EWMA, 0, h, r);
			fc_tuned(&fcs[nf++], B_HOLT, 0, h, r);
			for (i = 0; i < nwin; i++) {
				struct vs_base b = { .kind = B_MAX,
						     .win = wins[i], .h = h };

				fc_base(&fcs[nf++], &b);
				fc_tuned(&fcs[nf++], B_PCT, wins[i], h, r);
			}
			if (have_q && (k = lstm_output(&qm, h, 1 - r)) >= 0) {
				lq = nf;
				fc_lstm(&fcs[nf++], 1, k);
				k = lstm_output(&qm, h, 0.5);
				fc_lstm(&fcs[nf], 1, k);
				snprintf(fcs[nf].name, sizeof(fcs[nf].name),
					 "lstm_fixed_median");
				med = &fcs[nf++];
			}
			if (have_f && (k = lstm_output(&qm, h, 1 - r)) >= 0) {
				lf = nf;
				fc_lstm(&fcs[nf++], 0, k);
				k = lstm_output(&qm, h, 0.5);
				fc_lstm(&fcs[nf], 0, k);
				snprintf(fcs[nf].name, sizeof(fcs[nf].name),
					 "lstm_float_median");
				fmed = &fcs[nf++];
			}
			pairs(&fcs[0], h, 1, -1, 1, &p);
			last_mae = vs_mae(&p);
			vs_pairs_free(&p);
			fprintf(o, "%s\n      {\"rate\": %.3f, \"forecasters\": {",
				ri ? "," : "", r);
			for (i = 0; i < nf; i++) {
				if (&fcs[i] == med || &fcs[i] == fmed)
					continue;
				s = report_fc(o, &fcs[i], h, r, last_mae,
					      i == lq ? med : i == lf ? fmed : NULL,
					      i == 0);
				if (i != lq && i != lf && s < best) {
					best = s;
					bi = i;
				}
			}
			fprintf(o, "},\n       \"best_baseline\": \"%s\",\n       \"calibrated\": [",
				fcs[bi].name);
			if (lq >= 0) {
				calibrated(o, &fcs[lq], h, r, 0);
				fprintf(o, ", ");
			}
			calibrated(o, &fcs[bi], h, r, 0);
			fprintf(o, "],\n       \"calibrated_default_window\": [");
			if (lq >= 0) {
				calibrated(o, &fcs[lq], h, r, 1);
				fprintf(o, ", ");
			}
			calibrated(o, &fcs[bi], h, r, 1);
			fprintf(o, "]}");
			for (i = 0; i < nf; i++)
				fc_free(&fcs[i]);
		}
		fprintf(o, "]}");
	}
	fprintf(o, "\n  ]\n}\n");
	fclose(o);
	return 0;
}
