// SPDX-License-Identifier: GPL-2.0
/*
 * vs-train - train the float LSTM demand predictor on machine-usage traces
 * with truncated BPTT and Adam (userspace, double-free float maths).
 *
 * Model: raw inputs [mem, cpu] (fractions), features [mem, d mem, cpu,
 * d cpu] normalised with training-span statistics, an LSTM, and a linear
 * head with one DEMAND output per horizon (predicting the normalised
 * residual mem[t+h] - mem[t], added back to raw mem by the model) plus a
 * CONFIDENCE output trained as a log-variance (Gaussian NLL of the
 * horizon-mean squared error in units of 1% of RAM, mean detached):
 * confidence = sigmoid(-logvar) = 1 / (1 + mse / (1%)^2).
 *
 * Data split per machine (time-disjoint): [0, train) train, [train, val)
 * validation for picking the epoch, [val, end) never read here (test).
 *
 * usage: vs-train --csv FILE --out MODEL.vsf [--hidden 32] [--layers 1]
 *	  [--epochs 30] [--seed 1] [--step 60] [--train 0.6] [--val 0.7]
 *	  [--horizons 5] [--threads 2] [--kernel-range]
 *
 * VM traces: --records A.csv[.xz],B.csv... (tools/vs-record output, one
 * trace per file, step = the records' period) instead of --csv;
 * --horizon-list 1,10,50 (steps) instead of 1..--horizons;
 * --batches N batches per epoch (default: train steps / (32 x 60));
 * --name NAME model name (default alibaba-hH / vm<step>ms-hH);
 * --step-ms N model step for --records (default: the records' median
 * interval; give the driver's period_ms when the VM's clock jitters).
 *
 * Inputs: --channels used,cpu,pgfault,... (sampler channel names,
 * guest/sampler.h; the first must be "used"; at most 8, each gives a RAW
 * and a DELTA feature; default used,cpu; the Alibaba CSV has only these
 * two).  Target: --quantiles 0.5,0.99 makes one PEAK output per horizon
 * and level, trained with the pinball loss on the peak of "used" over
 * (t, t+h] (minus used at t, normalised); without it, DEMAND outputs
 * (used at t+h, Huber loss) as before.  The confidence output is then
 * fitted to the squared pinball residuals (uncalibrated: the guest's
 * calibration, predictor/calib.h, is what sets the margin).
 *
 * --kernel-range trains the function the kernel computes: features and
 * cell state limited to Q3.12's [-8, 8) as predictor/lstm.c saturates
 * them (vs_fmodel.kernel_range), in the forward pass, the gradient (none
 * through a saturated cell) and the validation that picks the epoch.
 * Without it, unlimited: the kernel then saturates DELTA features the
 * model never saw saturated (docs/predictor.md).  The model file does
 * not record it: it is how the weights were fitted, not a model field.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include "lstm_float.h"
#include "trace.h"

#define SEQ_WARM	60	/* steps run before the loss window */
#define SEQ_LEN		60	/* steps of the loss window (BPTT length) */
#define BATCH		32
#define SIGMA_REF	0.01	/* 1% of RAM */
#define HUBER		0.25

static struct vs_trace *tr;
static int ntr, nh = 5, hid = 32, nlay = 1, nthreads = 2, maxh = 5;
static int hlist[VS_MAX_OUT], nhlist;
static int chs[VS_MAX_RAW] = { 0, 1 }, nch = 2;	/* channel ids */
static double qlist[VS_MAX_OUT];		/* PEAK levels, or none */
static int nq;
static int nd;					/* DEMAND/PEAK outputs */
static char mname[VS_MODEL_NAME_LEN + 1];
static int feature_fit;			/* --feature-fit */
static double train_frac = 0.6, val_frac = 0.7;
static float **feat;		/* per machine [n][n_feat] normalised */
static struct vs_fmodel model;

struct cache {
	float u[VS_MAX_LAYERS][VS_MAX_HIDDEN];
	float hp[VS_MAX_LAYERS][VS_MAX_HIDDEN], cp[VS_MAX_LAYERS][VS_MAX_HIDDEN];
	float i[VS_MAX_LAYERS][VS_MAX_HIDDEN], f[VS_MAX_LAYERS][VS_MAX_HIDDEN];
	float g[VS_MAX_LAYERS][VS_MAX_HIDDEN], o[VS_MAX_LAYERS][VS_MAX_HIDDEN];
	float c[VS_MAX_LAYERS][VS_MAX_HIDDEN], tc[VS_MAX_LAYERS][VS_MAX_HIDDEN];
	float h[VS_MAX_LAYERS][VS_MAX_HIDDEN];
	/* 1 where kernel_range saturated the cell: no gradient through it */
	unsigned char sat[VS_MAX_LAYERS][VS_MAX_HIDDEN];
	float dy[VS_MAX_OUT];
};

