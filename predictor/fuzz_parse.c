// SPDX-License-Identifier: GPL-2.0
/*
 * LibFuzzer harness for vs_model_parse() (and, when a blob
 * parses, a few vs_lstm_step()s and vs_adapt_step()s on it).
 *
 * The first input byte selects a mode: odd = take the bytes as they are
 * (exercises the checksum path); even = recompute the CRC over the rest so
 * that mutations reach the field checks.  The default model is added to
 * the corpus on the first run.
 */
#include <stdlib.h>
#include "lstm.h"
#include "adapt.h"
#include "default_model.h"

static struct vs_model m;
static struct vs_lstm_state st;
static struct vs_adapt ad;

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	s16 in[VS_MAX_RAW], out[VS_MAX_OUT], bl[VS_MAX_OUT];
	char err[96];
	size_t len;
	u8 *b;
	int t, i;

	if (!size)
		return 0;
	len = size - 1;
	b = aligned_alloc(8, (len + 8) & ~(size_t)7);
	if (!b)
		return 0;
	if (len)
		memcpy(b, data + 1, len);
	if (!(data[0] & 1) && len >= 4) {
		u32 c = vs_crc32(0, b, len - 4);

		b[len - 4] = c;
		b[len - 3] = c >> 8;
		b[len - 2] = c >> 16;
		b[len - 1] = c >> 24;
	}
	if (!vs_model_parse(b, len, &m, err, sizeof(err))) {
		vs_lstm_reset(&m, &st);
		vs_adapt_init(&ad, data[0] << 7, data[0] & 15);
		for (t = 0; t < 4; t++) {
			for (i = 0; i < VS_MAX_RAW; i++)
				in[i] = (s16)((t * 7919 + i * 104729) ^
					      (data[0] << 8));
			vs_lstm_step(&m, &st, in, out);
			vs_adapt_step(&m, &ad, in[0], out, bl);
		}
	}
	free(b);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[4096];
	FILE *f;
	int i;

	/* seed the corpus directory (last non-flag argument) */
	for (i = *argc - 1; i > 0; i--)
		if ((*argv)[i][0] != '-')
			break;
	if (i <= 0)
		return 0;
	snprintf(path, sizeof(path), "%s/default-model", (*argv)[i]);
	f = fopen(path, "wb");
	if (f) {
		fputc(0, f);
		fwrite(vs_default_model, vs_default_model_len, 1, f);
		fclose(f);
	}
	return 0;
}
