/* Small helpers: messages, dates, text checks, files. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <utf8proc.h>

#include "satchel.h"

/*
 * Where a failure's one line goes. The command line prints it on stderr;
 * the page's API (daemon/http/) catches it in a struct ops_err around a
 * call, so both faces say the same words for the same mistake. Only the
 * first line of one call is kept: it names the cause.
 */
static struct ops_err *err_sink;

struct ops_err *
err_capture(struct ops_err *e)
{
	struct ops_err *was = err_sink;

	err_sink = e;
	if (e != NULL) {
		e->status = 0;
		e->msg[0] = '\0';
		e->field[0] = '\0';
	}
	return was;
}

int
err_capturing(void)
{
	return err_sink != NULL;
}

static void
say(int status, const char *fmt, va_list ap)
{
	if (err_sink == NULL) {
		fputs("satchel: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		return;
	}
	if (err_sink->status != 0)
		return;
	err_sink->status = status;
	vsnprintf(err_sink->msg, sizeof(err_sink->msg), fmt, ap);
}

/* One line naming what the user got wrong; the caller exits 2. */
int
fail_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(OPS_EINPUT, fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
}

/* What the user named is not there: exit 2, or 404 on the page. */
int
fail_missing(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(OPS_ENOTFOUND, fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
}

/* The field the editor saw has another version now: nothing written. */
int
fail_conflict(const char *field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(OPS_ECONFLICT, fmt, ap);
	va_end(ap);
	if (err_sink != NULL && err_sink->status == OPS_ECONFLICT)
		snprintf(err_sink->field, sizeof(err_sink->field), "%s", field);
	return EXIT_USAGE;
}

int
fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(OPS_EFAIL, fmt, ap);
	va_end(ap);
	return EXIT_FAIL;
}

/* "entry" or "entries": the word for a count of n, so that output says
 * "1 entry" and "2 entries". */
const char *
plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

uint64_t
now_ms(void)
{
	return store_wall_ms();
}

void
today(char out[11])
{
	time_t t = (time_t)(now_ms() / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* YYYY-MM-DD naming a real calendar day. */
int
valid_date(const char *s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int y, m, d, leap;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	y = atoi(s);
	m = atoi(s + 5);
	d = atoi(s + 8);
	if (y < 1900 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return 0;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return !(m == 2 && d == 29 && !leap);
}

/* One-line text (a name, a tag) no longer than max bytes: the rule of
 * proto/text.c. */
int
valid_text(const char *s, size_t max)
{
	return text_problem(s, max, PROTO_TEXT_LINE) == NULL;
}

void
hex_id(char out[2 * PROTO_RECIDLEN + 1], const uint8_t *id)
{
	sodium_bin2hex(out, 2 * PROTO_RECIDLEN + 1, id, PROTO_RECIDLEN);
}

void
json_str(const char *s)
{
	json_strn(s, strlen(s));
}

/* Always valid JSON in valid UTF-8, whatever the bytes: a value stored
 * before today's text rule, or sent by an older peer, may hold anything.
 * Bytes that are not UTF-8 become U+FFFD; controls, DEL and the line and
 * paragraph separators (which break JavaScript) are escaped. */
void
json_strn(const char *s, size_t len)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;

	putchar('"');
	while (len > 0) {
		utf8proc_int32_t c;
		utf8proc_ssize_t n = utf8proc_iterate(p, (utf8proc_ssize_t)len,
		    &c);

		if (n < 1) {
			fputs("\\ufffd", stdout);
			n = 1;
		} else if (c == '"' || c == '\\')
			printf("\\%c", (int)c);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 ||
		    c == 0x2029)
			printf("\\u%04x", (unsigned)c);
		else
			fwrite(p, 1, (size_t)n, stdout);
		p += n;
		len -= (size_t)n;
	}
	putchar('"');
}

/* The directory holding path is synced, so a rename in it survives a
 * power cut. */
int
sync_parent(const char *path)
{
	char dir[4200];
	char *slash;
	int fd, rc;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY)) == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Writes a file whole or not at all: a new temporary (so a leftover one
 * cannot lend it its mode), fsync, rename, and a sync of the directory. */
int
write_file_atomic(const char *path, const void *buf, size_t len, int mode)
{
	char tmp[4200];
	int fd, saved;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, mode)) == -1)
		return -1;
	if (write(fd, buf, len) != (ssize_t)len || fsync(fd) == -1) {
		saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		return -1;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1) {
		unlink(tmp);
		return -1;
	}
	return sync_parent(path);
}

/* Reads exactly len bytes of a secret file that only its owner can read. */
int
read_file_secret(const char *path, void *buf, size_t len)
{
	struct stat sb;
	int fd;
	ssize_t n;

	if ((fd = open(path, O_RDONLY)) == -1)
		return -1;
	if (fstat(fd, &sb) == -1 || (sb.st_mode & 077) != 0 ||
	    (size_t)sb.st_size != len) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	n = read(fd, buf, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}
