/*
 * Keys at rest: key files sealed under the data directory's KEK, and the
 * KEK's sources (keys.h). What this protects is a laptop copied or
 * stolen while Satchel is stopped; see the README's "Keys at rest".
 */
#define _GNU_SOURCE	/* struct ucred, SO_PEERCRED */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "keys.h"
#include "keywrap.h"
#include "net.h"
#include "satchel.h"
#include "secret.h"

#define PASS_MAX	1024	/* bytes of a passphrase */
#define PASS_MIN	8	/* characters a new one must have */
#define KEYFILE_MAX	(64 * 1024)	/* epochs.key is the largest */
#define SOCK_TIMEOUT_S	2

/* The KEK this process holds, and its id: one per process (every command
 * opens one data directory; a join's second view is the same one). */
static uint8_t	*kek;
static uint8_t	 kek_id[KEYWRAP_IDLEN];

static int
dir_of(const char *path, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return snprintf(out, len, ".") < (int)len ? 0 : -1;
	return snprintf(out, len, "%.*s", (int)(slash - path), path) <
	    (int)len ? 0 : -1;
}

static int
in_dir(const char *dir, const char *name, char *out, size_t len)
{
	return snprintf(out, len, "%s/%s", dir, name) < (int)len ? 0 : -1;
}

/* Reads a whole owner-only file of at most cap bytes into buf. */
static int
slurp(const char *path, uint8_t *buf, size_t cap, size_t *len)
{
	struct stat sb;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &sb) == -1 || (sb.st_mode & 077) != 0 ||
	    (size_t)sb.st_size > cap) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	n = read(fd, buf, (size_t)sb.st_size);
	close(fd);
	if (n != (ssize_t)sb.st_size) {
		errno = EIO;
		return -1;
	}
	*len = (size_t)n;
	return 0;
}

int
keys_protected(const char *dir)
{
	char path[4200];

	return in_dir(dir, KEYS_LOCK_FILE, path, sizeof(path)) == 0 &&
	    access(path, F_OK) == 0;
}

static int
kek_hold(const uint8_t *k)
{
	if (kek == NULL && (kek = secmem_alloc(KEYWRAP_KEKLEN)) == NULL)
		return -1;
	memcpy(kek, k, KEYWRAP_KEKLEN);
	keywrap_kek_id(kek, kek_id);
	return 0;
}

/* The KEK for a directory whose lock names id: the one held, if it is. */
static const uint8_t *
kek_for_id(const uint8_t *id)
{
	return kek != NULL && sodium_memcmp(id, kek_id, KEYWRAP_IDLEN) == 0 ?
	    kek : NULL;
}

/* The KEK for dir, getting it (and saying why not) if need be. */
static const uint8_t *
kek_for(const char *dir)
{
	return keys_unlock(dir) == 0 ? kek : NULL;
}

int
keyfile_read_var(const char *path, void *buf, size_t cap, size_t *len)
{
	uint8_t *raw = secmem_alloc(cap + KEYWRAP_OVERHEAD);
	uint8_t id[KEYWRAP_IDLEN];
	const uint8_t *k;
	char dir[4096];
	size_t n = 0;
	int rc = -1, wc;

	if (raw == NULL || dir_of(path, dir, sizeof(dir)) != 0) {
		errno = ENOMEM;
		goto out;
	}
	if (slurp(path, raw, cap + KEYWRAP_OVERHEAD, &n) != 0)
		goto out;
	if ((wc = keywrap_open(NULL, raw, n, NULL, 0, NULL, id)) ==
	    KEYWRAP_ECLEAR) {
		if (n > cap) {
			errno = EPERM;
			goto out;
		}
		memcpy(buf, raw, n);	/* from before protection */
		*len = n;
		rc = 0;
		goto out;
	}
	errno = EBADMSG;
	if (wc != 0)
		goto out;
	if ((k = kek_for_id(id)) == NULL && (!keys_protected(dir) ||
	    (k = kek_for(dir)) == NULL)) {
		errno = keys_protected(dir) ? EACCES : EBADMSG;
		goto out;
	}
	if (keywrap_open(k, raw, n, buf, cap, len, NULL) != 0)
		errno = EBADMSG;
	else
		rc = 0;
out:
	secmem_free(raw);
	return rc;
}

