/*
 * Libraries loaded only when a command needs them (dlopen(3)), so that
 * every other command starts without relocating them: libmicrohttpd (and
 * GnuTLS behind it) for the page, libsecret (GLib, GIO) for the desktop
 * keyring. Each user lists its symbols in an X-macro and gets one typed
 * pointer per symbol, named sym_NAME and typed from the library's own
 * header, so a prototype can never drift from the library's.
 *
 *	#define MY_SYMS(X) X(lib_open) X(lib_close)
 *	MY_SYMS(DL_DEFINE)
 *	... if (dl_load(...) ...) MY_SYMS(DL_RESOLVE) ...
 *	sym_lib_open(...);
 */
#ifndef SATCHEL_DL_H
#define SATCHEL_DL_H

#include <stddef.h>

/* One pointer for symbol f, typed as f (GCC/Clang __typeof__). */
#define DL_DEFINE(f)	static __typeof__(f) *sym_##f;
/* In a function with a handle `h` and a label `missing`: resolves f. */
#define DL_RESOLVE(f)							\
	if ((sym_##f = (__typeof__(sym_##f))dl_sym(h, #f)) == NULL)	\
		goto missing;

/* Opens the library SONAME (RTLD_NOW, RTLD_LOCAL), or NULL with why in
 * err (dlerror's text, err of size len; may be NULL). The handle is
 * never closed: the program keeps it to its end. */
void	*dl_open(const char *soname, char *err, size_t len);
/* The address of name in h or in the libraries h depends on, or NULL. */
void	*dl_sym(void *h, const char *name);

#endif
