// SPDX-License-Identifier: GPL-2.0
/*
 * vdpa_fuzz: a hostile "VMM + guest" for vshape_host.
 *
 * Drives /dev/vhost-vdpa-N directly from userspace: a 64 MiB shared memfd
 * is the guest RAM (IOVA 0 .. 64 MiB), the program builds split rings in
 * it and submits malformed chains and requests that no real virtio
 * driver would produce (descriptor loops, out-of-range heads and next
 * indices, indirect flags, zero lengths, wrapping and unmapped addresses,
 * writable-before-readable, runaway avail index), checking after each one
 * that the device counted it and still serves a valid request.  It also
 * checks that INFLATE frees the memfd's blocks and COMMIT allocates them,
 * and that the rate bound defers but does not drop requests.
 *
 *   vdpa_fuzz /dev/vhost-vdpa-0 /sys/kernel/debug/vshape_host/<dev>
 *
 * TAP on stdout; exit 0 passed, 1 failed, 4 skipped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_balloon.h>

#include "../../include/uapi/linux/vshape.h"

#define MEM_SIZE	(64ULL << 20)
#define QNUM		8
#define NQ		3		/* inflate, deflate, shaping (no stats) */
#define Q_SHAPING	2
#define RING_BASE	0x10000ULL
#define BUF_BASE	0x100000ULL	/* request/response buffers */
#define DATA_BASE	(32ULL << 20)	/* pages the requests act on */

static uint8_t *mem;
static int memfd, vfd, kickfd[NQ];
static const char *dbg;
static int n, fails;
static uint16_t avail_idx[NQ], used_seen[NQ];

#define ok(cond, ...) do {						\
	n++;								\
	if (cond) {							\
		printf("ok %d - ", n);					\
	} else {							\
		fails++;						\
		printf("not ok %d - ", n);				\
	}								\
	printf(__VA_ARGS__);						\
	printf("\n");							\
	fflush(stdout);							\
} while (0)

static uint64_t ring_desc(int q) { return RING_BASE + q * 0x4000ULL; }
static uint64_t ring_avail(int q) { return ring_desc(q) + 0x1000; }
static uint64_t ring_used(int q) { return ring_desc(q) + 0x2000; }
static struct vring_desc *D(int q) { return (void *)(mem + ring_desc(q)); }
static struct vring_avail *A(int q) { return (void *)(mem + ring_avail(q)); }
static struct vring_used *U(int q) { return (void *)(mem + ring_used(q)); }

static long long stat_of(const char *name)
{
	char path[256], line[128];
	size_t l = strlen(name);
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/stats", dbg);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, l) && line[l] == ' ')
			v = atoll(line + l + 1);
	fclose(f);
	return v;
}

static void set_desc(int q, int i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	D(q)[i].addr = addr;
	D(q)[i].len = len;
	D(q)[i].flags = flags;
	D(q)[i].next = next;
}

static void submit(int q, uint16_t head)
{
	uint64_t one = 1;

	A(q)->ring[avail_idx[q] % QNUM] = head;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	A(q)->idx = ++avail_idx[q];
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (write(kickfd[q], &one, sizeof(one)) != sizeof(one))
		perror("kick");
}

/* Wait for one used entry; returns its len, or -1 on timeout. */
static long wait_used(int q, int ms)
{
	struct vring_used_elem *e;
	int i;

	for (i = 0; i < ms; i++) {
		if (__atomic_load_n(&U(q)->idx, __ATOMIC_ACQUIRE) !=
		    used_seen[q]) {
			e = &U(q)->ring[used_seen[q] % QNUM];
			used_seen[q]++;
			return e->len;
		}
		usleep(1000);
	}
	return -1;
}

/* A shaping request: header+extents at BUF_BASE, response at +0x1000. */
static struct vshape_resp *resp(void)
{
	return (void *)(mem + BUF_BASE + 0x1000);
}