int
keyfile_read(const char *path, void *buf, size_t len)
{
	size_t n;

	if (keyfile_read_var(path, buf, len, &n) != 0)
		return -1;
	if (n != len) {
		sodium_memzero(buf, len);
		errno = EPERM;
		return -1;
	}
	return 0;
}

/* Seals buf under k into DIR's file at path. */
static int
write_sealed(const uint8_t *k, const char *path, const void *buf,
    size_t len)
{
	uint8_t *out = secmem_alloc(len + KEYWRAP_OVERHEAD);
	int rc;

	if (out == NULL)
		return -1;
	keywrap_seal(k, buf, len, out);
	rc = write_file_atomic(path, out, len + KEYWRAP_OVERHEAD, 0600);
	secmem_free(out);
	return rc;
}

int
keyfile_write(const char *path, const void *buf, size_t len)
{
	const uint8_t *k;
	char dir[4096];

	if (dir_of(path, dir, sizeof(dir)) != 0)
		return -1;
	if (!keys_protected(dir))
		return write_file_atomic(path, buf, len, 0600);
	if ((k = kek_for(dir)) == NULL) {
		errno = EACCES;
		return -1;
	}
	return write_sealed(k, path, buf, len);
}

/* ---- where the KEK comes from ---- */

/* DIR/unlock.key, decoded; 0, or an exit code after one line. */
static int
lock_read(const char *dir, struct keylock *l)
{
	uint8_t raw[KEYLOCK_LEN + 1];
	char path[4200];
	size_t n;
	int rc;

	if (in_dir(dir, KEYS_LOCK_FILE, path, sizeof(path)) != 0)
		return fail_usage("data directory path too long");
	if (slurp(path, raw, sizeof(raw), &n) != 0)
		return errno == EPERM && explain_key(path) != 0 ? EXIT_FAIL :
		    fail("%s cannot be read: %s", path, strerror(errno));
	if ((rc = keylock_decode(raw, n, l)) == KEYWRAP_ENEWER)
		return fail_usage("%s was written by a newer Satchel; install "
		    "it to open this folder", path);
	if (rc != 0)
		return fail("%s is damaged (restore it from the backup of "
		    "this folder)", path);
	return 0;
}

/* The KEK from the daemon serving dir: 0 and held, or -1. The socket is
 * in an owner-only directory, and its peer must be this user too. */
static int
from_daemon(const char *dir, const struct keylock *l)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = SOCK_TIMEOUT_S };
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	uint8_t msg[KEYWRAP_IDLEN + KEYWRAP_KEKLEN];
	size_t got = 0;
	ssize_t n;
	int fd, rc = -1;

	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir,
	    KEYS_SOCKET) >= (int)sizeof(sa.sun_path) ||
	    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 ||
	    cred.uid != geteuid())
		goto out;
	while (got < sizeof(msg) && (n = read(fd, msg + got,
	    sizeof(msg) - got)) > 0)
		got += (size_t)n;
	if (got == sizeof(msg) &&
	    sodium_memcmp(msg, l->kek_id, KEYWRAP_IDLEN) == 0 &&
	    kek_hold(msg + KEYWRAP_IDLEN) == 0 && kek_for_id(l->kek_id) != NULL)
		rc = 0;
out:
	sodium_memzero(msg, sizeof(msg));
	close(fd);
	return rc;
}

static void
id_hex(const uint8_t *id, char out[2 * KEYWRAP_IDLEN + 1])
{
	sodium_bin2hex(out, 2 * KEYWRAP_IDLEN + 1, id, KEYWRAP_IDLEN);
}

