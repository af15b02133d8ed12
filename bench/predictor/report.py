#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Tables (markdown) and a plot (PNG) of vs-peak results.

usage: report.py --md OUT.md --png OUT.png CORPUS.json... [--ablation DIR
                  [--ablation-data WHAT]]
Each CORPUS.json is one vs-peak run (bench/predictor/peak.c).
"""
import argparse
import glob
import json
import os


def fmt_h(h):
    s = h['h_s']
    return '%g min' % (s / 60) if s >= 60 else '%g s' % round(s, 1)


def rate_of(h, r):
    for x in h['rates']:
        if abs(x['rate'] - r) < 1e-9:
            return x
    return None


def slack_table(d):
    out = []
    hs = d['horizons']
    cols = [(h, r) for h in hs for r in (0.01, 0.05)]
    out.append('| forecaster | ' + ' | '.join(
        '%s @ %g%%' % (fmt_h(h), 100 * r) for h, r in cols) + ' |')
    out.append('|---' * (len(cols) + 1) + '|')
    names = list(rate_of(hs[0], 0.01)['forecasters'].keys())
    for n in names:
        row = []
        for h, r in cols:
            f = rate_of(h, r)['forecasters'].get(n)
            cell = '%.2f' % f['slack_at_rate'] if f else '-'
            if f and f['params'] and not n.startswith('lstm'):
                cell += ' (%s)' % f['params']
            row.append(cell)
        out.append('| %s | %s |' % (n, ' | '.join(row)))
    # LSTM against the best baseline
    row = []
    for h, r in cols:
        x = rate_of(h, r)
        b = x['forecasters'][x['best_baseline']]['slack_at_rate']
        lf = x['forecasters'].get('lstm_fixed')
        row.append('%+.1f%% vs %s' % (100 * (b - lf['slack_at_rate']) / b,
                                     x['best_baseline']) if lf else '-')
    out.append('| **LSTM slack below best baseline** | %s |' % ' | '.join(row))
    row = []
    for h, r in cols:
        x = rate_of(h, r)['forecasters']
        if 'lstm_fixed' in x and 'lstm_float' in x:
            a, b = x['lstm_fixed']['slack_at_rate'], x['lstm_float']['slack_at_rate']
            row.append('%+.2f%%' % (100 * (a - b) / b))
        else:
            row.append('-')
    out.append('| fixed vs float slack | %s |' % ' | '.join(row))
    return out


def tuned_table(d):
    out = ['| forecaster | ' + ' | '.join(
        '%s @ %g%%' % (fmt_h(h), 100 * r) for h in d['horizons']
        for r in (0.01, 0.05)) + ' |']
    out.append('|---' * (2 * len(d['horizons']) + 1) + '|')
    names = list(rate_of(d['horizons'][0], 0.01)['forecasters'].keys())
    for n in names:
        row = []
        for h in d['horizons']:
            for r in (0.01, 0.05):
                f = rate_of(h, r)['forecasters'].get(n)
                row.append('%.2f%% / %.2f' % (100 * f['tuned_shortfall'],
                                              f['tuned_slack']) if f else '-')
        out.append('| %s | %s |' % (n, ' | '.join(row)))
    return out


def phase_table(d):
    out = ['| forecaster | ' + ' | '.join(
        '%s MAE / skill' % fmt_h(h) for h in d['horizons']) + ' |']
    out.append('|---' * (len(d['horizons']) + 1) + '|')
    names = list(rate_of(d['horizons'][0], 0.01)['forecasters'].keys())
    for n in names:
        row = []
        for h in d['horizons']:
            f = rate_of(h, 0.01)['forecasters'].get(n)
            row.append('%.2f / %+.3f' % (f['phase_mae'], f['phase_skill'])
                       if f else '-')
        out.append('| %s | %s |' % (n, ' | '.join(row)))
    n = rate_of(d['horizons'][0], 0.01)['forecasters']['last_value']['phase_n']
    out.append('')
    out.append('Phase-change steps scored at %s: %d.' % (fmt_h(d['horizons'][0]), n))
    return out


def calib_table(d, key):
    # results of the former additive rule (no calib_window) have an eta
    win = 'calib_window' in d
    # the traces with a test span (a trace trained on whole has none)
    runs = [c for h in d['horizons'] for x in h['rates'] for c in x.get(key, [])]
    names = [t for t in sorted(d['traces'])
             if not runs or any(c['traces'][t].get('n', 1) > 0 for c in runs)]
    out = ['| horizon | target | forecaster | %s | ' % (
           'window (steps)' if win else 'eta (RAM)') +
           ' | '.join(names) + ' | pooled | slack |']
    out.append('|---' * (len(names) + 6) + '|')
    for h in d['horizons']:
        for x in h['rates']:
            for c in x.get(key, []):
                cells = []
                for t in names:
                    v = c['traces'][t]
                    ok = abs(v['shortfall'] - x['rate']) <= 0.005
                    cells.append('%s%.2f%%%s' % ('' if ok else '**',
                                                100 * v['shortfall'],
                                                '' if ok else '**'))
                par = ('%d' % c['window'] if win else
                       '1/%d' % round(2 ** 28 / c['eta_q28']))
                out.append('| %s | %g%% | %s | %s | %s | %.2f%% | %.2f |' % (
                    fmt_h(h), 100 * x['rate'], c['forecaster'],
                    par, ' | '.join(cells),
                    100 * c['pooled']['shortfall'], c['pooled']['slack']))
    return out


def ablation_table(dirname):
    out = ['| set | channels | ' + ' | '.join(
        '%s @ %s' % (h, r) for h in ('1 s', '5 s') for r in ('1%', '5%')) +
        ' | ns/step |', '|---' * 7 + '|']
    best = None
    for p in sorted(glob.glob(os.path.join(dirname, '*.json'))):
        d = json.load(open(p))
        row = []
        for h in d['horizons']:
            for r in (0.01, 0.05):
                x = rate_of(h, r)
                row.append('%.2f' % x['forecasters']['lstm_fixed']['slack_at_rate'])
        if best is None:
            best = []
            for h in d['horizons']:
                for r in (0.01, 0.05):
                    x = rate_of(h, r)
                    best.append('%.2f (%s)' % (
                        x['forecasters'][x['best_baseline']]['slack_at_rate'],
                        x['best_baseline']))
        m = d['model']
        out.append('| %s | %s | %s | %.0f |' % (
            os.path.basename(p)[:-5], ', '.join(m['channels']),
            ' | '.join(row), m['ns_per_step']))
    if best:
        out.append('| best baseline | - | %s | - |' % ' | '.join(best))
    return out


def plot(runs, png):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    panels = [(d, h) for d in runs for h in d['horizons']]
    fig, axs = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.8))
    if len(panels) == 1:
        axs = [axs]
    for ax, (d, h) in zip(axs, panels):
        x = rate_of(h, 0.01)
        for n, f in x['forecasters'].items():
            if n.startswith('pct') or n in ('ewma', 'holt', 'max_10', 'max_1'):
                if n != x['best_baseline']:
                    continue
            pts = sorted(f['curve'])
            style = '-o' if n.startswith('lstm') else '--'
            ax.plot([100 * p[0] for p in pts], [p[1] for p in pts], style,
                    label=n, markersize=3)
        ax.set_xscale('log')
        ax.set_xlabel('shortfall (% of steps)')
        ax.set_ylabel('slack (% of RAM)')
        ax.set_title('%s, peak over %s' % (d['label'].split(':')[0], fmt_h(h)))
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(png, dpi=90)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--md', required=True)
    ap.add_argument('--png')
    ap.add_argument('--ablation')
    ap.add_argument('--ablation-data', default='VM traces')
    ap.add_argument('runs', nargs='+')
    a = ap.parse_args()
    runs = [json.load(open(p)) for p in a.runs]
    md = []
    for d in runs:
        m = d.get('model', {})
        md += ['### %s' % d['label'], '',
               'Model %s (format %s, %s units, inputs %s, %s B, %.0f ns/step '
               'thread CPU time); traces %s; test-only: %s.' % (
                   m.get('name'), m.get('version'), m.get('hidden'),
                   ', '.join(m.get('channels', [])), m.get('bytes'),
                   m.get('ns_per_step', 0),
                   ', '.join('%s (%d steps)' % kv for kv in d['traces'].items()),
                   d.get('test_only', '').strip(',') or 'none'), '',
               '#### Slack (% of RAM) at exactly 1% and 5% shortfall on the test span', '']
        md += slack_table(d)
        md += ['', '#### Margin tuned on the training span: test shortfall / slack', '']
        md += tuned_table(d)
        md += ['', '#### MAE (points of RAM) of the base forecast against the peak on phase-change windows, skill = 1 - MAE / MAE(last value)', '']
        md += phase_table(d)
        md += ['', '#### Online calibration (%s tuned on the training span): realised shortfall per test trace (bold: more than 0.5 points off)' % ('window' if 'calib_window' in d else 'eta'), '']
        md += calib_table(d, 'calibrated')
        if 'calib_window' in d:
            md += ['', '#### Online calibration with the default window (600 outcomes)', '']
            md += calib_table(d, 'calibrated_default_window')
        else:
            md += ['', '#### Online calibration with the kernel default eta (1/256 of RAM)', '']
            md += calib_table(d, 'calibrated_kernel_eta')
        md.append('')
    if a.ablation:
        md += ['### Channel ablation (%s, LSTM fixed, slack %% of RAM at the rate)' % a.ablation_data, '']
        md += ablation_table(a.ablation)
        md.append('')
    open(a.md, 'w').write('\n'.join(md) + '\n')
    if a.png:
        plot(runs, a.png)


if __name__ == '__main__':
    main()