static long shaping(uint16_t op, const struct vshape_extent *ext, int nr)
{
	struct vshape_req_hdr *h = (void *)(mem + BUF_BASE);

	h->op = op;
	h->nr_extents = nr;
	h->id = 0x1234;
	h->reserved = 0;
	memcpy(h + 1, ext, nr * sizeof(*ext));
	memset(resp(), 0xff, sizeof(*resp()));
	set_desc(Q_SHAPING, 0, BUF_BASE, sizeof(*h) + nr * sizeof(*ext),
		 VRING_DESC_F_NEXT, 1);
	set_desc(Q_SHAPING, 1, BUF_BASE + 0x1000, sizeof(struct vshape_resp),
		 VRING_DESC_F_WRITE, 0);
	submit(Q_SHAPING, 0);
	return wait_used(Q_SHAPING, 5000);
}

static int healthy(void)
{
	struct vshape_extent e = { DATA_BASE, 4096 };

	return shaping(VSHAPE_OP_DEFLATE, &e, 1) == sizeof(struct vshape_resp) &&
	       resp()->status == VSHAPE_S_DONE;
}

static long long memfd_bytes(void)
{
	struct stat st;

	fstat(memfd, &st);
	return (long long)st.st_blocks * 512;
}

static int xioctl(unsigned long req, void *arg, const char *what)
{
	if (ioctl(vfd, req, arg) < 0) {
		printf("Bail out! %s: %s\n", what, strerror(errno));
		exit(1);
	}
	return 0;
}

static void setup(const char *dev)
{
	uint64_t features, bf = 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2;
	struct vhost_msg_v2 msg = { .type = VHOST_IOTLB_MSG_V2 };
	uint8_t status;
	int q;

	memfd = memfd_create("fuzz-ram", 0);
	if (memfd < 0 || ftruncate(memfd, MEM_SIZE)) {
		printf("1..0 # SKIP memfd: %s\n", strerror(errno));
		exit(4);
	}
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	vfd = open(dev, O_RDWR);
	if (mem == MAP_FAILED || vfd < 0) {
		printf("1..0 # SKIP %s: %s\n", dev, strerror(errno));
		exit(4);
	}
	memset(mem, 0, 1 << 20);
	xioctl(VHOST_SET_OWNER, NULL, "SET_OWNER");
	xioctl(VHOST_SET_BACKEND_FEATURES, &bf, "SET_BACKEND_FEATURES");
	xioctl(VHOST_GET_FEATURES, &features, "GET_FEATURES");
	if (!(features & (1ULL << VIRTIO_BALLOON_F_VSHAPE))) {
		printf("1..0 # SKIP device does not offer VSHAPE\n");
		exit(4);
	}
	features = (1ULL << VIRTIO_F_VERSION_1) |
		   (1ULL << VIRTIO_BALLOON_F_MUST_TELL_HOST) |
		   (1ULL << VIRTIO_BALLOON_F_VSHAPE);
	xioctl(VHOST_SET_FEATURES, &features, "SET_FEATURES");

	msg.iotlb.iova = 0;
	msg.iotlb.size = MEM_SIZE;
	msg.iotlb.uaddr = (uint64_t)(uintptr_t)mem;
	msg.iotlb.perm = VHOST_ACCESS_RW;
	msg.iotlb.type = VHOST_IOTLB_UPDATE;
	if (write(vfd, &msg, sizeof(msg)) != sizeof(msg)) {
		printf("Bail out! IOTLB update: %s\n", strerror(errno));
		exit(1);
	}

	status = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		 VIRTIO_CONFIG_S_FEATURES_OK;
	xioctl(VHOST_VDPA_SET_STATUS, &status, "SET_STATUS");
	for (q = 0; q < NQ; q++) {
		struct vhost_vring_state num = { q, QNUM }, base = { q, 0 };
		struct vhost_vring_addr addr = {
			.index = q,
			.desc_user_addr = ring_desc(q),
			.avail_user_addr = ring_avail(q),
			.used_user_addr = ring_used(q),
		};
		struct vhost_vring_file kick = { q, eventfd(0, 0) };
		struct vhost_vring_file call = { q, eventfd(0, EFD_NONBLOCK) };
		struct vhost_vring_state en = { q, 1 };

		kickfd[q] = kick.fd;
		xioctl(VHOST_SET_VRING_NUM, &num, "SET_VRING_NUM");
		xioctl(VHOST_SET_VRING_ADDR, &addr, "SET_VRING_ADDR");
		xioctl(VHOST_SET_VRING_BASE, &base, "SET_VRING_BASE");
		xioctl(VHOST_SET_VRING_KICK, &kick, "SET_VRING_KICK");
		xioctl(VHOST_SET_VRING_CALL, &call, "SET_VRING_CALL");
		xioctl(VHOST_VDPA_SET_VRING_ENABLE, &en, "SET_VRING_ENABLE");
	}
	status |= VIRTIO_CONFIG_S_DRIVER_OK;
	xioctl(VHOST_VDPA_SET_STATUS, &status, "SET_STATUS DRIVER_OK");
}

