/*
 * For the fuzz targets' seed generators only (built with
 * -DSATCHEL_FUZZ_SEEDS, never part of a fuzz target): writes one seed file.
 */
#ifndef SATCHEL_FUZZ_SEED_H
#define SATCHEL_FUZZ_SEED_H

#include <stdio.h>

static int
seed_write(const char *dir, const char *name, const void *p, size_t len)
{
	char path[4096];
	FILE *f;
	int ok;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path) || (f = fopen(path, "wb")) == NULL)
		return -1;
	ok = fwrite(p, 1, len, f) == len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

#endif
