/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few types and helpers the predictor needs, mapped to the
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

#include <stdarg.h>

typedef __INT8_TYPE__ s8;
typedef __UINT8_TYPE__ u8;
typedef __INT16_TYPE__ s16;
typedef __UINT16_TYPE__ u16;
typedef __INT32_TYPE__ s32;
typedef __UINT32_TYPE__ u32;
typedef __INT64_TYPE__ s64;
typedef __UINT64_TYPE__ u64;

/* the kernel's attribute shorthands (compiler_attributes.h) */
#define VS_ATTR(x) __attribute__(x)
#ifndef __printf
#define __printf(a, b) VS_ATTR((format(printf, a, b)))
#endif
#ifndef __aligned
#define __aligned(x) VS_ATTR((aligned(x)))
#endif
#endif

#endif /* VS_TYPES_H */