/* The KEK from the desktop keyring: 0 and held; 1 if it has none. */
static int
from_keyring(const struct keylock *l)
{
	uint8_t *k = secmem_alloc(KEYWRAP_KEKLEN);
	char id[2 * KEYWRAP_IDLEN + 1];
	int rc = 1;

	id_hex(l->kek_id, id);
	if (k != NULL && secret_available() != NULL &&
	    secret_get(id, k, KEYWRAP_KEKLEN) == 0 && kek_hold(k) == 0 &&
	    kek_for_id(l->kek_id) != NULL)
		rc = 0;
	secmem_free(k);
	return rc;
}

/* Keeps the KEK in the desktop keyring, where there is one, so that this
 * login session is not asked again. */
static void
to_keyring(const char *dir)
{
	char id[2 * KEYWRAP_IDLEN + 1], label[4200];
	const char *where = secret_available();

	if (where == NULL || kek == NULL)
		return;
	id_hex(kek_id, id);
	snprintf(label, sizeof(label), "Satchel keys of %s", dir);
	if (secret_put(id, label, kek, KEYWRAP_KEKLEN) != 0)
		fprintf(stderr, "satchel: could not keep the key in %s; the "
		    "passphrase will be asked again\n", where);
}

/* Reads one line, without echo where it is a terminal, into pass. -1 if
 * there is nothing to read. */
static int
read_line(int fd, const char *prompt, char *pass, size_t cap, size_t *len)
{
	struct termios old, quiet;
	int tty = tcgetattr(fd, &old) == 0;
	size_t n = 0;
	char c;

	if (tty) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		(void)tcsetattr(fd, TCSAFLUSH, &quiet);
		(void)!write(fd, prompt, strlen(prompt));
	}
	while (read(fd, &c, 1) == 1 && c != '\n')
		if (n + 1 < cap)
			pass[n++] = c;
	if (n > 0 && pass[n - 1] == '\r')
		n--;
	pass[n] = '\0';
	if (tty) {
		(void)tcsetattr(fd, TCSAFLUSH, &old);
		(void)!write(fd, "\n", 1);
	}
	*len = n;
	return n > 0 ? 0 : -1;
}

/* A passphrase from the file named by var (SATCHEL_PASSPHRASE_FILE, or a
 * flag's value): 0, 1 if none is named, or an exit code after one line. */
static int
pass_from_file(const char *file, const char *what, char *pass, size_t cap,
    size_t *len)
{
	struct stat sb;
	int fd, rc;

	if (file == NULL || *file == '\0')
		return 1;
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1)
		return fail_usage("%s %s cannot be read: %s", what, file,
		    strerror(errno));
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    (sb.st_mode & 077) != 0) {
		close(fd);
		return fail_usage("%s %s can be read by other users: run "
		    "chmod 600 %s", what, file, file);
	}
	rc = read_line(fd, "", pass, cap, len);
	close(fd);
	return rc == 0 ? 0 : fail_usage("%s %s is empty", what, file);
}

/* Asks on the terminal: 0, or 1 if there is no terminal. */
static int
pass_from_tty(const char *prompt, char *pass, size_t cap, size_t *len)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC), rc;

	if (fd == -1)
		return 1;
	rc = read_line(fd, prompt, pass, cap, len);
	close(fd);
	return rc == 0 ? 0 : 1;
}

static int
unlock_with_pass(const char *dir, const struct keylock *l, const char *from)
{
	char *pass = secmem_alloc(PASS_MAX + 1), prompt[4200];
	uint8_t *k = secmem_alloc(KEYWRAP_KEKLEN);
	size_t len = 0;
	int rc;

	if (pass == NULL || k == NULL) {
		rc = fail("out of memory");
		goto out;
	}
	snprintf(prompt, sizeof(prompt), "Passphrase for %s: ", dir);
	if ((rc = pass_from_file(from, "SATCHEL_PASSPHRASE_FILE", pass,
	    PASS_MAX + 1, &len)) == 1 &&
	    (rc = pass_from_tty(prompt, pass, PASS_MAX + 1, &len)) == 1) {
		rc = fail_usage("%s is locked: its keys open with its "
		    "passphrase (run from a terminal, or set "
		    "SATCHEL_PASSPHRASE_FILE), or start 'satchel serve' "
		    "there first; nothing was read", dir);
		goto out;
	}
	if (rc != 0)
		goto out;
	rc = keylock_open(l, pass, len, k);
	if (rc == KEYWRAP_EAUTH)
		rc = fail_usage("wrong passphrase for %s; nothing was read or "
		    "written", dir);
	else if (rc != 0)
		rc = fail("%s: cannot open %s (out of memory?)", dir,
		    KEYS_LOCK_FILE);
	else if ((rc = kek_hold(k)) != 0)
		rc = fail("out of memory");
	else
		to_keyring(dir);
out:
	secmem_free(pass);
	secmem_free(k);
	return rc;
}

