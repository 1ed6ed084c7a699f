/*
 * Where a data directory's key-encryption key (KEK, proto/keywrap.h) may
 * be kept besides the passphrase: the platform's secret store. Linux
 * desktops have the Secret Service (libsecret); macOS's Keychain and
 * Windows' DPAPI would fill the same three calls.
 *
 * id names the KEK (its kek_id in hex) and label is what the user sees
 * in the keyring's manager. Every call is quick to give up: the keyring
 * is only used when secret_available() says a Secret Service answers on
 * the session bus (and SATCHEL_NO_KEYRING is unset), so that a headless
 * box or a test never waits on D-Bus.
 */
#ifndef SATCHEL_SECRET_H
#define SATCHEL_SECRET_H

#include <stddef.h>
#include <stdint.h>

/* The store's name ("the desktop keyring"), or NULL when there is none
 * to use here. */
const char	*secret_available(void);
/* 0 and len bytes in out; 1 if it holds nothing under id; -1 on error. */
int		 secret_get(const char *id, uint8_t *out, size_t len);
/* Stores (or replaces) len bytes under id: 0, or -1. */
int		 secret_put(const char *id, const char *label,
		    const uint8_t *key, size_t len);
/* Forgets id: 0 (also if it was not there), or -1. */
int		 secret_delete(const char *id);

#endif
