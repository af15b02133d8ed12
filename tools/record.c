// SPDX-License-Identifier: GPL-2.0
/*
 * vs-record - record vshape_guest's per-period input records.
 *
 * The guest driver keeps the last 256 periods in a debugfs ring
 * (/sys/kernel/debug/vshape_guest/virtioN/records, CSV with a header line
 * whose first column is "seq").  vs-record polls that file every
 * interval_ms, appends the rows it has not written yet (dedup by seq) to
 * the output, writes the header once, and warns on stderr when rows were
 * lost because the ring wrapped between two polls (or the driver was
 * reloaded and seq went backwards).
 *
 * usage: vs-record [-i interval_ms] [-d seconds] [-o out.csv] [RECORDS]
 *
 *   -i  poll interval in ms (default 1000; the ring holds 25.6 s at the
 *       driver's default 100 ms period)
 *   -d  stop after this many seconds (default: run until SIGINT/SIGTERM)
 *   -o  output file (default stdout); appended to, the header is written
 *       only if the file is empty
 *   RECORDS  default: the first /sys/kernel/debug/vshape_guest/STAR/records
 *
 * Exit status: 0 after -d or a signal, 1 on errors (file missing, header
 * changed, write error), 2 on usage errors.  The last poll happens after
 * the signal/deadline, so rows produced until then are not lost.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <glob.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_GLOB "/sys/kernel/debug/vshape_guest/*/records"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct rec_state {
	char *header;		/* header line written (or found) */
	int have_last;
	uint64_t last;		/* last seq written */
	unsigned long rows, gaps, lost, restarts;
};

/* seq of a data line, or -1 if it does not start with "<number>," */
static int line_seq(const char *line, uint64_t *seq)
{
	char *end;

	errno = 0;
	*seq = strtoull(line, &end, 10);
	return errno || end == line || *end != ',' ? -1 : 0;
}

/*
 * One poll: read the whole records file at @path, write new rows to @out.
 * Returns 0, or -1 on a fatal error (message printed).
 */
