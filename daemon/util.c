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

#include "satchel.h"

/* One line naming what the user got wrong; the caller exits 2. */
int
fail_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("satchel: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

int
fail(const char *fmt, ...)
{
	va_list ap;

	fputs("satchel: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAIL;
}

uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
today(char out[11])
{
	time_t t = time(NULL);
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

/* UTF-8 without control characters other than tab and newline: the same
 * rule a peer's values are held to. */
int
valid_text(const char *s, size_t max)
{
	size_t len = strlen(s);

	return len <= max && proto_text_ok(s, len);
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

void
json_strn(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	putchar('"');
	for (; len > 0; p++, len--) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", stdout);
		else if (*p == '\t')
			fputs("\\t", stdout);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
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
