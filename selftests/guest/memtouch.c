// SPDX-License-Identifier: GPL-2.0
/*
 * memtouch MIB [hold-seconds]: allocate and write MIB MiB of anonymous
 * memory, optionally hold it, then exit.  Used to make a VM's RAM
 * resident on the host before a balloon is measured.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	size_t len, i;
	char *p;

	if (argc < 2) {
		fprintf(stderr, "usage: memtouch MIB [hold-seconds]\n");
		return 2;
	}
	len = strtoull(argv[1], NULL, 0) << 20;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (i = 0; i < len; i += 4096)
		p[i] = (char)i | 1;
	if (argc > 2)
		sleep(atoi(argv[2]));
	return 0;
}
