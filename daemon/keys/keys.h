/*
 * Keys at rest (daemon/keys/keys.c): the device's key files sealed under the
 * data directory's key-encryption key (KEK), and where each process gets
 * the KEK. Formats: proto/keywrap.h. Keyring: secret.h.
 *
 *	DIR/unlock.key	the KEK, sealed under the passphrase (Argon2id);
 *			its presence is what makes DIR "protected"
 *	DIR/keys.sock	the running daemon hands the KEK to this user's
 *			commands here (only while DIR is protected)
 *
 * A process gets the KEK once, in this order: from the daemon that
 * serves DIR (keys.sock, peer uid checked), from the desktop keyring,
 * from SATCHEL_PASSPHRASE_FILE, from a prompt on the terminal. It keeps
 * it in locked memory until it exits.
 */
#ifndef SATCHEL_KEYS_H
#define SATCHEL_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct args;
struct device;

#define KEYS_LOCK_FILE	"unlock.key"
#define KEYS_SOCKET	"keys.sock"

/* Reads a key file of exactly len bytes (path is DIR/NAME), sealed or in
 * the clear. 0, or -1 with errno: ENOENT, EPERM (readable by others, the
 * wrong size), EBADMSG (damaged, or sealed under another directory's
 * KEK), EACCES (locked: no KEK; keys_unlock says why). */
int	keyfile_read(const char *path, void *buf, size_t len);
/* The same for a file of up to cap bytes; *len gets its size. */
int	keyfile_read_var(const char *path, void *buf, size_t cap,
	    size_t *len);
/* Writes a key file whole or not at all (mode 0600), sealed if its
 * directory is protected. 0, or -1 with errno. */
int	keyfile_write(const char *path, const void *buf, size_t len);

/* 1 if dir is protected (has unlock.key), else 0. */
int	keys_protected(const char *dir);
/* Gets dir's KEK if dir is protected (a no-op otherwise): 0, or an exit
 * code after one line on stderr (exit 2: locked, wrong passphrase). */
int	keys_unlock(const char *dir);
/* For `init`: protects the new dir (unless box, keys_want(0), or
 * SATCHEL_NO_PROTECT is set: the benches' throw-away folders) when a
 * passphrase can be had (SATCHEL_PASSPHRASE_FILE or the terminal);
 * otherwise says the keys stay in the clear. 0, or an exit code after
 * one line. */
int	keys_init(const char *dir, int box);

/* The daemon's side of keys.sock, on loop: listens if dir is protected
 * and unlocked (a failure is logged: commands then ask themselves). One
 * per process; keys_serve_stop closes it (the socket file goes too). */
void	keys_serve(uv_loop_t *loop, const char *dir);
void	keys_serve_stop(void);
/* For init: whether to protect the new folder (1, the default) or keep
 * its keys in the clear (--no-protect). */
void	keys_want(int protect);

int	cmd_protect(struct device *, struct args *);
int	cmd_passphrase(struct device *, struct args *);

#endif
