/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vs_types.h - the few types and helpers the predictor needs, mapped to the
 * kernel's headers under __KERNEL__ and to libc otherwise, so that the same
 * predictor sources build in vshape_guest.ko and in userspace tools/tests.
 */
#ifndef VS_TYPES_H
#define VS_TYPES_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/string.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#else
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <errno.h>

typedef int8_t s8;
typedef uint8_t u8;
typedef int16_t s16;
typedef uint16_t u16;
typedef int32_t s32;
typedef uint32_t u32;
typedef int64_t s64;
typedef uint64_t u64;
#endif

#endif /* VS_TYPES_H */
