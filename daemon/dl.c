/* Loading a library on first use: see dl.h. */
#include <dlfcn.h>
#include <stdio.h>

#include "dl.h"

void *
dl_open(const char *soname, char *err, size_t len)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	const char *why;

	if (h == NULL && err != NULL && len > 0) {
		why = dlerror();
		snprintf(err, len, "%s", why != NULL ? why : soname);
	}
	return h;
}

void *
dl_sym(void *h, const char *name)
{
	return dlsym(h, name);
}
