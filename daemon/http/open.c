/*
 * satchel open: a one-time login link for the running daemon's page. The
 * token goes to stdout (and to a browser, where there is a display); only
 * its hash goes to the store, as "login:HASH" = expiry, which the daemon
 * deletes on first use. Expired ones are swept here.
 */
#include <sys/wait.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "http.h"

struct sweep {
	struct store_txn *t;
	uint64_t	 now;
	char		 keys[64][80];
	int		 n;
};

static int
sweep_cb(const char *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct sweep *s = arg;
	uint64_t until = 0;

	if (vlen == sizeof(until))
		memcpy(&until, val, sizeof(until));
	if (until < s->now && klen < sizeof(s->keys[0]) && s->n < 64)
		snprintf(s->keys[s->n++], sizeof(s->keys[0]), "%.*s",
		    (int)klen, key);
	return s->n == 64;
}

/* Stores the hash of token, valid HTTP_LOGIN_TTL_MS; sweeps stale ones. */
static int
login_put(struct device *d, const char *token)
{
	struct sweep s = { NULL, now_ms(), { { 0 } }, 0 };
	uint8_t hash[32];
	char key[80], hex[65];
	uint64_t until = s.now + HTTP_LOGIN_TTL_MS;
	int rc;

	crypto_generichash(hash, sizeof(hash), (const uint8_t *)token,
	    strlen(token), NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
	snprintf(key, sizeof(key), "login:%s", hex);
	if ((rc = store_begin(d->st, 0, &s.t)) != 0)
		return device_store_error(rc, "open");
	rc = store_meta_each(s.t, "login:", sweep_cb, &s);
	for (int i = 0; rc == 0 && i < s.n; i++)
		rc = store_meta_del(s.t, s.keys[i]);
	if (rc == 0)
		rc = store_meta_put(s.t, key, &until, sizeof(until));
	if (rc != 0) {
		store_abort(s.t);
		return device_store_error(rc, "open");
	}
	if ((rc = store_commit(s.t)) != 0)
		return device_store_error(rc, "open");
	return 0;
}

/* The running daemon's page address, from DIR/http.addr. */
static int
page_addr(struct device *d, char *out, size_t len)
{
	char path[4200], sock[4200];
	FILE *f;

	if (device_notify_path(d, sock, sizeof(sock)) != 0 ||
	    device_notify_probe(sock) != 0)
		return fail_usage("open: no 'satchel serve' is running on %s "
		    "(start it first)", d->dir);
	if (device_keyfile(d, HTTP_PORT_FILE, path, sizeof(path)) != 0 ||
	    (f = fopen(path, "r")) == NULL)
		return fail_usage("open: the running 'satchel serve' serves no "
		    "page (started with --no-http, or its port was taken: see "
		    "its log)");
	if (fgets(out, (int)len, f) == NULL)
		out[0] = '\0';
	fclose(f);
	out[strcspn(out, "\r\n")] = '\0';
	if (out[0] == '\0')
		return fail("open: %s is empty", path);
	return 0;
}

/* xdg-open, detached, its output discarded: the link is on stdout. */
static void
browse(const char *url)
{
	pid_t pid = fork();
	int fd;

	if (pid != 0) {
		if (pid > 0)
			(void)waitpid(pid, NULL, 0);
		return;
	}
	if (fork() != 0)
		_exit(0);
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
	}
	execlp("xdg-open", "xdg-open", url, (char *)NULL);
	_exit(127);
}

int
cmd_open(struct device *d, struct args *a)
{
	uint8_t raw[32];
	char token[65], addr[128], url[256];
	const char *disp = getenv("DISPLAY"), *way = getenv("WAYLAND_DISPLAY");
	int rc;

	if ((rc = page_addr(d, addr, sizeof(addr))) != 0)
		return rc;
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(token, sizeof(token), raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	if ((rc = login_put(d, token)) != 0)
		return rc;
	snprintf(url, sizeof(url), "http://%s/login?token=%s", addr, token);
	printf("%s\n", url);
	fflush(stdout);
	if (!args_has(a, "no-browser") && ((disp && *disp) || (way && *way)))
		browse(url);
	sodium_memzero(token, sizeof(token));
	sodium_memzero(url, sizeof(url));
	return 0;
}