int
keys_unlock(const char *dir)
{
	struct keylock l;
	int rc;

	if (!keys_protected(dir))
		return 0;
	if ((rc = lock_read(dir, &l)) != 0)
		return rc;
	if (kek_for_id(l.kek_id) != NULL || from_daemon(dir, &l) == 0 ||
	    from_keyring(&l) == 0)
		return 0;
	return unlock_with_pass(dir, &l, getenv("SATCHEL_PASSPHRASE_FILE"));
}

/* ---- protecting a directory, and changing its passphrase ---- */

/* Argon2id's cost. Test builds may ask for the least (the suite starts
 * thousands of processes); a lock file records the cost it was made
 * with, so any build opens it. */
static void
pwhash_limits(uint64_t *ops, uint64_t *mem)
{
	*ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
	*mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
#ifdef SATCHEL_TEST_CLOCK
	if (getenv("SATCHEL_TEST_FAST_KDF") != NULL) {
		*ops = crypto_pwhash_OPSLIMIT_MIN;
		*mem = crypto_pwhash_MEMLIMIT_MIN;
	}
#endif
}

/* A new passphrase: from file (a flag, else SATCHEL_PASSPHRASE_FILE), or
 * typed twice on the terminal. 0, 1 if there is no way to ask, or an
 * exit code after one line. */
static int
new_pass(const char *file, char *pass, size_t *len)
{
	char *again = secmem_alloc(PASS_MAX + 1);
	size_t alen = 0;
	int rc;

	if (again == NULL)
		return fail("out of memory");
	if (file == NULL)
		file = getenv("SATCHEL_PASSPHRASE_FILE");
	if ((rc = pass_from_file(file, "the passphrase file", pass,
	    PASS_MAX + 1, len)) == 1 && (rc = pass_from_tty("New passphrase "
	    "for Satchel's keys: ", pass, PASS_MAX + 1, len)) == 0 &&
	    (pass_from_tty("The same again: ", again, PASS_MAX + 1,
	    &alen) != 0 || alen != *len || sodium_memcmp(again, pass,
	    alen) != 0))
		rc = fail_usage("the two passphrases differ; nothing was "
		    "written");
	if (rc == 0 && *len < PASS_MIN)
		rc = fail_usage("a passphrase needs at least %d characters "
		    "(a few words are best); nothing was written", PASS_MIN);
	secmem_free(again);
	return rc;
}

/* Writes DIR/unlock.key sealing the held KEK under pass. */
static int
lock_write(const char *dir, const char *pass, size_t len)
{
	struct keylock l;
	uint8_t raw[KEYLOCK_LEN];
	uint64_t ops, mem;
	char path[4200];

	pwhash_limits(&ops, &mem);
	if (in_dir(dir, KEYS_LOCK_FILE, path, sizeof(path)) != 0 ||
	    keylock_make(&l, kek, pass, len, ops, mem) != 0)
		return -1;
	keylock_encode(&l, raw);
	return write_file_atomic(path, raw, sizeof(raw), 0600);
}

/* Whether a key file name is one this module seals: every *.key but the
 * lock itself and api.key (the page's token, which its user reads). */