struct worker {
	pthread_t th;
	struct vs_fmodel *grad;
	struct cache *cache;
	int *seq_m, *seq_t, nseq;
	double loss;
	long nloss;
};

static unsigned long long rng_state = 88172645463325252ULL;

static unsigned long long rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static double urand(void)
{
	return (rng() >> 11) * (1.0 / 9007199254740992.0);
}

static float sigm(float x)
{
	return 1.0f / (1.0f + expf(-x));
}

/* forward one layer step; caches if ca != NULL */
static void fwd_layer(const struct vs_fmodel *m, int l, const float *u,
		      float *h, float *c, struct cache *ca)
{
	const struct vs_flayer *ly = &m->layer[l];
	float pre[4 * VS_MAX_HIDDEN];
	int r, k, j, in = ly->in_dim, sat;
	float cl;

	for (r = 0; r < 4 * hid; r++) {
		float a = ly->b[r];
		const float *wx = ly->wx + r * in, *wh = ly->wh + r * hid;

		for (k = 0; k < in; k++)
			a += wx[k] * u[k];
		for (k = 0; k < hid; k++)
			a += wh[k] * h[k];
		pre[r] = a;
	}
	if (ca) {
		memcpy(ca->u[l], u, in * sizeof(float));
		memcpy(ca->hp[l], h, hid * sizeof(float));
		memcpy(ca->cp[l], c, hid * sizeof(float));
	}
	for (j = 0; j < hid; j++) {
		float ig = sigm(pre[j]), fg = sigm(pre[hid + j]);
		float gg = tanhf(pre[2 * hid + j]), og = sigm(pre[3 * hid + j]);

		c[j] = fg * c[j] + ig * gg;
		cl = m->kernel_range ? vs_f_q12(c[j]) : c[j];
		sat = cl != c[j];
		c[j] = cl;
		h[j] = og * tanhf(c[j]);
		if (ca) {
			ca->sat[l][j] = sat;
			ca->i[l][j] = ig;
			ca->f[l][j] = fg;
			ca->g[l][j] = gg;
			ca->o[l][j] = og;
			ca->c[l][j] = c[j];
			ca->tc[l][j] = tanhf(c[j]);
			ca->h[l][j] = h[j];
		}
	}
}

static void head(const struct vs_fmodel *m, const float *h, float *y)
{
	int i, k;

	for (i = 0; i < m->n_out; i++) {
		y[i] = m->by[i];
		for (k = 0; k < hid; k++)
			y[i] += m->wy[i * hid + k] * h[k];
	}
}

/* raw residual of output k at time t: demand at t+h, or peak over (t, t+h] */
static double resid(int mi, int t, int kind, int h)
{
	const s16 *m = tr[mi].mem;
	int v = m[t + h], j;

	if (kind == VS_OUT_PEAK)
		for (j = 1; j < h; j++)
			if (m[t + j] > v)
				v = m[t + j];
	return (v - m[t]) / 4096.0;
}

/* normalised residual target of output k at time t of machine mi */
static float target(int mi, int t, int k)
{
	const struct vs_fout *o = &model.out[k];
	float d = resid(mi, t, o->kind, o->horizon);

	return (d - o->offset) / o->scale;
}

/* raw input i of trace mi at time t */
static float input(int mi, int t, int i)
{
	return tr[mi].ch[chs[i]][t] / 4096.0f;
}

/* feature @i before normalisation: input i / 2, or its step (DELTA) */
static double raw_feat(int mi, int t, int i)
{
	double v = input(mi, t, i / 2);

	return i % 2 ? v - input(mi, t - 1, i / 2) : v;
}