static int poll_once(const char *path, FILE *out, struct rec_state *s)
{
	char **lines = NULL, *line = NULL;
	size_t cap = 0, nl = 0, i;
	ssize_t n;
	FILE *in = fopen(path, "r");
	uint64_t seq, maxseq = 0;
	int ret = 0, any = 0;

	if (!in) {
		fprintf(stderr, "vs-record: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, in)) > 0) {
		if (line[n - 1] != '\n')
			break;	/* partial last line: take it next time */
		lines = realloc(lines, (nl + 1) * sizeof(*lines));
		if (!lines) {
			fclose(in);
			return -1;
		}
		lines[nl++] = line;
		line = NULL;
		cap = 0;
	}
	free(line);
	fclose(in);
	if (!nl || strncmp(lines[0], "seq,", 4)) {
		fprintf(stderr, "vs-record: %s: no header line\n", path);
		ret = -1;
		goto out;
	}
	if (!s->header) {
		s->header = strdup(lines[0]);
		if (fputs(lines[0], out) == EOF)
			ret = -1;
	} else if (strcmp(s->header, lines[0])) {
		fprintf(stderr, "vs-record: header of %s changed, stopping\n",
			path);
		ret = -1;
	}
	if (ret)
		goto out;
	for (i = 1; i < nl; i++)
		if (!line_seq(lines[i], &seq)) {
			maxseq = seq;
			any = 1;
		}
	if (any && s->have_last && maxseq < s->last) {
		/* the driver was reloaded (or the device re-probed) */
		fprintf(stderr,
			"vs-record: seq went back from %" PRIu64 " to %" PRIu64 ": driver reloaded?\n",
			s->last, maxseq);
		s->have_last = 0;
		s->restarts++;
	}
	for (i = 1; i < nl && !ret; i++) {
		if (line_seq(lines[i], &seq)) {
			fprintf(stderr, "vs-record: skipping bad line: %s",
				lines[i]);
			continue;
		}
		if (s->have_last && seq <= s->last)
			continue;	/* already written */
		if (s->have_last && seq > s->last + 1) {
			fprintf(stderr,
				"vs-record: gap: %" PRIu64 " rows lost (seq %" PRIu64 "..%" PRIu64 "): ring overflowed, poll faster\n",
				seq - s->last - 1, s->last + 1, seq - 1);
			s->gaps++;
			s->lost += seq - s->last - 1;
		}
		if (fputs(lines[i], out) == EOF)
			ret = -1;
		s->last = seq;
		s->have_last = 1;
		s->rows++;
	}
out:
	for (i = 0; i < nl; i++)
		free(lines[i]);
	free(lines);
	if (fflush(out) == EOF) {
		fprintf(stderr, "vs-record: write: %s\n", strerror(errno));
		ret = -1;
	}
	return ret;
}

/* seq of the last row of an existing output file, to resume without dups */
static void resume(FILE *out, struct rec_state *s)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int first = 1;

	rewind(out);
	while ((n = getline(&line, &cap, out)) > 0) {
		char *end;
		uint64_t seq;

		if (first) {
			first = 0;
			if (!strncmp(line, "seq,", 4))
				s->header = strdup(line);
			continue;
		}
		seq = strtoull(line, &end, 10);
		if (end != line && *end == ',') {
			s->last = seq;
			s->have_last = 1;
		}
	}
	free(line);
	fseek(out, 0, SEEK_END);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: vs-record [-i interval_ms] [-d seconds] [-o out.csv] [RECORDS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *outp = NULL;
	char *path = NULL;
	double interval = 1.0, dur = -1, t0, next;
	struct rec_state s = { 0 };
	struct sigaction sa;
	FILE *out = stdout;
	glob_t g;
	int c, ret = 0;

	while ((c = getopt(argc, argv, "i:d:o:h")) != -1) {
		char *end;

		switch (c) {
		case 'i':
			interval = strtod(optarg, &end) / 1000.0;
			if (*end || interval <= 0)
				usage();
			break;
		case 'd':
			dur = strtod(optarg, &end);
			if (*end || dur < 0)
				usage();
			break;
		case 'o':
			outp = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind + 1 < argc)
		usage();
	if (optind < argc) {
		path = strdup(argv[optind]);
	} else {
		if (glob(DEFAULT_GLOB, 0, NULL, &g) || !g.gl_pathc) {
			fprintf(stderr,
				"vs-record: no %s (driver loaded? debugfs mounted?)\n",
				DEFAULT_GLOB);
			return 1;
		}
		path = strdup(g.gl_pathv[0]);
		globfree(&g);
	}
	if (outp) {
		out = fopen(outp, "a+");
		if (!out) {
			fprintf(stderr, "vs-record: %s: %s\n", outp,
				strerror(errno));
			return 1;
		}
		resume(out, &s);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: interrupt the sleep */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	t0 = now_s();
	next = t0;
	for (;;) {
		double t, wait;

		if (poll_once(path, out, &s)) {
			ret = 1;
			break;
		}
		if (stop || (dur >= 0 && now_s() - t0 >= dur))
			break;
		next += interval;
		t = now_s();
		if (dur >= 0 && next > t0 + dur)
			next = t0 + dur;
		wait = next - t;
		if (wait < 0) {
			next = t;
			continue;
		}
		{
			struct timespec ts = {
				(time_t)wait,
				(long)((wait - (time_t)wait) * 1e9)
			};
			nanosleep(&ts, NULL);	/* EINTR on a signal */
		}
	}
	fprintf(stderr,
		"vs-record: %lu rows, %lu gaps (%lu rows lost), %lu restarts\n",
		s.rows, s.gaps, s.lost, s.restarts);
	if (out != stdout && fclose(out) == EOF)
		ret = 1;
	free(path);
	free(s.header);
	return ret;
}