static int
sealable(const char *name)
{
	size_t n = strlen(name);

	return n > 4 && strcmp(name + n - 4, ".key") == 0 &&
	    strcmp(name, KEYS_LOCK_FILE) != 0 && strcmp(name, "api.key") != 0;
}

/* Seals every key file of dir still in the clear; *n counts them. A
 * protect cut short is finished by running it again. */
static int
seal_all(const char *dir, int *count)
{
	uint8_t *buf = secmem_alloc(KEYFILE_MAX);
	char path[4200];
	struct dirent *e;
	size_t len;
	DIR *dp;
	int rc = 0;

	*count = 0;
	if (buf == NULL || (dp = opendir(dir)) == NULL) {
		secmem_free(buf);
		return -1;
	}
	while (rc == 0 && (e = readdir(dp)) != NULL) {
		if (!sealable(e->d_name) ||
		    in_dir(dir, e->d_name, path, sizeof(path)) != 0)
			continue;
		if (slurp(path, buf, KEYFILE_MAX, &len) != 0)
			rc = -1;
		else if (keywrap_open(NULL, buf, len, NULL, 0, NULL, NULL) ==
		    KEYWRAP_ECLEAR) {
			rc = write_sealed(kek, path, buf, len);
			++*count;
		}
	}
	closedir(dp);
	secmem_free(buf);
	return rc;
}

/* Makes a new KEK for dir, locked under pass and kept in the keyring
 * where there is one. */
static int
protect_new(const char *dir, const char *pass, size_t len)
{
	uint8_t *k = secmem_alloc(KEYWRAP_KEKLEN);
	int rc = -1;

	if (k != NULL) {
		crypto_kdf_keygen(k);
		rc = kek_hold(k) == 0 && lock_write(dir, pass, len) == 0 ?
		    0 : -1;
	}
	secmem_free(k);
	if (rc == 0)
		to_keyring(dir);
	return rc;
}

static int want_protect = 1;

void
keys_want(int protect)
{
	want_protect = protect;
}

int
keys_init(const char *dir, int box)
{
	const char *off;
	char *pass;
	size_t len = 0;
	int rc;

	off = getenv("SATCHEL_NO_PROTECT");
	if (box || !want_protect || (off != NULL && *off != '\0'))
		return 0;	/* a box reads nothing; see the README */
	if ((pass = secmem_alloc(PASS_MAX + 1)) == NULL)
		return fail("out of memory");
	if ((rc = new_pass(NULL, pass, &len)) == 1) {
		fprintf(stderr, "satchel: no terminal to ask a passphrase on, "
		    "so the keys in %s are kept in the clear; run 'satchel "
		    "protect' to lock them\n", dir);
		rc = 0;
	} else if (rc == 0 && protect_new(dir, pass, len) != 0)
		rc = fail("init: cannot write %s/%s: %s", dir, KEYS_LOCK_FILE,
		    strerror(errno));
	secmem_free(pass);
	return rc;
}

/* Whether a daemon serves d: it started without a KEK, and would have
 * none to seal the key files it writes later. */
static int
serving(const struct device *d)
{
	char path[4096];

	return device_notify_path(d, path, sizeof(path)) == 0 &&
	    device_notify_probe(path) == 0;
}

int
cmd_protect(struct device *d, struct args *a)
{
	char *pass = NULL;
	size_t len = 0;
	int rc = 0, n;

	if (!keys_protected(d->dir) && serving(d))
		return fail_usage("protect: stop 'satchel serve' on %s first "
		    "(it holds the keys in the clear); nothing was written",
		    d->dir);
	if (!keys_protected(d->dir)) {
		if ((pass = secmem_alloc(PASS_MAX + 1)) == NULL)
			return fail("out of memory");
		if ((rc = new_pass(args_get(a, "passphrase-file"), pass,
		    &len)) == 1)
			rc = fail_usage("protect: give the new passphrase on "
			    "a terminal or with --passphrase-file FILE; "
			    "nothing was written");
		if (rc == 0 && protect_new(d->dir, pass, len) != 0)
			rc = fail("protect: cannot write %s/%s: %s", d->dir,
			    KEYS_LOCK_FILE, strerror(errno));
		secmem_free(pass);
		if (rc != 0)
			return rc;
	}
	if (seal_all(d->dir, &n) != 0)
		return fail("protect: cannot seal the keys in %s: %s; run it "
		    "again", d->dir, strerror(errno));
	printf("%s: %d key %s sealed; its passphrase%s opens them\n", d->dir,
	    n, plural((uint64_t)n, "file", "files"), secret_available() ?
	    " or the desktop keyring" : "");
	return 0;
}