/* loss of one step; writes dy */
static double step_loss(int mi, int t, const float *y, float *dy)
{
	double loss = 0, e2 = 0, lv;
	int k;

	for (k = 0; k < nd; k++) {
		float e = y[k] - target(mi, t, k);
		double ep = e * model.out[k].scale / SIGMA_REF;

		if (model.out[k].kind == VS_OUT_PEAK) {
			double q = model.out[k].quantile;

			/* pinball: q (tgt - y) if under, (1 - q) (y - tgt) */
			loss += e < 0 ? -q * e : (1 - q) * e;
			dy[k] = e < 0 ? -q : 1 - q;
		} else if (fabsf(e) <= HUBER) {
			loss += 0.5 * e * e / HUBER;
			dy[k] = e / HUBER;
		} else {
			loss += fabsf(e) - 0.5 * HUBER;
			dy[k] = e > 0 ? 1 : -1;
		}
		dy[k] /= nd;
		e2 += ep * ep / nd;
	}
	lv = y[nd];
	if (lv > 15)
		lv = 15;
	if (lv < -15)
		lv = -15;
	loss /= nd;
	loss += 0.1 * 0.5 * (lv + e2 * exp(-lv));
	dy[nd] = 0.1 * 0.5 * (1 - e2 * exp(-lv));
	return loss;
}

static void seq_grad(struct worker *w, int mi, int t0)
{
	const struct vs_fmodel *m = &model;
	struct vs_fmodel *g = w->grad;
	float h[VS_MAX_LAYERS][VS_MAX_HIDDEN] = { 0 };
	float c[VS_MAX_LAYERS][VS_MAX_HIDDEN] = { 0 };
	float dh[VS_MAX_LAYERS][VS_MAX_HIDDEN] = { 0 };
	float dc[VS_MAX_LAYERS][VS_MAX_HIDDEN] = { 0 };
	float du[VS_MAX_HIDDEN], da[4 * VS_MAX_HIDDEN], y[VS_MAX_OUT];
	int t, l, j, k, r;

	for (t = t0; t < t0 + SEQ_WARM; t++) {
		fwd_layer(m, 0, feat[mi] + t * m->n_feat, h[0], c[0], NULL);
		for (l = 1; l < nlay; l++)
			fwd_layer(m, l, h[l - 1], h[l], c[l], NULL);
	}
	for (t = 0; t < SEQ_LEN; t++) {
		struct cache *ca = &w->cache[t];
		int tt = t0 + SEQ_WARM + t;

		fwd_layer(m, 0, feat[mi] + tt * m->n_feat, h[0], c[0], ca);
		for (l = 1; l < nlay; l++)
			fwd_layer(m, l, h[l - 1], h[l], c[l], ca);
		head(m, h[nlay - 1], y);
		w->loss += step_loss(mi, tt, y, ca->dy);
		w->nloss++;
	}
	memset(dh, 0, sizeof(dh));
	memset(dc, 0, sizeof(dc));
	for (t = SEQ_LEN - 1; t >= 0; t--) {
		struct cache *ca = &w->cache[t];
		float *htop = ca->h[nlay - 1];

		for (k = 0; k < m->n_out; k++) {
			g->by[k] += ca->dy[k];
			for (j = 0; j < hid; j++) {
				g->wy[k * hid + j] += ca->dy[k] * htop[j];
				dh[nlay - 1][j] += ca->dy[k] * m->wy[k * hid + j];
			}
		}
		for (l = nlay - 1; l >= 0; l--) {
			const struct vs_flayer *ly = &m->layer[l];
			struct vs_flayer *gl = &g->layer[l];
			int in = ly->in_dim;

			for (j = 0; j < hid; j++) {
				float o = ca->o[l][j], tcv = ca->tc[l][j];
				float ig = ca->i[l][j], fg = ca->f[l][j];
				float gg = ca->g[l][j];
				float dhj = dh[l][j], dcj;

				dcj = dc[l][j] + dhj * o * (1 - tcv * tcv);
				if (ca->sat[l][j])
					dcj = 0;
				da[j] = dcj * gg * ig * (1 - ig);
				da[hid + j] = dcj * ca->cp[l][j] * fg * (1 - fg);
				da[2 * hid + j] = dcj * ig * (1 - gg * gg);
				da[3 * hid + j] = dhj * tcv * o * (1 - o);
				dc[l][j] = dcj * fg;
			}
			memset(dh[l], 0, sizeof(dh[l]));
			memset(du, 0, sizeof(du));
			for (r = 0; r < 4 * hid; r++) {
				float a = da[r];
				const float *wx = ly->wx + r * in;
				const float *wh = ly->wh + r * hid;
				float *gx = gl->wx + r * in, *gh = gl->wh + r * hid;

				gl->b[r] += a;
				for (k = 0; k < in; k++) {
					gx[k] += a * ca->u[l][k];
					du[k] += a * wx[k];
				}
				for (k = 0; k < hid; k++) {
					gh[k] += a * ca->hp[l][k];
					dh[l][k] += a * wh[k];
				}
			}
			if (l > 0)
				for (k = 0; k < hid; k++)
					dh[l - 1][k] += du[k];
		}
	}
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	int s;

	memset(w->grad, 0, sizeof(*w->grad));
	w->loss = 0;
	w->nloss = 0;
	for (s = 0; s < w->nseq; s++)
		seq_grad(w, w->seq_m[s], w->seq_t[s]);
	return NULL;
}

