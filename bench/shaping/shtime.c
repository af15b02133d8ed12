// SPDX-License-Identifier: GPL-2.0
/*
 * shtime: time a balloon move as the host sees it.
 *
 *   shtime TARGET_FILE VALUE WATCH_FILE WANT [TIMEOUT_S]
 *
 * Writes VALUE to TARGET_FILE (e.g. the device's target_pages), then
 * polls WATCH_FILE (e.g. inflated_bytes) every 0.5 ms until it reads
 * WANT; prints the elapsed seconds.  Exit 1 on timeout (prints the last
 * value read), 2 on errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../mono_clock.h"

static unsigned long long readval(int fd)
{
	char buf[64];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return ~0ULL;
	buf[n] = 0;
	return strtoull(buf, NULL, 0);
}

int main(int argc, char **argv)
{
	unsigned long long want, v = 0;
	double t0, limit;
	int tfd, wfd;

	if (argc < 5) {
		fprintf(stderr, "usage: shtime TARGET_FILE VALUE WATCH_FILE WANT [TIMEOUT_S]\n");
		return 2;
	}
	want = strtoull(argv[4], NULL, 0);
	limit = argc > 5 ? atof(argv[5]) : 300;
	wfd = open(argv[3], O_RDONLY);
	tfd = open(argv[1], O_WRONLY);
	if (wfd < 0 || tfd < 0) {
		perror("open");
		return 2;
	}
	t0 = mono_now();
	if (write(tfd, argv[2], strlen(argv[2])) < 0) {
		perror("write");
		return 2;
	}
	close(tfd);
	for (;;) {
		v = readval(wfd);
		if (v == want)
			break;
		if (mono_now() - t0 > limit) {
			printf("timeout %llu\n", v);
			return 1;
		}
		usleep(500);
	}
	printf("%.6f\n", mono_now() - t0);
	return 0;
}