/* Submit a malformed shaping chain built by the caller at head 0. */
static void bad_chain(const char *what)
{
	long long before = stat_of("bad_chain");
	long len;

	submit(Q_SHAPING, 0);
	len = wait_used(Q_SHAPING, 5000);
	ok(len == 0 && stat_of("bad_chain") == before + 1 && healthy(),
	   "%s: returned empty, counted, device healthy", what);
}

int main(int argc, char **argv)
{
	struct vshape_extent e[2];
	long long b0, b1, before;
	uint32_t *pfns;
	long len;
	int i;

	if (argc != 3) {
		fprintf(stderr, "usage: %s /dev/vhost-vdpa-N DEBUGFS_DIR\n",
			argv[0]);
		return 2;
	}
	dbg = argv[2];
	setup(argv[1]);

	ok(healthy(), "valid DEFLATE through a userspace-built ring: DONE");

	/* memory: touch 4 MiB, INFLATE frees it, COMMIT allocates it */
	memset(mem + DATA_BASE, 0x5a, 4 << 20);
	b0 = memfd_bytes();
	e[0].gpa = DATA_BASE;
	e[0].len = 4 << 20;
	len = shaping(VSHAPE_OP_INFLATE, e, 1);
	b1 = memfd_bytes();
	ok(len == 24 && resp()->status == VSHAPE_S_DONE &&
	   resp()->id == 0x1234 && b0 - b1 >= (4 << 20),
	   "INFLATE 4 MiB: DONE and the memfd lost %lld KiB", (b0 - b1) >> 10);
	len = shaping(VSHAPE_OP_COMMIT, e, 1);
	ok(len == 24 && (resp()->status == VSHAPE_S_DONE ||
			 resp()->status == VSHAPE_S_REFUSED_CAPACITY),
	   "COMMIT 4 MiB answered (status %u)", resp()->status);
	if (resp()->status == VSHAPE_S_DONE)
		ok(memfd_bytes() - b1 >= (4 << 20),
		   "COMMIT populated the memfd (+%lld KiB)",
		   (memfd_bytes() - b1) >> 10);
	else
		ok(1, "# SKIP COMMIT refused: ledger capacity is 0");
	shaping(VSHAPE_OP_DEFLATE, e, 1);

	/* extent outside the map: INVALID, nothing touched */
	e[0].gpa = MEM_SIZE;
	e[0].len = 4096;
	len = shaping(VSHAPE_OP_INFLATE, e, 1);
	ok(len == 24 && resp()->status == VSHAPE_S_INVALID,
	   "extent just past the mapped RAM: INVALID");

	/* descriptor loop: 0 -> 1 -> 0 */
	set_desc(Q_SHAPING, 0, BUF_BASE, 16, VRING_DESC_F_NEXT, 1);
	set_desc(Q_SHAPING, 1, BUF_BASE, 16, VRING_DESC_F_NEXT, 0);
	bad_chain("descriptor loop");

	set_desc(Q_SHAPING, 0, BUF_BASE, 16, VRING_DESC_F_NEXT, 99);
	bad_chain("next index out of range");

	set_desc(Q_SHAPING, 0, BUF_BASE, 16, VRING_DESC_F_INDIRECT, 0);
	bad_chain("INDIRECT descriptor (not offered)");

	set_desc(Q_SHAPING, 0, BUF_BASE, 0, VRING_DESC_F_NEXT, 1);
	set_desc(Q_SHAPING, 1, BUF_BASE + 0x1000, 24, VRING_DESC_F_WRITE, 0);
	bad_chain("zero-length descriptor");

	set_desc(Q_SHAPING, 0, ~0ULL - 8, 64, VRING_DESC_F_NEXT, 1);
	bad_chain("descriptor address wraps");

	set_desc(Q_SHAPING, 0, BUF_BASE + 0x1000, 24,
		 VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	set_desc(Q_SHAPING, 1, BUF_BASE, 32, 0, 0);
	bad_chain("readable descriptor after a writable one");

	/* unmapped request buffer: INVALID, answered */
	set_desc(Q_SHAPING, 0, 1ULL << 40, 32, VRING_DESC_F_NEXT, 1);
	set_desc(Q_SHAPING, 1, BUF_BASE + 0x1000, 24, VRING_DESC_F_WRITE, 0);
	submit(Q_SHAPING, 0);
	len = wait_used(Q_SHAPING, 5000);
	ok(len == 24 && resp()->status == VSHAPE_S_INVALID && healthy(),
	   "request buffer outside the map: INVALID, device healthy");

	/* unmapped response buffer: returned empty */
	set_desc(Q_SHAPING, 0, BUF_BASE, 32, VRING_DESC_F_NEXT, 1);
	set_desc(Q_SHAPING, 1, 1ULL << 40, 24, VRING_DESC_F_WRITE, 0);
	submit(Q_SHAPING, 0);
	len = wait_used(Q_SHAPING, 5000);
	ok(len == 0 && healthy(), "response buffer outside the map: empty, healthy");

	/* head out of range: skipped, counted, no used entry */
	before = stat_of("bad_head");
	submit(Q_SHAPING, 200);
	len = wait_used(Q_SHAPING, 300);
	ok(len == -1 && stat_of("bad_head") == before + 1 && healthy(),
	   "avail head 200 >= num: skipped, counted, healthy");

	/* standard inflate queue: PFNs outside RAM are skipped */
	pfns = (void *)(mem + BUF_BASE + 0x2000);
	pfns[0] = (DATA_BASE >> 12);
	pfns[1] = 0xfffff;		/* 4 GiB - 4 KiB: unmapped */
	pfns[2] = (MEM_SIZE >> 12);	/* just past the map */
	before = stat_of("bad_pfn");
	set_desc(0, 0, BUF_BASE + 0x2000, 12, 0, 0);
	submit(0, 0);
	len = wait_used(0, 5000);
	ok(len == 0 && stat_of("bad_pfn") == before + 2,
	   "inflate queue: 2 PFNs outside RAM skipped and counted");
	set_desc(1, 0, BUF_BASE + 0x2000, 4, 0, 0);
	submit(1, 0);
	wait_used(1, 5000);

	/* rate bound: burst 2, 10/s: 6 requests all answered, some deferred */
	if (system("echo 2 > /sys/module/vshape_host/parameters/rate_burst && "
		   "echo 10 > /sys/module/vshape_host/parameters/rate_limit")) {
		ok(0, "set rate_limit");
	} else {
		int answered = 0;

		before = stat_of("throttled");
		usleep(300000);
		for (i = 0; i < 6; i++)
			answered += healthy();
		ok(answered == 6 && stat_of("throttled") > before,
		   "rate bound: 6/6 answered, %lld passes deferred",
		   stat_of("throttled") - before);
		if (system("echo 256 > /sys/module/vshape_host/parameters/rate_burst && "
			   "echo 2000 > /sys/module/vshape_host/parameters/rate_limit"))
			perror("restore rate");
	}

	/* runaway avail index: the queue is stopped, the device survives */
	before = stat_of("bad_ring");
	A(Q_SHAPING)->idx = avail_idx[Q_SHAPING] + 100;
	{
		uint64_t one = 1;

		if (write(kickfd[Q_SHAPING], &one, sizeof(one)) < 0)
			perror("kick");
	}
	usleep(300000);
	ok(stat_of("bad_ring") == before + 1,
	   "avail index 100 ahead of a ring of 8: queue stopped, counted");
	ok(stat_of("status") >= 0, "device state still readable after the fuzz");

	printf("1..%d\n", n);
	close(vfd);
	return fails ? 1 : 0;
}
