/*
 * For the fuzz targets' seed generators only (built with
 * -DSATCHEL_FUZZ_SEEDS, never part of a fuzz target): writes one seed file.
 */
#ifndef SATCHEL_FUZZ_SEED_H
#define SATCHEL_FUZZ_SEED_H

#include <stdio.h>
#include <string.h>

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

/* A seed that is text: its name and its bytes, no NUL. */
struct seed_text {
	const char	*name;
	const char	*text;
};

/* Writes n text seeds; 0, or -1 if any could not be written. */
static int
seed_write_texts(const char *dir, const struct seed_text *seeds, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		rc |= seed_write(dir, seeds[i].name, seeds[i].text,
		    strlen(seeds[i].text));
	return rc;
}

#endif