/* all parameters of m as flat arrays, sized by the global model's dims */
static int params(struct vs_fmodel *m, float **p, int *n)
{
	int l, c = 0;

	for (l = 0; l < nlay; l++) {
		p[c] = m->layer[l].wx;
		n[c++] = 4 * hid * model.layer[l].in_dim;
		p[c] = m->layer[l].wh;
		n[c++] = 4 * hid * hid;
		p[c] = m->layer[l].b;
		n[c++] = 4 * hid;
	}
	p[c] = m->wy;
	n[c++] = model.n_out * hid;
	p[c] = m->by;
	n[c++] = model.n_out;
	return c;
}

/*
 * validation: mean over machines of MAE (percent) averaged over horizons;
 * for PEAK outputs the pinball loss (percent) at the output's level
 */
static double validate(const struct vs_fmodel *m)
{
	double tot = 0;
	int mi;

	for (mi = 0; mi < ntr; mi++) {
		int a = (int)(tr[mi].n * train_frac);
		int b = (int)(tr[mi].n * val_frac), t, k;
		struct vs_fstate st;
		double s = 0;
		long cnt = 0;
		float in[VS_MAX_RAW], out[VS_MAX_OUT];

		vs_f_reset(&st);
		for (t = a; t < b; t++) {
			for (k = 0; k < nch; k++)
				in[k] = input(mi, t, k);
			vs_f_step(m, &st, in, out);
			if (t < a + 30)
				continue;
			for (k = 0; k < nd; k++) {
				const struct vs_fout *o = &m->out[k];
				double e;

				if (t + o->horizon >= b)
					continue;
				e = tr[mi].mem[t] / 4096.0 +
				    resid(mi, t, o->kind, o->horizon) - out[k];
				if (o->kind == VS_OUT_PEAK)
					s += e > 0 ? o->quantile * e :
					     (o->quantile - 1) * e;
				else
					s += fabs(e);
				cnt++;
			}
		}
		tot += cnt ? 100.0 * s / cnt : 0;
	}
	return tot / ntr;
}

/*
 * --feature-fit: shrink each feature's scale so that every training step
 * lands inside Q3.12's [-8, 8) with 1% to spare, where 1 / sd put some
 * DELTA features past it (docs/predictor.md).
 */
static void fit_features(void)
{
	int mi, t, i;

	for (i = 0; i < model.n_feat; i++) {
		const struct vs_ffeat *f = &model.feat[i];
		double mx = 0, v;

		for (mi = 0; mi < ntr; mi++)
			for (t = 1; t < (int)(tr[mi].n * train_frac); t++) {
				v = fabs((raw_feat(mi, t, i) - f->offset) *
					 f->scale);
				if (v > mx)
					mx = v;
			}
		if (mx > 7.92)
			model.feat[i].scale *= 7.92 / mx;
	}
}