int
cmd_passphrase(struct device *d, struct args *a)
{
	char *pass;
	size_t len = 0;
	int rc;

	if (!keys_protected(d->dir))
		return fail_usage("passphrase: %s is not protected; run "
		    "'satchel protect' first", d->dir);
	if (kek == NULL && (rc = keys_unlock(d->dir)) != 0)
		return rc;
	if ((pass = secmem_alloc(PASS_MAX + 1)) == NULL)
		return fail("out of memory");
	if ((rc = new_pass(args_get(a, "new-file"), pass, &len)) == 1)
		rc = fail_usage("passphrase: give the new passphrase on a "
		    "terminal or with --new-file FILE; nothing was written");
	if (rc == 0 && lock_write(d->dir, pass, len) != 0)
		rc = fail("passphrase: cannot write %s/%s: %s", d->dir,
		    KEYS_LOCK_FILE, strerror(errno));
	if (rc == 0)
		printf("%s: the passphrase is changed\n", d->dir);
	secmem_free(pass);
	return rc;
}

/* ---- the daemon's side ---- */

static uv_pipe_t *listener;	/* keys.sock, while serving */

static void
close_free(uv_handle_t *h)
{
	free(h);
}

/* Hands the KEK (with its id) to a peer of this user, then closes. */
static void
on_key_conn(uv_stream_t *server, int status)
{
	uv_pipe_t *p = malloc(sizeof(*p));
	uint8_t msg[KEYWRAP_IDLEN + KEYWRAP_KEKLEN];
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	uv_os_fd_t fd;
	uv_buf_t b;

	if (p == NULL || status != 0 ||
	    uv_pipe_init(server->loop, p, 0) != 0) {
		free(p);
		return;
	}
	if (uv_accept(server, (uv_stream_t *)p) == 0 &&
	    uv_fileno((uv_handle_t *)p, &fd) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0 &&
	    cred.uid == geteuid() && kek != NULL) {
		memcpy(msg, kek_id, KEYWRAP_IDLEN);
		memcpy(msg + KEYWRAP_IDLEN, kek, KEYWRAP_KEKLEN);
		b = uv_buf_init((char *)msg, sizeof(msg));
		(void)uv_try_write((uv_stream_t *)p, &b, 1);
		sodium_memzero(msg, sizeof(msg));
	}
	uv_close((uv_handle_t *)p, close_free);
}

void
keys_serve(uv_loop_t *loop, const char *dir)
{
	char path[4200];
	int rc;

	if (listener != NULL || !keys_protected(dir) || kek == NULL ||
	    in_dir(dir, KEYS_SOCKET, path, sizeof(path)) != 0 ||
	    (listener = malloc(sizeof(*listener))) == NULL)
		return;
	(void)unlink(path);	/* a killed daemon's; serve.sock said so */
	uv_pipe_init(loop, listener, 0);
	if ((rc = uv_pipe_bind(listener, path)) != 0 ||
	    (rc = chmod(path, 0600) != 0 ? -errno : 0) != 0 ||
	    (rc = uv_listen((uv_stream_t *)listener, 16, on_key_conn)) !=
	    0) {
		net_log("cannot listen on %s: %s; commands will ask for the "
		    "passphrase", path, uv_strerror(rc));
		keys_serve_stop();
	}
}

void
keys_serve_stop(void)
{
	if (listener != NULL)	/* libuv unlinks the socket it bound */
		uv_close((uv_handle_t *)listener, close_free);
	listener = NULL;
}
