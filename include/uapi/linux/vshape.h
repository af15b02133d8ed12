/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vshape: predictive memory shaping extension of the virtio balloon device.
 *
 * This header is BSD licensed so anyone can use the definitions
 * to implement compatible drivers/servers:
 *
 * Redistribution and use in source and binary forms, with or without
 * modification, are permitted provided that the following conditions
 * are met:
 * 1. Redistributions of source code must retain the above copyright
 *    notice, this list of conditions and the following disclaimer.
 * 2. Redistributions in binary form must reproduce the above copyright
 *    notice, this list of conditions and the following disclaimer in the
 *    documentation and/or other materials provided with the distribution.
 * 3. Neither the name of the copyright holders nor the names of its
 *    contributors may be used to endorse or promote products derived from
 *    this software without specific prior written permission.
 * THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS
 * ``AS IS'' AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT
 * LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS
 * FOR A PARTICULAR PURPOSE ARE DISCLAIMED.  IN NO EVENT SHALL THE
 * COPYRIGHT HOLDERS OR CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT,
 * INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT
 * NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF
 * USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND
 * ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY,
 * OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT
 * OF THE USE OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF
 * SUCH DAMAGE.
 */

#ifndef _UAPI_LINUX_VSHAPE_H
#define _UAPI_LINUX_VSHAPE_H

#include <linux/types.h>

/*
 * Semantics
 * =========
 *
 * vshape extends the virtio balloon device (device ID 5) with one feature
 * bit, VIRTIO_BALLOON_F_VSHAPE, one extra virtqueue (the "shaping queue")
 * and a few device configuration fields appended after
 * struct virtio_balloon_config.  The standard inflate, deflate and stats
 * queues keep their standard meaning.
 *
 * The shaping queue lets the driver act on ranges of guest-physical memory
 * ("extents") rather than on single 4 KiB pages, and lets it ask the host
 * for a *guarantee* of capacity ahead of need.  Each guest page is in one
 * of four states, as seen by the device:
 *
 *   GUEST      ordinary guest RAM (every page starts here, and a device
 *              reset returns every page here).
 *   INFLATED   in the balloon; the host has freed its backing.  The driver
 *              MUST NOT access it.
 *   RESERVED   in the balloon, not populated, and charged to the host-wide
 *              capacity ledger: a later COMMIT or DEFLATE of it will not be
 *              refused for lack of host memory.
 *   COMMITTED  in the balloon, charged to the ledger *and* populated by the
 *              host now, so that a later DEFLATE and first touch cost no
 *              host allocation.
 *
 * Operations (one per request):
 *
 *   INFLATE   any state -> INFLATED.  The host frees the backing and drops
 *             any ledger charge.
 *   DEFLATE   any state -> GUEST.  The driver takes the range back; the
 *             ledger charge of the range is dropped.  Never refused for
 *             capacity (as with the standard deflate queue).
 *   RESERVE   INFLATED -> RESERVED, charging the ledger.  RESERVED and
 *             COMMITTED pages are left as they are and not charged twice.
 *   COMMIT    INFLATED or RESERVED -> COMMITTED.  Uncharged pages are
 *             charged first, then the host populates the backing.
 *   RELEASE   RESERVED or COMMITTED -> INFLATED, uncharging the ledger and
 *             freeing any populated backing.
 *   REPORT    GUEST -> GUEST.  Free page reporting: the range is free in the
 *             guest and stays the guest's.  The host frees its backing; the
 *             guest's next touch of a page repopulates it (with zeroes).
 *             Nothing is charged to or dropped from the ledger, and the
 *             page is not in the balloon.
 *
 * RESERVE, COMMIT and RELEASE apply to balloon pages only: an extent that
 * covers a page in state GUEST makes the whole request INVALID.  REPORT
 * applies to GUEST pages only: an extent that covers a page in the balloon
 * makes the whole request INVALID.
 *
 * A request is validated completely before any page changes state: if any
 * check fails, the status is VSHAPE_S_INVALID and nothing changed.  Then
 * the extents are processed in array order.  If the ledger (RESERVE,
 * COMMIT) or the backing store (COMMIT) runs out, processing stops and the
 * response reports, in "granted", how many bytes counted from the start of
 * the first extent reached the target state (a prefix of the request, a
 * multiple of 4 KiB).  granted == 0 gives VSHAPE_S_REFUSED_CAPACITY,
 * 0 < granted < total gives VSHAPE_S_PARTIAL.
 *
 * Memory layout of one request on the shaping queue: one or more
 * device-readable descriptors holding struct vshape_req_hdr immediately
 * followed by nr_extents struct vshape_extent, then one or more
 * device-writable descriptors with room for struct vshape_resp.  The
 * device reads the readable part as one byte stream, so the split between
 * descriptors does not matter.
 *
 * Addresses are guest-physical addresses as the driver hands them to the
 * device (with VIRTIO_F_ACCESS_PLATFORM: DMA addresses).  All fields are
 * little endian.
 */