static void setup_model(void)
{
	double sum[VS_MAX_FEAT] = { 0 }, sq[VS_MAX_FEAT] = { 0 };
	double rs[VS_MAX_OUT] = { 0 };
	long cnt = 0;
	int mi, t, i, k;

	memset(&model, 0, sizeof(model));
	if (mname[0])
		snprintf(model.name, sizeof(model.name), "%s", mname);
	else
		snprintf(model.name, sizeof(model.name), "alibaba-h%d", hid);
	model.n_raw = nch;
	model.n_feat = 2 * nch;
	model.n_layers = nlay;
	model.hidden = hid;
	model.n_out = nd + 1;
	for (i = 0; i < nch; i++)
		model.chan[i] = chs[i];
	for (i = 0; i < model.n_feat; i++) {
		model.feat[i].src = i / 2;
		model.feat[i].kind = i % 2 ? VS_FEAT_DELTA : VS_FEAT_RAW;
	}
	for (k = 0; k < nd; k++) {
		model.out[k].kind = nq ? VS_OUT_PEAK : VS_OUT_DEMAND;
		model.out[k].horizon = hlist[nq ? k / nq : k];
		model.out[k].quantile = nq ? qlist[k % nq] : 0;
	}
	for (mi = 0; mi < ntr; mi++) {
		int a = (int)(tr[mi].n * train_frac);

		for (t = 1; t + maxh < a; t++) {
			for (i = 0; i < model.n_feat; i++) {
				double v = raw_feat(mi, t, i);

				sum[i] += v;
				sq[i] += v * v;
			}
			for (k = 0; k < nd; k++) {
				double d = resid(mi, t, model.out[k].kind,
						 model.out[k].horizon);
				rs[k] += d * d;
			}
			cnt++;
		}
	}
	for (i = 0; i < model.n_feat; i++) {
		double mean = sum[i] / cnt;
		double sd = sqrt(sq[i] / cnt - mean * mean);

		model.feat[i].offset = model.feat[i].kind ? 0 : mean;
		model.feat[i].scale = 1.0 / (sd > 1e-4 ? sd : 1e-4);
	}
	if (feature_fit)
		fit_features();
	for (k = 0; k < nd; k++) {
		model.out[k].base = 0;
		model.out[k].offset = 0;
		model.out[k].scale = sqrt(rs[k] / cnt);
		if (model.out[k].scale < 1e-4)
			model.out[k].scale = 1e-4;
	}
	model.out[nd].kind = VS_OUT_CONFIDENCE;
	model.out[nd].base = VS_OUT_NO_BASE;
	model.out[nd].offset = 0;
	model.out[nd].scale = -1;
	for (i = 0; i < nlay; i++) {
		struct vs_flayer *ly = &model.layer[i];
		int in = i ? hid : model.n_feat;
		float sc = 1.0f / sqrtf(in + hid);

		ly->in_dim = in;
		for (k = 0; k < 4 * hid * in; k++)
			ly->wx[k] = (2 * urand() - 1) * sc;
		for (k = 0; k < 4 * hid * hid; k++)
			ly->wh[k] = (2 * urand() - 1) * sc;
		for (k = 0; k < hid; k++)
			ly->b[hid + k] = 1.0f;	/* forget-gate bias */
	}
	for (k = 0; k < model.n_out * hid; k++)
		model.wy[k] = (2 * urand() - 1) * 0.01f;
}

