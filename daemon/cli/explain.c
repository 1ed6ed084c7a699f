/*
 * Errors that say what to do. When a data directory cannot be used, the
 * store only knows that LMDB failed; these look at the folder and the key
 * files and name the fix: the user to run as, the chmod, the read-only
 * file system. Each prints one line and returns the exit code, or returns
 * 0 when it finds nothing to say (the caller then says what it knows).
 */
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "satchel.h"

static void
user_name(uid_t uid, char *out, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw != NULL)
		snprintf(out, len, "%s", pw->pw_name);
	else
		snprintf(out, len, "%lu", (unsigned long)uid);
}

/* A file Satchel writes that this user may not: its mode and the fix. */
static int
file_read_only(const char *dir, const char *name)
{
	char path[4200];
	struct stat sb;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path) || stat(path, &sb) != 0 ||
	    access(path, R_OK | W_OK) == 0 || errno != EACCES)
		return 0;
	return fail("%s is read-only for this user (mode %04o): Satchel "
	    "writes it even to read; run chmod 600 %s", path,
	    (unsigned)(sb.st_mode & 07777), path);
}

int
explain_dir(const char *dir)
{
	char who[64], me[64];
	struct statvfs vfs;
	struct stat sb;
	int rc;

	if (stat(dir, &sb) != 0)
		return 0;	/* not there: the store says so */
	if (sb.st_uid != geteuid()) {
		user_name(sb.st_uid, who, sizeof(who));
		user_name(geteuid(), me, sizeof(me));
		return fail("%s belongs to the user %s, not %s: run Satchel as "
		    "%s (for example: sudo -u %s satchel -d %s ...)", dir, who,
		    me, who, who, dir);
	}
	if (statvfs(dir, &vfs) == 0 && (vfs.f_flag & ST_RDONLY))
		return fail("%s is on a read-only file system: Satchel writes "
		    "its lock file there even to read; mount it read-write, or "
		    "copy the folder somewhere writable", dir);
	if ((rc = file_read_only(dir, "data.mdb")) != 0 ||
	    (rc = file_read_only(dir, "lock.mdb")) != 0)
		return rc;
	return 0;
}

int
explain_key(const char *path)
{
	struct stat sb;

	if (stat(path, &sb) != 0)
		return fail("%s is missing: restore it from the backup of this "
		    "folder (without it this device cannot sign or read)",
		    path);
	if ((sb.st_mode & 077) != 0)
		return fail("%s can be read by other users (mode %04o): run "
		    "chmod 600 %s", path, (unsigned)(sb.st_mode & 07777),
		    path);
	if (sb.st_uid != geteuid()) {
		char who[64];

		user_name(sb.st_uid, who, sizeof(who));
		return fail("%s belongs to the user %s: run Satchel as %s",
		    path, who, who);
	}
	if (access(path, R_OK) != 0)
		return fail("%s cannot be read (mode %04o): run chmod 600 %s",
		    path, (unsigned)(sb.st_mode & 07777), path);
	return 0;
}