/* Feature bit: the device offers the shaping queue and config fields. */
#define VIRTIO_BALLOON_F_VSHAPE		23

/* Protocol version reported in vshape_config.version. */
#define VSHAPE_VERSION			1

/* Smallest extent alignment and length granule: 4 KiB. */
#define VSHAPE_MIN_ALIGN		4096ULL
/* Preferred alignment (one x86 huge page); faster on the host. */
#define VSHAPE_PREF_ALIGN		(2ULL << 20)

/* Operations (vshape_req_hdr.op). */
#define VSHAPE_OP_INFLATE		1
#define VSHAPE_OP_DEFLATE		2
#define VSHAPE_OP_RESERVE		3
#define VSHAPE_OP_COMMIT		4
#define VSHAPE_OP_RELEASE		5
#define VSHAPE_OP_REPORT		6

/* Statuses (vshape_resp.status). */
#define VSHAPE_S_DONE			0
#define VSHAPE_S_PARTIAL		1
#define VSHAPE_S_REFUSED_CAPACITY	2
#define VSHAPE_S_INVALID		3

/**
 * struct vshape_config - device configuration fields of the shaping feature
 * @version: protocol version, VSHAPE_VERSION.  Cannot change.
 * @max_extents: maximum nr_extents in one request (>= 1).  Cannot change.
 * @min_align: required alignment of extent gpa and len, in bytes (a power
 *	of two, at least VSHAPE_MIN_ALIGN).  Cannot change.
 * @pref_align: alignment the host handles best, in bytes.  Cannot change.
 * @padding: reserved, reads as zero.
 * @max_request_bytes: maximum sum of extent lengths in one request, in
 *	bytes.  Cannot change.
 * @capacity_hint: bytes the host-wide ledger could still charge (what a
 *	RESERVE could be granted right now).  Advisory, racy: Can change at
 *	any time without a configuration change notification.
 *
 * Placed directly after struct virtio_balloon_config (16 bytes), i.e. at
 * device configuration offset VSHAPE_CONFIG_OFFSET.  Only present when
 * VIRTIO_BALLOON_F_VSHAPE is offered.
 */
struct vshape_config {
	__le16 version;
	__le16 max_extents;
	__le32 min_align;
	__le32 pref_align;
	__le32 padding;
	__le64 max_request_bytes;
	__le64 capacity_hint;
};

#define VSHAPE_CONFIG_OFFSET		16

/**
 * struct vshape_req_hdr - shaping request header
 * @op: VSHAPE_OP_*.
 * @nr_extents: number of struct vshape_extent that follow (1 ..
 *	vshape_config.max_extents).
 * @id: driver-chosen tag, echoed in vshape_resp.id.
 * @reserved: must be zero.
 */
struct vshape_req_hdr {
	__le16 op;
	__le16 nr_extents;
	__le32 id;
	__le64 reserved;
};

/**
 * struct vshape_extent - one range of guest-physical memory
 * @gpa: first byte, aligned to vshape_config.min_align.
 * @len: length in bytes, non-zero, multiple of vshape_config.min_align.
 *
 * Extents of one request must not overlap, and [gpa, gpa + len) must not
 * wrap and must lie in guest RAM the device can see.
 */
struct vshape_extent {
	__le64 gpa;
	__le64 len;
};

/**
 * struct vshape_resp - shaping response, written by the device
 * @status: VSHAPE_S_*.
 * @padding: zero.
 * @id: vshape_req_hdr.id of the request (zero if the header was unreadable).
 * @granted: bytes that reached the target state, counted from the first
 *	extent in order (equal to the total on VSHAPE_S_DONE, 0 on
 *	VSHAPE_S_INVALID and VSHAPE_S_REFUSED_CAPACITY).
 * @capacity: value of vshape_config.capacity_hint after the request.
 */
struct vshape_resp {
	__le16 status;
	__le16 padding;
	__le32 id;
	__le64 granted;
	__le64 capacity;
};

#endif /* _UAPI_LINUX_VSHAPE_H */