int main(int argc, char **argv)
{
	const char *csv = NULL, *outp = NULL, *recs = NULL;
	int batches = 0, step_ms_opt = 0;
	int epochs = 30, step = 60, i, mi, t, e, b, k, np;
	struct vs_fmodel *gm, *am, *av, *best;
	struct worker w[8];
	float *p[16], *pg[16], *pm[16], *pv[16];
	int pn[16];
	double lr = 3e-3, bestv = 1e30;
	int kernel_range = 0;
	long nsteps = 0, adam_t = 0;
	time_t start = time(NULL);

	for (i = 1; i < argc; i += 2) {
		if (!strcmp(argv[i], "--kernel-range")) {
			kernel_range = 1;
			i--;	/* a flag: no value */
		} else if (!strcmp(argv[i], "--feature-fit")) {
			feature_fit = 1;
			i--;
		} else if (i + 1 == argc) {
			fprintf(stderr, "vs-train: %s needs a value\n", argv[i]);
			return 2;
		} else if (!strcmp(argv[i], "--csv"))
			csv = argv[i + 1];
		else if (!strcmp(argv[i], "--out"))
			outp = argv[i + 1];
		else if (!strcmp(argv[i], "--hidden"))
			hid = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--layers"))
			nlay = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--epochs"))
			epochs = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--seed"))
			rng_state += 7919ULL * atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--step"))
			step = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--train"))
			train_frac = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--val"))
			val_frac = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--horizons"))
			nh = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--records"))
			recs = argv[i + 1];
		else if (!strcmp(argv[i], "--horizon-list")) {
			char *q = argv[i + 1];

			for (nhlist = 0; *q && nhlist < VS_MAX_OUT; nhlist++) {
				hlist[nhlist] = (int)strtol(q, &q, 10);
				if (*q == ',')
					q++;
			}
		} else if (!strcmp(argv[i], "--quantiles")) {
			char *q = argv[i + 1];

			for (nq = 0; *q && nq < VS_MAX_OUT; nq++) {
				qlist[nq] = strtod(q, &q);
				if (*q == ',')
					q++;
			}
		} else if (!strcmp(argv[i], "--channels")) {
			char *q = strdup(argv[i + 1]), *tok, *sv = NULL;

			for (nch = 0, tok = strtok_r(q, ",", &sv); tok;
			     tok = strtok_r(NULL, ",", &sv)) {
				if (nch == VS_MAX_FEAT / 2) {
					nch = 0;	/* -> usage */
					break;
				}
				chs[nch++] = vs_trace_ch_id(tok);
			}
		} else if (!strcmp(argv[i], "--step-ms"))
			step_ms_opt = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--batches"))
			batches = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--name"))
			snprintf(mname, sizeof(mname), "%s", argv[i + 1]);
		else if (!strcmp(argv[i], "--threads"))
			nthreads = atoi(argv[i + 1]);
		else {
			fprintf(stderr, "vs-train: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (nhlist)
		nh = nhlist;
	else
		for (k = 0; k < nh && k < VS_MAX_OUT; k++)
			hlist[k] = k + 1;
	for (k = 0, maxh = 0; k < nh; k++) {
		if (hlist[k] < 1 || hlist[k] > VS_MAX_HORIZON)
			nh = 0;	/* -> usage */
		else if (hlist[k] > maxh)
			maxh = hlist[k];
	}
	nd = nh * (nq ? nq : 1);
	for (k = 0; k < nq; k++)
		if (!(qlist[k] > 0 && qlist[k] < 1))
			nd = 0;
	for (k = 0; k < nch; k++)
		if (chs[k] < 0 || (k && chs[k] == chs[0]))
			nch = 0;
	if ((!csv && !recs) || !outp || hid < 1 || hid > VS_MAX_HIDDEN || nlay < 1 ||
	    nlay > VS_MAX_LAYERS || nh < 1 || nd < 1 || nd >= VS_MAX_OUT ||
	    nch < 1 || chs[0] != 0 || nthreads < 1 || nthreads > 8) {
		fprintf(stderr, "usage: see the comment at the top of train.c\n");
		return 2;
	}
	if (recs) {
		int step_ms = 0;

		ntr = vs_trace_load_records(recs, &step_ms, &tr);
		if (ntr > 0)
			fprintf(stderr, "%d traces, median interval %d ms%s\n",
				ntr, step_ms, step_ms_opt ? " (overridden)" : "");
		if (step_ms_opt)
			step_ms = step_ms_opt;
		if (ntr > 0 && (step_ms < 1 || step_ms > 3600000))
			ntr = -EINVAL;
		if (ntr > 0 && !mname[0])
			snprintf(mname, sizeof(mname), "vm%dms-h%d", step_ms,
				 hid);
		step = step_ms;
	} else {
		ntr = vs_trace_load(csv, step, &tr);
		step *= 1000;
	}
	if (ntr <= 0) {
		fprintf(stderr, "cannot load %s: %d\n", recs ? recs : csv,
			ntr);
		return 1;
	}
	for (mi = 0; mi < ntr; mi++)
		for (k = 0; k < nch; k++)
			if (!tr[mi].ch[chs[k]]) {
				fprintf(stderr, "%s has no channel %s\n",
					tr[mi].id, vs_trace_ch_names[chs[k]]);
				return 1;
			}
	setup_model();
	model.step_ms = step;
	/* features below, the forward pass and validate() all see it */
	model.kernel_range = kernel_range;
	feat = calloc(ntr, sizeof(*feat));
	for (mi = 0; mi < ntr; mi++) {
		struct vs_fstate st;
		float in[VS_MAX_RAW];

		feat[mi] = malloc(sizeof(float) * tr[mi].n * model.n_feat);
		vs_f_reset(&st);
		for (t = 0; t < tr[mi].n; t++) {
			for (k = 0; k < nch; k++)
				in[k] = input(mi, t, k);
			vs_f_features(&model, &st, in,
				      feat[mi] + t * model.n_feat);
		}
		nsteps += (long)(tr[mi].n * train_frac);
	}
	gm = calloc(1, sizeof(*gm));
	am = calloc(1, sizeof(*am));
	av = calloc(1, sizeof(*av));
	best = calloc(1, sizeof(*best));
	for (i = 0; i < nthreads; i++) {
		w[i].grad = calloc(1, sizeof(*gm));
		w[i].cache = calloc(SEQ_LEN, sizeof(struct cache));
		w[i].seq_m = calloc(BATCH, sizeof(int));
		w[i].seq_t = calloc(BATCH, sizeof(int));
	}
	np = params(&model, p, pn);
	if (getenv("VS_GRADCHECK")) {
		struct worker *wk = &w[0];
		float *wg[16];

		wk->nseq = 1;
		wk->seq_m[0] = 1;
		wk->seq_t[0] = 1000;
		worker_run(wk);
		*gm = *wk->grad;
		params(gm, wg, pn);
		for (i = 0; i < np; i++)
			for (k = 0; k < pn[i]; k += pn[i] / 3 + 1) {
				float sv = p[i][k];
				double lp, lm;

				p[i][k] = sv + 1e-3f;
				worker_run(wk);
				lp = wk->loss;
				p[i][k] = sv - 1e-3f;
				worker_run(wk);
				lm = wk->loss;
				p[i][k] = sv;
				fprintf(stderr, "t%d[%d] num %.6g ana %.6g\n", i, k,
					(lp - lm) / 2e-3, wg[i][k]);
				worker_run(wk);
			}
		return 0;
	}
	params(gm, pg, pn);
	params(am, pm, pn);
	params(av, pv, pn);
	*best = model;

	for (e = 0; e < epochs; e++) {
		int nb = batches ? batches : nsteps / (BATCH * SEQ_LEN);
		double eloss = 0, v;
		long enl = 0;

		for (b = 0; b < nb; b++) {
			double norm = 0, b1 = 0.9, b2 = 0.999, c1, c2, sc;
			int q;

			for (i = 0; i < nthreads; i++)
				w[i].nseq = 0;
			for (q = 0; q < BATCH; q++) {
				struct worker *wk = &w[q % nthreads];
				int lim;

				do {
					mi = rng() % ntr;
					lim = (int)(tr[mi].n * train_frac) -
					      SEQ_WARM - SEQ_LEN - maxh;
				} while (lim <= 0);
				wk->seq_m[wk->nseq] = mi;
				wk->seq_t[wk->nseq++] = rng() % lim;
			}
			for (i = 1; i < nthreads; i++)
				pthread_create(&w[i].th, NULL, worker_run,
					       &w[i]);
			worker_run(&w[0]);
			for (i = 1; i < nthreads; i++)
				pthread_join(w[i].th, NULL);
			memset(gm, 0, sizeof(*gm));
			params(gm, pg, pn);
			for (i = 0; i < nthreads; i++) {
				float *wg[16];

				params(w[i].grad, wg, pn);
				for (q = 0; q < np; q++)
					for (k = 0; k < pn[q]; k++)
						pg[q][k] += wg[q][k];
				eloss += w[i].loss;
				enl += w[i].nloss;
			}
			for (q = 0; q < np; q++)
				for (k = 0; k < pn[q]; k++) {
					pg[q][k] /= BATCH * SEQ_LEN;
					norm += pg[q][k] * pg[q][k];
				}
			norm = sqrt(norm);
			sc = norm > 1.0 ? 1.0 / norm : 1.0;
			adam_t++;
			c1 = 1 - pow(b1, adam_t);
			c2 = 1 - pow(b2, adam_t);
			for (q = 0; q < np; q++)
				for (k = 0; k < pn[q]; k++) {
					double gr = pg[q][k] * sc;

					pm[q][k] = b1 * pm[q][k] + (1 - b1) * gr;
					pv[q][k] = b2 * pv[q][k] +
						   (1 - b2) * gr * gr;
					p[q][k] -= lr * (pm[q][k] / c1) /
						   (sqrt(pv[q][k] / c2) + 1e-8);
				}
		}
		v = validate(&model);
		if (v < bestv) {
			bestv = v;
			*best = model;
		}
		fprintf(stderr,
			"epoch %2d loss %.4f val MAE %.4f%% (best %.4f%%) %lds\n",
			e, eloss / enl, v, bestv, (long)(time(NULL) - start));
		if (e == epochs * 2 / 3)
			lr *= 0.3;
	}
	if (vs_f_save(outp, best)) {
		fprintf(stderr, "cannot write %s\n", outp);
		return 1;
	}
	return 0;
}
