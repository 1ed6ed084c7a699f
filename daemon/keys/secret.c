/*
 * The desktop keyring through libsecret (the freedesktop Secret Service:
 * GNOME Keyring, KWallet). Built only with SATCHEL_LIBSECRET (the
 * Makefile sets it where libsecret-1 is installed); elsewhere every call
 * says there is no keyring, and the passphrase is the way in. A Keychain
 * (macOS) or DPAPI (Windows) version would implement secret.h likewise.
 *
 * The KEK is stored hex-encoded, as libsecret's password calls take
 * strings, under the schema "org.satchel.Kek" with one attribute, the
 * KEK's id (not secret).
 *
 * libsecret (and GLib, GIO behind it) is opened on the first call
 * (dl.h), not linked: most commands never ask the keyring, and loading
 * those libraries at every start cost more than most commands' work. A
 * machine without libsecret-1-0 installed has no keyring, as a build
 * without libsecret.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "secret.h"

#ifdef SATCHEL_LIBSECRET
#include <libsecret/secret.h>

#include "dl.h"

#ifndef LIBSECRET_SONAME
#define LIBSECRET_SONAME	"libsecret-1.so.0"
#endif
/* libsecret's, and through its handle GLib's and GIO's. */
#define SECRET_SYMS(X)							\
	X(g_bus_get_sync) X(g_dbus_connection_call_sync) X(g_variant_new)\
	X(g_variant_get_type_string) X(g_variant_get)			\
	X(g_variant_iter_loop) X(g_variant_iter_free) X(g_variant_unref)\
	X(g_object_unref) X(g_error_free)				\
	X(secret_password_lookup_sync) X(secret_password_free)		\
	X(secret_password_store_sync) X(secret_password_clear_sync)
SECRET_SYMS(DL_DEFINE)

/* Opens libsecret: 1, or 0 where it is not installed. */
static int
secret_load(void)
{
	void *h;

	if ((h = dl_open(LIBSECRET_SONAME, NULL, 0)) == NULL)
		return 0;
	SECRET_SYMS(DL_RESOLVE)
	return 1;
missing:
	return 0;
}

static const SecretSchema schema = {
	.name = "org.satchel.Kek",
	.flags = SECRET_SCHEMA_NONE,
	.attributes = {
		{ .name = "kek-id", .type = SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ .name = NULL, .type = SECRET_SCHEMA_ATTRIBUTE_STRING },
	},
};

#define SECRETS_NAME	"org.freedesktop.secrets"
#define BUS_TIMEOUT_MS	1000

/* Whether there is a session bus to ask, without GLib trying to start
 * one (dbus-launch) where there is none: a headless box or a test. */
static int
bus_present(void)
{
	const char *addr = getenv("DBUS_SESSION_BUS_ADDRESS");
	const char *run = getenv("XDG_RUNTIME_DIR");
	char path[4096];

	if (addr != NULL && *addr != '\0')
		return 1;
	return run != NULL && snprintf(path, sizeof(path), "%s/bus", run) <
	    (int)sizeof(path) && access(path, F_OK) == 0;
}

/* 1 if the bus answers that method with a true, or a list holding the
 * Secret Service's name. */
static int
bus_says(GDBusConnection *bus, const char *method)
{
	const char *type;
	GVariant *v;
	int yes = 0;

	v = sym_g_dbus_connection_call_sync(bus, "org.freedesktop.DBus",
	    "/org/freedesktop/DBus", "org.freedesktop.DBus", method,
	    strcmp(method, "NameHasOwner") == 0 ?
	    sym_g_variant_new("(s)", SECRETS_NAME) : NULL, NULL,
	    G_DBUS_CALL_FLAGS_NO_AUTO_START, BUS_TIMEOUT_MS, NULL, NULL);
	if (v == NULL)
		return 0;
	type = sym_g_variant_get_type_string(v);
	if (strcmp(type, "(b)") == 0)
		sym_g_variant_get(v, "(b)", &yes);
	else if (strcmp(type, "(as)") == 0) {
		GVariantIter *it;
		const char *name;

		sym_g_variant_get(v, "(as)", &it);
		while (!yes && sym_g_variant_iter_loop(it, "&s", &name))
			yes = strcmp(name, SECRETS_NAME) == 0;
		sym_g_variant_iter_free(it);
	}
	sym_g_variant_unref(v);
	return yes != 0;
}

const char *
secret_available(void)
{
	static int known = -1;
	GDBusConnection *bus;
	const char *off = getenv("SATCHEL_NO_KEYRING");

	if (known >= 0)
		return known ? "the desktop keyring" : NULL;
	known = 0;
	if ((off != NULL && *off != '\0') || !bus_present() ||
	    !secret_load())
		return NULL;
	if ((bus = sym_g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, NULL)) == NULL)
		return NULL;
	known = bus_says(bus, "NameHasOwner") ||
	    bus_says(bus, "ListActivatableNames");
	sym_g_object_unref(bus);
	return known ? "the desktop keyring" : NULL;
}

int
secret_get(const char *id, uint8_t *out, size_t len)
{
	gchar *hex;
	size_t n = 0;
	int rc;

	if (secret_available() == NULL)
		return -1;
	hex = sym_secret_password_lookup_sync(&schema, NULL, NULL, "kek-id", id,
	    NULL);
	if (hex == NULL)
		return 1;
	rc = sodium_hex2bin(out, len, hex, strlen(hex), NULL, &n, NULL) == 0 &&
	    n == len ? 0 : -1;
	sym_secret_password_free(hex);
	return rc;
}

int
secret_put(const char *id, const char *label, const uint8_t *key,
    size_t len)
{
	char *hex = sodium_malloc(2 * len + 1);
	gboolean ok;

	if (hex == NULL || secret_available() == NULL) {
		sodium_free(hex);
		return -1;
	}
	sodium_bin2hex(hex, 2 * len + 1, key, len);
	ok = sym_secret_password_store_sync(&schema, SECRET_COLLECTION_DEFAULT,
	    label, hex, NULL, NULL, "kek-id", id, NULL);
	sodium_free(hex);
	return ok ? 0 : -1;
}

int
secret_delete(const char *id)
{
	GError *err = NULL;

	if (secret_available() == NULL)
		return -1;
	sym_secret_password_clear_sync(&schema, NULL, &err, "kek-id", id, NULL);
	if (err != NULL) {
		sym_g_error_free(err);
		return -1;
	}
	return 0;
}

#else	/* no libsecret: no keyring */

const char *
secret_available(void)
{
	return NULL;
}

int
secret_get(const char *id, uint8_t *out, size_t len)
{
	(void)id, (void)out, (void)len;
	return -1;
}

int
secret_put(const char *id, const char *label, const uint8_t *key,
    size_t len)
{
	(void)id, (void)label, (void)key, (void)len;
	return -1;
}

int
secret_delete(const char *id)
{
	(void)id;
	return -1;
}

#endif
